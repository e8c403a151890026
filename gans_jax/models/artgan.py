"""ArtGAN's networks (Tan, Chan, Aguirre & Tanaka, "ArtGAN: Artwork Synthesis with Conditional
Categorical GANs", ICIP 2017, Sec. 3 and Fig. 2).

The discriminator is an encoder Enc (strided 4x4 convolutions, LeakyReLU(0.2), BatchNorm on every
layer but the first) followed by a classifier clsNet with K + 1 outputs: one per class and one
for "generated"; each output is read through a sigmoid. The generator is zNet (z concatenated
with the one-hot label, projected to Enc's 4x4 feature map) followed by a decoder Dec that
mirrors Enc with stride-2 transposed convolutions and ends in tanh. Because Dec's input has the
shape of Enc's output, ``Dec(Enc(x))`` is an autoencoder built from D's encoder and G's decoder:
ArtGAN's L2 reconstruction loss trains Dec through it. ``Generator.decode`` and
``Discriminator.encode`` expose the two halves (call them with ``module.apply(...,
method="decode")``).

Weights are drawn from N(0, 0.02) as in DCGAN; the layer widths double at each halving of the
size, from ``width`` channels at the first layer, so the 64x64 net with width 128 has the paper's
128-256-512-1024 encoder.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans_jax import errors
from gans_jax.models import dcgan, layers

LEAK = 0.2  # LeakyReLU slope in both networks (paper, Sec. 4).


def _widths(resolution: int, width: int) -> list[int]:
  """Channels of the encoder's layers, from the input side: width, 2 width, ... down to 4x4."""
  return [width * 2**level for level in range(dcgan.num_upsamplings(resolution))]


def _require_classes(num_classes: int) -> None:
  if num_classes < 1:
    raise errors.ConfigError("ArtGAN is class-conditional: set model.num_classes to K >= 1.")


class Encoder(nn.Module):
  """Enc: images [B, R, R, C] -> features [B, 4, 4, width * R / 8]."""

  width: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    conv = functools.partial(
      layers.Conv,  # flax's, with faster gradients on CPU.
      kernel_size=(4, 4),
      strides=(2, 2),
      padding=((1, 1), (1, 1)),
      use_bias=False,
      kernel_init=dcgan.normal_init,
      dtype=self.dtype,
    )
    for level, features in enumerate(_widths(x.shape[1], self.width)):
      x = conv(features)(x)
      if level:  # No BatchNorm on the input layer, as in DCGAN.
        x = dcgan.batchnorm(train, self.dtype)(x)
      x = nn.leaky_relu(x, LEAK)
    return x


class Decoder(nn.Module):
  """Dec: features [B, 4, 4, width * R / 8] -> images [B, R, R, C] in [-1, 1], Enc's mirror."""

  output_shape: Sequence[int]
  width: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    resolution, _, channels = self.output_shape
    deconv = functools.partial(
      layers.ConvTranspose,
      kernel_size=(4, 4),
      strides=(2, 2),
      padding="SAME",
      use_bias=False,
      kernel_init=dcgan.normal_init,
      dtype=self.dtype,
    )
    for features in reversed(_widths(resolution, self.width)[:-1]):
      x = nn.leaky_relu(dcgan.batchnorm(train, self.dtype)(deconv(features)(x)), LEAK)
    return jnp.tanh(deconv(channels)(x))


class ZNet(nn.Module):
  """zNet: (z [B, latent], one-hot labels [B, K]) -> Dec's input [B, 4, 4, F]."""

  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, one_hot, train: bool):
    x = jnp.concatenate([z, one_hot], -1)
    x = nn.Dense(4 * 4 * self.features, use_bias=False, kernel_init=dcgan.normal_init)(x)
    x = x.reshape(z.shape[0], 4, 4, self.features)
    return nn.leaky_relu(dcgan.batchnorm(train, self.dtype)(x), LEAK)


class Generator(nn.Module):
  """G = Dec(zNet(z, y)): (z [B, latent], labels int [B]) -> images [B, R, R, C].

  Attributes:
    output_shape: (R, R, C), R a power of two >= 8.
    width: channels of Dec's last hidden layer (= Enc's first layer).
    num_classes: K >= 1; the label enters zNet as a one-hot vector.
  """

  output_shape: Sequence[int]
  width: int = 64
  num_classes: int = 10
  dtype: Any = jnp.float32

  def setup(self):
    _require_classes(self.num_classes)
    top = _widths(self.output_shape[0], self.width)[-1]
    self.znet = ZNet(top, self.dtype)
    self.decoder = Decoder(tuple(self.output_shape), self.width, self.dtype)

  def __call__(self, z, labels=None, train: bool = True):
    one_hot = dcgan.one_hot(labels, self.num_classes, z.shape[0])
    return self.decoder(self.znet(z, one_hot, train), train)

  def decode(self, features, train: bool = True):
    """Dec alone: Enc-shaped features [B, 4, 4, F] -> images [B, R, R, C]."""
    return self.decoder(features, train)


class Discriminator(nn.Module):
  """D = clsNet(Enc(x)): images [B, R, R, C] -> logits [B, K + 1] (index K: "generated").

  Attributes:
    width: channels of Enc's first layer.
    num_classes: K >= 1.
  """

  width: int = 64
  num_classes: int = 10
  dtype: Any = jnp.float32

  def setup(self):
    _require_classes(self.num_classes)
    self.encoder = Encoder(self.width, self.dtype)
    self.classifier = nn.Dense(self.num_classes + 1, kernel_init=dcgan.normal_init)

  def __call__(self, x, labels=None, train: bool = True):
    del labels  # D predicts the class; it is not told it.
    features = self.encoder(x, train)
    return self.classifier(features.reshape(x.shape[0], -1)).astype(jnp.float32)

  def encode(self, x, train: bool = True):
    """Enc alone: images [B, R, R, C] -> features [B, 4, 4, F]."""
    return self.encoder(x, train)
