"""junyanz/pytorch-CycleGAN-and-pix2pix state dicts <-> the project's pix2pix and CycleGAN networks.

Key names follow the reference's ``models/networks.py``: ``UnetGenerator`` nests one
``UnetSkipConnectionBlock`` per level (``model.model.0`` is the outermost down-convolution,
``model.model.1`` the next block, whose own ``model`` holds LeakyReLU 0, Conv 1, norm 2, the
next block 3, ReLU 4, ConvTranspose 5, norm 6; the innermost block has Conv 1, ConvTranspose 3,
norm 4; the outermost ConvTranspose is ``model.model.3``); ``NLayerDiscriminator`` is one
``model`` Sequential of convolutions, norms and LeakyReLUs; ``ResnetGenerator`` one ``model``
Sequential whose residual blocks hold a ``conv_block`` Sequential.

Weights: Conv2d [O, I, kh, kw] -> HWIO; ConvTranspose2d [I, O, kh, kw] -> the spatially flipped
HWIO kernel (``lax.conv_transpose`` does not flip; PyTorch's transposed convolution, the gradient
of a convolution, does). BatchNorm2d weight / bias / running_mean / running_var -> scale / bias
and batch_stats mean / var.

InstanceNorm running statistics: checkpoints made with ``InstanceNorm2d(track_running_stats=
True)`` (older versions of the reference) carry ``running_mean`` / ``running_var`` for every
instance norm. The reference's own ``load_networks`` drops them (``__patch_instance_norm_state_
dict`` pops the keys a module without running statistics does not hold), so its test script
normalises every image by its own statistics; the import does the same, and says so.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gans_jax import errors

DATA_PARALLEL_PREFIX = "module."  # torch.nn.DataParallel's wrapper in saved keys.
NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


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


def clean(state: dict, norm: str) -> tuple[dict, list[str]]:
  """The state dict without DataParallel's ``module.`` prefixes, BatchNorm's
  ``num_batches_tracked`` counters and, for instance-normalised networks, the InstanceNorm
  running statistics the reference's loader drops too; returns (state, dropped keys)."""
  state = {k.removeprefix(DATA_PARALLEL_PREFIX): v for k, v in state.items()}
  dropped = [k for k in state if k.endswith(".num_batches_tracked")]
  if norm == "instance":
    dropped += [k for k in state if k.endswith((".running_mean", ".running_var"))]
  return {k: v for k, v in state.items() if k not in dropped}, sorted(dropped)


def _conv(ours: str, theirs: str, bias: bool, transposed: bool = False) -> list[Entry]:
  kind = "conv_transpose" if transposed else "conv"
  entries = [Entry(("params", ours, "kernel"), f"{theirs}.weight", kind)]
  if bias:
    entries.append(Entry(("params", ours, "bias"), f"{theirs}.bias", "vector"))
  return entries


def _norm(ours: str, theirs: str, norm: str) -> list[Entry]:
  """BatchNorm's four tensors; nothing for the affine-free instance norm."""
  if norm != "batch":
    return []
  return [
    Entry(("params", ours, "scale"), f"{theirs}.weight", "vector"),
    Entry(("params", ours, "bias"), f"{theirs}.bias", "vector"),
    Entry(("batch_stats", ours, "mean"), f"{theirs}.running_mean", "vector"),
    Entry(("batch_stats", ours, "var"), f"{theirs}.running_var", "vector"),
  ]


def unet_entries(num_downs: int, norm: str) -> list[Entry]:
  """``UnetGenerator(num_downs)``'s tensors, level 0 (outermost) first."""
  bias = norm == "instance"
  entries = _conv("down0", "model.model.0", bias) + _conv("up0", "model.model.3", True, True)
  prefix = "model.model.1.model"
  for level in range(1, num_downs):
    innermost = level == num_downs - 1
    entries += _conv(f"down{level}", f"{prefix}.1", bias)
    if not innermost:
      entries += _norm(f"down{level}_norm", f"{prefix}.2", norm)
    up = f"{prefix}.3" if innermost else f"{prefix}.5"
    entries += _conv(f"up{level}", up, bias, transposed=True)
    entries += _norm(f"up{level}_norm", f"{prefix}.4" if innermost else f"{prefix}.6", norm)
    prefix += ".3.model"
  return entries


