"""The one training loop, for every family (DESIGN sections 2, 3 and 7).

It owns the run directory: ``config.json``, orbax checkpoints, TensorBoard events,
``metrics.jsonl``, sample grids and the loss-curve PNG. Running it again on the same directory
resumes from the latest checkpoint; since the state holds every key and the batch at each step is a
pure function of (seed, step), the resumed run reaches bitwise-identical parameters.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import time
from collections.abc import Callable, Iterator, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from gans_jax import (
  checkpointing,
  compile_options,
  config_utils,
  parallel,
  trainers,
  visualize,
  writers,
)
from gans_jax.train_state import GANState

CONFIG_FILE = "config.json"


class TrainingError(RuntimeError):
  """Training cannot go on: diverged losses, or a run directory of another config."""


@dataclasses.dataclass
class RunResult:
  state: GANState
  workdir: pathlib.Path
  eval_metrics: dict
  train_metrics: dict


def root_keys(seed: int) -> tuple[jax.Array, jax.Array, jax.Array]:
  """(init key, sample-grid noise key, evaluation noise key) from the seed.

  init_state derives the training key from the init key; no key serves two purposes.
  """
  init_key, grid_key, eval_key = jax.random.split(jax.random.PRNGKey(seed), 3)
  return init_key, grid_key, eval_key


def initial_state(config, sample_shape: Sequence[int]) -> GANState:
  family = trainers.get_family(config.family)
  return family.init_state(config, root_keys(config.seed)[0], tuple(sample_shape))


def check_or_write_config(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  """Writes config.json, or checks a resumed run's saved config matches (run lengths aside).

  Raises:
    TrainingError: naming the keys that differ.
  """
  path = workdir / CONFIG_FILE
  current = config_utils.to_dict(config)
  if path.exists():
    saved = json.loads(path.read_text())
    differing = config_utils.differing_keys(saved, current)
    if differing:
      raise TrainingError(
        f"{workdir} holds a run of another config (differs in {', '.join(differing)}); "
        "use a new --workdir or the original config."
      )
  if jax.process_index() == 0:
    writers.write_atomically(path, json.dumps(current, indent=2, sort_keys=True))


@jax.jit
def _all_finite(tree) -> jax.Array:
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))


def _check_finite(step: int, metrics: dict, last_checkpoint: int | None) -> None:
  for name, value in metrics.items():
    if not np.isfinite(value):
      raise TrainingError(
        f"{name} became {value} at step {step}; training stopped without saving "
        f"(last good checkpoint: step {last_checkpoint}). Try a lower learning rate."
      )


def train(
  config: ml_collections.ConfigDict,
  workdir: str | pathlib.Path,
  *,
  batches_from: Callable[[int, trainers.Stage], Iterator[dict]],
  sample_shape: Sequence[int],
  evaluate: Callable[[GANState, jax.Array], dict] | None = None,
  render_grid: Callable[[GANState], np.ndarray] | None = None,
  plot_centers: np.ndarray | None = None,
  stop_after: int | None = None,
  log: Callable[[str], None] = print,
) -> RunResult:
  """Trains ``config`` in ``workdir``, resuming from its latest checkpoint if there is one.

  Args:
    config: the resolved, locked run config.
    workdir: the run directory (created if needed).
    batches_from: (start_step, stage) -> iterator of this process's batches, {"x", "label"}
      numpy arrays of stage.batch_size / process_count examples, for the steps from start_step
      on; example positions count on from ``stage.first_image`` at ``stage.first_step`` (see
      ``trainers.stages``; a one-stage family has batch_size * d_steps from position 0).
    sample_shape: shape of one sample, e.g. (32, 32, 1) or (2,).
    evaluate: (state, noise key) -> metrics, run at the end and every
      ``config.eval.every_steps`` steps (the same noise key each time, so evaluations along a run
      compare the same latents); None for none.
    render_grid: state -> what the periodic sample PNGs show (images [N, H, W, C] or points
      [N, 2]); default ``latent_grid(config, sample_shape)``.
    plot_centers: mode centers drawn in 2-D sample plots.
    stop_after: stop (after checkpointing) once this step is reached, as if interrupted.
    log: where progress lines go (only process 0 logs).

  Returns:
    The final state and metrics.

  Raises:
    TrainingError: on a non-finite loss or a run directory of another config.
  """
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  log = log if jax.process_index() == 0 else (lambda _: None)
  check_or_write_config(config, workdir)
  family = trainers.get_family(config.family)
  mesh = parallel.make_mesh(config.parallel.mesh_shape)
  stages = family.schedule(config, tuple(sample_shape))
  for stage in stages:
    parallel.check_global_batch(stage.batch_size // config.d_steps, mesh)

  state, state_shardings = sharded_initial_state(config, sample_shape, mesh)
  checkpointer = checkpointing.Checkpointer(workdir)
  start_step = checkpointer.latest_step() or 0
  if start_step:
    state = checkpointer.restore(state, start_step)  # Straight into the state's shardings.
    writers.truncate_metrics(workdir, start_step)
    log(f"Resuming {workdir} from step {start_step}.")

  compiled_steps = {}

  def step_fn_of(stage):
    """The stage's train step, compiled on first use (one program per stage)."""
    if stage.index not in compiled_steps:
      static = {"stage": stage} if family.stages else {}
      compiled_steps[stage.index] = jax.jit(
        lambda s, b: family.train_step(s, b, config=config, **static),
        in_shardings=(state_shardings, parallel.batch_sharded(mesh)),
        out_shardings=(state_shardings, parallel.replicated(mesh)),
        donate_argnums=0,
        compiler_options=compile_options.for_train_step(config),
      )
    return compiled_steps[stage.index]

  render_grid = render_grid or latent_grid(config, sample_shape)

  writer = writers.MetricWriter(workdir)
  stage = trainers.stage_at(stages, start_step)
  progress = writers.Progress(config.num_steps, stage.batch_size, start_step)
  last_checkpoint = start_step or None
  end_step = config.num_steps if stop_after is None else min(stop_after, config.num_steps)
  metrics = {}
  step = start_step
  batches = batches_from(start_step, stage)
  images_seen = 0
  started = time.perf_counter()
  while step < end_step:
    if trainers.stage_at(stages, step) != stage:  # A new stage: its own data stream and step.
      stage = trainers.stage_at(stages, step)
      batches = batches_from(step, stage)
      progress.images_per_step = stage.batch_size
      log(f"step {step}: stage {stage.index} (level {stage.level}, batch {stage.batch_size}).")
    batch = parallel.to_global(next(batches), mesh)
    state, metrics = step_fn_of(stage)(state, batch)
    step += 1
    images_seen += stage.batch_size
    if step % config.log_every_steps == 0 or step == end_step:
      metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
      _check_finite(step, metrics, last_checkpoint)
      writer.write(step, "train", metrics)
      log(progress.report(step, metrics))
    every = config.eval.every_steps
    sample_now = step % config.sample_every_steps == 0 or step == end_step
    # Periodic evaluation (the final step's evaluation comes after the loop).
    evaluate_now = evaluate is not None and every and step % every == 0 and step < config.num_steps
    if sample_now or evaluate_now:
      # Process 0 renders and evaluates a host copy (every process joins the gather), so these
      # programs never wait on the other processes.
      host_state = parallel.to_host(state)
      if jax.process_index() == 0 and sample_now:
        samples = render_grid(host_state)
        visualize.save_samples(workdir / f"samples_{step:06d}.png", samples, plot_centers)
      if jax.process_index() == 0 and evaluate_now:
        periodic = evaluate(host_state, root_keys(config.seed)[2])
        writer.write(step, "eval", periodic)
        log(f"step {step} eval: " + _format_metrics(periodic))
    if step % config.checkpoint_every_steps == 0 or step == end_step:
      if not bool(_all_finite(state)):
        raise TrainingError(
          f"Non-finite parameters at step {step}; not saved (last good checkpoint: "
          f"step {last_checkpoint}). Try a lower learning rate."
        )
      checkpointer.save(step, state)
      last_checkpoint = step
  checkpointer.close()
  elapsed = time.perf_counter() - started

  eval_metrics = {}
  host_state = parallel.to_host(state) if step >= config.num_steps else None
  if step >= config.num_steps and jax.process_index() == 0:
    visualize.save_loss_curves(workdir / "loss_curves.png", writers.read_metrics(workdir))
    if evaluate is not None:
      eval_metrics = evaluate(host_state, root_keys(config.seed)[2])
      writer.write(step, "eval", eval_metrics)
  writer.close()
  log(_summary(workdir, start_step, step, elapsed, images_seen, metrics, eval_metrics))
  return RunResult(state, workdir, eval_metrics, metrics)


