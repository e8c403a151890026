"""A run resolved once: what it evaluates (declared in config.eval), its grid, its periodic
actions."""

import jax
import numpy as np
import pytest

from gans_jax import config_utils, errors, evaluation, periodic, resolved, writers
from tests.helpers import ROOT

CONFIGS = ROOT / "configs"


def load(spec: str, *overrides: str):
  config = config_utils.load_config(str(CONFIGS / spec))
  config_utils.apply_overrides(config, overrides)
  return config


@pytest.mark.parametrize(
  ("spec", "overrides", "expected"),
  [
    ("dcgan.py", (), ("digits_classifier", "")),
    ("dcgan.py", ("eval.metrics=fd50_digits",), ("digits_classifier", "fd50_digits")),
    ("gan.py", (), ("mode_coverage", "")),
    ("pix2pix.py", (), ("held_out_translation", "fcn_score,fcn_fd,real_vs_fake")),
    ("pix2pix.py:dataset=facades", (), ("held_out_translation", "")),
    ("cyclegan.py", (), ("held_out_translation", "")),
    ("dcgan.py", ("eval.protocol=none",), ("none", "")),
    # Image data without a protocol of its own and no metrics named: FID / KID / PR, on the
    # self-supervised features when no Inception weights are at hand.
    ("dcgan.py:dataset=folder:/nowhere", (), ("none", "fd_selfsup,kid_selfsup,pr_selfsup")),
    ("dcgan.py:dataset=folder:/nowhere", ("eval.metrics=is1k",), ("none", "is1k")),
  ],
)
def test_the_config_declares_what_a_run_evaluates(spec, overrides, expected, monkeypatch):
  monkeypatch.delenv("GANS_JAX_INCEPTION_WEIGHTS", raising=False)
  assert evaluation.resolve_evaluation(load(spec, *overrides)) == expected


def test_a_run_with_no_evaluation_has_no_evaluator():
  assert evaluation.make_evaluator(load("dcgan.py", "eval.protocol=none")) is None


@pytest.mark.parametrize(
  ("spec", "override", "message"),
  [
    ("dcgan.py", "eval.protocol=modes", "Unknown eval.protocol 'modes'; known protocols: default"),
    ("dcgan.py", "eval.protocol=mode_coverage", "'mode_coverage' .* does not fit a gan run on"),
    ("gan.py", "eval.protocol=digits_classifier", "does not fit a gan run on ring8"),
    ("dcgan.py", "eval.protocol=held_out_translation", "does not fit a gan run on digits"),
    ("pix2pix.py", "eval.protocol=digits_classifier", "does not fit a pix2pix run"),
    ("pix2pix.py", "eval.metrics=fid10k", "eval.metrics: fid10k judges samples of z, .* pix2pix"),
  ],
)
def test_an_evaluation_that_does_not_fit_the_run_is_refused(spec, override, message):
  with pytest.raises(errors.ConfigError, match=message):
    evaluation.make_evaluator(load(spec, override))


def test_a_translating_run_needs_its_grid_of_held_out_pairs():
  with pytest.raises(ValueError, match="needs its grid of held-out pairs"):
    resolved.ResolvedRun.create(load("pix2pix.py"), (16, 16, 3), lambda start, stage: iter(()))


def test_a_resolved_run_holds_its_family_stages_keys_and_default_grid():
  config = load("dcgan.py", "num_grid_samples=4")
  run = resolved.ResolvedRun.create(config, (32, 32, 1), lambda start, stage: iter(()))
  assert run.family.sample is not None and len(run.stages) == 1
  assert run.stages[0].batch_size == config.batch_size * config.d_steps
  np.testing.assert_array_equal(run.keys.eval, jax.random.split(jax.random.PRNGKey(0), 3)[2])
  assert run.sample_shape == (32, 32, 1)


class _Recorder:
  def __init__(self):
    self.calls = []

  def write(self, step, kind, values):
    self.calls.append((step, kind, values))

  def scalars(self, step, values):
    self.calls.append((step, "scalars", values))


def tick(step, end_step=10, metrics=None, writer=None):
  progress = writers.Progress(end_step, 1, 0)
  return periodic.Tick(
    step, end_step, None, metrics or {"g_loss": np.float32(1.0)}, writer, progress, 4, lambda _: 0
  )


def test_periodic_actions_are_due_every_n_steps_and_at_the_end():
  config = load("dcgan.py", "log_every_steps=4", "sample_every_steps=5", "eval.every_steps=3")
  run = resolved.ResolvedRun.create(
    config, (32, 32, 1), lambda start, stage: iter(()), evaluate=lambda state, key: {}
  )
  log, grid, evaluate = periodic.standard_actions(run, ROOT)
  due = lambda action, end: [s for s in range(1, end + 1) if action.due(tick(s, end))]  # noqa: E731
  assert due(log, 10) == [4, 8, 10] and due(grid, 10) == [5, 10]
  # The final step's evaluation is the run's last one, after the loop: not periodic.
  assert due(evaluate, config.num_steps)[-1] < config.num_steps
  assert due(evaluate, 10) == [3, 6, 9]
  no_eval = resolved.ResolvedRun.create(config, (32, 32, 1), lambda start, stage: iter(()))
  assert len(periodic.standard_actions(no_eval, ROOT)) == 2


def test_logging_a_diverged_metric_stops_the_run_naming_the_last_checkpoint():
  action = periodic.LogTrainMetrics(1, load("dcgan.py"))
  recorder = _Recorder()
  with pytest.raises(
    errors.TrainingError, match=r"d_loss became nan at step 7; .* checkpoint: step 4\)"
  ):
    action(tick(7, metrics={"d_loss": np.float32(np.nan)}, writer=recorder))
  assert recorder.calls == []  # Nothing written for the diverged step.
  action(tick(8, writer=recorder))
  assert recorder.calls[0] == (8, "train", {"g_loss": 1.0})
