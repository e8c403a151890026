"""junyanz/pytorch-CycleGAN-and-pix2pix state dicts <-> the project's pix2pix and CycleGAN networks.

Key names follow the reference's ``models/networks.py``: ``UnetGenerator`` nests one
``UnetSkipConnectionBlock`` per level (``model.model.0`` is the outermost down-convolution,
``model.model.1`` the next block, whose own ``model`` holds LeakyReLU 0, Conv 1, norm 2, the
next block 3, ReLU 4, ConvTranspose 5, norm 6; the innermost block has Conv 1, ConvTranspose 3,
norm 4; the outermost ConvTranspose is ``model.model.3``); ``NLayerDiscriminator`` is one
``model`` Sequential of convolutions, norms and LeakyReLUs; ``ResnetGenerator`` one ``model``
Sequential whose residual blocks hold a ``conv_block`` Sequential.

Layouts: ``state_dicts`` (convolutions, transposed convolutions, BatchNorm2d's weight / bias /
running_mean / running_var -> scale / bias and batch_stats mean / var).

InstanceNorm running statistics: checkpoints made with ``InstanceNorm2d(track_running_stats=
True)`` (older versions of the reference) carry ``running_mean`` / ``running_var`` for every
instance norm. The reference's own ``load_networks`` drops them (``__patch_instance_norm_state_
dict`` pops the keys a module without running statistics does not hold), so its test script
normalises every image by its own statistics; the import does the same, and says so.

File names and roles (the reference's ``save_networks``: ``<epoch>_net_<name>.pth``): pix2pix
saves G and D; CycleGAN saves G_A (A -> B), G_B (B -> A), D_A and D_B, where D_A judges domain
**B** (``backward_D_A`` feeds it ``real_B`` and ``fake_B``) and D_B domain A.
"""

from __future__ import annotations

from collections.abc import Callable

from gans_jax import errors
from gans_jax.interop import state_dicts
from gans_jax.interop.state_dicts import Entry

INSTANCE_STATISTICS = (".running_mean", ".running_var")


def clean(state: dict, norm: str) -> tuple[dict, list[str]]:
  """The state dict without DataParallel's ``module.`` prefixes, BatchNorm's
  ``num_batches_tracked`` counters and, for instance-normalised networks, the InstanceNorm
  running statistics the reference's loader drops too; returns (state, dropped keys)."""
  state, dropped = state_dicts.without_wrappers(state)
  if norm == "instance":
    dropped += [k for k in state if k.endswith(INSTANCE_STATISTICS)]
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


def generator_entries(section) -> list[Entry]:
  """The entries of a config's ``model.generator`` (``unet``: ``unet_<R>`` / ``unet_256``,
  ``resnet``: ``resnet_<N>blocks``).

  Raises:
    errors.UsageError: for a generator the reference's ``networks.py`` does not define.
  """
  if section.name == "unet":
    return unet_entries(section.num_downs, section.norm)
  if section.name == "resnet":
    return resnet_entries(
      section.num_blocks, section.norm, dropout=bool(section.get("dropout", 0.0))
    )
  raise errors.UsageError(
    f"junyanz's networks.py has no generator like the config's {section.name!r} (unet or resnet)."
  )


def discriminator_entries(section) -> list[Entry]:
  """The entries of a config's ``model.discriminator`` (``patchgan``: ``basic`` / ``n_layers``).

  Raises:
    errors.UsageError: for a discriminator the reference's ``networks.py`` does not define.
  """
  if section.name == "patchgan":
    return patchgan_entries(section.n_layers, section.norm)
  raise errors.UsageError(
    f"junyanz's networks.py has no discriminator like the config's {section.name!r} (patchgan)."
  )


def cleaned(state: dict, norm: str, source: str, log: Callable) -> dict:
  """``clean(state, norm)``'s state dict, the InstanceNorm running statistics it dropped reported
  through ``log`` (naming ``source``)."""
  state, dropped = clean(state, norm)
  layers = {k.rsplit(".", 1)[0] for k in dropped if k.endswith(INSTANCE_STATISTICS)}
  if layers:
    log(
      f"{source}: the running statistics of {len(layers)} InstanceNorm layers dropped, as the "
      "reference's load_networks does: each image is normalised with its own statistics."
    )
  return state
