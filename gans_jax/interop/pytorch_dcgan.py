"""The PyTorch examples' DCGAN (pytorch/examples ``dcgan/main.py``) state dicts <-> the project's
DCGAN with 4x4 kernels (``models.dcgan``, the layout it reproduces).

The example's networks are each one ``main`` Sequential:

- ``Generator``: ConvTranspose2d(nz, ngf * 8, 4, 1, 0) at 0, then BatchNorm2d, ReLU and the next
  ConvTranspose2d(4, 2, 1) every three indices (BatchNorm at 1, 4, 7, 10; transposed
  convolutions at 0, 3, 6, 9, 12), Tanh last; no biases. z is [N, nz, 1, 1] ~ N(0, I).
- ``Discriminator``: Conv2d(nc, ndf, 4, 2, 1) at 0, LeakyReLU(0.2); Conv2d at 2, 5, 8 each with a
  BatchNorm2d after it (3, 6, 9); Conv2d(ndf * 8, 1, 4, 1, 0) at 11, Sigmoid (the logit before
  it is the project's D output; the example's BCELoss on the sigmoid is the project's
  non-saturating loss on logits). No biases.

The example is 64x64 (four doublings from 4x4); the same pattern with more or fewer doublings
maps the project's other resolutions. The sizes (nz, ngf, ndf, nc, resolution) follow from the
tensors' shapes (``sizes``).
"""

from __future__ import annotations

import dataclasses

from gans_jax import errors
from gans_jax.interop.state_dicts import Entry


def _batch_norm(ours: str, theirs: str) -> list[Entry]:
  return [
    Entry(("params", ours, "scale"), f"{theirs}.weight", "vector"),
    Entry(("params", ours, "bias"), f"{theirs}.bias", "vector"),
    Entry(("batch_stats", ours, "mean"), f"{theirs}.running_mean", "vector"),
    Entry(("batch_stats", ours, "var"), f"{theirs}.running_var", "vector"),
  ]


def generator_entries(num_up: int) -> list[Entry]:
  """``Generator``'s tensors for ``num_up`` doublings after 4x4 (4 at 64x64)."""
  entries = []
  for level in range(num_up + 1):
    weight = f"main.{3 * level}.weight"
    entries.append(Entry(("params", f"ConvTranspose_{level}", "kernel"), weight, "conv_transpose"))
    if level < num_up:
      entries += _batch_norm(f"BatchNorm_{level}", f"main.{3 * level + 1}")
  return entries


def discriminator_entries(num_down: int) -> list[Entry]:
  """``Discriminator``'s tensors for ``num_down`` halvings down to 4x4 (4 at 64x64)."""
  entries = [Entry(("params", "Conv_0", "kernel"), "main.0.weight", "conv")]
  for level in range(1, num_down):
    weight = f"main.{3 * level - 1}.weight"
    entries.append(Entry(("params", f"Conv_{level}", "kernel"), weight, "conv"))
    entries += _batch_norm(f"BatchNorm_{level - 1}", f"main.{3 * level}")
  head = f"main.{3 * num_down - 1}.weight"
  return entries + [Entry(("params", f"Conv_{num_down}", "kernel"), head, "conv")]


@dataclasses.dataclass(frozen=True)
class Sizes:
  """The example's command-line sizes, read from a state dict."""

  nz: int  # z's size.
  ngf: int  # G's last hidden width.
  nc: int  # Image channels.
  resolution: int


def generator_sizes(state: dict, source: str) -> Sizes:
  """nz, ngf, nc and the resolution of a ``Generator`` state dict.

  Raises:
    errors.UsageError: naming ``source`` when it is not a DCGAN generator's state dict.
  """
  layers = sorted(
    int(k.split(".")[1]) for k in state if k.startswith("main.") and k.endswith(".weight")
  )
  transposed = [i for i in layers if i % 3 == 0 and len(state[f"main.{i}.weight"].shape) == 4]
  if not transposed or transposed != list(range(0, 3 * len(transposed), 3)):
    raise errors.UsageError(
      f"{source}: not the PyTorch DCGAN example's Generator (no main.0.weight, main.3.weight, "
      "... transposed-convolution kernels)."
    )
  first, last = state["main.0.weight"].shape, state[f"main.{transposed[-1]}.weight"].shape
  return Sizes(nz=first[0], ngf=last[0], nc=last[1], resolution=4 * 2 ** (len(transposed) - 1))


def discriminator_width(state: dict, source: str) -> tuple[int, int]:
  """(ndf, nc) of a ``Discriminator`` state dict (its first convolution's [ndf, nc, 4, 4])."""
  weight = state.get("main.0.weight")
  if weight is None or len(weight.shape) != 4:
    raise errors.UsageError(
      f"{source}: not the PyTorch DCGAN example's Discriminator (no main.0.weight kernel)."
    )
  return weight.shape[0], weight.shape[1]
