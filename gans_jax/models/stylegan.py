"""StyleGAN (Karras, Laine & Aila 2019) grown progressively (Karras et al. 2018), as in NVlabs'
``stylegan`` (v1) ``training/networks_stylegan.py``.

Generator = mapping network + synthesis network:

- mapping: z [B, Z] -> pixel norm -> ``mapping_layers`` dense layers with LeakyReLU(0.2), learning
  rate multiplier 0.01 -> w [B, W] (paper Sec. 2, App. C);
- synthesis: a learned constant 4x4 input, then per resolution two 3x3 convolutions (the first after
  a nearest 2x upsampling and followed by a [1, 2, 1] blur: the paper's bilinear upsampling), each
  followed by the layer epilogue: per-pixel noise times a learned per-channel strength, bias,
  LeakyReLU(0.2), instance normalisation, and the style (AdaIN, Eq. 1):
  x * (1 + y_s) + y_b with (y_s, y_b) a learned affine map of that layer's w. A 1x1 toRGB per
  resolution. Layer i of the 2 log2(R) - 2 layers reads w_i, so styles can be mixed per layer.

Discriminator (mirrors the synthesis network): fromRGB 1x1 per resolution; per resolution a 3x3
conv, then a [1, 2, 1] blur, a 3x3 conv and a 2x2 average pooling; at 4x4 the minibatch standard
deviation feature (Karras 2018, Sec. 3), a 3x3 conv and two dense layers to one logit.

Every weight uses the equalized learning rate (Karras 2018, Sec. 4.1): stored as N(0, 1 / lrmul),
scaled at run time by gain * lrmul / sqrt(fan_in), with gain sqrt(2) before a LeakyReLU and 1 for
toRGB, the style affines and the logit layer; biases are stored / lrmul, read * lrmul.

Progressive growing: a network of ``resolution`` has ``num_levels = log2(resolution) - 1`` levels
(level l works at 4 * 2^l pixels). Both networks are called with a static ``level`` (their size
at this stage of growing, so each level compiles its own program at its own size) and a traced
``alpha`` in [0, 1], the fade-in of that level's new layers: G outputs
lerp(upsample(toRGB_{l-1}(x_{l-1})), toRGB_l(x_l), alpha); D's input goes both through the new
block and, downsampled, through the previous level's fromRGB, blended the same way (Karras 2018,
Fig. 2). At alpha = 0 both equal the previous level's networks exactly.

Noise inputs are drawn from the "noise" RNG stream: the same key gives the same noise maps; or
given (``noise``: one [B, H, W, 1] map per layer, NVlabs' ``randomize_noise=False`` with its
``noise{i}`` inputs).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans_jax.models.stylegan_layers import (  # noqa: F401 (used by trainers and tests)
  LRELU_GAIN,
  EqualizedConv,
  EqualizedDense,
  adain,
  blur,
  downsample,
  feature_maps,
  instance_norm,
  lrelu,
  minibatch_stddev,
  num_levels,
  num_style_layers,
  pixel_norm,
  resize_to,
  upsample,
)


class MappingNetwork(nn.Module):
  """z [B, Z] -> w [B, W]: pixel norm, then ``num_layers`` equalized dense + LeakyReLU layers."""

  w_dim: int = 512
  num_layers: int = 8
  lr_multiplier: float = 0.01
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z):
    x = pixel_norm(z.astype(jnp.float32))
    for i in range(self.num_layers):
      layer = EqualizedDense(
        self.w_dim, lr_multiplier=self.lr_multiplier, dtype=self.dtype, name=f"dense_{i}"
      )
      x = lrelu(layer(x))
    return x.astype(jnp.float32)


class StyleEpilogue(nn.Module):
  """Noise, bias, LeakyReLU, then AdaIN with the style of ``w`` (the end of every synthesis
  layer). x [B, H, W, C], w [B, W] -> [B, H, W, C]."""

  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, w, noise=None):
    channels = x.shape[-1]
    strength = self.param("noise_strength", nn.initializers.zeros, (channels,))
    if noise is None:
      noise = jax.random.normal(self.make_rng("noise"), (*x.shape[:3], 1), jnp.float32)
    x = x.astype(jnp.float32) + noise * strength
    x = lrelu(x + self.param("bias", nn.initializers.zeros, (channels,)))
    style = EqualizedDense(2 * channels, gain=1.0, dtype=self.dtype, name="style")(w)
    scale, bias = jnp.split(style.astype(jnp.float32), 2, axis=-1)
    return adain(x, scale, bias)


class SynthesisBlock(nn.Module):
  """Level >= 1: upsample, 3x3 conv, blur, epilogue(w0), 3x3 conv, epilogue(w1).
  [B, H, W, C] -> [B, 2H, 2W, features]."""

  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, w0, w1, noise=(None, None)):
    conv = lambda name: EqualizedConv(self.features, use_bias=False, dtype=self.dtype, name=name)  # noqa: E731
    x = blur(conv("conv_up")(upsample(x)))
    x = StyleEpilogue(self.dtype, name="epilogue_0")(x, w0, noise[0])
    x = conv("conv")(x)
    return StyleEpilogue(self.dtype, name="epilogue_1")(x, w1, noise[1])


class InitialBlock(nn.Module):
  """Level 0: the learned constant 4x4 input, epilogue(w0), 3x3 conv, epilogue(w1)."""

  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, w0, w1, noise=(None, None)):
    const = self.param("const", nn.initializers.ones, (4, 4, self.features))
    x = jnp.broadcast_to(const, (w0.shape[0], 4, 4, self.features))
    x = StyleEpilogue(self.dtype, name="epilogue_0")(x, w0, noise[0])
    x = EqualizedConv(self.features, use_bias=False, dtype=self.dtype, name="conv")(x)
    return StyleEpilogue(self.dtype, name="epilogue_1")(x, w1, noise[1])


def _to_rgb(channels: int, dtype):
  """toRGB: a linear 1x1 convolution (gain 1)."""
  return EqualizedConv(channels, kernel_size=1, gain=1.0, dtype=dtype)


class SynthesisNetwork(nn.Module):
  """Per-layer styles ws [B, L, W] (L >= num_style_layers(level)) -> images [B, S, S, C] at
  S = 4 * 2^level, the top level faded in by ``alpha``."""

  resolution: int
  channels: int
  fmap_base: int = 8192
  fmap_max: int = 512
  dtype: Any = jnp.float32

  def setup(self):
    levels = num_levels(self.resolution)
    nf = lambda stage: feature_maps(stage, self.fmap_base, self.fmap_max)  # noqa: E731
    self.initial = InitialBlock(nf(1), self.dtype)
    self.blocks = [SynthesisBlock(nf(level + 1), self.dtype) for level in range(1, levels)]
    self.to_rgb = [_to_rgb(self.channels, self.dtype) for _ in range(levels)]

  def __call__(self, ws, level: int, alpha, noise=None):
    """``noise``: None (drawn from the "noise" stream) or per layer a [B, H, W, 1] map (layer i
    at 4 * 2^(i // 2) pixels), as NVlabs' ``noise{i}`` inputs."""
    pair = lambda lvl: (None, None) if noise is None else (noise[2 * lvl], noise[2 * lvl + 1])  # noqa: E731
    x = self.initial(ws[:, 0], ws[:, 1], pair(0))
    previous_rgb = None
    for block_level in range(1, level + 1):
      if block_level == level:
        previous_rgb = self.to_rgb[level - 1](x)
      x = self.blocks[block_level - 1](
        x, ws[:, 2 * block_level], ws[:, 2 * block_level + 1], pair(block_level)
      )
    rgb = self.to_rgb[level](x).astype(jnp.float32)
    if previous_rgb is None:
      return rgb
    previous_rgb = upsample(previous_rgb.astype(jnp.float32))
    return previous_rgb + (rgb - previous_rgb) * alpha


class Generator(nn.Module):
  """StyleGAN's generator (see the module docstring).

  Attributes:
    resolution: final image size R (a power of two >= 4).
    channels: image channels C.
    latent_dim: size of z.
    w_dim: size of w.
    mapping_layers: dense layers of the mapping network (8 in the paper).
    mapping_lr_multiplier: the mapping network's learning-rate multiplier (0.01).
    fmap_base, fmap_max: channels min(fmap_base / 2^stage, fmap_max) (8192 and 512 in the paper,
      512 channels up to 32x32 and 16 at 1024x1024).
  """

  resolution: int = 32
  channels: int = 1
  latent_dim: int = 512
  w_dim: int = 512
  mapping_layers: int = 8
  mapping_lr_multiplier: float = 0.01
  fmap_base: int = 8192
  fmap_max: int = 512
  dtype: Any = jnp.float32

  def setup(self):
    self.mapping = MappingNetwork(
      self.w_dim, self.mapping_layers, self.mapping_lr_multiplier, self.dtype
    )
    self.synthesis = SynthesisNetwork(
      self.resolution, self.channels, self.fmap_base, self.fmap_max, self.dtype
    )

  @property
  def num_levels(self) -> int:
    return num_levels(self.resolution)

  def map(self, z):
    """z [B, Z] -> w [B, W]."""
    return self.mapping(z)

  def synthesize(self, ws, level: int, alpha, noise=None):
    """ws [B, L, W] -> images [B, 4 * 2^level, 4 * 2^level, C] (float32); ``noise`` as
    ``SynthesisNetwork``'s."""
    return self.synthesis(ws, level, alpha, noise)

  def __call__(self, z, level: int | None = None, alpha=1.0):
    """z [B, Z] -> images at ``level`` (default: the top), with every layer reading the same w."""
    level = self.num_levels - 1 if level is None else level
    w = self.mapping(z)
    ws = jnp.broadcast_to(w[:, None], (w.shape[0], 2 * self.num_levels, w.shape[-1]))
    return self.synthesis(ws, level, alpha)

  def every_level(self, z):
    """Images of z at every level (a list, 4x4 first); ``init`` with this creates every layer."""
    return [self(z, level, 1.0) for level in range(self.num_levels)]


class DiscriminatorBlock(nn.Module):
  """3x3 conv (``features_in``), blur, 3x3 conv (``features_out``), 2x2 average pooling, each conv
  with LeakyReLU. [B, H, W, C] -> [B, H/2, W/2, features_out]."""

  features_in: int
  features_out: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    x = lrelu(EqualizedConv(self.features_in, dtype=self.dtype, name="conv")(x))
    x = EqualizedConv(self.features_out, dtype=self.dtype, name="conv_down")(blur(x))
    return lrelu(downsample(x))


class Discriminator(nn.Module):
  """StyleGAN's (progressive) discriminator: images [B, S, S, C] at S = 4 * 2^level -> logits [B].

  Attributes:
    resolution: the final image size R.
    fmap_base, fmap_max: as the generator's.
    mbstd_group_size: samples per minibatch-stddev group (4).
  """

  resolution: int = 32
  fmap_base: int = 8192
  fmap_max: int = 512
  mbstd_group_size: int = 4
  dtype: Any = jnp.float32

  def setup(self):
    levels = num_levels(self.resolution)
    nf = lambda stage: feature_maps(stage, self.fmap_base, self.fmap_max)  # noqa: E731
    self.from_rgb = [
      EqualizedConv(nf(level + 1), kernel_size=1, dtype=self.dtype) for level in range(levels)
    ]
    self.blocks = [
      DiscriminatorBlock(nf(level + 1), nf(level), self.dtype) for level in range(1, levels)
    ]
    self.final_conv = EqualizedConv(nf(1), dtype=self.dtype)
    self.final_dense = EqualizedDense(nf(0), dtype=self.dtype)
    self.logit = EqualizedDense(1, gain=1.0, dtype=self.dtype)

  def every_level(self, images):
    """Logits of ``images`` [B, R, R, C] pooled to every level's size; ``init`` with this creates
    every layer."""
    levels = num_levels(self.resolution)
    return [self(resize_to(images, 4 * 2**level), level) for level in range(levels)]

  def __call__(self, images, level: int | None = None, alpha=1.0):
    level = num_levels(self.resolution) - 1 if level is None else level
    expected = 4 * 2**level
    if images.shape[1:3] != (expected, expected):
      raise ValueError(
        f"Discriminator level {level} takes {expected}x{expected} images, got "
        f"{images.shape[1]}x{images.shape[2]}."
      )
    x = lrelu(self.from_rgb[level](images))
    for block_level in range(level, 0, -1):
      x = self.blocks[block_level - 1](x)
      if block_level == level:  # Fade in: blend with the previous level's input path.
        previous = lrelu(self.from_rgb[level - 1](downsample(images)))
        x = previous + (x - previous) * alpha
    x = minibatch_stddev(x, self.mbstd_group_size)
    x = lrelu(self.final_conv(x))
    x = lrelu(self.final_dense(x.reshape(x.shape[0], -1)))
    return self.logit(x)[:, 0].astype(jnp.float32)
