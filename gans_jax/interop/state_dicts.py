"""PyTorch state dicts <-> flax variable trees, one listed tensor at a time.

A mapping is a list of ``Entry``s: where a reference tensor (its state-dict key) goes in the
flax tree, and how its layout changes:

- "conv": Conv2d's [O, I, kh, kw] -> flax's HWIO;
- "conv_transpose": ConvTranspose2d's [I, O, kh, kw] -> the spatially flipped HWIO kernel
  (``lax.conv_transpose`` does not flip the kernel; PyTorch's transposed convolution, the
  gradient of a convolution, does);
- "vector": biases, BatchNorm's weight / bias / running_mean / running_var, as they are.

BatchNorm2d's ``num_batches_tracked`` counter has no counterpart here (flax's BatchNorm keeps
no count; the momentum is fixed): it is dropped on import and written as 0 on export, so
PyTorch's strict ``load_state_dict`` accepts the file.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gans_jax import errors

DATA_PARALLEL_PREFIX = "module."  # torch.nn.DataParallel's wrapper in saved keys.
BATCHES_TRACKED = ".num_batches_tracked"


@dataclasses.dataclass(frozen=True)
class Entry:
  """One tensor of a reference state dict and where it goes in a flax variables tree."""

  ours: tuple[str, ...]  # ("params", "down0", "kernel"), ("batch_stats", "down1_norm", "mean").
  theirs: str  # "model.model.0.weight"
  kind: str  # "conv", "conv_transpose" or "vector".


def to_ours(array: np.ndarray, kind: str) -> np.ndarray:
  """A reference tensor in the project's layout (see the module docstring)."""
  if kind == "conv":
    return np.ascontiguousarray(array.transpose(2, 3, 1, 0))
  if kind == "conv_transpose":
    return np.ascontiguousarray(array[:, :, ::-1, ::-1].transpose(2, 3, 0, 1))
  return np.asarray(array)


def to_theirs(array: np.ndarray, kind: str) -> np.ndarray:
  """The inverse of ``to_ours``: a project array in the reference's layout."""
  if kind == "conv":
    return np.ascontiguousarray(array.transpose(3, 2, 0, 1))
  if kind == "conv_transpose":
    return np.ascontiguousarray(array.transpose(2, 3, 0, 1)[:, :, ::-1, ::-1])
  return np.asarray(array)


def without_wrappers(state: dict) -> tuple[dict, list[str]]:
  """``state`` without DataParallel's ``module.`` prefixes and BatchNorm's
  ``num_batches_tracked`` counters; returns (state, the dropped keys)."""
  state = {k.removeprefix(DATA_PARALLEL_PREFIX): v for k, v in state.items()}
  dropped = sorted(k for k in state if k.endswith(BATCHES_TRACKED))
  return {k: v for k, v in state.items() if k not in dropped}, dropped


def placed(template: dict, entries, values: dict, source: str, layouts=None, what="") -> dict:
  """``template`` (a tree of arrays, for shapes) with every entry's array of ``values`` in place.

  Args:
    entries: each with ``ours`` (the path in ``template``), ``theirs`` (the key in ``values``)
      and ``kind`` (its layout).
    layouts: (to_ours, to_theirs) of (array, kind); this module's by default.
    what: how an error names a key ("variable " for NVlabs' variables).

  Raises:
    errors.UsageError: naming ``source`` and the key, for a key ``values`` lacks or an array
      whose shape differs from the network's (both shapes, in the other codebase's layout).
  """
  ours_of, theirs_of = layouts or (to_ours, to_theirs)
  tree = _copy(template)
  for entry in entries:
    if entry.theirs not in values:
      raise errors.UsageError(f"{source}: no {what}{entry.theirs!r} (the network needs it).")
    node = tree
    for part in entry.ours[:-1]:
      node = node[part]
    expected = theirs_of(np.zeros(np.shape(node[entry.ours[-1]])), entry.kind).shape
    given = np.asarray(values[entry.theirs], np.float32)
    if given.shape != expected:
      raise errors.UsageError(
        f"{source}: {entry.theirs!r} has shape {given.shape}, the network's is {expected}."
      )
    node[entry.ours[-1]] = ours_of(given, entry.kind)
  return tree


def import_variables(template: dict, entries: list[Entry], state: dict, source: str) -> dict:
  """``template`` (a network's flax variables, for shapes) with every entry's tensor of
  ``state`` (a state dict ``without_wrappers``) in place, as float32 (``placed``).

  Raises:
    errors.UsageError: naming ``source`` and the key, for a key the state dict lacks, a tensor
      whose shape differs from the network's (both shapes, in the reference's layout), or a key
      the network has no place for.
  """
  variables = placed(template, entries, state, source)
  unused = sorted(set(state) - {entry.theirs for entry in entries})
  if unused:
    raise errors.UsageError(
      f"{source}: {unused[0]!r} (and {len(unused) - 1} more) has no place in the network: another "
      "architecture or sizes than the config's."
    )
  return variables


def export_state(variables: dict, entries: list[Entry]) -> dict[str, np.ndarray]:
  """The reference state dict of ``variables``, in the entries' order, with a
  ``num_batches_tracked`` of 0 (int64) after each BatchNorm's running variance."""
  state = {}
  for entry in entries:
    node = variables
    for part in entry.ours:
      node = node[part]
    state[entry.theirs] = to_theirs(np.asarray(node, np.float32), entry.kind)
    if entry.ours[0] == "batch_stats" and entry.theirs.endswith(".running_var"):
      state[entry.theirs.removesuffix(".running_var") + BATCHES_TRACKED] = np.zeros((), np.int64)
  return state


def _copy(tree):
  if isinstance(tree, dict):
    return {k: _copy(v) for k, v in tree.items()}
  return np.array(tree)
