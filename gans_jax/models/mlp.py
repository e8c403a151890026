"""Vanilla GAN networks (Goodfellow et al. 2014): an MLP generator and an MLP discriminator.

The discriminator's hidden units are maxout units (Goodfellow et al. 2013) when
``maxout_pieces > 0``, as in the paper's MNIST/TFD experiments, else ReLU; dropout on its hidden
layers is optional (the paper used it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp


class Maxout(nn.Module):
  """Maxout layer: ``pieces`` affine maps per output unit, then their maximum.

  [B, D] -> [B, features].
  """

  features: int
  pieces: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    y = nn.Dense(self.features * self.pieces, dtype=self.dtype)(x)  # [B, F * P]
    return jnp.max(y.reshape(*y.shape[:-1], self.features, self.pieces), axis=-1)  # [B, F]


class Generator(nn.Module):
  """MLP generator: z [B, latent] -> [B, *output_shape].

  Attributes:
    output_shape: shape of one sample, e.g. (2,) for points or (8, 8, 1) for images.
    hidden: widths of the ReLU hidden layers.
    output_activation: "tanh" for images in [-1, 1], "linear" for unbounded data (2-D points).
    batch_norm: BatchNorm after each hidden layer (PacGAN's 2-D generator has it).
  """

  output_shape: Sequence[int]
  hidden: Sequence[int] = (256, 256)
  output_activation: str = "tanh"
  batch_norm: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, train: bool = True):
    x = z
    for width in self.hidden:
      x = nn.Dense(width, dtype=self.dtype)(x)
      if self.batch_norm:
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(x)
      x = nn.relu(x)
    x = nn.Dense(math.prod(self.output_shape), dtype=self.dtype)(x)
    if self.output_activation == "tanh":
      x = jnp.tanh(x)
    elif self.output_activation != "linear":
      raise ValueError(f"Unknown output_activation {self.output_activation!r}: tanh or linear.")
    return x.reshape(x.shape[0], *self.output_shape)


class Discriminator(nn.Module):
  """MLP discriminator: [B, ...] -> logits [B // pack].

  Attributes:
    hidden: widths of the hidden layers.
    maxout_pieces: pieces per maxout unit; 0 gives ReLU units.
    dropout: dropout rate on the input of each hidden layer in training (0 disables).
    pack: PacGAN packing (Lin et al. 2018): D judges ``pack`` samples of the same source at
      once, concatenated, so it sees their joint distribution and can penalise a generator
      whose samples lack diversity. 1 is the plain discriminator.
  """

  hidden: Sequence[int] = (256, 256)
  maxout_pieces: int = 5
  dropout: float = 0.0
  pack: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    """[B, ...] -> logits [B // pack]; B must be a multiple of ``pack``."""
    if x.shape[0] % self.pack:
      raise ValueError(
        f"Batch of {x.shape[0]} does not split into packs of {self.pack} "
        "(model.discriminator.pack); use a batch size that is a multiple of it."
      )
    x = x.reshape(x.shape[0] // self.pack, -1)  # Consecutive samples form one pack.
    for width in self.hidden:
      x = nn.Dropout(self.dropout, deterministic=not train or self.dropout == 0)(x)
      if self.maxout_pieces:
        x = Maxout(width, self.maxout_pieces, dtype=self.dtype)(x)
      else:
        x = nn.relu(nn.Dense(width, dtype=self.dtype)(x))
    return nn.Dense(1, dtype=self.dtype)(x)[:, 0]
