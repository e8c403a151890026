"""What the loop does every so many steps besides training (docs/design.md section 2).

A periodic action is ``due(tick) -> bool`` and ``__call__(tick)``, run after each step in the
order given, as flax's examples run clu's periodic actions: logging the train metrics, the sample
grid, the periodic evaluation. ``standard_actions`` is a run's list. Checkpointing is the loop's
own (by steps and by seconds, agreed between processes with the signals), since resuming and
interrupting rest on it.

Every process runs every action (an action that reads the state copies it to the host, which
every process must join); only process 0 writes.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
from collections.abc import Callable

import jax
import numpy as np

from gans_jax import errors, optimizers, parallel, trainers, visualize, writers
from gans_jax.train_state import GANState


@dataclasses.dataclass
class Tick:
  """The loop after one step, as the periodic actions see it.

  Attributes:
    step: the step just taken (1-based: the number of steps trained).
    end_step: where this invocation of the loop stops.
    state: the state after ``step``, on the devices.
    metrics: the step's train metrics, device scalars.
    writer: the run's metric writer.
    progress: the console progress line's bookkeeping.
    saved_step: the newest checkpoint's step, or None (for error messages).
    log: where progress lines go (a no-op off process 0).
  """

  step: int
  end_step: int
  state: GANState
  metrics: dict
  writer: writers.MetricWriter
  progress: writers.Progress
  saved_step: int | None
  log: Callable[[str], None]

  @functools.cached_property
  def host_state(self) -> GANState:
    """The state copied to the host once per tick (every process joins the gather)."""
    return parallel.to_host(self.state)


@dataclasses.dataclass(frozen=True)
class LogTrainMetrics:
  """Every ``every_steps`` steps and at the end: the train metrics to metrics.jsonl and
  TensorBoard (with the learning rates), and a progress line.

  Raises (when called):
    errors.TrainingError: naming the metric that is no longer finite and the last good checkpoint.
  """

  every_steps: int
  config: object
  stages: tuple = ()  # The run's stages (D updates per step); () is one stage of d_steps.

  def due(self, tick: Tick) -> bool:
    return tick.step % self.every_steps == 0 or tick.step == tick.end_step

  def __call__(self, tick: Tick) -> None:
    metrics = {k: float(v) for k, v in jax.device_get(tick.metrics).items()}
    for name, value in metrics.items():
      if not np.isfinite(value):
        raise errors.TrainingError(
          f"{name} became {value} at step {tick.step}; training stopped without saving "
          f"(last good checkpoint: step {tick.saved_step}). Try a lower learning rate."
        )
    tick.writer.write(tick.step, "train", metrics)
    d_updates = (
      trainers.d_updates_before(self.stages, tick.step, self.config) if self.stages else None
    )
    tick.writer.scalars(tick.step, optimizers.learning_rates(self.config, tick.step, d_updates))
    tick.log(tick.progress.report(tick.step, metrics))


@dataclasses.dataclass(frozen=True)
class SaveSampleGrid:
  """Every ``every_steps`` steps and at the end: ``samples_STEP.png`` of ``render(state)``,
  also to TensorBoard's images tab."""

  every_steps: int
  workdir: pathlib.Path
  render: Callable[[GANState], np.ndarray]
  centers: np.ndarray | None = None

  def due(self, tick: Tick) -> bool:
    return tick.step % self.every_steps == 0 or tick.step == tick.end_step

  def __call__(self, tick: Tick) -> None:
    state = tick.host_state
    if jax.process_index() == 0:
      path = self.workdir / f"samples_{tick.step:06d}.png"
      visualize.save_samples(path, self.render(state), self.centers)
      tick.writer.image(tick.step, "samples", path.read_bytes())


@dataclasses.dataclass(frozen=True)
class EvaluatePeriodically:
  """Every ``every_steps`` steps before ``num_steps`` (the final evaluation comes after the
  loop): ``evaluate(state, key)`` to metrics.jsonl, on the same key each time, so evaluations
  along a run compare the same latents."""

  every_steps: int
  num_steps: int
  evaluate: Callable[[GANState, jax.Array], dict]
  key: jax.Array

  def due(self, tick: Tick) -> bool:
    return tick.step % self.every_steps == 0 and tick.step < self.num_steps

  def __call__(self, tick: Tick) -> None:
    state = tick.host_state
    if jax.process_index() == 0:
      metrics = self.evaluate(state, self.key)
      tick.writer.write(tick.step, "eval", metrics)
      tick.log(f"step {tick.step} eval: " + writers.format_metrics(metrics))


def standard_actions(run, workdir: pathlib.Path) -> list:
  """A run's periodic actions (``resolved.ResolvedRun``): logging every ``log_every_steps``, the
  sample grid every ``sample_every_steps``, and the evaluation every ``eval.every_steps`` when
  the run has an evaluator and the period is not 0."""
  config = run.config
  actions = [
    LogTrainMetrics(config.log_every_steps, config, run.stages),
    SaveSampleGrid(config.sample_every_steps, workdir, run.render_grid, run.plot_centers),
  ]
  if run.evaluate is not None and config.eval.every_steps:
    actions.append(
      EvaluatePeriodically(config.eval.every_steps, config.num_steps, run.evaluate, run.keys.eval)
    )
  return actions