def sharded_initial_state(config, sample_shape: Sequence[int], mesh):
  """(initial state, its shardings) in the mesh's layout (``parallel.state_shardings``).

  A replicated state is initialised as usual and copied to every device. A state with sharded
  arrays (fsdp) is initialised by one compiled program straight into its shards, so it never has
  to fit on one device; this costs a compilation (seconds), hence only then. The values are the
  same either way: JAX's threefry is partitionable, so random draws do not depend on the layout.
  """
  init = lambda: initial_state(config, sample_shape)  # noqa: E731
  leaves, treedef = jax.tree.flatten(jax.eval_shape(init))
  shardings = parallel.state_shardings(leaves, mesh, config.parallel.fsdp_min_size)
  if all(s.is_fully_replicated for s in shardings):
    leaves = parallel.place(jax.tree.leaves(init()), shardings)
  else:
    # Leaves only: each call builds its own optimizer closures, held in a pytree's static part.
    leaves = jax.jit(lambda: jax.tree.leaves(init()), out_shardings=shardings)()
  return jax.tree.unflatten(treedef, leaves), jax.tree.unflatten(treedef, shardings)


def latent_grid(config, sample_shape: Sequence[int]) -> Callable[[GANState], np.ndarray]:
  """state -> samples of G on fixed latents (from the seed's grid key): ``num_grid_samples``
  images, a K x K grid with row r of class r for a conditional model, or 1,000 2-D points (a
  scatter plot of many says more than a grid's worth)."""
  num_grid = 1000 if len(sample_shape) == 1 else config.num_grid_samples
  if config.model.num_classes and len(sample_shape) > 1:
    num_grid = config.model.num_classes**2
  grid_z = jax.random.normal(root_keys(config.seed)[1], (num_grid, config.model.latent_dim))
  grid_labels = grid_class_labels(num_grid, config.model.num_classes)
  generate = jax.jit(trainers.get_family(config.family).generate)
  return lambda state: np.asarray(generate(state, grid_z, grid_labels))


def grid_class_labels(num: int, num_classes: int) -> np.ndarray:
  """Labels of a sample grid: one row per class (row r of a K-column grid asks for class r)
  when conditional, zeros otherwise."""
  if not num_classes:
    return np.zeros(num, np.int32)
  return (np.arange(num) // max(num // num_classes, 1) % num_classes).astype(np.int32)


def _summary(workdir, start_step, step, elapsed, images_seen, metrics, eval_metrics) -> str:
  rate = images_seen / max(elapsed, 1e-9)
  lines = [
    "",
    f"Run directory: {workdir}",
    f"Trained steps {start_step} -> {step} in {elapsed:.0f}s ({rate:.0f} img/s).",
    "Final train metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())),
  ]
  for name, value in eval_metrics.items():
    lines.append(f"  {name}: {_format_value(value)}")
  lines.append(
    "Files: config.json, checkpoints/, tensorboard/, metrics.jsonl, samples_*.png, loss_curves.png"
  )
  return "\n".join(lines)


def _format_value(value) -> str:
  return f"{value:.4f}" if isinstance(value, float) else str(value)


def _format_metrics(metrics: dict) -> str:
  return ", ".join(f"{k}={_format_value(v)}" for k, v in metrics.items() if not isinstance(v, list))
