"""pix2pix (Isola, Zhu, Zhou & Efros 2017): the U-Net generator and the PatchGAN discriminator.

The layouts of the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix,
``models/networks.py``), so that parameter counts agree exactly with it: with 3-channel images and
ngf = ndf = 64, ``unet_256`` has 54,413,955 parameters and the 70x70 PatchGAN on the 6-channel
input|output pair has 2,768,705.

U-Net (paper Sec. 3.2.1 and appendix 6.1.1): ``num_downs`` 4x4 stride-2 convolutions take the image
to 1x1 (8 for 256x256, 7 for 128x128); each decoder level mirrors one encoder level with a 4x4
stride-2 transposed convolution and concatenates that level's encoder activation (the skip).
Encoder: LeakyReLU(0.2) before each convolution but the first, BatchNorm after each but the first
and the innermost. Decoder: ReLU before each transposed convolution, BatchNorm after each but the
outermost, tanh at the output, dropout 0.5 after the ``num_downs - 5`` blocks next to the innermost
one (the paper's only noise source). Convolutions followed by BatchNorm carry no bias.

PatchGAN (appendix 6.1.2): C64-C128-C256-C512 then a 1-channel convolution, all 4x4, stride 2 for
the first three and 1 for the last two, so each output logit sees a 70x70 patch (``n_layers=3``).
No normalisation on the first layer. ``norm="instance"`` gives CycleGAN's discriminator (Zhu et al.
2017), whose convolutions then keep their biases.

Weights are drawn from N(0, 0.02), BatchNorm scales from N(1, 0.02) (the reference's ``init_type
normal``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans_jax import errors
from gans_jax.models import dcgan, layers

normal_init = dcgan.normal_init
_STRIDE2 = dict(kernel_size=(4, 4), strides=(2, 2), kernel_init=normal_init)
# PyTorch's ConvTranspose2d(k=4, s=2, padding=1) pads the dilated input by k - 1 - 1 = 2 per side.
_UP_PADDING = ((2, 2), (2, 2))


def normalization(kind: str, train: bool, dtype, name: str | None = None) -> nn.Module:
  """The reference's norm layers: "batch" (affine, N(1, 0.02) scales, PyTorch's momentum and eps)
  or "instance" (no affine parameters, eps 1e-5, no running statistics)."""
  if kind == "batch":
    return dcgan.batchnorm(train, dtype, name=name)
  if kind == "instance":
    return nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False, dtype=dtype, name=name)
  raise errors.ConfigError(f"Unknown norm {kind!r}; known: batch, instance.")


def check_divisible(resolution: int, halvings: int, what: str) -> None:
  if resolution % 2**halvings:
    raise errors.ConfigError(
      f"{what} halves the image {halvings} times, so the resolution must be a multiple of "
      f"{2**halvings}; got {resolution}."
    )


class UNetGenerator(nn.Module):
  """images [B, R, R, C_in] -> images [B, R, R, C_out] in [-1, 1] (pix2pix's U-Net).

  Attributes:
    output_shape: (R, R, C_out).
    num_downs: stride-2 levels; R must be a multiple of 2**num_downs (8: ``unet_256``, 7:
      ``unet_128``).
    width: ngf, the outermost encoder level's channels (doubling to at most 8 * ngf).
    norm: "batch" (the paper) or "instance".
    dropout: dropout rate of the ``num_downs - 5`` decoder blocks next to the innermost one.
    num_classes: must be 0 (accepted for the model registry's common signature).
  """

  output_shape: Sequence[int]
  num_downs: int = 8
  width: int = 64
  norm: str = "batch"
  dropout: float = 0.5
  num_classes: int = 0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    """Dropout draws from the "dropout" rng when ``train`` (pix2pix keeps it on when testing)."""
    if self.num_downs < 5:
      raise errors.ConfigError(f"The U-Net needs num_downs >= 5, got {self.num_downs}.")
    check_divisible(x.shape[1], self.num_downs, f"unet (num_downs={self.num_downs})")
    if self.num_classes:
      raise errors.ConfigError("The U-Net generator is not class-conditional; set num_classes=0.")
    ngf = self.width
    # Channels of each encoder level, outermost first: ngf, 2ngf, 4ngf, then 8ngf down to 1x1.
    channels = [ngf, 2 * ngf, 4 * ngf] + [8 * ngf] * (self.num_downs - 3)
    conv = functools.partial(layers.Conv, padding=((1, 1), (1, 1)), dtype=self.dtype, **_STRIDE2)
    norm = functools.partial(normalization, self.norm, train, self.dtype)
    use_bias = self.norm == "instance"  # BatchNorm's shift makes a bias redundant.

    skips = []
    for level, features in enumerate(channels):
      if level:
        x = nn.leaky_relu(x, 0.2)
      x = conv(features, use_bias=use_bias, name=f"down{level}")(x)
      if 0 < level < self.num_downs - 1:
        x = norm(name=f"down{level}_norm")(x)
      skips.append(x)

    up = functools.partial(layers.ConvTranspose, padding=_UP_PADDING, dtype=self.dtype, **_STRIDE2)
    num_dropout = self.num_downs - 5
    for level in reversed(range(self.num_downs)):
      if level < self.num_downs - 1:  # Every level but the innermost sees its skip.
        x = jnp.concatenate([skips[level], x], -1)
      x = nn.relu(x)
      if level == 0:
        x = up(self.output_shape[-1], use_bias=True, name="up0")(x)
        return jnp.tanh(x)
      x = up(channels[level - 1], use_bias=use_bias, name=f"up{level}")(x)
      x = norm(name=f"up{level}_norm")(x)
      if self.num_downs - 1 - num_dropout <= level < self.num_downs - 1 and self.dropout:
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
    raise AssertionError("unreachable")


class PatchDiscriminator(nn.Module):
  """images [B, H, W, C] -> patch logits [B, H', W'] (70x70 receptive field for n_layers=3).

  For pix2pix, C is the input and output images concatenated on channels (a conditional D).

  Attributes:
    width: ndf, the first layer's channels (doubling to at most 8 * ndf).
    n_layers: stride-2 layers after the first (3: the 70x70 PatchGAN).
    norm: "batch" (pix2pix) or "instance" (CycleGAN).
    num_classes: must be 0.
  """

  width: int = 64
  n_layers: int = 3
  norm: str = "batch"
  num_classes: int = 0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    if self.num_classes:
      raise errors.ConfigError(
        "The PatchGAN discriminator is not class-conditional; set num_classes=0."
      )
    conv = functools.partial(
      layers.Conv, kernel_size=(4, 4), padding=((1, 1), (1, 1)), kernel_init=normal_init,
      dtype=self.dtype,
    )  # fmt: skip
    use_bias = self.norm == "instance"
    # n_layers halvings, then two 4x4 stride-1 convolutions that each take one pixel off.
    smallest = 3 * 2**self.n_layers
    if min(x.shape[1:3]) < smallest:
      raise errors.ConfigError(
        f"A PatchGAN with n_layers={self.n_layers} needs images of at least {smallest}x{smallest} "
        f"(it would output no logits), got {x.shape[1]}x{x.shape[2]}; lower n_layers."
      )
    x = nn.leaky_relu(conv(self.width, strides=(2, 2), name="conv0")(x), 0.2)
    for level in range(1, self.n_layers + 1):
      stride = 2 if level < self.n_layers else 1
      features = self.width * min(2**level, 8)
      x = conv(features, strides=(stride, stride), use_bias=use_bias, name=f"conv{level}")(x)
      x = normalization(self.norm, train, self.dtype)(x)
      x = nn.leaky_relu(x, 0.2)
    x = conv(1, name="logits")(x)  # [B, H', W', 1]
    return x[..., 0].astype(jnp.float32)
