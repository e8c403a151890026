"""junyanz/pytorch-CycleGAN-and-pix2pix's saved networks in and out of a ModelState: what the
pix2pix and CycleGAN families' ``WeightFormat``s share (``interop.junyanz`` maps the tensors).

A network may be a subtree of a ModelState's variables (``path``): CycleGAN keeps both of its
generators in one ``TwoWay`` tree, under "a_net" and "b_net".
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gans_jax.interop import junyanz, state_dicts
from gans_jax.train_state import ModelState


def _variables(model: ModelState, path: tuple[str, ...]) -> dict:
  """{"params": ..., maybe "batch_stats": ...} of the network at ``path`` in ``model``."""
  variables = {"params": model.params}
  if model.batch_stats is not None:
    variables["batch_stats"] = model.batch_stats
  for part in path:
    variables = {k: v[part] for k, v in variables.items()}
  return jax.tree.map(np.asarray, variables)


def _replaced(tree, path: tuple[str, ...], value):
  """``tree`` with the subtree at ``path`` replaced by ``value``."""
  if not path:
    return value
  return {**tree, path[0]: _replaced(tree[path[0]], path[1:], value)}


def load(
  model: ModelState,
  section,
  entries: list[state_dicts.Entry],
  file: tuple[str, dict],
  log: Callable,
  path: tuple[str, ...] = (),
) -> ModelState:
  """``model`` with the network of ``file`` (source, state dict) at ``path``; ``section`` is
  the network's config section (for its norm), ``entries`` its tensors."""
  source, state = file
  variables = junyanz.import_network(
    _variables(model, path), entries, state, section.norm, source, log
  )
  variables = jax.tree.map(jnp.asarray, variables)
  model = model.replace(params=_replaced(model.params, path, variables["params"]))
  if "batch_stats" in variables:
    model = model.replace(batch_stats=_replaced(model.batch_stats, path, variables["batch_stats"]))
  return model


def dump(
  model: ModelState, entries: list[state_dicts.Entry], path: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
  """The reference's state dict of the network at ``path`` in ``model``."""
  return state_dicts.export_state(_variables(model, path), entries)
