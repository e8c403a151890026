"""Vanilla GAN networks (Goodfellow et al. 2014): an MLP generator and an MLP discriminator.

The discriminator's hidden units are maxout units (Goodfellow et al. 2013) when
``maxout_pieces > 0``, as in the paper's MNIST/TFD experiments, else ReLU; dropout on its hidden
layers is optional (the paper used it).

Class conditioning (Mirza & Osindero 2014, Sec. 4.1) with ``num_classes`` > 0: the one-hot label
gets its own first hidden layer of ``label_hidden`` units (ReLU in G, maxout in D), joined with
the first hidden layer of z (or x) before the remaining layers. The paper's MNIST model is
G: z -> 200 and y -> 1000, joined 1200 -> 784; D: x -> 240 maxout units of 5 pieces and
y -> 50 units of 5 pieces, joined -> 240 units of 4 pieces -> 1 (``configs/cgan.py:net=mlp``).
With ``label_hidden=0`` the one-hot label is concatenated to the input instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans_jax import errors
from gans_jax.models.dcgan import one_hot


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
    num_classes: K > 0 makes G conditional on labels int [B].
    label_hidden: width of the label's own ReLU layer, joined with z's first hidden layer
      (Mirza & Osindero: 1000); 0 concatenates the one-hot label to z.
  """

  output_shape: Sequence[int]
  hidden: Sequence[int] = (256, 256)
  output_activation: str = "tanh"
  batch_norm: bool = False
  num_classes: int = 0
  label_hidden: int = 0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    x = z
    y = one_hot(labels, self.num_classes, z.shape[0]) if self.num_classes else None
    if y is not None and not self.label_hidden:
      x = jnp.concatenate([x, y], -1)
    for index, width in enumerate(self.hidden):
      x = nn.Dense(width, dtype=self.dtype)(x)
      if index == 0 and y is not None and self.label_hidden:
        x = jnp.concatenate([x, nn.Dense(self.label_hidden, dtype=self.dtype)(y)], -1)
      if self.batch_norm:
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(x)
      x = nn.relu(x)
    x = nn.Dense(math.prod(self.output_shape), dtype=self.dtype)(x)
    if self.output_activation == "tanh":
      x = jnp.tanh(x)
    elif self.output_activation != "linear":
      raise errors.ConfigError(
        f"Unknown output_activation {self.output_activation!r}: tanh or linear."
      )
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
  maxout_pieces: int | Sequence[int] = 5
  dropout: float = 0.0
  pack: int = 1
  num_classes: int = 0
  label_hidden: int = 0
  label_pieces: int = 5
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, labels=None, train: bool = True):
    """[B, ...] -> logits [B // pack]; B must be a multiple of ``pack``.

    ``maxout_pieces`` may give one count per hidden layer; with ``num_classes`` > 0 the label
    (int [B]) enters as in the module docstring (``label_hidden`` maxout units of
    ``label_pieces`` pieces, or concatenated to x when 0).
    """
    if x.shape[0] % self.pack:
      raise errors.ConfigError(
        f"Batch of {x.shape[0]} does not split into packs of {self.pack} "
        "(model.discriminator.pack); use a batch size that is a multiple of it."
      )
    if self.num_classes and self.pack > 1:
      raise errors.ConfigError(
        "model.discriminator: packing and class conditioning do not combine."
      )
    x = x.reshape(x.shape[0] // self.pack, -1)  # Consecutive samples form one pack.
    y = one_hot(labels, self.num_classes, x.shape[0]) if self.num_classes else None
    if y is not None and not self.label_hidden:
      x = jnp.concatenate([x, y], -1)
    pieces = self.maxout_pieces
    pieces = tuple(pieces) if isinstance(pieces, Sequence) else (pieces,) * len(self.hidden)
    for index, width in enumerate(self.hidden):
      x = self._hidden(x, width, pieces[index], train)
      if index == 0 and y is not None and self.label_hidden:
        x = jnp.concatenate([x, self._hidden(y, self.label_hidden, self.label_pieces, train)], -1)
    return nn.Dense(1, dtype=self.dtype)(x)[:, 0]

  def _hidden(self, x, width: int, pieces: int, train: bool):
    x = nn.Dropout(self.dropout, deterministic=not train or self.dropout == 0)(x)
    if pieces:
      return Maxout(width, pieces, dtype=self.dtype)(x)
    return nn.relu(nn.Dense(width, dtype=self.dtype)(x))
