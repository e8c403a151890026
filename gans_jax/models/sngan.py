"""SN-GAN's standard CNN (Miyato, Kataoka, Koyama & Yoshida 2018, Table 3; App. B.4), as the
authors' chainer-gan-lib builds it (``DCGANGenerator`` and ``SNDCGANDiscriminator``).

Generator (``width`` = ch, 512 in the paper; M = 4): z [B, Z] -> dense to M x M x ch -> BatchNorm
-> ReLU -> three 4x4 stride-2 transposed convolutions halving the channels (ch/2, ch/4, ch/8),
each with BatchNorm and ReLU -> a 3x3 stride-1 convolution to C channels -> tanh. Like the code,
the first BatchNorm normalises the dense layer's M * M * ch outputs one by one, before the
reshape.

Discriminator: every weight spectrally normalised (one power iteration per training-mode call;
its vectors ``u`` are state, in the ``batch_stats`` collection): 3x3 stride-1 conv ch/8, then
4x4 stride 2 and 3x3 stride 1 pairs (ch/4, ch/4, ch/2, ch/2, ch, ch), LeakyReLU after each, and a
dense layer to one score. Paper and code differ here, and this follows the code: the code's
channels are 64, 128, 128, 256, 256, 512, 512 (the paper's Table 3 lists 64, 64, 128, 128, 256,
256, 512) and its LeakyReLU slope is chainer's default 0.2 (the table says 0.1). Weights are
drawn from N(0, 0.02) as in the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans_jax import errors

normal_init = nn.initializers.normal(stddev=0.02)
BOTTOM = 4  # M: the generator's first feature map is M x M (32 = 4 * 2^3).
LEAKY_SLOPE = 0.2  # chainer's F.leaky_relu default, which the reference code uses.


def _check_resolution(resolution: int) -> None:
  if resolution != BOTTOM * 8:
    raise errors.ConfigError(
      f"SN-GAN's standard CNN is for 32x32 images (M = 4, three upsamplings), got {resolution}."
    )


def _batchnorm(train: bool, dtype):
  # chainer's BatchNormalization: eps 2e-5, running averages with decay 0.9.
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=2e-5, dtype=dtype)


class Generator(nn.Module):
  """z [B, Z] -> images [B, 32, 32, C] in [-1, 1] (labels ignored: unconditional).

  Attributes:
    output_shape: (32, 32, C).
    width: ch, the channels of the 4x4 map (512 in the paper).
  """

  output_shape: Sequence[int]
  width: int = 512
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    del labels
    resolution, _, channels = self.output_shape
    _check_resolution(resolution)
    x = nn.Dense(BOTTOM * BOTTOM * self.width, kernel_init=normal_init, dtype=self.dtype)(z)
    x = nn.relu(_batchnorm(train, self.dtype)(x))
    x = x.reshape(z.shape[0], BOTTOM, BOTTOM, self.width)
    for divisor in (2, 4, 8):
      x = nn.ConvTranspose(
        self.width // divisor, (4, 4), strides=(2, 2), padding="SAME",
        kernel_init=normal_init, dtype=self.dtype,
      )(x)  # fmt: skip
      x = nn.relu(_batchnorm(train, self.dtype)(x))
    x = nn.Conv(channels, (3, 3), padding="SAME", kernel_init=normal_init, dtype=self.dtype)(x)
    return jnp.tanh(x)


class Discriminator(nn.Module):
  """images [B, 32, 32, C] -> scores [B] (labels ignored), every weight spectrally normalised.

  Attributes:
    width: ch (512 in the paper): the last two convolutions' channels.
  """

  width: int = 512
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, labels=None, train: bool = True):
    del labels
    _check_resolution(x.shape[1])
    ch = self.width
    layers = [(ch // 8, 3, 1), (ch // 4, 4, 2), (ch // 4, 3, 1), (ch // 2, 4, 2), (ch // 2, 3, 1),
              (ch, 4, 2), (ch, 3, 1)]  # fmt: skip
    for features, kernel, stride in layers:
      conv = nn.Conv(
        features, (kernel, kernel), strides=(stride, stride), padding=((1, 1), (1, 1)),
        kernel_init=normal_init, dtype=self.dtype,
      )  # fmt: skip
      x = nn.leaky_relu(nn.SpectralNorm(conv)(x, update_stats=train), LEAKY_SLOPE)
    x = x.reshape(x.shape[0], -1)
    dense = nn.Dense(1, kernel_init=normal_init, dtype=self.dtype)
    return nn.SpectralNorm(dense)(x, update_stats=train)[:, 0]
