"""Batches of in-memory sources without TensorFlow: the embedded datasets (digits, the 2-D
point sets, the scenes) as ``pipeline.batches`` and ``pipeline.pair_batches`` make them, bit for
bit.

The examples of a step come from ``order.py`` as in the tf.data pipeline and go through the same
conversion (``images.to_model_range``, the tf.data arithmetic repeated in numpy), so a run reads
the same batches whichever path serves it; ``data_pipelines.batches`` takes this one for every
source that sits in memory, which spares a run on embedded data TensorFlow's import. Folders and
TFDS stay on tf.data (decoding, parallel reads).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from data_pipelines import order
from data_pipelines.held_out import as_rgb
from data_pipelines.images import replace_with_noise, to_model_range
from data_pipelines.sources import DatasetError, PairSource, Source


def batches(
  source: Source,
  *,
  global_batch: int,
  seed: int,
  start_step: int = 0,
  resolution: int = 32,
  channels: int = 1,
  process_index: int = 0,
  process_count: int = 1,
  origin: tuple[int, int] = (0, 0),
) -> Iterator[dict[str, np.ndarray]]:
  """``pipeline.batches`` (same arguments, same batches) of a source with ``arrays``."""
  examples, labels = source.arrays
  step = start_step
  while True:
    indices = order.example_indices(
      step,
      global_batch=global_batch,
      num_examples=source.num_examples,
      seed=seed,
      process_index=process_index,
      process_count=process_count,
      first_step=origin[0],
      first_position=origin[1],
    )
    x = examples[indices]
    if source.kind == "image":
      x = to_model_range(x, resolution, channels)
    yield {"x": x, "label": labels[indices].astype(np.int32)}
    step += 1


def pair_batches(
  source: PairSource,
  *,
  global_batch: int,
  seed: int,
  start_step: int = 0,
  resolution: int = 256,
  channels: tuple[int, int] = (3, 3),
  input_noise: tuple[float, float] = (0.0, 0.0),
  process_index: int = 0,
  process_count: int = 1,
) -> Iterator[dict[str, np.ndarray]]:
  """``pipeline.pair_batches`` (same arguments, same batches) of a source with ``arrays``."""

  def converted(image, c):
    return to_model_range(image[None], resolution, c)[0]

  step = start_step
  while True:
    indices_a, indices_b = order.pair_indices(
      step, num_a=source.num_a, num_b=source.num_b, paired=source.paired,
      global_batch=global_batch, seed=seed, process_index=process_index,
      process_count=process_count,
    )  # fmt: skip
    batch_a, batch_b = [], []
    for index_a, index_b in zip(indices_a, indices_b, strict=True):
      image_a, image_b = pair_images(source, int(index_a), int(index_b), input_noise)
      batch_a.append(converted(image_a, channels[0]))
      batch_b.append(converted(image_b, channels[1]))
    yield {"a": np.stack(batch_a), "b": np.stack(batch_b)}
    step += 1


def pair_images(
  source: PairSource, index_a: int, index_b: int, input_noise: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
  """Example ``index_a`` of domain A and ``index_b`` of B as uint8 RGB, A with Tucker 2022's
  input noise (``images.replace_with_noise``; (pixel fraction, image fraction), (0, 0): none):
  what both pipelines load for a pair."""
  image_a, image_b = (as_rgb(image) for image in source.get(index_a, index_b))
  pixel_fraction, image_fraction = input_noise
  if pixel_fraction:
    image_a = replace_with_noise(image_a[None], [index_a], pixel_fraction, image_fraction)[0]
  return image_a, image_b


def reference_images(
  source: Source, *, count: int, resolution: int, channels: int, seed: int = 0
) -> np.ndarray:
  """Real images as the model sees them, for evaluation references: uint8 [n, R, R, C]
  (without TensorFlow, for every source).

  Up to ``count`` examples, the first of a permutation fixed by ``seed`` (all of them, in
  permuted order, when the source is smaller), preprocessed exactly as training batches are and
  rounded back to uint8 the way generated samples are (``gans_jax.visualize.to_uint8``).

  Raises:
    DatasetError: for point data, or naming a file that cannot be read.
  """
  if source.kind != "image":
    raise DatasetError(f"{source.name} holds {source.kind}, not images; image metrics need images.")
  indices = order.epoch_permutation(seed, 0, source.num_examples)[:count]
  chunks = []
  for start in range(0, len(indices), 256):
    chunk = indices[start : start + 256]
    if source.arrays is not None:
      chunks.append(to_model_range(source.arrays[0][chunk], resolution, channels))
      continue
    for index in chunk:  # Files: sizes may differ, so one by one.
      image = source.get(int(index))[0]
      image = image[..., None] if image.ndim == 2 else image
      chunks.append(to_model_range(image[None], resolution, channels))
  images = np.concatenate(chunks)
  return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
