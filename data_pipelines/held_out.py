"""Held-out pairs for evaluation and ``gans-jax sample``, without TensorFlow where it is not needed.

Importing TensorFlow costs several seconds of a one-off command's start-up. Images already at the
configured resolution need no resizing, and what remains of ``pipeline.to_model_range`` (a cast,
grey repeated to RGB, ``x / 127.5 - 1`` clipped to [-1, 1]) is the same float32 arithmetic in
numpy, bit for bit (IEEE division and subtraction are correctly rounded in both). Only resizing and
the RGB-to-grey luma reduction go through TensorFlow.
"""

from __future__ import annotations

import numpy as np

from data_pipelines.sources import DatasetError, PairSource


def as_rgb(image: np.ndarray) -> np.ndarray:
  """uint8 [h, w] or [h, w, 1|3] -> uint8 [h, w, 3] (grey repeated)."""
  image = image[..., None] if image.ndim == 2 else image
  return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image.astype(np.uint8)


def _needs_tensorflow(image: np.ndarray, resolution: int, channels: int) -> bool:
  resized = image.shape[0] != resolution or image.shape[1] != resolution
  return resized or (image.shape[-1] == 3 and channels == 1)


def to_model_range(image: np.ndarray, resolution: int, channels: int) -> np.ndarray:
  """uint8 [h, w, c] -> float32 [resolution, resolution, channels] in [-1, 1].

  What ``pipeline.to_model_range`` computes, bit for bit; in numpy unless resizing or luma is
  needed.
  """
  if _needs_tensorflow(image, resolution, channels):
    from data_pipelines import pipeline

    images = pipeline.tf.constant(image[None])
    return pipeline.to_model_range(images, resolution, channels).numpy()[0]
  images = image.astype(np.float32)
  if images.shape[-1] == 1 and channels == 3:
    images = np.repeat(images, 3, axis=-1)
  elif images.shape[-1] != channels:
    raise DatasetError(f"Cannot convert {images.shape[-1]}-channel images to {channels}.")
  return np.clip(images / np.float32(127.5) - np.float32(1.0), -1.0, 1.0).astype(np.float32)


def reference_pairs(
  source: PairSource, *, count: int, resolution: int, channels: tuple[int, int] = (3, 3)
) -> tuple[np.ndarray, np.ndarray]:
  """The first ``count`` A and B images of a split, resized to ``resolution``.

  Args:
    source: the split's pairs; the k-th pair of a paired source is file k's A and B.
    count: how many of each (fewer if the split is smaller).
    resolution: output height and width R.
    channels: (C_a, C_b).

  Returns:
    (float32 [n_a, R, R, C_a], float32 [n_b, R, R, C_b]) in [-1, 1]; for evaluation, so no
    cropping, flipping or noise.
  """
  arrays = []
  for domain, size in enumerate((source.num_a, source.num_b)):
    # Index 0 stands in for the other domain of an unpaired source, whose sizes may differ.
    def pick(i, domain=domain):
      return (i, i) if source.paired else ((i, 0) if domain == 0 else (0, i))

    images = [as_rgb(source.get(*pick(i))[domain]) for i in range(min(count, size))]
    arrays.append(np.stack([to_model_range(im, resolution, channels[domain]) for im in images]))
  return arrays[0], arrays[1]