def patchgan_entries(n_layers: int, norm: str) -> list[Entry]:
  """``NLayerDiscriminator(n_layers)``'s tensors: Conv 0, then per level Conv, norm (and
  LeakyReLU) at 2, 3, 5, 6, ..., and the output Conv."""
  bias = norm == "instance"
  entries = _conv("conv0", "model.0", True)
  for level in range(1, n_layers + 1):
    index = 3 * level - 1
    entries += _conv(f"conv{level}", f"model.{index}", bias)
    entries += _norm(f"BatchNorm_{level - 1}", f"model.{index + 1}", norm)
  return entries + _conv("logits", f"model.{3 * n_layers + 2}", True)


def resnet_entries(num_blocks: int, norm: str, dropout: bool = False) -> list[Entry]:
  """``ResnetGenerator(n_blocks=num_blocks)``'s tensors: the 7x7 stem at 1, two stride-2
  convolutions at 4 and 7, the blocks from 10 on, two transposed convolutions and the 7x7 head."""
  bias = norm == "instance"
  entries = _conv("stem", "model.1", bias) + _norm("BatchNorm_0", "model.2", norm)
  for i, index in enumerate((4, 7)):
    entries += _conv(f"Conv_{i}", f"model.{index}", bias)
    entries += _norm(f"BatchNorm_{i + 1}", f"model.{index + 1}", norm)
  second = (6, 7) if dropout else (5, 6)  # Dropout(0.5) sits at 4 when the blocks have it.
  for block in range(num_blocks):
    prefix = f"model.{10 + block}.conv_block"
    entries += _conv(f"block{block}_conv0", f"{prefix}.1", bias)
    entries += _norm(f"block{block}_norm0", f"{prefix}.2", norm)
    entries += _conv(f"block{block}_conv1", f"{prefix}.{second[0]}", bias)
    entries += _norm(f"block{block}_norm1", f"{prefix}.{second[1]}", norm)
  first_up = 10 + num_blocks
  for i, index in enumerate((first_up, first_up + 3)):
    entries += _conv(f"ConvTranspose_{i}", f"model.{index}", bias, transposed=True)
    entries += _norm(f"BatchNorm_{i + 3}", f"model.{index + 1}", norm)
  return entries + _conv("head", f"model.{first_up + 7}", True)


def import_variables(template: dict, entries: list[Entry], state: dict, source: str) -> dict:
  """``template`` (a network's flax variables, for shapes) with every entry's tensor of
  ``state`` (a cleaned reference state dict) in place.

  Raises:
    errors.UsageError: naming ``source`` and the key, for a key the state dict lacks, a tensor
      whose shape differs from the network's (both shapes, in the reference's layout), or a key
      the network has no place for.
  """
  variables = _copy(template)
  for entry in entries:
    if entry.theirs not in state:
      raise errors.UsageError(f"{source}: no {entry.theirs!r} (the network needs it).")
    node = variables
    for part in entry.ours[:-1]:
      node = node[part]
    expected = to_theirs(np.zeros(np.shape(node[entry.ours[-1]])), entry.kind).shape
    given = np.asarray(state[entry.theirs], np.float32)
    if given.shape != expected:
      raise errors.UsageError(
        f"{source}: {entry.theirs!r} has shape {given.shape}, the network's is {expected}."
      )
    node[entry.ours[-1]] = to_ours(given, entry.kind)
  unused = sorted(set(state) - {entry.theirs for entry in entries})
  if unused:
    raise errors.UsageError(
      f"{source}: {unused[0]!r} (and {len(unused) - 1} more) has no place in the network: another "
      "architecture or sizes than the config's."
    )
  return variables


def export_state(variables: dict, entries: list[Entry]) -> dict[str, np.ndarray]:
  """The reference state dict of ``variables`` (BatchNorm's ``num_batches_tracked`` left out:
  the reference's loader does not need it)."""
  state = {}
  for entry in entries:
    node = variables
    for part in entry.ours:
      node = node[part]
    state[entry.theirs] = to_theirs(np.asarray(node, np.float32), entry.kind)
  return state


def _copy(tree):
  if isinstance(tree, dict):
    return {k: _copy(v) for k, v in tree.items()}
  return np.array(tree)
