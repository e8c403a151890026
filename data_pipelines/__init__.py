"""The tf.data side of gans_jax: sources named by string, a deterministic order, batches.

The only package that imports TensorFlow. ``build`` is the entry point the trainer uses;
``embedded`` is numpy-only and cheap to import.
"""

from data_pipelines.held_out import reference_pairs
from data_pipelines.sources import (
  DATASETS,
  POINT_DATASETS,
  DatasetError,
  PairSource,
  Source,
  build_source,
  class_names,
  is_pairs,
  sample_shape,
  training_epoch,
)


def batches(*args, **kwargs):
  """See ``data_pipelines.pipeline.batches`` (imported lazily: it loads TensorFlow)."""
  from data_pipelines import pipeline

  return pipeline.batches(*args, **kwargs)


def pair_batches(*args, **kwargs):
  """See ``data_pipelines.pipeline.pair_batches`` (imported lazily: it loads TensorFlow)."""
  from data_pipelines import pipeline

  return pipeline.pair_batches(*args, **kwargs)


def reference_images(*args, **kwargs):
  """See ``data_pipelines.pipeline.reference_images`` (imported lazily: it loads TensorFlow)."""
  from data_pipelines import pipeline

  return pipeline.reference_images(*args, **kwargs)


__all__ = [
  "DATASETS",
  "POINT_DATASETS",
  "DatasetError",
  "PairSource",
  "Source",
  "batches",
  "build_source",
  "class_names",
  "is_pairs",
  "pair_batches",
  "reference_images",
  "reference_pairs",
  "sample_shape",
  "training_epoch",
]
