"""GAN families: each plugs into the one training loop through a small contract.

A family is a module-level ``Family`` of three pure functions:

- ``init_state(config, key, sample_shape) -> GANState``: networks, optimizers, family state.
- ``train_step(state, batch, *, config) -> (state, metrics)``: one generator update and what
  precedes it; compiled once by the loop with ``config`` bound. ``batch`` is
  {"x": [batch_size * d_steps, ...], "label": int32 [same]}; randomness comes only from
  ``fold_in(state.key, state.step)``; metrics are float32 scalars.
- ``generate(state, z, labels) -> samples``: inference-mode samples for grids and evaluation.

``FAMILIES`` maps ``config.family`` to its Family.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from gans_jax.trainers import artgan, gan


@dataclasses.dataclass(frozen=True)
class Family:
  init_state: Callable
  train_step: Callable
  generate: Callable


FAMILIES = {
  "gan": Family(gan.init_state, gan.train_step, gan.generate),
  "artgan": Family(artgan.init_state, artgan.train_step, artgan.generate),
}


def get_family(name: str) -> Family:
  if name not in FAMILIES:
    raise ValueError(f"Unknown family {name!r}; known families: {', '.join(FAMILIES)}.")
  return FAMILIES[name]
