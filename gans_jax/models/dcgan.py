"""DCGAN (Radford, Metz & Chintala 2016), the layout of the PyTorch reference implementation.

Generator: z -> 4x4 -> ... -> resolution x resolution with transposed convolutions (stride 2),
BatchNorm + ReLU on every hidden layer and tanh on the output. Discriminator: the mirror image with
strided convolutions and LeakyReLU(0.2), BatchNorm on every layer but the first. Weights are drawn
from N(0, 0.02) and BatchNorm scales from N(1, 0.02) (paper, Sec. 4). Convolutions carry no bias,
as BatchNorm follows them.

Class conditioning (``num_classes`` > 0): the generator concatenates the one-hot label to z (the
convolutional cGAN of Mirza & Osindero 2014, as in Radford et al.'s conditional experiments); the
discriminator either sees the label as K constant input planes (``conditioning="input"``, cGAN)
or predicts it with a second head on the same trunk (``conditioning="auxiliary"``, AC-GAN, Odena
et al. 2017), returning (source logits [B], class logits [B, K]).

Kernel size 4 reproduces the PyTorch example (4x4 kernels, a 4x4 "valid" first/last layer).
Kernel size 5 is the TensorFlow / Bhavsar 2018 landscape variant: 5x5 kernels and a dense
projection to 4x4 in G (the paper's "project and reshape"), a dense logit layer in D.

``weight_init="tflib"``, ``use_bias`` and D's ``padding="same"`` give the networks of
igul222/improved_wgan_training's ``gan_cifar.py`` (Gulrajani et al. 2017's CIFAR-10 DCGAN):
its tflib library's uniform initialisation (``tflib_init``), BatchNorm scales of 1, a bias on
every layer, and TensorFlow's "SAME" padding (the extra row and column at the bottom and right).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans_jax import errors
from gans_jax.models import layers

normal_init = nn.initializers.normal(stddev=0.02)


def _batchnorm_scale_init(key, shape, dtype=jnp.float32):
  return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


INITS = ("dcgan", "tflib")


def tflib_init(kind: str, stride: int = 1):
  """igul222's tflib initialisers: U(-sqrt(3) s, sqrt(3) s) with s = sqrt(4 / (fan_in + fan_out))
  for (transposed) convolutions ("He" init), fan_out (conv) or fan_in (transposed conv) divided
  by stride^2, and s = sqrt(2 / (in + out)) for dense layers (Glorot). ``kind``: "conv",
  "deconv" or "dense"; kernels are flax's [kh, kw, in, out] or [in, out]."""

  def init(key, shape, dtype=jnp.float32):
    if kind == "dense":
      std = math.sqrt(2.0 / (shape[0] + shape[1]))
    else:
      area = shape[0] * shape[1]
      fan_in, fan_out = shape[2] * area, shape[3] * area
      if kind == "conv":
        fan_out /= stride**2
      else:
        fan_in /= stride**2
      std = math.sqrt(4.0 / (fan_in + fan_out))
    bound = std * math.sqrt(3.0)
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


def _kernel_init(init: str, kind: str, stride: int = 1):
  """The kernel initialiser of ``init`` ("dcgan": N(0, 0.02); "tflib": ``tflib_init``)."""
  if init not in INITS:
    raise errors.ConfigError(f"DCGAN weight_init must be one of {', '.join(INITS)}, got {init!r}.")
  return normal_init if init == "dcgan" else tflib_init(kind, stride)


