"""Never lose work, never mislead: damaged checkpoints, signals, the run lock, metrics.jsonl,
file-system and validation errors (each bad input: exit 2 and one line)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest
from PIL import Image

from gans_jax import checkpointing, errors, experiment, main, run_directory, runs, writers
from tests.helpers import ROOT, TINY_DCGAN, tiny_config
from tests.test_reproducibility import assert_bitwise_equal

QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  """The tiny DCGAN trained in one go (6 steps, checkpoints every 2)."""
  workdir = tmp_path_factory.mktemp("uninterrupted")
  return experiment.train_and_evaluate(tiny_config(), workdir, **QUIET).state


def stopped_at_4(workdir):
  experiment.train_and_evaluate(tiny_config(), workdir, stop_after=4, **QUIET)
  return workdir / "checkpoints" / "4"


def data_files(step_dir):
  return sorted((step_dir / "state" / "ocdbt.process_0" / "d").iterdir(), key=os.path.getsize)


def delete_largest(step_dir):
  data_files(step_dir)[-1].unlink()


def truncate_largest(step_dir):
  largest = data_files(step_dir)[-1]
  largest.write_bytes(largest.read_bytes()[:100])


def empty_metadata(step_dir):
  (step_dir / "state" / "_METADATA").write_bytes(b"")


def empty_step_directory(step_dir):
  shutil.rmtree(step_dir)
  step_dir.mkdir()


def flip_64_bytes(step_dir):
  largest = data_files(step_dir)[-1]
  data = bytearray(largest.read_bytes())
  data[1000:1064] = bytes(b ^ 0xFF for b in data[1000:1064])
  largest.write_bytes(bytes(data))


def delete_fingerprints(step_dir):
  shutil.rmtree(step_dir / "fingerprints")


@pytest.mark.parametrize(
  "damage",
  [
    delete_largest,
    truncate_largest,
    empty_metadata,
    empty_step_directory,
    flip_64_bytes,
    delete_fingerprints,
  ],
)
def test_damaged_latest_checkpoint_falls_back_and_finishes_identically(
  damage, tmp_path, uninterrupted
):
  damage(stopped_at_4(tmp_path))
  lines = []
  result = experiment.train_and_evaluate(tiny_config(), tmp_path, log=lines.append)
  warning = next(line for line in lines if line.startswith("Warning: checkpoint step 4"))
  assert "trying the step before it" in warning
  assert any("Resuming" in line and "step 2" in line for line in lines)
  assert (tmp_path / checkpointing.DAMAGED_DIR / "4").is_dir()  # Kept, not deleted.
  assert_bitwise_equal(result.state, uninterrupted)


def test_no_restorable_checkpoint_lists_every_step_and_moves_nothing(tmp_path):
  last = stopped_at_4(tmp_path)
  for step_dir in (last, last.parent / "2"):
    delete_largest(step_dir)
  with pytest.raises(checkpointing.CheckpointError, match="No checkpoint under") as info:
    experiment.train_and_evaluate(tiny_config(), tmp_path, **QUIET)
  assert "step 4" in str(info.value) and "step 2" in str(info.value)
  assert sorted(p.name for p in last.parent.iterdir()) == ["2", "4"]
  assert not (tmp_path / checkpointing.DAMAGED_DIR).exists()


def test_another_configs_checkpoint_names_the_differing_array(tmp_path):
  stopped_at_4(tmp_path)
  (tmp_path / "config.json").unlink()  # Only the checkpoint itself can tell now.
  with pytest.raises(checkpointing.CheckpointError, match="another config") as info:
    experiment.train_and_evaluate(tiny_config("model.generator.width=8"), tmp_path, **QUIET)
  assert "is (4,) float32 there but (8,) float32 in this config's state" in str(info.value)
  assert not isinstance(info.value, checkpointing.DamagedCheckpointError)


def test_checkpoint_of_the_layout_before_fingerprints_resumes(tmp_path, uninterrupted):
  """Run directories written before fingerprints (one orbax item, "default") still resume."""
  stopped_at_4(tmp_path)
  checkpointer = checkpointing.Checkpointer(tmp_path)
  state = checkpointer.restore(jax.tree.map(np.asarray, uninterrupted), 4)
  checkpointer.close()
  shutil.rmtree(tmp_path / "checkpoints")
  legacy = ocp.CheckpointManager(
    tmp_path / "checkpoints", options=ocp.CheckpointManagerOptions(enable_async_checkpointing=False)
  )
  legacy.save(4, args=ocp.args.StandardSave(state))
  legacy.wait_until_finished()
  legacy.close()
  assert (tmp_path / "checkpoints" / "4" / "default").is_dir()
  result = experiment.train_and_evaluate(tiny_config(), tmp_path, **QUIET)
  assert_bitwise_equal(result.state, uninterrupted)


def test_fingerprint_changes_with_any_single_word():
  x = np.arange(1000, dtype=np.float32)
  reference = checkpointing.fingerprints({"x": x})
  for index in (0, 499, 999):
    changed = x.copy()
    changed.view(np.uint32)[index] ^= 1 << 31
    assert checkpointing.fingerprints({"x": changed}) != reference
  moved = x.copy()
  moved[[0, 1]] = moved[[1, 0]]  # Same words, other places.
  assert checkpointing.fingerprints({"x": moved}) != reference
  assert checkpointing.fingerprints({"x": x.copy()}) == reference


def test_time_based_checkpoints(tmp_path):
  experiment.train_and_evaluate(
    tiny_config("checkpoint_every_steps=100", "checkpoint_every_secs=1e-9"), tmp_path, **QUIET
  )
  assert sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir()) == [5, 6]


# Signals ---------------------------------------------------------------------------------

SIGNAL_RUN = [
  "--config.num_steps=400",
  "--config.batch_size=16",
  "--config.data.resolution=16",
  "--config.model.generator.width=8",
  "--config.model.discriminator.width=8",
  "--config.checkpoint_every_steps=1000",
  "--config.sample_every_steps=1000",
  "--config.log_every_steps=10",
  "--config.eval_num_samples=100",
]


def cli(*args):
  command = [sys.executable, "-m", "gans_jax.main", *args]
  env = {**os.environ, "PYTHONPATH": str(ROOT)}
  return command, env


@pytest.fixture(scope="module")
def signal_reference(tmp_path_factory):
  from gans_jax import config_utils

  config = config_utils.load_config()
  config_utils.apply_overrides(config, [o.removeprefix("--config.") for o in SIGNAL_RUN])
  workdir = tmp_path_factory.mktemp("signal_reference")
  return experiment.train_and_evaluate(config, workdir, **QUIET).state


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_saves_then_the_same_command_resumes_exactly(
  signum, exit_code, tmp_path, signal_reference
):
  workdir = tmp_path / "run"
  command, env = cli("train", "--workdir", str(workdir), *SIGNAL_RUN)
  process = subprocess.Popen(
    command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
  )
  deadline = time.time() + 240
  while process.poll() is None and time.time() < deadline:  # Until it trains (20+ steps).
    if len(writers.read_metrics(workdir)) >= 2:
      break
    time.sleep(0.01)
  process.send_signal(signum)
  stdout, stderr = process.communicate(timeout=240)
  assert process.returncode == exit_code, stderr[-3000:]
  assert "Traceback" not in stderr
  message = stderr.strip().splitlines()[-1]
  assert message.startswith(f"gans-jax: {signal.Signals(signum).name}: interrupted at step ")
  step = int(message.split("at step ")[1].split(";")[0])
  assert "saved; run the same command to resume" in message and step < 400
  assert (workdir / "checkpoints" / str(step)).is_dir()

  completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
  assert completed.returncode == 0, completed.stderr[-3000:]
  assert f"Resuming {workdir} from step {step}." in completed.stdout
  _, resumed = runs.load_run(workdir)
  assert_bitwise_equal(resumed, signal_reference)
  steps = [r["step"] for r in writers.read_metrics(workdir) if r["kind"] == "train"]
  assert steps == list(range(10, 401, 10))


def test_second_signal_exits_at_once_without_saving():
  script = textwrap.dedent(
    """
    import os, signal, time
    from gans_jax import interrupts
    with interrupts.deferred_signals() as flag:
      os.kill(os.getpid(), signal.SIGTERM)
      assert flag.signum == signal.SIGTERM  # The first one only raises the flag.
      os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(30)
    print("not reached")
    """
  )
  started = time.time()
  completed = subprocess.run(
    [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
  )
  assert completed.returncode == 143 and time.time() - started < 25
  assert "SIGTERM again: exiting now, without saving." in completed.stderr
  assert "not reached" not in completed.stdout


def test_sigterm_outside_training_is_one_line_too():
  """Before the loop (data, evaluators) there is nothing to save; SIGTERM still says so."""
  script = textwrap.dedent(
    """
    import os, signal, sys, time
    from gans_jax import interrupts
    try:
      with interrupts.interruptible("nothing new was saved"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    except interrupts.Interrupted as stop:
      print(stop.message)
      sys.exit(stop.exit_code)
    """
  )
  completed = subprocess.run(
    [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
  )
  assert completed.returncode == 143
  assert completed.stdout.strip() == "SIGTERM: stopped; nothing new was saved."


# The run directory -----------------------------------------------------------------------


def test_a_second_run_in_a_locked_directory_fails_naming_the_holder(tmp_path, capsys):
  with run_directory.locked(tmp_path):
    with pytest.raises(errors.RunDirectoryError, match=f"process {os.getpid()} on "):
      experiment.train_and_evaluate(tiny_config(), tmp_path, **QUIET)
    code = main.main(["train", "--workdir", str(tmp_path), *[f"--config.{o}" for o in TINY_DCGAN]])
  err = capsys.readouterr().err.strip()
  assert code == 2 and len(err.splitlines()) == 1 and f"process {os.getpid()}" in err
  assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "config.json").exists()


def test_lock_file_of_a_dead_process_does_not_block(tmp_path, uninterrupted):
  dead = subprocess.run(
    [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
  )
  stale = {"pid": int(dead.stdout), "host": "here", "started": "earlier", "command": "x"}
  (tmp_path / run_directory.LOCK_FILE).write_text(json.dumps(stale))
  result = experiment.train_and_evaluate(tiny_config(), tmp_path, **QUIET)
  assert_bitwise_equal(result.state, uninterrupted)


# metrics.jsonl ---------------------------------------------------------------------------


def train_steps(workdir):
  return [r["step"] for r in writers.read_metrics(workdir) if r["kind"] == "train"]


def test_kill_before_the_first_checkpoint_starts_over_without_duplicates(tmp_path, uninterrupted):
  stopped_at_4(tmp_path)
  shutil.rmtree(tmp_path / "checkpoints")  # As if killed before its first checkpoint.
  lines = []
  result = experiment.train_and_evaluate(tiny_config(), tmp_path, log=lines.append)
  assert any("holds no checkpoint yet: starting over from step 0" in line for line in lines)
  assert train_steps(tmp_path) == [1, 2, 3, 4, 5, 6]
  assert_bitwise_equal(result.state, uninterrupted)


def test_partial_last_line_is_dropped_and_a_finished_run_is_not_redone(tmp_path, caplog):
  stopped_at_4(tmp_path)
  with open(tmp_path / writers.METRICS_FILE, "a") as file:
    file.write('{"step": 5, "kind": "tra')  # What a crash mid-append can leave.
  with caplog.at_level("WARNING"):
    assert len(writers.read_metrics(tmp_path)) == 4
  assert "dropped an incomplete last line" in caplog.text
  experiment.train_and_evaluate(tiny_config(), tmp_path, **QUIET)
  assert train_steps(tmp_path) == [1, 2, 3, 4, 5, 6]
  finished = (tmp_path / writers.METRICS_FILE).read_bytes()
  kinds = [r["kind"] for r in writers.read_metrics(tmp_path) if r["step"] == 6]
  assert kinds == ["train", "eval"] and writers.finished_step(tmp_path) == 6

  lines = []
  again = experiment.train_and_evaluate(tiny_config(), tmp_path, log=lines.append)
  assert "finished at step 6 already; nothing to do" in lines[0]
  assert (tmp_path / writers.METRICS_FILE).read_bytes() == finished
  assert again.eval_metrics["digits_confident_frac100"] is not None


def test_final_evaluation_interrupted_is_redone_once(tmp_path):
  experiment.train_and_evaluate(tiny_config(), tmp_path, **QUIET)
  # As if stopped after the final evaluation's record, before the run was marked finished.
  (tmp_path / writers.FINISHED_FILE).unlink()
  experiment.train_and_evaluate(tiny_config(), tmp_path, **QUIET)
  kinds = [r["kind"] for r in writers.read_metrics(tmp_path) if r["step"] == 6]
  assert kinds == ["train", "eval"] and writers.finished_step(tmp_path) == 6


def test_a_malformed_middle_line_is_named(tmp_path):
  (tmp_path / writers.METRICS_FILE).write_text('{"step": 1, "kind": "train"}\nnot json\n{}\n')
  with pytest.raises(errors.RunDirectoryError, match=r"metrics.jsonl, line 2, is not a JSON"):
    writers.read_metrics(tmp_path)


# Bad input: exit 2 and one line, nothing written -----------------------------------------


def one_line_error(capsys, *args):
  code = main.main(list(args))
  err = capsys.readouterr().err.strip()
  assert code == 2, err
  assert len(err.splitlines()) == 1, err
  return err


@pytest.mark.parametrize(
  ("override", "field"),
  [
    ("checkpoint_every_steps=0", "checkpoint_every_steps=0"),
    ("batch_size=0", "batch_size=0"),
    ("num_steps=-5", "num_steps=-5"),
    ("log_every_steps=0", "log_every_steps=0"),
    ("checkpoint_every_secs=-1", "checkpoint_every_secs=-1"),
  ],
)
def test_invalid_run_fields_are_named_before_start_up(override, field, tmp_path, capsys):
  started = time.time()
  err = one_line_error(capsys, "train", "--workdir", str(tmp_path / "run"), f"--config.{override}")
  assert field in err and time.time() - started < 5
  assert not (tmp_path / "run").exists()


def test_workdir_that_is_a_file(tmp_path, capsys):
  (tmp_path / "file").write_text("")
  err = one_line_error(capsys, "train", "--workdir", str(tmp_path / "file"), "--config.num_steps=1")
  assert "is a file, not a directory" in err


def test_read_only_workdir(tmp_path, capsys):
  source, mount = tmp_path / "source", tmp_path / "readonly"
  source.mkdir()
  mount.mkdir()
  if subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True).returncode:
    pytest.skip("needs a bind mount (root on Linux)")
  try:
    subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
    err = one_line_error(capsys, "train", "--workdir", str(mount), "--config.num_steps=1")
    assert f"Cannot write in the run directory {mount}" in err
  finally:
    subprocess.run(["umount", str(mount)], check=True)
  assert not any(source.iterdir())


def write_images(folder, count, size=8):
  folder.mkdir(parents=True)
  for i in range(count):
    Image.fromarray(np.full((size, size, 3), 40 * i, np.uint8)).save(folder / f"{i}.png")


def test_dataset_smaller_than_a_batch(tmp_path, capsys):
  write_images(tmp_path / "two", 2)
  err = one_line_error(
    capsys, "train", "--workdir", str(tmp_path / "run"), f"--config.dataset=folder:{tmp_path}/two"
  )
  assert "has 2 training examples, fewer than one batch of 128" in err
  assert not (tmp_path / "run").exists()


def test_image_that_fails_only_when_decoded_is_named_at_scan(tmp_path, capsys):
  write_images(tmp_path / "images", 3)
  broken = tmp_path / "images" / "cut.jpg"
  Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(broken)
  broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 3])
  with Image.open(broken) as image:
    image.verify()  # PIL's check alone passes it.
  started = time.time()
  err = one_line_error(
    capsys,
    "train",
    "--workdir",
    str(tmp_path / "run"),
    f"--config.dataset=folder:{tmp_path}/images",
  )
  assert f"Corrupt or unreadable image {broken}" in err and time.time() - started < 20


def test_fid_names_a_missing_input_before_the_weights(tmp_path, capsys):
  err = one_line_error(capsys, "fid", str(tmp_path / "nothing"), str(tmp_path / "none.npz"))
  assert f"Not a folder of images or an .npz statistics file: {tmp_path / 'nothing'}" in err


def test_unexpected_errors_keep_their_traceback(monkeypatch):
  def bug(*args, **kwargs):
    raise ValueError("a bug, not a user error")

  monkeypatch.setattr(experiment, "train_and_evaluate", bug)
  with pytest.raises(ValueError, match="a bug"):
    main.main(["train", "--workdir", "/tmp/unused"])
