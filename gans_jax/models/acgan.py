"""AC-GAN's networks (Odena, Olah & Shlens 2017, Appendix A, "Model hyperparameters"): the
ImageNet model that trains on 10 classes at 128x128.

Generator: the 110-d input (z of 100 concatenated with the one-hot class of 10) through a dense
layer to 768 feature maps (ReLU, no BatchNorm), then 5x5 transposed convolutions of stride 2
to 384, 256 and 192 maps (BatchNorm, ReLU) and to 3 (tanh). Four stride-2 layers reach 128x128,
so the dense layer's 768 maps are 8x8 (resolution / 16 on a side).

Discriminator: six 3x3 convolutions of 16, 32, 64, 128, 256 and 512 maps, strides alternating
2, 1, 2, 1, 2, 1, LeakyReLU(0.2), dropout 0.5 after each, BatchNorm on all but the first; then
one dense layer of K + 1 outputs: the source logit (a sigmoid) and K class logits (a softmax),
returned as (source logits [B], class logits [B, K]).

Every layer has a bias; weights are drawn from N(0, 0.02) and biases start at 0 (the table's
"isotropic gaussian (mu = 0, sigma = 0.02), Constant(0)"). Padding is "SAME" (the output is the
input size over the stride). The table also names "activation noise in the discriminator as
suggested in Salimans et al. (2016)" without its size: it is ``activation_noise`` here, the std
of Gaussian noise added to every hidden layer's output of D in training (0: none).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans_jax import errors
from gans_jax.models import dcgan, layers

LEAK = 0.2
# The table's layers: the generator's transposed convolutions after the dense 768 maps, and the
# discriminator's (maps, stride) convolutions.
GENERATOR_MAPS = (384, 256, 192)
DISCRIMINATOR_LAYERS = ((16, 2), (32, 1), (64, 2), (128, 1), (256, 2), (512, 1))


def _check_resolution(resolution: int) -> None:
  if resolution % 16 or resolution < 16:
    raise errors.ConfigError(
      f"AC-GAN's networks need a resolution that is a multiple of 16 (four stride-2 layers in "
      f"G), got {resolution}."
    )


class Generator(nn.Module):
  """(z [B, latent], labels int [B]) -> images [B, R, R, C] in [-1, 1].

  Attributes:
    output_shape: (R, R, C), R a multiple of 16 (the paper: 128).
    num_classes: K (the paper: 10 per model); the one-hot class is concatenated to z.
    width: maps of the dense layer (768); the transposed convolutions have the table's
      384 / 256 / 192 scaled by width / 768.
  """

  output_shape: Sequence[int]
  num_classes: int = 10
  width: int = 768
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    resolution, _, channels = self.output_shape
    _check_resolution(resolution)
    if not self.num_classes:
      raise errors.ConfigError("AC-GAN's generator is class-conditional: it needs classes.")
    z = jnp.concatenate([z, dcgan.one_hot(labels, self.num_classes, z.shape[0])], -1)
    side = resolution // 16
    dense = nn.Dense(side * side * self.width, kernel_init=dcgan.normal_init, dtype=self.dtype)
    x = nn.relu(dense(z)).reshape(z.shape[0], side, side, self.width)
    deconv = functools.partial(
      layers.ConvTranspose,
      kernel_size=(5, 5),
      strides=(2, 2),
      padding="SAME",
      kernel_init=dcgan.normal_init,
      dtype=self.dtype,
    )
    for maps in GENERATOR_MAPS:
      x = deconv(maps * self.width // 768)(x)
      x = nn.relu(_batchnorm(train, self.dtype)(x))
    return jnp.tanh(deconv(channels)(x))  # [B, R, R, C]


class Discriminator(nn.Module):
  """images [B, R, R, C] -> (source logits [B], class logits [B, K]).

  Attributes:
    num_classes: K.
    width: maps of the first convolution (16); the others are the table's scaled by width / 16.
    dropout: after every convolution in training (0.5).
    activation_noise: std of Gaussian noise on every hidden layer's output in training (0: none;
      see the module docstring).
  """

  num_classes: int = 10
  width: int = 16
  dropout: float = 0.5
  activation_noise: float = 0.0
  conditioning: str = "auxiliary"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, labels=None, train: bool = True):
    del labels  # The class is predicted, not given (``conditioning="auxiliary"``).
    if self.conditioning != "auxiliary" or not self.num_classes:
      raise errors.ConfigError(
        "AC-GAN's discriminator predicts the class (conditioning='auxiliary', num_classes > 0)."
      )
    for index, (maps, stride) in enumerate(DISCRIMINATOR_LAYERS):
      conv = layers.Conv(
        maps * self.width // 16,
        (3, 3),
        strides=(stride, stride),
        padding="SAME",
        kernel_init=dcgan.normal_init,
        dtype=self.dtype,
      )
      x = conv(x)
      if index:
        x = _batchnorm(train, self.dtype)(x)
      x = nn.leaky_relu(x, LEAK)
      x = nn.Dropout(self.dropout, deterministic=not train or self.dropout == 0)(x)
      if self.activation_noise and train:
        key = self.make_rng("dropout")
        x = x + self.activation_noise * jax.random.normal(key, x.shape, x.dtype)
    outputs = nn.Dense(1 + self.num_classes, kernel_init=dcgan.normal_init, dtype=self.dtype)
    logits = outputs(x.reshape(x.shape[0], -1)).astype(jnp.float32)
    return logits[:, 0], logits[:, 1:]


def _batchnorm(train: bool, dtype):
  """BatchNorm with scales of 1 (the table gives no other initialisation for them)."""
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, dtype=dtype)
