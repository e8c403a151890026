"""Saved networks of other codebases in and out of a ModelState, one network at a time: what the
families' ``WeightFormat``s share (``interop.state_dicts`` maps the tensors, ``interop.junyanz``
and ``interop.pytorch_dcgan`` list them).

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
  entries: list[state_dicts.Entry],
  state: dict,
  source: str,
  path: tuple[str, ...] = (),
) -> ModelState:
  """``model`` with the network of the state dict ``state`` (read from ``source``) at ``path``;
  ``entries`` list its tensors (``state_dicts.import_variables``: errors name ``source``)."""
  variables = state_dicts.import_variables(_variables(model, path), entries, state, source)
  variables = jax.tree.map(jnp.asarray, variables)
  model = model.replace(params=_replaced(model.params, path, variables["params"]))
  if "batch_stats" in variables:
    model = model.replace(batch_stats=_replaced(model.batch_stats, path, variables["batch_stats"]))
  return model


def load_junyanz(
  model: ModelState,
  section,
  entries: list[state_dicts.Entry],
  file: tuple[str, dict],
  log: Callable,
  path: tuple[str, ...] = (),
) -> ModelState:
  """``load`` of a junyanz checkpoint ``file`` (source, state dict) after the reference loader's
  clean-up (``junyanz.cleaned``); ``section`` is the network's config section (for its norm)."""
  source, state = file
  return load(model, entries, junyanz.cleaned(state, section.norm, source, log), source, path)


def dump(
  model: ModelState, entries: list[state_dicts.Entry], path: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
  """The reference's state dict of the network at ``path`` in ``model``."""
  return state_dicts.export_state(_variables(model, path), entries)
