"""The tf.data pipeline: the examples ``order.py`` names, preprocessed and batched per process.

Images leave the pipeline as float32 NHWC in [-1, 1] at the configured resolution and channel
count (the one place where that conversion happens); 2-D points as float32 [n, 2].
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from data_pipelines import order
from data_pipelines.sources import DatasetError, Source


def to_model_range(images: tf.Tensor, resolution: int, channels: int) -> tf.Tensor:
  """uint8 [n, h, w, c] -> float32 [n, resolution, resolution, channels] in [-1, 1].

  Bilinear resizing (antialiased when shrinking); grey is repeated to RGB, RGB is reduced to grey
  with ITU-R 601 luma weights.
  """
  images = tf.cast(images, tf.float32)
  if images.shape[1] != resolution or images.shape[2] != resolution:
    images = tf.image.resize(images, (resolution, resolution), "bilinear", antialias=True)
  if images.shape[-1] == 1 and channels == 3:
    images = tf.repeat(images, 3, axis=-1)
  elif images.shape[-1] == 3 and channels == 1:
    images = tf.reduce_sum(images * tf.constant([0.299, 0.587, 0.114]), -1, keepdims=True)
  elif images.shape[-1] != channels:
    raise DatasetError(f"Cannot convert {images.shape[-1]}-channel images to {channels}.")
  return tf.clip_by_value(images / 127.5 - 1.0, -1.0, 1.0)


def _step_indices(source, global_batch, seed, start_step, process_index, process_count):
  def generate():
    step = start_step
    while True:
      yield order.example_indices(
        step,
        global_batch=global_batch,
        num_examples=source.num_examples,
        seed=seed,
        process_index=process_index,
        process_count=process_count,
      )
      step += 1

  local = global_batch // process_count
  return tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec([local], tf.int64))


def _load_in_memory(source: Source, indices: tf.data.Dataset) -> tf.data.Dataset:
  examples, labels = (tf.constant(a) for a in source.arrays)
  return indices.map(lambda i: (tf.gather(examples, i), tf.gather(labels, i)))


def _load_by_index(source: Source, indices: tf.data.Dataset, resolution, channels, local):
  """Per-example random access (folders, TFDS), resized one by one since sizes may differ."""

  def get(index):
    example, label = source.get(int(index))
    if example.ndim == 2:
      example = example[..., None]
    if example.shape[-1] == 1:  # Sizes and channel counts may vary: batch everything as RGB.
      example = np.repeat(example, 3, axis=-1)
    return example.astype(np.uint8), np.int32(label)

  def load(index):
    image, label = tf.numpy_function(get, [index], (tf.uint8, tf.int32), stateful=False)
    image = tf.ensure_shape(image, [None, None, 3])
    image = to_model_range(image[None], resolution, channels)[0]
    return tf.cast(image * 127.5 + 127.5, tf.uint8), tf.ensure_shape(label, [])

  # Back to uint8 for batching: to_model_range below is then shared by every image source.
  options = tf.data.Options()
  options.deterministic = True
  return (
    indices.unbatch()
    .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    .batch(local)
    .with_options(options)
  )


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
) -> Iterator[dict[str, np.ndarray]]:
  """Yields this process's part of the global batch for steps start_step, start_step + 1, ...

  Args:
    source: a Source from ``sources.build_source``.
    global_batch: examples per step over all processes (batch size x D steps).
    seed: the run's seed; with the step it fixes every batch (see ``order.py``).
    start_step: the first step to produce (a resumed run's checkpoint step).
    resolution, channels: the model's image size.
    process_index, process_count: this process and how many share the global batch.

  Yields:
    {"x": float32 [global_batch // process_count, ...], "label": int32 [same]}.

  Raises:
    DatasetError: naming the file when an example cannot be read.
  """
  local = global_batch // process_count
  indices = _step_indices(source, global_batch, seed, start_step, process_index, process_count)
  if source.arrays is not None:
    dataset = _load_in_memory(source, indices)
  else:
    dataset = _load_by_index(source, indices, resolution, channels, local)
  if source.kind == "image":
    dataset = dataset.map(lambda x, y: (to_model_range(x, resolution, channels), y))
  dataset = dataset.map(lambda x, y: {"x": x, "label": tf.cast(y, tf.int32)})
  return _translate_errors(dataset.prefetch(2).as_numpy_iterator())


def _translate_errors(iterator) -> Iterator[dict[str, np.ndarray]]:
  """Turns tf.data's wrapped exceptions back into one-line DatasetErrors."""
  while True:
    try:
      batch = next(iterator)
    except StopIteration:
      return
    except tf.errors.OpError as error:
      match = re.search(r"DatasetError: (.*)", error.message)
      raise DatasetError(match.group(1) if match else error.message.splitlines()[0]) from None
    yield batch


def reference_images(
  source: Source, *, count: int, resolution: int, channels: int, seed: int = 0
) -> np.ndarray:
  """Real images as the model sees them, for evaluation references: uint8 [n, R, R, C].

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
      images = tf.constant(source.arrays[0][chunk])
      chunks.append(to_model_range(images, resolution, channels).numpy())
      continue
    for index in chunk:
      image = source.get(int(index))[0]
      image = image[..., None] if image.ndim == 2 else image
      chunks.append(to_model_range(tf.constant(image[None]), resolution, channels).numpy())
  images = np.concatenate(chunks)
  return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
