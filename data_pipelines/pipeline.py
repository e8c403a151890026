"""The tf.data pipeline: the examples ``order.py`` names, preprocessed and batched per process.

Images leave the pipeline as float32 NHWC in [-1, 1] at the configured resolution and channel
count (the one place where that conversion happens); 2-D points as float32 [n, 2].
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from data_pipelines import order, quiet_tensorflow
from data_pipelines.numpy_pipeline import pair_images
from data_pipelines.sources import DatasetError, PairSource, Source

tf = quiet_tensorflow.import_module()


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


def _per_step(start_step: int, indices_of_step, num_outputs: int, local: int) -> tf.data.Dataset:
  """Steps start_step, start_step + 1, ... mapped to ``num_outputs`` int64 [local] index arrays.

  A range of step numbers through ``tf.numpy_function`` rather than ``from_generator``: a live
  ``from_generator`` iterator (even a deleted one) made XLA:CPU's train steps in the same process
  up to 1.9x slower on this project's 2-core machine (CycleGAN 64x64: 0.28 -> 0.47-0.56 s/step),
  a numpy_function over a range did not.
  """

  def indices(step):
    return tuple(np.asarray(a, np.int64) for a in indices_of_step(int(step)))

  def one(step):
    arrays = tf.numpy_function(indices, [step], (tf.int64,) * num_outputs, stateful=False)
    return tuple(tf.ensure_shape(a, [local]) for a in arrays)

  steps = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max)
  return steps.map(one)


def _step_indices(source, global_batch, seed, start_step, process_index, process_count, origin):
  def indices_of_step(step):
    return (
      order.example_indices(
        step,
        global_batch=global_batch,
        num_examples=source.num_examples,
        seed=seed,
        process_index=process_index,
        process_count=process_count,
        first_step=origin[0],
        first_position=origin[1],
      ),
    )

  local = global_batch // process_count
  return _per_step(start_step, indices_of_step, 1, local).map(lambda indices: indices)


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
  origin: tuple[int, int] = (0, 0),
) -> Iterator[dict[str, np.ndarray]]:
  """Yields this process's part of the global batch for steps start_step, start_step + 1, ...

  Args:
    source: a Source from ``sources.build_source``.
    global_batch: examples per step over all processes (batch size x D steps).
    seed: the run's seed; with the step it fixes every batch (see ``order.py``).
    start_step: the first step to produce (a resumed run's checkpoint step).
    resolution, channels: the model's image size.
    process_index, process_count: this process and how many share the global batch.
    origin: (step, example position) where this batch size starts reading: a training stage
      (``gans_jax.trainers.stages``) continues the example stream where earlier stages stopped.

  Yields:
    {"x": float32 [global_batch // process_count, ...], "label": int32 [same]}.

  Raises:
    DatasetError: naming the file when an example cannot be read.
  """
  local = global_batch // process_count
  indices = _step_indices(
    source, global_batch, seed, start_step, process_index, process_count, origin
  )
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


def _pair_indices(source: PairSource, global_batch, seed, start_step, process_index, count):
  """Per step: ``order.pair_indices``, (A indices, B indices) int64 [local]."""

  def indices_of_step(step):
    return order.pair_indices(
      step, num_a=source.num_a, num_b=source.num_b, paired=source.paired,
      global_batch=global_batch, seed=seed, process_index=process_index, process_count=count,
    )  # fmt: skip

  return _per_step(start_step, indices_of_step, 2, global_batch // count)


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
  """Batches of two-domain data for steps start_step, start_step + 1, ... (as ``batches``).

  Args:
    source: a PairSource.
    global_batch, seed, start_step, process_index, process_count: as ``batches``.
    resolution: the size images are resized to (the load size; training crops from it).
    channels: (A channels, B channels).
    input_noise: (pixel fraction, image fraction) of ``replace_with_noise`` on the A images,
      applied at their native size before resizing; (0, 0) for none.

  Yields:
    {"a": float32 [local, R, R, C_a], "b": float32 [local, R, R, C_b]} in [-1, 1], local =
    global_batch // process_count.
  """
  local = global_batch // process_count
  indices = _pair_indices(source, global_batch, seed, start_step, process_index, process_count)

  def load_pair(index_a, index_b):
    return pair_images(source, int(index_a), int(index_b), input_noise)

  def load(index_a, index_b):
    image_a, image_b = tf.numpy_function(
      load_pair, [index_a, index_b], (tf.uint8, tf.uint8), stateful=False
    )
    return tuple(
      to_model_range(tf.ensure_shape(image, [None, None, 3])[None], resolution, c)[0]
      for image, c in zip((image_a, image_b), channels, strict=True)
    )

  options = tf.data.Options()
  options.deterministic = True
  dataset = (
    indices.unbatch()
    .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    .batch(local)
    .map(lambda a, b: {"a": a, "b": b})
    .with_options(options)
  )
  return _translate_errors(dataset.prefetch(2).as_numpy_iterator())
