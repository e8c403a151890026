"""The data side of gans_jax: sources named by string, a deterministic order, batches.

The only package that imports TensorFlow, and only for folders and TFDS (``pipeline``, tf.data):
sources that sit in memory (the embedded datasets) are batched in numpy (``numpy_pipeline``),
to the same bits, and so are evaluation references and held-out pairs.
"""

from data_pipelines import numpy_pipeline
from data_pipelines.held_out import reference_pairs
from data_pipelines.numpy_pipeline import reference_images
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


def batches(source, **kwargs):
  """``pipeline.batches``: in numpy for a source in memory, else through tf.data (TensorFlow is
  imported then)."""
  if source.arrays is not None:
    return numpy_pipeline.batches(source, **kwargs)
  from data_pipelines import pipeline

  return pipeline.batches(source, **kwargs)


def pair_batches(source, **kwargs):
  """``pipeline.pair_batches``: in numpy for a source in memory, else through tf.data."""
  if source.arrays is not None:
    return numpy_pipeline.pair_batches(source, **kwargs)
  from data_pipelines import pipeline

  return pipeline.pair_batches(source, **kwargs)


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
