"""The run's root keys, by name, from its seed (docs/design.md section 2)."""

from __future__ import annotations

from typing import NamedTuple

import jax


class RootKeys(NamedTuple):
  """Three keys split once from ``PRNGKey(seed)``; no key serves two purposes."""

  init: jax.Array  # Networks' initial parameters; init_state derives the training key from it.
  grid: jax.Array  # Latents (and noise) of the periodic sample grids.
  eval: jax.Array  # Samples and noise of every evaluation.


def root_keys(seed: int) -> RootKeys:
  return RootKeys(*jax.random.split(jax.random.PRNGKey(seed), 3))
