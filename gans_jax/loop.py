"""The one training loop, for every family (docs/design.md sections 2, 3 and 7).

It owns the run directory: ``config.json``, orbax checkpoints, TensorBoard events,
``metrics.jsonl``, sample grids and the loss-curve PNG. Running it again on the same directory
resumes from the latest checkpoint; since the state holds every key and the batch at each step is a
pure function of (seed, step), the resumed run reaches bitwise-identical parameters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import pathlib
import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.experimental import multihost_utils

from gans_jax import (
  checkpointing,
  compile_options,
  config_schema,
  config_utils,
  errors,
  host_memory,
  interrupts,
  parallel,
  periodic,
  resolved,
  run_directory,
  run_keys,
  trainers,
  visualize,
  writers,
)
from gans_jax.train_state import GANState

CONFIG_FILE = "config.json"


TrainingError = errors.TrainingError  # Raised here and by the periodic actions.


@dataclasses.dataclass
class RunResult:
  state: GANState
  workdir: pathlib.Path
  eval_metrics: dict
  train_metrics: dict


def initial_state(config, sample_shape: Sequence[int]) -> GANState:
  """The run's fresh state (networks, optimizers, keys) from ``config.seed``, on the default
  device.

  Drawn by one compiled program, not op by op: dispatched op by op, each of the init's few
  hundred operations was compiled on its own and kept (DCGAN 64x64, ngf = ndf = 64, 2-core Intel
  Xeon: 10.5 s and +450 MB of resident memory, of which 230 MB stay; one program: 2 s, nothing
  stays). ``sharded_initial_state`` runs the same program; ``compile_options.for_initialisation``
  says which values equal the op-by-op ones.
  """
  init, key = _initialiser(config, sample_shape)
  return jax.jit(init, compiler_options=compile_options.for_initialisation())(key)


def initial_state_shapes(config, sample_shape: Sequence[int]) -> GANState:
  """``initial_state``'s structure, shapes and dtypes (``jax.ShapeDtypeStruct`` leaves), without
  computing it; callable under a trace, unlike ``initial_state``."""
  return jax.eval_shape(*_initialiser(config, sample_shape))


def _initialiser(config, sample_shape: Sequence[int]):
  """(key -> the family's fresh state, the run's init key from ``config.seed``)."""
  family, shape = trainers.get_family(config.family), tuple(sample_shape)
  return (lambda key: family.init_state(config, key, shape)), run_keys.root_keys(config.seed).init


def check_or_write_config(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  """Writes config.json, or checks a resumed run's saved config matches (run lengths aside).

  Raises:
    TrainingError: naming the keys that differ.
  """
  path = workdir / CONFIG_FILE
  current = config_utils.to_dict(config)
  if path.exists():
    saved = config_schema.upgrade_saved(json.loads(path.read_text()), like=current)
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


def train(
  run: resolved.ResolvedRun,
  workdir: str | pathlib.Path,
  *,
  actions: Sequence | None = None,
  stop_after: int | None = None,
  log: Callable[[str], None] = print,
) -> RunResult:
  """Trains ``run`` in ``workdir``, resuming from its latest checkpoint if there is one.

  The run holds ``workdir``'s lock throughout (``run_directory``). SIGINT and SIGTERM finish
  the step in flight, checkpoint it and raise ``interrupts.Interrupted``; a second signal exits
  at once. A run that already finished (trained, evaluated, curves drawn) is not redone.

  Args:
    run: the resolved run (``experiment.resolve``, or ``ResolvedRun.create`` around batches of
      one's own).
    workdir: the run directory (created if needed).
    actions: what runs after each step (``periodic``), in order; default
      ``periodic.standard_actions(run, workdir)``. Checkpoints are the loop's own: every
      ``checkpoint_every_steps`` steps, every ``checkpoint_every_secs`` seconds and at the end.
    stop_after: stop (after checkpointing) once this step is reached, as if interrupted.
    log: where progress lines go (only process 0 logs).

  Returns:
    The final state and metrics; the final evaluation is ``run.evaluate`` on ``run.keys.eval``.

  Raises:
    TrainingError: on a non-finite loss or a run directory of another config.
    errors.RunDirectoryError: when ``workdir`` is a file, unwritable or in use by another run.
    checkpointing.CheckpointError: when no checkpoint of the run restores.
    interrupts.Interrupted: on SIGINT / SIGTERM, after saving.
  """
  config_utils.validate(run.config)
  workdir = run_directory.create(workdir)
  log = log if jax.process_index() == 0 else (lambda _: None)
  if actions is None:
    actions = periodic.standard_actions(run, workdir)
  with _run_lock(workdir), interrupts.deferred_signals() as signals:
    had_config = (workdir / CONFIG_FILE).exists()
    check_or_write_config(run.config, workdir)
    training = _Run(run, workdir, log)
    try:
      return training.train(actions, stop_after, signals, had_config)
    finally:
      training.checkpointer.close()


@contextlib.contextmanager
def _run_lock(workdir: pathlib.Path):
  """The run directory's lock, taken by process 0; every process learns whether it got it."""
  if jax.process_count() == 1:
    with run_directory.locked(workdir):
      yield
    return
  with contextlib.ExitStack() as stack:
    error = None
    if jax.process_index() == 0:
      try:
        stack.enter_context(run_directory.locked(workdir))
      except errors.RunDirectoryError as raised:
        error = raised
    if not multihost_utils.broadcast_one_to_all(np.int32(error is None)):
      raise error or errors.RunDirectoryError(f"Process 0 could not lock {workdir}; see its log.")
    yield


class _Run:
  """One training run's parts (mesh, stages, state, checkpoints) and the steps of ``train``."""

  def __init__(self, run: resolved.ResolvedRun, workdir: pathlib.Path, log):
    self.run, self.workdir, self.log = run, workdir, log
    self.config, self.family, self.stages = run.config, run.family, run.stages
    config = run.config
    self.mesh = parallel.make_mesh(config.parallel.mesh_shape)
    for stage in self.stages:
      parallel.check_global_batch(stage.batch_size // stage.d_steps_of(config), self.mesh)
    self.checkpointer = checkpointing.Checkpointer(workdir)
    self.compiled_steps = {}
    self.saved_step = None  # The step of the newest checkpoint this run holds.
    self.saved_time = time.monotonic()

  def step_fn_of(self, stage, state_shardings, state, batch):
    """The stage's train step, compiled for (state, batch) on first use (one per
    ``stage.program_key``); the compiler's freed heap is released before the step first runs
    (``host_memory``)."""
    if stage.program_key not in self.compiled_steps:
      static = {"stage": stage} if self.family.stages else {}
      jitted = jax.jit(
        lambda s, b: self.family.train_step(s, b, config=self.config, **static),
        in_shardings=(state_shardings, parallel.batch_sharded(self.mesh)),
        out_shardings=(state_shardings, parallel.replicated(self.mesh)),
        donate_argnums=0,
        compiler_options=compile_options.for_train_step(self.config),
      )
      self.compiled_steps[stage.program_key] = host_memory.compile_then_release(
        jitted, state, batch
      )
    return self.compiled_steps[stage.program_key]

  def restore(self, had_config: bool):
    """(state, its shardings, start step): the newest checkpoint that restores, else step 0."""
    state, shardings = sharded_initial_state(self.config, self.run.sample_shape, self.mesh)
    restored = self.checkpointer.restore_latest(state, self.log)  # Into the state's shardings.
    self.saved_step = restored.step
    if restored.step is None and had_config:
      self.log(f"{self.workdir} holds no checkpoint yet: starting over from step 0.")
    return restored.state, shardings, restored.step or 0

  def save(self, step: int, state) -> None:
    if not bool(_all_finite(state)):
      raise TrainingError(
        f"Non-finite parameters at step {step}; not saved (last good checkpoint: "
        f"step {self.saved_step}). Try a lower learning rate."
      )
    self.checkpointer.save(step, state)
    self.saved_step, self.saved_time = step, time.monotonic()

  def save_due(self, step: int, end_step: int) -> tuple[bool, bool]:
    """(a checkpoint due by step count, one due by ``checkpoint_every_secs`` on this host)."""
    every_secs = self.config.checkpoint_every_secs
    by_steps = step % self.config.checkpoint_every_steps == 0 or step == end_step
    return by_steps, bool(every_secs and time.monotonic() - self.saved_time >= every_secs)

  def stop_if_signalled(self, signum: int, step: int, state) -> None:
    """After a signal: checkpoint ``step`` (unless it is saved) and raise Interrupted."""
    if not signum:
      return
    name = interrupts.name(signum)
    if self.saved_step == step:
      message = f"{name} at step {step}; its checkpoint is saved; run the same command to resume."
    elif step == 0:
      message = f"{name} before the first step; nothing to save; run the same command to start."
    else:
      self.save(step, state)
      message = f"{name}: interrupted at step {step}; saved; run the same command to resume."
    raise interrupts.Interrupted(signum, message)  # Its message is what the caller prints.

  def agreed(self, signum: int, step: int, by_time: bool) -> tuple[int, bool]:
    """(signal, time-based save) as every process sees them: this process's own view when it
    is alone; with several, their union, exchanged at logging steps only (a host round trip
    every step would stall the device queue), so all of them stop or save at the same step."""
    if jax.process_count() == 1:
      return signum, by_time
    if step % self.config.log_every_steps:
      return 0, False
    views = multihost_utils.process_allgather(np.array([signum, by_time], np.int32))
    return int(np.max(views[:, 0])), bool(np.max(views[:, 1]))

  def finished(self, start_step: int) -> tuple[dict, dict] | None:
    """(last eval metrics, last train metrics) when the run already finished at ``start_step``
    (``writers.mark_finished``; process 0 reads it and tells the others), else None."""
    done, records = False, []
    if jax.process_index() == 0 and start_step >= self.config.num_steps:
      done = writers.finished_step(self.workdir) == start_step
      records = writers.read_metrics(self.workdir) if done else []
    if jax.process_count() > 1:
      done = bool(multihost_utils.broadcast_one_to_all(np.int32(done)))
    if not done:
      return None
    self.log(
      f"{self.workdir} finished at step {start_step} already; nothing to do. Raise "
      "--config.num_steps to train on, or use a new --workdir."
    )
    last = lambda kind: next(  # noqa: E731
      ({k: v for k, v in r.items() if k not in ("step", "kind")} for r in reversed(records)
       if r["kind"] == kind), {},
    )  # fmt: skip
    return last("eval"), last("train")

  def train(self, actions, stop_after, signals, had_config) -> RunResult:
    config, workdir, log = self.config, self.workdir, self.log
    state, state_shardings, start_step = self.restore(had_config)
    done = self.finished(start_step)
    if done is not None:
      return RunResult(state, workdir, *done)
    writers.truncate_metrics(workdir, start_step, drop_final=start_step >= config.num_steps)
    if self.saved_step is not None:  # Step 0 too: an imported run (gans_jax.weights).
      log(f"Resuming {workdir} from step {start_step}.")
    writer = writers.MetricWriter(workdir)
    writer.restart_at(start_step)
    writer.text(start_step, "config", writers.config_markdown(config_utils.to_dict(config)))
    stage = trainers.stage_at(self.stages, start_step)
    progress = writers.Progress(config.num_steps, stage.batch_size, start_step)
    end_step = config.num_steps if stop_after is None else min(stop_after, config.num_steps)
    metrics, step, images_seen = {}, start_step, 0
    batches = self.run.batches_from(start_step, stage)
    started = time.perf_counter()
    self.stop_if_signalled(self.agreed(signals.signum, step, False)[0], step, state)  # Start-up.
    while step < end_step:
      if trainers.stage_at(self.stages, step) != stage:  # A new stage: its own data and step.
        stage = trainers.stage_at(self.stages, step)
        batches = self.run.batches_from(step, stage)
        progress.images_per_step = stage.batch_size
        if stage.program_key not in self.compiled_steps:  # Stages of a known program: quiet.
          log(f"step {step}: stage {stage.index} (level {stage.level}, batch {stage.batch_size}).")
      batch = parallel.to_global(next(batches), self.mesh)
      compiles = stage.program_key not in self.compiled_steps
      state, metrics = self.step_fn_of(stage, state_shardings, state, batch)(state, batch)
      step += 1
      images_seen += stage.batch_size
      if compiles:  # Time the steps after the compiled one.
        jax.block_until_ready(metrics)
        progress.compiled(step)
      tick = periodic.Tick(step, end_step, state, metrics, writer, progress, self.saved_step, log)
      for action in actions:
        if action.due(tick):
          action(tick)
      self.checkpoint_if_due(step, end_step, state, signals)
    elapsed = time.perf_counter() - started
    metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
    eval_metrics = {}
    if step >= config.num_steps:
      eval_metrics = self.finish(step, state, writer, signals)
    writer.close()
    log(writers.run_summary(workdir, start_step, step, elapsed, images_seen, metrics, eval_metrics))
    return RunResult(state, workdir, eval_metrics, metrics)

  def checkpoint_if_due(self, step: int, end_step: int, state, signals) -> None:
    """The loop's own periodic action: a checkpoint when one is due by steps or seconds (or a
    signal came), then ``stop_if_signalled``."""
    by_steps, by_time = self.save_due(step, end_step)
    signum, by_time = self.agreed(signals.signum, step, by_time)
    if by_steps or by_time:
      self.save(step, state)
    self.stop_if_signalled(signum, step, state)

  def finish(self, step, state, writer, signals) -> dict:
    """The end of a run, once its last checkpoint is saved: loss curves, the final evaluation,
    then the finished mark. A signal from here on stops at once (all is saved; a rerun redoes
    only this part)."""

    def stop_now(signum):
      message = (
        f"{interrupts.name(signum)} during the final evaluation; step {step} is saved; run "
        "the same command to evaluate it."
      )
      raise interrupts.Interrupted(signum, message)

    if signals.signum:
      stop_now(signals.signum)
    signals.on_signal = stop_now
    host_state = parallel.to_host(state)
    eval_metrics = {}
    if jax.process_index() == 0:
      visualize.save_loss_curves(
        self.workdir / "loss_curves.png", writers.read_metrics(self.workdir)
      )
      if self.run.evaluate is not None:
        eval_metrics = self.run.evaluate(host_state, self.run.keys.eval)
        writer.write(step, "eval", eval_metrics)
      writers.mark_finished(self.workdir, step)
    signals.on_signal = None
    return eval_metrics


def sharded_initial_state(config, sample_shape: Sequence[int], mesh):
  """(initial state, its shardings) in the mesh's layout (``parallel.state_shardings``).

  ``initial_state``'s program draws the state straight into that layout: a sharded (fsdp) array
  never has to fit on one device, a replicated one is computed on every device. The values do
  not depend on the layout (JAX's threefry is partitionable).
  """
  leaves, treedef = jax.tree.flatten(initial_state_shapes(config, sample_shape))
  shardings = parallel.state_shardings(leaves, mesh, config.parallel.fsdp_min_size)
  init, key = _initialiser(config, sample_shape)
  # Leaves only: each trace builds its own optimizer closures, held in the pytree's static part.
  leaves = jax.jit(
    lambda k: jax.tree.leaves(init(k)),
    out_shardings=shardings,
    compiler_options=compile_options.for_initialisation(),
  )(key)
  return jax.tree.unflatten(treedef, leaves), jax.tree.unflatten(treedef, shardings)
