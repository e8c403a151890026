"""Training a run from its config: the data, the evaluator and the sample grid wired into the
one loop (what the CLI, tests and notebooks call to train)."""

from __future__ import annotations

import data_pipelines
from data_pipelines import embedded
from gans_jax import config_utils, evaluation, grids, loop, run_data, run_directory, trainers


def train_and_evaluate(config, workdir, *, stop_after: int | None = None, log=print):
  """Trains ``config`` in ``workdir`` (resuming if it holds a run) and evaluates at the end."""
  config_utils.validate(config)  # Before the data is read: that can take a while.
  run_directory.check_usable(workdir)  # Creates nothing: the loop does, once the data is known.
  source = data_pipelines.build_source(config.dataset, skip_corrupt=config.data.skip_corrupt)
  run_data.check_enough_data(config, source)
  run_data.check_data_kind(config, source)
  extras = {}
  if trainers.get_family(config.family).translates:
    batches_from = run_data.pair_batches_from(config, source)
    source_test, inputs, targets = run_data.held_out_pairs(config, config.num_grid_samples)
    extras["render_grid"] = grids.translation_grid(config, inputs, targets, source_test.paired)
  else:
    run_data.check_classes(config, source)
    batches_from = run_data.batches_from(config, source)
    if config.dataset in data_pipelines.POINT_DATASETS:
      extras["plot_centers"] = embedded.mode_centers(config.dataset)[0]
  return loop.train(
    config,
    workdir,
    batches_from=batches_from,
    sample_shape=run_data.sample_shape(config),
    evaluate=evaluation.make_evaluator(config),
    stop_after=stop_after,
    log=log,
    **extras,
  )
