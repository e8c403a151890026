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

``init_range`` > 0 draws every weight from U(-init_range, init_range) with zero biases, as
pylearn2's ``irange`` does for the papers' models (Goodfellow's MNIST G .05, D .005);
``init_std`` > 0 draws them from N(0, init_std^2) (PacGAN's 2-D networks: 0.02); both 0 keep
flax's LeCun-normal weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans_jax import errors
from gans_jax.models.dcgan import one_hot


def weight_init(init_range: float, init_std: float = 0.0):
  """Dense kernels: U(-init_range, init_range) when ``init_range`` > 0 (pylearn2's ``irange``),
  N(0, init_std^2) when ``init_std`` > 0 (blocks' ``IsotropicGaussian``, PacGAN's 0.02), else
  flax's default (LeCun normal)."""
  if init_range and init_std:
    raise errors.ConfigError("init_range and init_std are two initialisations; set one.")
  if init_std:
    return nn.initializers.normal(init_std)
  if not init_range:
    return nn.linear.default_kernel_init
  return lambda key, shape, dtype=jnp.float32: jax.random.uniform(
    key, shape, dtype, -init_range, init_range
  )


# Output activations of the MLP generator, for data in [-1, 1] (or unbounded points).
OUTPUT_ACTIVATIONS = {
  "tanh": jnp.tanh,
  # The papers' sigmoid output for [0, 1] pixels, rescaled to the [-1, 1] the data has here:
  # 2 sigmoid(a) - 1 (Goodfellow 2014, Mirza 2014).
  "sigmoid": lambda a: 2.0 * jax.nn.sigmoid(a) - 1.0,
  "linear": lambda a: a,
}


def dropout(x, rate: float, train: bool):
  """Dropout of ``rate`` in training (a "dropout" rng), identity otherwise or at rate 0."""
  return nn.Dropout(rate, deterministic=not train or rate == 0)(x)


class Maxout(nn.Module):
  """Maxout layer: ``pieces`` affine maps per output unit, then their maximum.

  [B, D] -> [B, features].
  """

  features: int
  pieces: int
  init_range: float = 0.0
  init_std: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    # Unit u's pieces are columns u P .. u P + P - 1, as in pylearn2's Maxout.
    kernel_init = weight_init(self.init_range, self.init_std)
    dense = nn.Dense(self.features * self.pieces, kernel_init=kernel_init, dtype=self.dtype)
    y = dense(x)  # [B, F * P]
    return jnp.max(y.reshape(*y.shape[:-1], self.features, self.pieces), axis=-1)  # [B, F]


class Generator(nn.Module):
  """MLP generator: z [B, latent] -> [B, *output_shape].

  Attributes:
    output_shape: shape of one sample, e.g. (2,) for points or (8, 8, 1) for images.
    hidden: widths of the ReLU hidden layers.
    output_activation: "tanh" or "sigmoid" (2 sigmoid - 1, the papers' sigmoid for the [-1, 1]
      data here) for images, "linear" for unbounded data (2-D points).
    batch_norm: BatchNorm after each hidden layer, which then has no bias (PacGAN's 2-D
      generator).
    dropout: dropout rate on each hidden layer's output in training (Mirza & Osindero's G: 0.5;
      it needs a "dropout" rng); 0 disables.
    init_range: U(-init_range, init_range) weights, zero biases (see the module docstring).
    init_std: N(0, init_std^2) weights, zero biases (see the module docstring).
    batch_norm_momentum: decay of BatchNorm's running statistics (flax's convention; blocks'
      update rate 0.05 of PacGAN's code is 0.95 here).
    batch_norm_epsilon: added to the batch variance (blocks: 1e-4; flax: 1e-5).
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
  dropout: float = 0.0
  init_range: float = 0.0
  init_std: float = 0.0
  batch_norm_momentum: float = 0.9
  batch_norm_epsilon: float = 1e-5
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    if self.output_activation not in OUTPUT_ACTIVATIONS:
      raise errors.ConfigError(
        f"Unknown output_activation {self.output_activation!r}; known: "
        f"{', '.join(OUTPUT_ACTIVATIONS)}."
      )
    # Under BatchNorm a hidden layer has no bias (BatchNorm's shift takes its place, as in
    # PacGAN's code); the output layer always has one.
    dense = lambda width, bias=True: nn.Dense(  # noqa: E731
      width,
      use_bias=bias,
      kernel_init=weight_init(self.init_range, self.init_std),
      dtype=self.dtype,
    )
    x = z
    y = one_hot(labels, self.num_classes, z.shape[0]) if self.num_classes else None
    if y is not None and not self.label_hidden:
      x = jnp.concatenate([x, y], -1)
    for index, width in enumerate(self.hidden):
      x = dense(width, not self.batch_norm)(x)
      if index == 0 and y is not None and self.label_hidden:
        x = jnp.concatenate([x, dense(self.label_hidden)(y)], -1)
      if self.batch_norm:
        x = nn.BatchNorm(
          use_running_average=not train,
          momentum=self.batch_norm_momentum,
          epsilon=self.batch_norm_epsilon,
          dtype=self.dtype,
        )(x)
      x = nn.relu(x)
      x = dropout(x, self.dropout, train)
    x = OUTPUT_ACTIVATIONS[self.output_activation](dense(math.prod(self.output_shape))(x))
    return x.reshape(x.shape[0], *self.output_shape)


class Discriminator(nn.Module):
  """MLP discriminator: [B, ...] -> logits [B // pack].

  Attributes:
    hidden: widths of the hidden layers.
    maxout_pieces: pieces per maxout unit; 0 gives ReLU units.
    dropout: dropout rate on the input of each hidden layer in training (0 disables).
    input_dropout: the rate on D's input (the first hidden layer's input) instead, when not
      None (Goodfellow's MNIST D: 0.2 there, 0.5 elsewhere).
    output_dropout: also drop the output layer's input at ``dropout``, as pylearn2's dropout
      does for every layer of Goodfellow's D.
    init_range: U(-init_range, init_range) weights, zero biases (see the module docstring).
    init_std: N(0, init_std^2) weights, zero biases (see the module docstring).
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
  input_dropout: float | None = None
  output_dropout: bool = False
  init_range: float = 0.0
  init_std: float = 0.0
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
    first = self.dropout if self.input_dropout is None else self.input_dropout
    for index, width in enumerate(self.hidden):
      rate = first if index == 0 else self.dropout
      x = self._hidden(dropout(x, rate, train), width, pieces[index])
      if index == 0 and y is not None and self.label_hidden:
        label_units = self._hidden(dropout(y, first, train), self.label_hidden, self.label_pieces)
        x = jnp.concatenate([x, label_units], -1)
    if self.output_dropout:
      x = dropout(x, self.dropout, train)
    dense = nn.Dense(1, kernel_init=self._kernel_init(), dtype=self.dtype)
    return dense(x)[:, 0]

  def _kernel_init(self):
    return weight_init(self.init_range, self.init_std)

  def _hidden(self, x, width: int, pieces: int):
    if pieces:
      return Maxout(width, pieces, self.init_range, self.init_std, dtype=self.dtype)(x)
    dense = nn.Dense(width, kernel_init=self._kernel_init(), dtype=self.dtype)
    return nn.relu(dense(x))
