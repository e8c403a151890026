"""The gans-jax command: train / sample / evaluate / describe, and one-line errors for bad input."""

import json
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


def test_evaluate_appends_to_metrics(trained_run, capsys):
  assert main.main(["evaluate", "--workdir", str(trained_run)]) == 0
  result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
  assert 0.0 <= result["digits_confident_frac100"] <= 1.0
  assert len(result["digits_class_hist100"]) == 10


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
