"""The periodic sample grids: G on fixed latents, or held-out translations.

Both draw from the run's grid key (``run_keys``), so grids along a run compare like with like.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np

from gans_jax import run_keys, trainers
from gans_jax.train_state import GANState

GRID_MOST_PER_CLASS = 16  # Columns of a conditional model's grid, unless it has more classes.


def latent_grid(config, sample_shape: Sequence[int]) -> Callable[[GANState], np.ndarray]:
  """state -> samples of G on fixed latents (drawn from ``config.seed``'s grid key):
  ``num_grid_samples`` images [N, H, W, C]; for a conditional model a grid [K, M, H, W, C]
  whose row r holds M samples of class r (M = ``num_grid_samples`` / K, at least K and at most
  16 unless K is larger); or 1,000 2-D points (a scatter plot of many says more than a grid's
  worth)."""
  num_grid = 1000 if len(sample_shape) == 1 else config.num_grid_samples
  classes = config.model.num_classes if len(sample_shape) > 1 else 0
  per_class = 0
  if classes:
    per_class = max(classes, min(GRID_MOST_PER_CLASS, config.num_grid_samples // classes))
    num_grid = classes * per_class
  grid_key = run_keys.root_keys(config.seed).grid
  grid_z = jax.random.normal(grid_key, (num_grid, config.model.latent_dim))
  grid_labels = grid_class_labels(num_grid, config.model.num_classes)
  family = trainers.get_family(config.family)
  generate = jax.jit(family.sample)

  def render(state):
    samples = np.asarray(generate(family.sampling_state(state, config), grid_z, grid_labels))
    return samples.reshape(classes, per_class, *sample_shape) if per_class else samples

  return render


def grid_class_labels(num: int, num_classes: int) -> np.ndarray:
  """Labels of a sample grid: one row per class (row r of a K-column grid asks for class r)
  when conditional, zeros otherwise."""
  if not num_classes:
    return np.zeros(num, np.int32)
  return (np.arange(num) // max(num // num_classes, 1) % num_classes).astype(np.int32)


def translation_grid(config, inputs, targets, paired: bool) -> Callable[[GANState], np.ndarray]:
  """state -> rows of [held-out input | output | target] (paired data) or [input | G(input) |
  F(G(input))] (unpaired), one row per input: ``inputs`` float32 [N, R, R, C_a] and ``targets``
  [N, R, R, C_b] in [-1, 1]."""
  from gans_jax.metrics import translation

  family = trainers.get_family(config.family)
  forward = jax.jit(family.translate)
  backward = None if paired else jax.jit(family.translate_back)
  key = run_keys.root_keys(config.seed).grid

  def render(state):
    outputs = np.asarray(forward(state, inputs, key))
    last = targets[: len(outputs)] if backward is None else backward(state, outputs, key)
    return translation.comparison_strip(inputs, outputs, np.asarray(last))

  return render
