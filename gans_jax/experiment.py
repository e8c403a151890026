"""Whole runs as functions (what the CLI, tests and notebooks call): train, sample, evaluate.

This is where the library meets ``data_pipelines``: the data source named in the config becomes
the batch iterator and the reference data of the evaluators. ``data_pipelines`` (and with it
TensorFlow) is imported only when data is actually read.
"""

from __future__ import annotations

import json
import pathlib

import jax
import ml_collections
import numpy as np

import data_pipelines
from data_pipelines import embedded
from gans_jax import checkpointing, loop, trainers, writers
from gans_jax.metrics import evaluators


def sample_shape(config) -> tuple[int, ...]:
  return data_pipelines.sample_shape(config.dataset, config.data.resolution, config.data.channels)


def make_evaluator(config):
  """The end-of-run evaluator for the config's dataset, or None (FID comes with issue 3)."""
  if config.dataset == "digits":
    train = embedded.load_digits_split("train")
    test = embedded.load_digits_split("test")
    return evaluators.digits_evaluator(
      train, test, config.eval_num_samples, config.model.latent_dim, config.data.resolution
    )
  if config.dataset in data_pipelines.POINT_DATASETS:
    centers, sigma = embedded.mode_centers(config.dataset)
    return evaluators.modes_evaluator(
      centers, sigma, config.eval_num_samples, config.model.latent_dim
    )
  return None


def train_and_evaluate(config, workdir, *, stop_after: int | None = None, log=print):
  """Trains ``config`` in ``workdir`` (resuming if it holds a run) and evaluates at the end."""
  source = data_pipelines.build_source(config.dataset, skip_corrupt=config.data.skip_corrupt)

  def batches_from(start_step: int):
    return data_pipelines.batches(
      source,
      global_batch=config.batch_size * config.d_steps,
      seed=config.seed,
      start_step=start_step,
      resolution=config.data.resolution,
      channels=config.data.channels,
      process_index=jax.process_index(),
      process_count=jax.process_count(),
    )

  centers = None
  if config.dataset in data_pipelines.POINT_DATASETS:
    centers = embedded.mode_centers(config.dataset)[0]
  return loop.train(
    config,
    workdir,
    batches_from=batches_from,
    sample_shape=sample_shape(config),
    evaluate=make_evaluator(config),
    plot_centers=centers,
    stop_after=stop_after,
    log=log,
  )


def load_run(workdir) -> tuple[ml_collections.ConfigDict, object]:
  """The config and latest checkpointed state of a run directory.

  Raises:
    checkpointing.CheckpointError: if the directory holds no config or checkpoint.
  """
  workdir = pathlib.Path(workdir)
  config_path = workdir / loop.CONFIG_FILE
  if not config_path.exists():
    raise checkpointing.CheckpointError(f"No {loop.CONFIG_FILE} in {workdir}: not a run directory.")
  config = ml_collections.ConfigDict(json.loads(config_path.read_text()))
  checkpointer = checkpointing.Checkpointer(workdir)
  if checkpointer.latest_step() is None:
    raise checkpointing.CheckpointError(f"No checkpoint under {checkpointer.directory}.")
  state = checkpointer.restore(loop.initial_state(config, sample_shape(config)))
  checkpointer.close()
  return config, state


def _sampler(config, state) -> evaluators.Sampler:
  """z [n, latent] -> numpy samples of ``state``'s generator, compiled once."""
  generate = jax.jit(trainers.get_family(config.family).generate)
  return lambda z: np.asarray(generate(state, z))


def sample(workdir, num: int, seed: int = 0) -> dict[str, np.ndarray]:
  """``num`` samples of a run's latest checkpoint: {"images": uint8 [N, H, W, C]} for image
  data, {"points": float32 [N, 2]} for 2-D data; latents from ``PRNGKey(seed)``."""
  from gans_jax import visualize

  config, state = load_run(workdir)
  samples = evaluators.draw(
    _sampler(config, state), jax.random.PRNGKey(seed), num, config.model.latent_dim
  )
  if samples.ndim == 4:
    return {"images": visualize.to_uint8(samples)}
  return {"points": samples.astype(np.float32)}


def evaluate(workdir) -> dict:
  """Evaluates a run's latest checkpoint and appends the result to its metrics.jsonl."""
  config, state = load_run(workdir)
  evaluator = make_evaluator(config)
  if evaluator is None:
    raise ValueError(f"No evaluator for dataset {config.dataset!r} yet.")
  result = evaluator(_sampler(config, state), loop.root_keys(config.seed)[2])
  writer = writers.MetricWriter(workdir)
  writer.write(int(state.step), "eval", result)
  writer.close()
  return result


def describe(config) -> dict:
  """Parameter counts and G's output shape for a config, without data or training."""
  state = loop.initial_state(config, sample_shape(config))
  count = lambda tree: int(sum(np.size(x) for x in jax.tree.leaves(tree)))
  z = np.zeros((1, config.model.latent_dim), np.float32)
  output = jax.eval_shape(trainers.get_family(config.family).generate, state, z)
  return {
    "generator_params": count(state.g.params),
    "discriminator_params": count(state.d.params),
    "generator_output_shape": list(output.shape[1:]),
  }
