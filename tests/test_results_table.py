"""benchmarks/results_table.py: README tables from run directories."""

import json

import numpy as np
import pytest
from PIL import Image

from benchmarks import results_table


def _fake_run(directory, num_steps, *evals, samples=True):
  directory.mkdir(parents=True)
  (directory / "config.json").write_text(json.dumps({"num_steps": num_steps}))
  lines = [{"step": num_steps, "kind": "train", "g_loss": 1.0}, *evals]
  (directory / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
  if samples:
    Image.fromarray(np.zeros((40, 80), np.uint8)).save(directory / "samples_000002.png")
    Image.fromarray(np.full((40, 80), 255, np.uint8)).save(
      directory / f"samples_{num_steps:06d}.png"
    )


def test_tables_from_run_directories(tmp_path):
  runs = tmp_path / "runs"
  final = {"step": 2000, "kind": "eval", "digits_confident_frac1k": 0.8123,
           "digits_min_class_frac1k": 0.05, "digits_fd1k_test": 123.456}  # fmt: skip
  later = {"step": 2000, "kind": "eval", "kid1k_digits_test": 1.0}  # `gans-jax evaluate` after.
  _fake_run(runs / "dcgan", 2000, final, later)
  _fake_run(runs / "cgan", 2000, samples=False)  # No evaluation at the end: not finished.
  _fake_run(runs / "gan_ring8", 500, {"step": 500, "kind": "eval", "modes_covered2500": 8,
                                      "high_quality_frac2500": 0.9712})  # fmt: skip

  table = results_table.results_table(runs, tmp_path / "thumbs")
  rows = table.splitlines()[2:]
  assert len(rows) == 2  # dcgan and gan_ring8; cgan is unfinished, the rest absent.
  assert rows[0].startswith(
    "| DCGAN (default), digits 32x32 | 2000 | digits_confident_frac1k 0.812,"
  )
  assert "digits_fd1k_test 123.5" in rows[0]
  assert "`gans-jax train --config configs/dcgan.py --workdir runs/dcgan`" in rows[0]
  thumb = Image.open(tmp_path / "thumbs" / "dcgan.png")
  assert thumb.size == (128, 64) and np.asarray(thumb).min() == 255  # The last grid, scaled.

  assert results_table.coverage_table(runs) == ""  # Not run.
  (runs / "coverage").mkdir()
  trial = {
    "dataset": "ring8",
    "seed": 0,
    "steps": 500,
    "seconds": 12.0,
    "resumed": False,
    "modes_covered": 8,
    "num_modes": 8,
    "high_quality_frac": 0.9712,
    "reverse_kl": 0.01,
    "curve": [[250, 7, 0.5, 0.3], [500, 8, 0.9712, 0.01]],
  }
  (runs / "coverage" / "coverage_trials.json").write_text(json.dumps([trial]))  # fmt: skip
  coverage = results_table.coverage_table(runs).splitlines()
  assert coverage[2].startswith("| gans_jax (1 trials, mean ± std (s.e.)) | 8.0 ± 0.0 (0.0) |")
  assert "- ring8 seed 0: 8/8 modes, 97.1 % high quality, reverse KL 0.010, 500 steps, 12 s" in (
    coverage
  )
  assert coverage[-2:] == ["| 250 | 7.0 | 50.0 % | 0.30 |", "| 500 | 8.0 | 97.1 % | 0.01 |"]
  (runs / "coverage_50k").mkdir()
  (runs / "coverage_50k" / "coverage_trials.json").write_text(json.dumps([trial]))
  longer = results_table.coverage_table(runs, "coverage_50k", every=2).splitlines()
  assert longer[-2:] == ["|---|---|---|---|", "| 500 | 8.0 | 97.1 % | 0.01 |"]  # The last step.

  assert results_table.artistic_table(runs) == ""  # Not run.
  (runs / "artistic_landscapes").mkdir()
  compared = [
    {"variant": "plain_dcgan", "seed": 0, "ms_ssim_diversity": 0.5, "near_duplicate_pairs": 3,
     "pairwise_distance": 0.2, "fd_judge": 1.0},
    {"variant": "plain_dcgan", "seed": 1, "ms_ssim_diversity": 0.7, "near_duplicate_pairs": 5,
     "pairwise_distance": 0.2, "fd_judge": 2.0},
    {"variant": "real_data", "ms_ssim_diversity": 0.9, "pairwise_distance": 0.3, "fd_judge": 0.1},
  ]  # fmt: skip
  (runs / "artistic_landscapes" / "comparison.json").write_text(json.dumps(compared))
  artistic = results_table.artistic_table(runs).splitlines()
  assert (
    artistic[2]
    == "| plain_dcgan (2 seeds) | 0.600 ± 0.141 | 0.200 ± 0.000 | 4 ± 1 | 1.500 ± 0.707 |"
  )
  assert artistic[3] == "| real_data | 0.900 | 0.300 | - | 0.100 |"

  assert results_table.ablation_table(runs) == ""  # Not run.
  (runs / "ablation").mkdir()
  rows = [{"row": "L1", "fcn_pixel_acc100_test": 0.99512, "l1_100_test": 0.078},
          {"row": "Ground truth", "ssim_100_test": 1.0}]  # fmt: skip
  (runs / "ablation" / "ablation.json").write_text(json.dumps(rows))
  ablation = results_table.ablation_table(runs).splitlines()
  assert ablation[0].startswith("| Loss | Per-pixel acc. | Per-class acc. | Class IOU |")
  assert ablation[2] == "| L1 | 0.995 | - | - | - | - | - | 0.078 | - |"
  assert ablation[3].endswith("| - | 1.000 |")

  readme = tmp_path / "README.md"
  readme.write_text(f"a\n{results_table.START_MARKER}\nold\n{results_table.END_MARKER}\nb\n")
  results_table.write_readme("new table", readme)
  assert readme.read_text() == (
    f"a\n{results_table.START_MARKER}\nnew table\n{results_table.END_MARKER}\nb\n"
  )
  readme.write_text("no markers")
  with pytest.raises(ValueError, match="no results block"):
    results_table.write_readme("x", readme)
