"""The gans-jax command: train / sample / evaluate / describe, and one-line errors for bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gans_jax import main
from tests.helpers import ROOT, TINY_DCGAN

OVERRIDES = [f"--config.{item}" for item in TINY_DCGAN]


def run_cli(*args):
  return subprocess.run(
    [sys.executable, "-m", "gans_jax.main", *args], cwd=ROOT, capture_output=True, text=True
  )


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("cli_run")
  assert main.main(["train", "--workdir", str(workdir), *OVERRIDES]) == 0
  return workdir


def test_train_leaves_every_output(trained_run):
  names = {p.name for p in trained_run.iterdir()}
  assert {"config.json", "checkpoints", "tensorboard", "metrics.jsonl", "loss_curves.png"} <= names
  assert any(n.startswith("samples_") and n.endswith(".png") for n in names)
  assert any((trained_run / "tensorboard").iterdir())
  records = [json.loads(line) for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
  evals = [r for r in records if r["kind"] == "eval"]
  assert evals and "digits_confident_frac100" in evals[-1]


def test_sample_writes_uint8_images(trained_run, tmp_path):
  out = tmp_path / "s.npz"
  assert main.main(["sample", "--workdir", str(trained_run), "--num", "5", "--out", str(out)]) == 0
  images = np.load(out)["images"]
  assert images.shape == (5, 8, 8, 1) and images.dtype == np.uint8
  again = tmp_path / "t.npz"
  main.main(["sample", "--workdir", str(trained_run), "--num", "5", "--out", str(again)])
  np.testing.assert_array_equal(np.load(again)["images"], images)


def test_sample_writes_pngs_and_an_index_to_a_folder(trained_run, tmp_path, capsys):
  from PIL import Image

  out = tmp_path / "pages"
  assert main.main(["sample", "--workdir", str(trained_run), "--num", "3", "--out", f"{out}/"]) == 0
  assert sorted(p.name for p in out.iterdir()) == ["0000.png", "0001.png", "0002.png", "index.html"]
  npz = tmp_path / "s.npz"
  main.main(["sample", "--workdir", str(trained_run), "--num", "3", "--out", str(npz)])
  np.testing.assert_array_equal(
    np.asarray(Image.open(out / "0002.png")), np.load(npz)["images"][2, ..., 0]
  )
  assert (out / "index.html").read_text().count("<img") == 3
  # A suffix that is neither .npz nor a folder is refused before anything is loaded or written.
  png = tmp_path / "x.png"
  assert main.main(["sample", "--workdir", str(trained_run), "--num", "3", "--out", str(png)]) == 2
  assert "'.png' is neither" in capsys.readouterr().err and not png.exists()


def test_tensorboard_gets_sample_grids_learning_rates_and_the_config(trained_run):
  from tensorboard.backend.event_processing import event_file_loader

  kinds = {}
  for file in (trained_run / "tensorboard").iterdir():
    for event in event_file_loader.LegacyEventFileLoader(str(file)).Load():
      for value in event.summary.value:
        kinds.setdefault(value.tag, value.WhichOneof("value"))
  assert kinds["samples"] == "image" and kinds["lr/g"] == kinds["lr/d"] == "simple_value"
  assert kinds["config"] == "tensor" and kinds["train/g_loss"] == "simple_value"


def test_progress_counts_from_the_compiled_step_and_shows_fractional_rates():
  from gans_jax import writers

  progress = writers.Progress(num_steps=10, images_per_step=1, start_step=0)
  assert progress.report(1, {"g_loss": 1.0}).endswith("| compiling")
  progress.compiled(1)
  assert progress.report(1, {}).endswith("| compiling")  # No step timed yet.
  line = progress.report(2, {})
  assert " img/s | ETA " in line
  assert [writers.rate_text(r) for r in (0.8123, 28.53, 1142.4)] == ["0.812", "28.5", "1142"]


def test_evaluate_appends_to_metrics(trained_run, capsys):
  assert main.main(["evaluate", "--workdir", str(trained_run)]) == 0
  result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
  assert 0.0 <= result["digits_confident_frac100"] <= 1.0
  assert len(result["digits_class_hist100"]) == 10


def test_list_names_every_config_dataset_and_metric():
  configs = run_cli("list", "configs")
  assert configs.returncode == 0, configs.stderr
  lines = configs.stdout.splitlines()
  for file in sorted((ROOT / "configs").glob("*.py")):
    title = next(i for i, line in enumerate(lines) if line.startswith(f"  {file.stem}: "))
    assert lines[title + 1].strip().startswith("paper=False, "), file.stem  # Its arguments.
  assert "dataset=scenes, direction=AtoB, resolution=0, steps=0" in configs.stdout  # pix2pix's.
  datasets = run_cli("list", "datasets").stdout
  assert "paired:<path>" in datasets and "folder:<path>" in datasets
  metrics = run_cli("list", "metrics").stdout
  assert "fid / fd" in metrics and "kid1k_digits" in metrics and "ppl" in metrics


def test_train_help_documents_overrides_and_configs():
  completed = run_cli("train", "--help")
  assert completed.returncode == 0
  assert "--config.KEY=VALUE" in completed.stdout and "  cyclegan: CycleGAN" in completed.stdout


def test_configs_are_found_by_name_from_any_directory(tmp_path):
  completed = subprocess.run(
    [sys.executable, "-m", "gans_jax.main", "describe", "--config", "dcgan:resolution=64"],
    cwd=tmp_path, capture_output=True, text=True,
  )  # fmt: skip
  assert completed.returncode == 0, completed.stderr
  assert json.loads(completed.stdout.splitlines()[-1])["generator_output_shape"] == [64, 64, 1]
  missing = run_cli("describe", "--config", "dcgna")
  assert missing.returncode == 2 and "named configs: acgan, artgan" in missing.stderr


def test_the_wheel_ships_the_configs(tmp_path):
  """A wheel holds configs/ as gans_jax/configs, and named configs resolve there."""
  import zipfile

  built = subprocess.run(
    [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
     "-w", str(tmp_path / "wheel"), str(ROOT)],
    capture_output=True, text=True,
  )  # fmt: skip
  assert built.returncode == 0, built.stderr
  (wheel,) = (tmp_path / "wheel").glob("gans_jax-*.whl")
  installed = tmp_path / "site"
  zipfile.ZipFile(wheel).extractall(installed)
  assert {p.name for p in (ROOT / "configs").glob("*.py")} <= {
    p.name for p in (installed / "gans_jax" / "configs").glob("*.py")
  }
  code = "from gans_jax import config_utils; print(config_utils.resolve_config_path('pix2pix'))"
  completed = subprocess.run(
    [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
    env={**os.environ, "PYTHONPATH": str(installed)},
  )  # fmt: skip
  assert completed.stdout.strip() == str(installed / "gans_jax" / "configs" / "pix2pix.py")


def test_describe_reports_reference_counts():
  completed = run_cli("describe", "--config", "configs/dcgan.py:resolution=64,channels=3,width=64")
  assert completed.returncode == 0, completed.stderr
  result = json.loads(completed.stdout.strip().splitlines()[-1])
  assert result == {
    "generator_params": 3_576_704,
    "discriminator_params": 2_765_568,
    "generator_output_shape": [64, 64, 3],
  }


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["--config.dataset=mnist"], "Unknown dataset 'mnist'"),
    (["--config.num_stesp=3"], "Unknown config key 'num_stesp'"),
    (["--config.dataset=folder:/no/such/folder"], "Image folder not found: /no/such/folder"),
    (["--config", "configs/dcgan.py:resolution=48"], "power of two"),
  ],
)
def test_bad_input_is_one_line_error(args, message, capsys, tmp_path):
  code = main.main(["train", "--workdir", str(tmp_path / "run"), *args])
  err = capsys.readouterr().err.strip()
  assert code == 2
  assert message in err and len(err.splitlines()) == 1
  assert not (tmp_path / "run" / "checkpoints").exists() or not any(
    (tmp_path / "run" / "checkpoints").iterdir()
  )


def test_sample_of_missing_run_is_one_line_error(tmp_path, capsys):
  code = main.main(["sample", "--workdir", str(tmp_path), "--num", "1", "--out", "x.npz"])
  assert code == 2 and "not a run directory" in capsys.readouterr().err
