"""Differentiable augmentation of D's inputs (DiffAugment: Zhao, Liu, Lin, Zhu & Han 2020).

A discriminator trained on a small dataset memorises it and stops giving the generator useful
gradients. DiffAugment applies the same random, differentiable transformations to real and fake
images every time D sees them (in D's update and in G's), so D cannot tell them apart by the
transformation and G is trained through it. Policies, applied in the order given:

- ``translation``: shift each image by a random whole number of pixels in [-r * size, r * size]
  on each axis (r = ``translation_ratio``), filling with the edge pixels (DiffAugment fills with
  zeros; the edge keeps a flat background flat);
- ``cutout``: set a random square of side ``cutout_ratio * size`` to 0 (the middle grey of
  [-1, 1]), as DiffAugment does.

Policies are named in ``config.augment`` as a comma-separated string; "" turns augmentation off.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gans_jax import errors

POLICIES = ("translation", "cutout")


def parse_policy(spec: str) -> tuple[str, ...]:
  """ "translation,cutout" -> ("translation", "cutout"); raises ValueError naming an unknown one."""
  names = tuple(name.strip() for name in spec.split(",") if name.strip())
  for name in names:
    if name not in POLICIES:
      raise errors.ConfigError(
        f"Unknown augmentation {name!r} in augment={spec!r}; known: {POLICIES}."
      )
  return names


def translate(images: jax.Array, key: jax.Array, ratio: float) -> jax.Array:
  """Shifts each image [B, H, W, C] by its own random offset; borders repeat the edge pixels."""
  _, height, width, channels = images.shape
  pad_h, pad_w = int(ratio * height + 0.5), int(ratio * width + 0.5)
  if pad_h == 0 and pad_w == 0:
    return images
  offsets = jax.random.randint(  # [B, 2], offsets into the padded image; pad = no shift.
    key, (images.shape[0], 2), 0, jnp.array([2 * pad_h + 1, 2 * pad_w + 1])
  )
  padded = jnp.pad(images, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)), mode="edge")

  def crop(image, offset):
    return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (height, width, channels))

  return jax.vmap(crop)(padded, offsets)


def cutout(images: jax.Array, key: jax.Array, ratio: float) -> jax.Array:
  """Zeroes one random square of side ``ratio * size`` per image [B, H, W, C] (may be clipped)."""
  batch, height, width, _ = images.shape
  size_h, size_w = int(ratio * height + 0.5), int(ratio * width + 0.5)
  # Square centres anywhere in the image, as DiffAugment; squares near a border are clipped.
  centre = jax.random.randint(key, (batch, 2), 0, jnp.array([height, width]))  # [B, 2]
  rows = jnp.arange(height)[None, :] - (centre[:, :1] - size_h // 2)  # [B, H]
  cols = jnp.arange(width)[None, :] - (centre[:, 1:] - size_w // 2)  # [B, W]
  inside = ((rows >= 0) & (rows < size_h))[:, :, None] & ((cols >= 0) & (cols < size_w))[:, None]
  return jnp.where(inside[..., None], 0.0, images)


def diff_augment(
  images: jax.Array,
  key: jax.Array,
  policy: tuple[str, ...],
  *,
  translation_ratio: float = 0.125,
  cutout_ratio: float = 0.5,
) -> jax.Array:
  """Applies ``policy`` to a batch [B, H, W, C]; other inputs (e.g. 2-D points) are returned as
  they are when the policy is empty."""
  if not policy:
    return images
  if images.ndim != 4:
    raise ValueError(f"Augmentation {policy} needs images [B, H, W, C], got shape {images.shape}.")
  for name, sub_key in zip(policy, jax.random.split(key, len(policy)), strict=True):
    if name == "translation":
      images = translate(images, sub_key, translation_ratio)
    else:
      images = cutout(images, sub_key, cutout_ratio)
  return images
