"""Held-out pairs for evaluation and ``gans-jax sample``, without TensorFlow (whose import costs
several seconds of a one-off command's start-up): ``images.to_model_range`` converts them as the
training pipeline does, bit for bit.
"""

from __future__ import annotations

import numpy as np

from data_pipelines.images import to_model_range
from data_pipelines.sources import PairSource


def as_rgb(image: np.ndarray) -> np.ndarray:
  """uint8 [h, w] or [h, w, 1|3] -> uint8 [h, w, 3] (grey repeated)."""
  image = image[..., None] if image.ndim == 2 else image
  return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image.astype(np.uint8)


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
    converted = [to_model_range(im[None], resolution, channels[domain])[0] for im in images]
    arrays.append(np.stack(converted))
  return arrays[0], arrays[1]
