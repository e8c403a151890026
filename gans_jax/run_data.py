"""A run's data, as the library sees it: shapes, batch iterators, held-out pairs, checks.

The one place where ``gans_jax`` meets ``data_pipelines`` (and, through it, TensorFlow, imported
only when pixels are read): the dataset named in the config becomes the loop's batch iterator and
the evaluators' reference data.
"""

from __future__ import annotations

import jax

import data_pipelines
from gans_jax import errors, trainers


def sample_shape(config) -> tuple[int, ...]:
  return data_pipelines.sample_shape(config.dataset, config.data.resolution, config.data.channels)


def dataset_source(config, split: str = "train"):
  """The config's dataset as a source (``data_pipelines.build_source``): a sampling family's
  images cut as ``data.crop`` says; an image-to-image family's pairs whole (they are cropped at
  random in training), inputs and outputs as ``data.direction`` says."""
  translates = trainers.get_family(config.family).translates
  return data_pipelines.build_source(
    config.dataset,
    split=split,
    skip_corrupt=config.data.skip_corrupt,
    crop="" if translates else config.data.crop,
    direction=config.data.direction if translates else "AtoB",
  )


def held_out_pairs(config, count: int):
  """(test-split PairSource, its first ``count`` A images, its first ``count`` B images) at the
  config's resolution and channels, float32 in [-1, 1]."""
  source = dataset_source(config, "test")
  inputs, targets = data_pipelines.reference_pairs(
    source, count=count, resolution=config.data.resolution,
    channels=(config.data.input_channels, config.data.channels),
  )  # fmt: skip
  return source, inputs, targets


def real_images(config, split: str):
  """() -> the first ``eval.reference_count`` images of a split at the config's resolution and
  channels, float32 [n, R, R, C] in [-1, 1] (read when called)."""
  return lambda: data_pipelines.reference_images(
    dataset_source(config, split),
    count=config.eval.reference_count,
    resolution=config.data.resolution,
    channels=config.data.channels,
  )


def check_data_kind(config, source) -> None:
  """A translating family needs two-domain data, a sampling family one domain.

  Raises:
    errors.ConfigError: naming the family and the dataset.
  """
  translates = trainers.get_family(config.family).translates
  if translates != (source.kind == "pairs"):
    raise errors.ConfigError(
      f"{config.family} translates images and needs two-domain data (e.g. scenes, "
      f"paired:/path, unpaired:/path), not {config.dataset!r}."
      if translates
      else f"{config.dataset!r} holds two image domains, for image-to-image families "
      f"({', '.join(trainers.families_with(lambda f: f.translates))}), not {config.family!r}."
    )


def check_classes(config, source) -> None:
  """A class-conditional model must have exactly the data's classes.

  Raises:
    errors.ConfigError: naming both counts (a label beyond the model's classes would
      otherwise become an all-zero one-hot vector without a word).
  """
  classes = config.model.num_classes
  if classes and classes != source.num_classes:
    raise errors.ConfigError(
      f"model.num_classes={classes} but {source.name} has {source.num_classes} classes; set "
      f"--config.model.num_classes={source.num_classes} (or the config's classes= argument)."
    )
  names = tuple(config.data.class_names)
  if classes and names and source.class_names and names != source.class_names:
    raise errors.ConfigError(
      f"data.class_names={list(names)} but {source.name} has classes "
      f"{list(source.class_names)}; the folder changed since the config was made."
    )


def check_enough_data(config, source) -> None:
  """The training data must fill one batch (a batch of repeats trains on a handful of images).

  Raises:
    errors.ConfigError: naming the dataset, its size and the batch.
  """
  count = min(source.num_a, source.num_b) if source.kind == "pairs" else source.num_examples
  stages = trainers.get_family(config.family).schedule(config, sample_shape(config))
  batch = max(stage.batch_size // stage.d_steps_of(config) for stage in stages)
  if count < batch:
    raise errors.ConfigError(
      f"{source.name} has {count} training examples, fewer than one batch of {batch}; lower "
      "--config.batch_size (or the config's batch sizes) or add data."
    )


def batches_from(config, source):
  """(start_step, stage) -> this process's batches of a one-domain source."""
  return lambda start_step, stage: data_pipelines.batches(
    source,
    global_batch=stage.batch_size,
    seed=config.seed,
    start_step=start_step,
    origin=(stage.first_step, stage.first_image),
    resolution=config.data.resolution,
    channels=config.data.channels,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )


def pair_batches_from(config, source):
  """(start_step, stage) -> this process's batches of a two-domain source, at the load size,
  with Tucker 2022's input noise when the config asks for it (image-to-image families train in one
  stage)."""
  noise = (config.data.input_noise_fraction, config.data.input_noise_images)
  return lambda start_step, stage: data_pipelines.pair_batches(
    source,
    global_batch=config.batch_size,
    seed=config.seed,
    start_step=start_step,
    resolution=config.data.load_size,
    channels=(config.data.input_channels, config.data.channels),
    input_noise=noise,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )
