"""CycleGAN's ResNet generator (Zhu, Park, Isola & Efros 2017; Johnson et al. 2016's network).

The layout of the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix,
``ResnetGenerator``): reflection-pad 3 + 7x7 conv (ngf), two 3x3 stride-2 convs (2ngf, 4ngf),
``num_blocks`` residual blocks of two reflection-padded 3x3 convs at 4ngf, two 3x3 stride-2
transposed convs back (2ngf, ngf), reflection-pad 3 + 7x7 conv to the output channels, tanh.
InstanceNorm without affine parameters and ReLU after every conv but the last (and but the second
of each residual block, which is added to the block's input). The convolutions keep their biases,
since InstanceNorm has no shift of its own. With ngf = 64, 9 blocks and 3 channels: 11,378,179
parameters, as the reference. 9 blocks for 256x256 images, 6 for 128x128 (paper, Sec. 7.2).

CycleGAN's discriminator is ``pix2pix.PatchDiscriminator`` with ``norm="instance"``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans_jax import errors
from gans_jax.models import layers, pix2pix


def reflect_pad(x, pad: int):
  """[B, H, W, C] -> [B, H + 2 pad, W + 2 pad, C], mirrored at the edges (ReflectionPad2d)."""
  return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")


class ResnetGenerator(nn.Module):
  """images [B, R, R, C_in] -> images [B, R, R, C_out] in [-1, 1]; R a multiple of 4.

  Attributes:
    output_shape: (R, R, C_out).
    num_blocks: residual blocks at 1/4 resolution (9: ``resnet_9blocks``, 6: ``resnet_6blocks``).
    width: ngf.
    norm: "instance" (the paper) or "batch".
    dropout: dropout rate inside each residual block (0, the CycleGAN default).
    num_classes: must be 0.
  """

  output_shape: Sequence[int]
  num_blocks: int = 9
  width: int = 64
  norm: str = "instance"
  dropout: float = 0.0
  num_classes: int = 0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    if self.num_classes:
      raise errors.ConfigError("The ResNet generator is not class-conditional; set num_classes=0.")
    pix2pix.check_divisible(x.shape[1], 2, "resnet")
    ngf = self.width
    use_bias = self.norm == "instance"
    conv = functools.partial(
      layers.Conv, padding="VALID", use_bias=use_bias, kernel_init=pix2pix.normal_init,
      dtype=self.dtype,
    )  # fmt: skip
    norm = functools.partial(pix2pix.normalization, self.norm, train, self.dtype)

    x = conv(ngf, (7, 7), name="stem")(reflect_pad(x, 3))
    x = nn.relu(norm()(x))
    for level in (1, 2):
      x = conv(ngf * 2**level, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))(x)
      x = nn.relu(norm()(x))
    for block in range(self.num_blocks):
      x = self._residual_block(x, conv, norm, train, name=f"block{block}")
    for level in (1, 0):
      # ConvTranspose2d(k=3, s=2, padding=1, output_padding=1): the dilated input is padded by
      # k - 1 - 1 = 1 before and by 1 + output_padding = 2 after, exactly doubling the size.
      x = layers.ConvTranspose(
        ngf * 2**level,
        (3, 3),
        strides=(2, 2),
        padding=((1, 2), (1, 2)),
        use_bias=use_bias,
        kernel_init=pix2pix.normal_init,
        dtype=self.dtype,
      )(x)
      x = nn.relu(norm()(x))
    x = nn.Conv(
      self.output_shape[-1], (7, 7), padding="VALID", kernel_init=pix2pix.normal_init,
      dtype=self.dtype, name="head",
    )(reflect_pad(x, 3))  # fmt: skip
    return jnp.tanh(x)

  def _residual_block(self, x, conv, norm, train, name):
    """x + conv-norm-relu-(dropout)-conv-norm(x), with reflection padding."""
    features = x.shape[-1]
    y = conv(features, (3, 3), name=f"{name}_conv0")(reflect_pad(x, 1))
    y = nn.relu(norm(name=f"{name}_norm0")(y))
    if self.dropout:
      y = nn.Dropout(self.dropout, deterministic=not train)(y)
    y = conv(features, (3, 3), name=f"{name}_conv1")(reflect_pad(y, 1))
    return x + norm(name=f"{name}_norm1")(y)


class TwoWay(nn.Module):
  """CycleGAN's two networks of a kind as one module (one parameter tree, one optimizer, as the
  reference's single Adam over both): ``a`` is for domain A, ``b`` for domain B.

  Both networks take images of their own domain: for generators, ``a`` maps A -> B (the paper's
  G) and ``b`` maps B -> A (F); for discriminators, ``a`` judges images of domain A (D_X) and
  ``b`` those of domain B (D_Y).
  Call ``apply(..., method="a")`` or ``method="b"``.
  """

  a_net: nn.Module
  b_net: nn.Module

  def a(self, x, train: bool = True):
    return self.a_net(x, train=train)

  def b(self, x, train: bool = True):
    return self.b_net(x, train=train)

  def __call__(self, images_a, images_b, train: bool = True):
    """Both networks, each on images of its own domain (for initialisation)."""
    return self.a(images_a, train=train), self.b(images_b, train=train)
