"""What the image-to-image families (pix2pix, CycleGAN) share: random jitter.

Batches of these families are {"a": [B, L, L, C_a], "b": [B, L, L, C_b]} at the load size L
(``config.data.load_size``); the step crops them to ``config.data.resolution`` and mirrors them,
with keys from the state, so the batch at a step stays a pure function of (seed, step) and the
augmentation is reproducible on resume. A family's ``generate(state, inputs, key)`` translates
inputs [N, R, R, C_a] to outputs [N, R, R, C_b].
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from gans_jax import errors


def config_fields(config) -> None:
  """The fields every image-to-image family has: the length in epochs, its data's two sides and
  the random jitter (``config_schema.translation_config`` sets them from the resolution and
  makes ``num_steps`` follow the epochs), and Tucker 2022's noise on the training inputs
  (``data_pipelines``; never on the held-out ones)."""
  config.num_epochs = 200.0  # 100 at a constant rate + 100 decaying to 0 (both papers).
  config.data.load_size = 36  # Resize to this, then crop to data.resolution (286 / 256 of it).
  config.data.flip = True  # Random left-right mirroring in training.
  config.data.input_channels = 3  # Input (domain A) channels; data.channels is domain B's.
  # Which side is the input: "AtoB", or "BtoA" (B translated to A; junyanz's --direction, e.g.
  # facades' label maps -> photos).
  config.data.direction = "AtoB"
  # The inputs' classes when they are colour-coded label maps: a palette name
  # (``metrics.segmentation.PALETTES``) or "R,G,B R,G,B ..."; the FCN-score needs it.
  config.data.label_palette = ""
  config.data.input_noise_fraction = 0.0  # Pixels of an input replaced by random colours.
  config.data.input_noise_images = 1.0  # Fraction of the inputs that get noise.


# Base fields an image-to-image family does not read: no z, no classes, no DiffAugment or weight
# clipping or input noise on D, no EMA of G (the papers sample G itself), no gradient penalty.
UNUSED_FIELDS = (
  "data.crop",  # Pairs are resized to the load size and cropped at random (the papers' jitter).
  "model.latent_dim",
  "model.latent_prior",
  "model.num_classes",
  "augment",
  "loss.gradient_penalty",
  "loss.class_weight",
  "d_weight_clip",
  "d_input_noise",
  "ema_decay",
)


def random_jitter(images: Sequence[jax.Array], key, crop: int, flip: bool) -> list[jax.Array]:
  """pix2pix's random jitter (Isola et al. 2017, appendix 6.2): a random crop x crop window and a
  random left-right mirror per example, the same for every array in ``images``.

  Args:
    images: arrays [B, L, L, C_i] (C_i may differ) at the load size L >= crop.
    key: PRNG key.
    crop: the output size.
    flip: whether to mirror (each example with probability 1/2).

  Returns:
    The arrays cropped to [B, crop, crop, C_i].
  """
  batch, load = images[0].shape[:2]
  if load < crop:
    raise errors.ConfigError(f"load_size {load} is smaller than the crop (resolution) {crop}.")
  offset_key, flip_key = jax.random.split(key)
  offsets = jax.random.randint(offset_key, (batch, 2), 0, load - crop + 1)
  mirror = jax.random.bernoulli(flip_key, 0.5, (batch,)) & flip

  def one(image, offset, mirrored):
    window = jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (crop, crop, image.shape[-1]))
    return jnp.where(mirrored, window[:, ::-1], window)

  return [jax.vmap(one)(x, offsets, mirror) for x in images]


def input_shape(config, sample_shape: Sequence[int]) -> tuple[int, int, int]:
  """(R, R, C_a): the input shape, from the output shape and ``data.input_channels``."""
  return (*tuple(sample_shape)[:2], config.data.input_channels)
