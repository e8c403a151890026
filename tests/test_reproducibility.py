"""Same seed -> same bits; interrupted + resumed -> same bits as uninterrupted (docs/design.md
section 3)."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from gans_jax import config_utils, experiment, loop, runs, writers
from tests.helpers import ROOT, tiny_config


def leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(state)]


def assert_bitwise_equal(a, b):
  left, right = leaves(a), leaves(b)
  assert len(left) == len(right)
  for x, y in zip(left, right, strict=True):
    assert x.dtype == y.dtype and x.shape == y.shape
    assert x.tobytes() == y.tobytes()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("uninterrupted")
  result = experiment.train_and_evaluate(tiny_config(), workdir, log=lambda _: None)
  return result.state


def test_same_seed_gives_identical_parameters(tmp_path, uninterrupted):
  again = experiment.train_and_evaluate(tiny_config(), tmp_path, log=lambda _: None)
  assert_bitwise_equal(again.state, uninterrupted)
  other = experiment.train_and_evaluate(tiny_config("seed=1"), tmp_path / "s1", log=lambda _: None)
  assert not np.array_equal(leaves(other.state.g.params)[0], leaves(uninterrupted.g.params)[0])


def test_stopped_and_resumed_run_is_bitwise_identical(tmp_path, uninterrupted):
  experiment.train_and_evaluate(tiny_config(), tmp_path, stop_after=3, log=lambda _: None)
  logged = [r["step"] for r in writers.read_metrics(tmp_path)]
  assert logged == [1, 2, 3]
  lines = []
  resumed = experiment.train_and_evaluate(tiny_config(), tmp_path, log=lines.append)
  assert "Resuming" in lines[0] and "step 3" in lines[0]
  assert_bitwise_equal(resumed.state, uninterrupted)
  records = writers.read_metrics(tmp_path)
  assert [r["step"] for r in records if r["kind"] == "train"] == [1, 2, 3, 4, 5, 6]
  assert (tmp_path / "loss_curves.png").exists() and (tmp_path / "samples_000006.png").exists()


def test_kill_9_between_checkpoints_then_same_command_resumes_exactly(tmp_path):
  """A real process, SIGKILLed after its first checkpoint, then restarted with the same command."""
  workdir = tmp_path / "run"
  overrides = [
    "--config.num_steps=300",
    "--config.batch_size=16",
    "--config.data.resolution=16",
    "--config.model.generator.width=8",
    "--config.model.discriminator.width=8",
    "--config.checkpoint_every_steps=100",
    "--config.sample_every_steps=1000",
    "--config.log_every_steps=50",
    "--config.eval_num_samples=100",
  ]
  command = [sys.executable, "-m", "gans_jax.main", "train", "--workdir", str(workdir), *overrides]
  env = {**os.environ, "PYTHONPATH": str(ROOT)}
  process = subprocess.Popen(
    command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
  )
  first = workdir / "checkpoints" / "100"
  deadline = time.time() + 240
  while not first.exists() and process.poll() is None and time.time() < deadline:
    time.sleep(0.005)
  process.send_signal(signal.SIGKILL)
  process.wait()
  saved = sorted(p.name for p in (workdir / "checkpoints").iterdir() if p.name.isdigit())
  assert "300" not in saved, "the run finished before it could be killed; test inconclusive"
  completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
  assert completed.returncode == 0, completed.stderr[-2000:]
  assert "Resuming" in completed.stdout

  config = config_utils.load_config()
  config_utils.apply_overrides(config, [o.removeprefix("--config.") for o in overrides])
  reference = experiment.train_and_evaluate(config, tmp_path / "reference", log=lambda _: None)
  _, resumed_state = runs.load_run(workdir)
  assert_bitwise_equal(resumed_state, reference.state)


def test_run_directory_of_another_config_is_refused(tmp_path, uninterrupted):
  experiment.train_and_evaluate(tiny_config("num_steps=2"), tmp_path, log=lambda _: None)
  with pytest.raises(loop.TrainingError, match="model.generator.width"):
    experiment.train_and_evaluate(
      tiny_config("model.generator.width=8"), tmp_path, log=lambda _: None
    )
  # Without config.json the checkpoint itself is checked, and named in the error.
  (tmp_path / "config.json").unlink()
  from gans_jax import checkpointing

  with pytest.raises(checkpointing.CheckpointError, match="checkpoints/2"):
    experiment.train_and_evaluate(
      tiny_config("model.generator.width=8"), tmp_path, log=lambda _: None
    )


def test_nan_loss_stops_with_clear_error_and_no_bad_checkpoint(tmp_path):
  config = tiny_config(
    "optim.d.learning_rate=1e30", "optim.g.learning_rate=1e30", "checkpoint_every_steps=1"
  )
  with pytest.raises(loop.TrainingError, match=r"became (nan|inf)|Non-finite") as info:
    experiment.train_and_evaluate(config, tmp_path, log=lambda _: None)
  checkpoints = [p.name for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit()]
  step = int(str(info.value).split("at step ")[1].split(";")[0])
  assert all(int(c) < step for c in checkpoints)


def test_named_keys_are_the_plain_split_in_order():
  from gans_jax import run_keys

  key = jax.random.PRNGKey(3)
  named = run_keys.split(key, "z", "label", "noise")
  assert list(named) == ["z", "label", "noise"]
  for got, expected in zip(named.values(), jax.random.split(key, 3), strict=True):
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
  roots = run_keys.root_keys(7)
  np.testing.assert_array_equal(
    np.asarray(roots.grid), np.asarray(jax.random.split(jax.random.PRNGKey(7), 3)[1])
  )
  with pytest.raises(ValueError, match="never used twice"):
    run_keys.split(key, "z", "z")


def test_initial_state_is_one_program_whatever_the_layout():
  """``initial_state`` (default device), ``sharded_initial_state`` (the mesh's layout) and
  ``initial_state_shapes`` agree: same structure, same bits, computed once each."""
  from gans_jax import parallel

  config = tiny_config()
  state = loop.initial_state(config, (8, 8, 1))
  assert_bitwise_equal(loop.initial_state(config, (8, 8, 1)), state)
  placed, shardings = loop.sharded_initial_state(
    config, (8, 8, 1), parallel.make_mesh(config.parallel.mesh_shape)
  )
  assert_bitwise_equal(placed, state)
  assert jax.tree.structure(shardings).num_leaves == jax.tree.structure(state).num_leaves
  shapes = loop.initial_state_shapes(config, (8, 8, 1))
  assert [(s.shape, s.dtype) for s in jax.tree.leaves(shapes)] == [
    (x.shape, x.dtype) for x in jax.tree.leaves(state)
  ]
  other_seed = loop.initial_state(tiny_config(f"seed={config.seed + 1}"), (8, 8, 1))
  pairs = zip(leaves(other_seed), leaves(state), strict=True)
  assert any(x.tobytes() != y.tobytes() for x, y in pairs)


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="compile_options.for_initialisation")
def test_compiled_initial_state_equals_the_op_by_op_one():
  """The DCGAN and MLP presets draw the same bits as their initialisers run op by op (no
  re-associated constants: ``compile_options.INITIALISATION``)."""
  from gans_jax import run_keys, trainers

  for config, shape in [
    (tiny_config(), (8, 8, 1)),
    (config_utils.load_config(f"{ROOT}/configs/gan.py:dataset=ring8"), (2,)),
  ]:
    family = trainers.get_family(config.family)
    op_by_op = family.init_state(config, run_keys.root_keys(config.seed).init, shape)
    assert_bitwise_equal(loop.initial_state(config, shape), op_by_op)
