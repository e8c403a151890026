"""StyleGAN's building blocks (Karras, Laine & Aila 2019; Karras et al. 2018), as in NVlabs'
``stylegan`` ``training/networks_stylegan.py``: equalized-learning-rate layers, resampling with
the [1, 2, 1] blur, pixel and instance normalisation, AdaIN and the minibatch standard deviation.
``models.stylegan`` builds the networks from them.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans_jax import errors

LRELU_GAIN = math.sqrt(2.0)


def lrelu(x):
  return nn.leaky_relu(x, 0.2)


def num_levels(resolution: int) -> int:
  """Levels 4x4, 8x8, ..., resolution (a power of two >= 4), or a clear error."""
  if resolution < 4 or resolution & (resolution - 1):
    raise errors.ConfigError(f"StyleGAN resolution must be a power of two >= 4, got {resolution}.")
  return int(math.log2(resolution)) - 1


def num_style_layers(level: int) -> int:
  """Layers that read a w at ``level`` (two per resolution): 2 (level + 1)."""
  return 2 * (level + 1)


def feature_maps(stage: int, base: int, maximum: int) -> int:
  """NVlabs' nf(stage) = min(base / 2^stage, maximum): channels shrink as resolution grows."""
  return min(int(base / 2.0**stage), maximum)


def upsample(x):
  """Nearest-neighbour 2x upsampling [B, H, W, C] -> [B, 2H, 2W, C]."""
  b, h, w, c = x.shape
  return jnp.broadcast_to(x[:, :, None, :, None], (b, h, 2, w, 2, c)).reshape(b, 2 * h, 2 * w, c)


def downsample(x):
  """2x2 average pooling [B, H, W, C] -> [B, H/2, W/2, C]."""
  b, h, w, c = x.shape
  return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def resize_to(x, size: int):
  """Images [B, R, R, C] average-pooled (R > size) or nearest-upsampled (R < size) to size."""
  while x.shape[1] > size:
    x = downsample(x)
  while x.shape[1] < size:
    x = upsample(x)
  return x


def blur(x):
  """The [1, 2, 1] x [1, 2, 1] / 16 low-pass filter with zero padding ('SAME'), NVlabs' blur2d.
  Written as two separable 3-tap sums of shifted copies: XLA:CPU runs the equivalent depthwise
  convolution (and its gradient) several times slower. [B, H, W, C] -> same."""

  def along(x, axis):
    padded = jnp.pad(x, [(1, 1) if a == axis else (0, 0) for a in range(x.ndim)])
    size = x.shape[axis]
    taps = [jax.lax.slice_in_dim(padded, i, i + size, axis=axis) for i in range(3)]
    return (taps[0] + 2.0 * taps[1] + taps[2]) * 0.25

  return along(along(x, 1), 2)


def pixel_norm(x, epsilon: float = 1e-8):
  """x / sqrt(mean(x^2 over features) + eps) (Karras 2018, Sec. 4.2)."""
  return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + epsilon)


def instance_norm(x, epsilon: float = 1e-8):
  """Per sample and channel: zero mean, unit variance over H, W (AdaIN's normalisation)."""
  x = x - jnp.mean(x, axis=(1, 2), keepdims=True)
  return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=(1, 2), keepdims=True) + epsilon)


def adain(x, scale, bias):
  """AdaIN (Karras 2019, Eq. 1): instance_norm(x) * (1 + scale) + bias; x [B, H, W, C], scale
  and bias [B, C]. The +1 makes a zero-initialised affine an identity style."""
  return instance_norm(x) * (1.0 + scale[:, None, None, :]) + bias[:, None, None, :]


def minibatch_stddev(x, group_size: int = 4, epsilon: float = 1e-8):
  """Appends one feature map: the standard deviation of each feature over a group of samples,
  averaged over features and pixels (Karras 2018, Sec. 3). Sample i is in group i mod (B / G),
  as in NVlabs' layer. [B, H, W, C] -> [B, H, W, C + 1].

  Raises:
    ValueError: if the batch is not a multiple of the group size (when larger than it).
  """
  batch = x.shape[0]
  group = min(group_size, batch)
  if batch % group:
    raise errors.ConfigError(
      f"Minibatch stddev: batch {batch} is not a multiple of group size {group}."
    )
  y = x.astype(jnp.float32).reshape(group, batch // group, *x.shape[1:])  # [G, M, H, W, C]
  y = y - jnp.mean(y, axis=0)
  y = jnp.sqrt(jnp.mean(jnp.square(y), axis=0) + epsilon)  # [M, H, W, C]
  y = jnp.mean(y, axis=(1, 2, 3))  # [M]
  y = jnp.tile(y, group).astype(x.dtype)  # [B]: sample i gets group i mod M's value.
  feature = jnp.broadcast_to(y[:, None, None, None], (*x.shape[:3], 1))
  return jnp.concatenate([x, feature], axis=-1)


class EqualizedDense(nn.Module):
  """Dense layer with the equalized learning rate: y = x (W * gain * lrmul / sqrt(fan_in)) + b *
  lrmul, W ~ N(0, 1 / lrmul^2), b stored as zeros. [..., fan_in] -> [..., features]."""

  features: int
  gain: float = LRELU_GAIN
  lr_multiplier: float = 1.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    fan_in = x.shape[-1]
    kernel = self.param(
      "kernel", nn.initializers.normal(1.0 / self.lr_multiplier), (fan_in, self.features)
    )
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    scale = self.gain * self.lr_multiplier / math.sqrt(fan_in)
    y = jnp.dot(x.astype(self.dtype), (kernel * scale).astype(self.dtype))
    return y + (bias * self.lr_multiplier).astype(self.dtype)


class EqualizedConv(nn.Module):
  """'SAME' stride-1 convolution with the equalized learning rate (kernel HWIO ~ N(0, 1), scaled by
  gain / sqrt(kh kw C_in)) and a bias. [B, H, W, C_in] -> [B, H, W, features]."""

  features: int
  kernel_size: int = 3
  gain: float = LRELU_GAIN
  use_bias: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    k, fan_in = self.kernel_size, self.kernel_size**2 * x.shape[-1]
    kernel = self.param("kernel", nn.initializers.normal(1.0), (k, k, x.shape[-1], self.features))
    kernel = (kernel * (self.gain / math.sqrt(fan_in))).astype(self.dtype)
    y = jax.lax.conv_general_dilated(
      x.astype(self.dtype), kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(self.dtype)
    return y
