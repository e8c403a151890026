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


def split(key: jax.Array, *names: str) -> dict[str, jax.Array]:
  """{name: key} for one ``jax.random.split(key, len(names))``, in the order given: every use
  of randomness in a step draws on a key named for it (the i-th name gets the i-th key, so
  renaming never changes a run's numbers)."""
  if len(set(names)) != len(names):
    raise ValueError(f"Key names must differ (a key is never used twice): {names}.")
  return dict(zip(names, jax.random.split(key, len(names)), strict=True))
