"""Training a run from its config: the run resolved once (its data, evaluator and sample grid)
and handed to the one loop (what the CLI, tests and notebooks call to train)."""

from __future__ import annotations

import data_pipelines
from data_pipelines import embedded
from gans_jax import (
  config_utils,
  determinism,
  evaluation,
  grids,
  loop,
  resolved,
  run_data,
  run_directory,
  trainers,
)


def train_and_evaluate(config, workdir, *, stop_after: int | None = None, log=print):
  """Trains ``config`` in ``workdir`` (resuming if it holds a run) and evaluates at the end."""
  config_utils.validate(config)  # Before the data is read: that can take a while.
  determinism.configure(config)  # A no-op when the CLI did it; notebooks start here.
  run_directory.check_usable(workdir)  # Creates nothing: the loop does, once the data is known.
  return loop.train(resolve(config), workdir, stop_after=stop_after, log=log)


def resolve(config) -> resolved.ResolvedRun:
  """``config``'s run: its data source checked against the config and turned into batches, its
  sample grid (held-out translations for an image-to-image family) and its evaluator.

  Raises:
    errors.ConfigError, data_pipelines.DatasetError: naming what does not fit (too few examples,
      the wrong kind of data, classes the model does not have).
  """
  source = run_data.dataset_source(config)
  run_data.check_enough_data(config, source)
  run_data.check_data_kind(config, source)
  shape = run_data.sample_shape(config)
  if trainers.get_family(config.family).translates:
    source_test, inputs, targets = run_data.held_out_pairs(config, config.num_grid_samples)
    return resolved.ResolvedRun.create(
      config, shape, run_data.pair_batches_from(config, source),
      render_grid=grids.translation_grid(config, inputs, targets, source_test.paired),
      evaluate=evaluation.make_evaluator(config),
    )  # fmt: skip
  run_data.check_classes(config, source)
  centers = None
  if config.dataset in data_pipelines.POINT_DATASETS:
    centers = embedded.mode_centers(config.dataset)[0]
  return resolved.ResolvedRun.create(
    config, shape, run_data.batches_from(config, source),
    evaluate=evaluation.make_evaluator(config), plot_centers=centers,
  )  # fmt: skip