def num_upsamplings(resolution: int) -> int:
  """Stride-2 layers between 4x4 and ``resolution`` (a power of two >= 8), or a clear error."""
  if resolution < 8 or resolution & (resolution - 1):
    raise errors.ConfigError(f"DCGAN resolution must be a power of two >= 8, got {resolution}.")
  return int(math.log2(resolution // 4))


def batchnorm(train: bool, dtype, name: str | None = None, init: str = "dcgan"):
  """BatchNorm with PyTorch's defaults and DCGAN's N(1, 0.02) scales (scales of 1 with
  ``weight_init="tflib"``)."""
  # PyTorch's BatchNorm2d: eps 1e-5, running-average momentum 0.1 (flax: 0.9).
  return nn.BatchNorm(
    use_running_average=not train,
    momentum=0.9,
    epsilon=1e-5,
    scale_init=_batchnorm_scale_init if init == "dcgan" else nn.initializers.ones,
    dtype=dtype,
    name=name,
  )


class Generator(nn.Module):
  """z [B, latent] -> images [B, R, R, C] in [-1, 1].

  Attributes:
    output_shape: (R, R, C), R a power of two >= 8.
    width: ngf, channels of the last hidden layer; the 4x4 layer has ngf * R / 8 channels.
    kernel_size: 4 (PyTorch reference) or 5 (TensorFlow / landscape variant).
    num_classes: K > 0 makes G conditional on labels int [B] (one-hot, concatenated to z).
    projection_norm: with kernel 5, BatchNorm of the 4x4 projection per "channel" after the
      reshape (DCGAN-tensorflow's) or per "unit" of the dense output before it (Newmu's code:
      16 x ngf * R / 8 gains).
    weight_init: "dcgan" (N(0, 0.02) weights, N(1, 0.02) BatchNorm scales) or "tflib" (module
      docstring).
    use_bias: a bias on every layer (tflib's; those before a BatchNorm change nothing).
  """

  output_shape: Sequence[int]
  width: int = 64
  kernel_size: int = 4
  num_classes: int = 0
  projection_norm: str = "channel"
  weight_init: str = "dcgan"
  use_bias: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    resolution, _, channels = self.output_shape
    if self.num_classes:
      z = jnp.concatenate([z, one_hot(labels, self.num_classes, z.shape[0])], -1)
    num_up = num_upsamplings(resolution)
    k = self.kernel_size
    deconv = functools.partial(
      layers.ConvTranspose,  # flax's, faster on CPU.
      kernel_size=(k, k),
      use_bias=self.use_bias,
      dtype=self.dtype,
    )
    norm = functools.partial(batchnorm, train, self.dtype, init=self.weight_init)
    features = self.width * 2 ** (num_up - 1)
    if k == 4:  # 1x1 -> 4x4 by a 4x4 transposed convolution without padding.
      first = deconv(
        features, padding="VALID", kernel_init=_kernel_init(self.weight_init, "deconv")
      )
      x = first(z[:, None, None, :])  # [B, 4, 4, F]
    else:  # Project and reshape.
      dense = nn.Dense(
        4 * 4 * features,
        use_bias=self.use_bias,
        kernel_init=_kernel_init(self.weight_init, "dense"),
        dtype=self.dtype,
      )
      x = dense(z)
      if self.projection_norm not in ("channel", "unit"):
        raise errors.ConfigError(
          f"projection_norm must be 'channel' or 'unit', got {self.projection_norm!r}."
        )
      if self.projection_norm == "unit":
        x = norm()(x)
      x = x.reshape(z.shape[0], 4, 4, features)  # [B, 4, 4, F]
    if k == 4 or self.projection_norm == "channel":
      x = norm()(x)
    x = nn.relu(x)
    upsample = functools.partial(
      deconv,
      strides=(2, 2),
      padding="SAME",
      kernel_init=_kernel_init(self.weight_init, "deconv", 2),
    )
    for level in range(1, num_up):
      # "SAME" here pads the dilated input like PyTorch's padding=(k - 1) // 2 with
      # output_padding=1 for k=5, and padding=1 for k=4: exactly doubling the size (and as
      # TensorFlow's conv2d_transpose "SAME" does, lax.conv_transpose's reference).
      x = nn.relu(norm()(upsample(features // 2**level)(x)))
    x = upsample(channels)(x)  # [B, R, R, C]
    return jnp.tanh(x)


class Discriminator(nn.Module):
  """images [B, R, R, C] -> logits [B] (or (logits [B], class logits [B, K]), see below).

  Attributes:
    width: ndf, channels of the first layer (doubling at each halving of the size).
    kernel_size: 4 or 5, as in the generator.
    num_classes: K > 0 for class-conditional training.
    conditioning: with K > 0, "input" (labels int [B] as K one-hot input planes, cGAN) or
      "auxiliary" (labels unused; a class head beside the source head, AC-GAN).
    batch_norm: BatchNorm on the hidden layers (off for the WGAN-GP critic, whose gradient
      penalty is per sample, Gulrajani et al. 2017, Sec. 4).
    weight_init, use_bias: as the generator's.
    padding: "symmetric" ((k - 1) // 2 on every side: PyTorch's and Newmu's Theano code's) or
      "same" (TensorFlow's: the odd extra row and column at the bottom and right; the same as
      "symmetric" for k = 4).
  """

  width: int = 64
  kernel_size: int = 4
  num_classes: int = 0
  conditioning: str = "input"
  batch_norm: bool = True
  weight_init: str = "dcgan"
  use_bias: bool = False
  padding: str = "symmetric"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, labels=None, train: bool = True):
    if self.conditioning not in ("input", "auxiliary"):
      raise errors.ConfigError(
        f"conditioning must be 'input' or 'auxiliary', got {self.conditioning!r}."
      )
    if self.num_classes and self.conditioning == "input":
      planes = one_hot(labels, self.num_classes, x.shape[0])[:, None, None, :]
      x = jnp.concatenate([x, jnp.broadcast_to(planes, (*x.shape[:3], self.num_classes))], -1)
    num_down = num_upsamplings(x.shape[1])
    k = self.kernel_size
    pad = (k - 1) // 2
    if self.padding not in ("symmetric", "same"):
      raise errors.ConfigError(f"padding must be 'symmetric' or 'same', got {self.padding!r}.")
    conv = functools.partial(
      layers.Conv,  # flax's, with faster gradients on CPU.
      kernel_size=(k, k),
      strides=(2, 2),
      padding="SAME" if self.padding == "same" else ((pad, pad), (pad, pad)),
      use_bias=self.use_bias,
      kernel_init=_kernel_init(self.weight_init, "conv", 2),
      dtype=self.dtype,
    )
    x = nn.leaky_relu(conv(self.width)(x), 0.2)  # No BatchNorm on D's input layer.
    for level in range(1, num_down):
      x = conv(self.width * 2**level)(x)
      if self.batch_norm:
        x = batchnorm(train, self.dtype, init=self.weight_init)(x)
      x = nn.leaky_relu(x, 0.2)  # [B, 4, 4, ndf * R / 8] at the end.
    logits = self._head(x, 1)[:, 0]
    if self.num_classes and self.conditioning == "auxiliary":
      return logits, self._head(x, self.num_classes, name="class_head")
    return logits

  def _head(self, x, features: int, name: str | None = None):
    """[B, 4, 4, F] -> [B, features]: a 4x4 valid convolution (k=4) or a dense layer (k=5)."""
    if self.kernel_size == 4:
      conv = nn.Conv(
        features,
        (4, 4),
        padding="VALID",
        use_bias=self.use_bias,
        kernel_init=_kernel_init(self.weight_init, "conv"),
        name=name,
      )
      return conv(x).reshape(x.shape[0], features).astype(jnp.float32)
    dense = nn.Dense(
      features,
      use_bias=self.use_bias,
      kernel_init=_kernel_init(self.weight_init, "dense"),
      name=name,
    )
    return dense(x.reshape(x.shape[0], -1)).astype(jnp.float32)


def one_hot(labels, num_classes: int, batch: int):
  """float32 [B, K] one-hot of labels int [B]; a clear error when a conditional net gets none."""
  if labels is None:
    raise ValueError(f"A class-conditional network (num_classes={num_classes}) needs labels.")
  return jax.nn.one_hot(jnp.reshape(labels, (batch,)), num_classes, dtype=jnp.float32)
