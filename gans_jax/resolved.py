"""A run resolved once, before training starts (docs/design.md section 2).

``ResolvedRun`` holds everything the loop needs to know about a run and nothing it has to work
out again: the locked config, its family, the shape of one sample, the family's stages, the named
root keys, the batch source, the sample grid and the evaluator. ``experiment.resolve`` builds it
from a config (reading the data); tests build one around their own batches with ``create``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import ml_collections
import numpy as np

from gans_jax import config_utils, errors, grids, run_keys, trainers
from gans_jax.train_state import GANState


@dataclasses.dataclass(frozen=True)
class ResolvedRun:
  """One run's parts, resolved from its config.

  Attributes:
    config: the locked run config.
    family: ``trainers.get_family(config.family)``.
    sample_shape: one sample's shape, e.g. (32, 32, 1) or (2,).
    stages: the family's stages for this config (``trainers.stages``).
    keys: the run's root keys (``run_keys.root_keys(config.seed)``).
    batches_from: (start_step, stage) -> iterator of this process's batches, {"x", "label"} (or
      {"a", "b"}) numpy arrays of stage.batch_size / process_count examples for the steps from
      start_step on; example positions count on from ``stage.first_image`` at
      ``stage.first_step`` (a one-stage family: batch_size * d_steps from position 0).
    render_grid: state -> what the periodic sample PNGs show (images [N, H, W, C] or points
      [N, 2]).
    evaluate: (state, key) -> metrics, the periodic and final evaluation; None for none.
    plot_centers: mode centers drawn in 2-D sample plots, or None.
  """

  config: ml_collections.ConfigDict
  family: trainers.Family
  sample_shape: tuple[int, ...]
  stages: tuple[trainers.Stage, ...]
  keys: run_keys.RootKeys
  batches_from: Callable[[int, trainers.Stage], Iterator[dict]]
  render_grid: Callable[[GANState], np.ndarray]
  evaluate: Callable[[GANState, object], dict] | None = None
  plot_centers: np.ndarray | None = None

  @classmethod
  def create(
    cls,
    config,
    sample_shape,
    batches_from,
    *,
    render_grid=None,
    evaluate=None,
    plot_centers=None,
  ) -> ResolvedRun:
    """A run of ``config`` on ``batches_from``; the family, stages and keys follow from the
    config, and a sampling family's grid defaults to ``grids.latent_grid``.

    Raises:
      errors.ConfigError: for an unknown family, or a field the family does not read.
      ValueError: for a translating family without a grid (its grid shows held-out pairs,
        which only the caller has).
    """
    family = trainers.get_family(config.family)
    _check_no_unused_fields(config, family)
    sample_shape = tuple(sample_shape)
    if render_grid is None:
      if family.translates:
        raise ValueError(
          f"A run of {config.family} needs its grid of held-out pairs (grids.translation_grid)."
        )
      render_grid = grids.latent_grid(config, sample_shape)
    return cls(
      config=config,
      family=family,
      sample_shape=sample_shape,
      stages=family.schedule(config, sample_shape),
      keys=run_keys.root_keys(config.seed),
      batches_from=batches_from,
      render_grid=render_grid,
      evaluate=evaluate,
      plot_centers=plot_centers,
    )


def _check_no_unused_fields(config, family: trainers.Family) -> None:
  """Refuses a config that sets a field its family would ignore (``Family.unused_fields``;
  configs built on ``config_schema.base_config`` do not have them)."""
  for name in family.unused_fields:
    node, leaf = config_utils.section_of(config, name)
    if node is not None and leaf in node:
      raise errors.ConfigError(
        f"{config.family} does not read {name}; remove it from the config (see "
        f"gans-jax describe, or config_schema.base_config({config.family!r}))."
      )
