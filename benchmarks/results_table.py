"""The README's results tables, generated from run directories.

  python -m benchmarks.results_table --runs runs/results [--train dcgan,gan_ring8] [--readme]

For each known run (``RUNS``: a name, a config and the metrics that say how it did) whose
directory ``--runs/<name>`` holds a finished run, one Markdown row: what was trained, steps,
headline metrics from the run's last evaluation, a thumbnail of its last sample grid (written to
``benchmarks/results/<name>.png``) and the one command that reproduces it. ``--train`` first
trains the named runs that are missing. A second table is pix2pix's Table 1 ablation on the
scenes (``gans-jax ablation --workdir RUNS/ablation``: its ``ablation.json``); a third sets the
2-D mode-coverage trials (``gans-jax coverage --workdir RUNS/coverage``: its
``coverage_trials.json``) beside the published rows of PacGAN's Table 1 (Lin et al. 2018); a
fourth Bhavsar 2018's comparison on the landscapes (``gans-jax artistic-comparison --workdir
RUNS/artistic_landscapes --seeds S``: its ``comparison.json``), mean +- std over the seeds.
``--readme`` writes both tables into README.md between the results markers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib

from PIL import Image

from gans_jax import writers

ROOT = pathlib.Path(__file__).resolve().parent.parent
THUMBNAILS = ROOT / "benchmarks" / "results"
START_MARKER = "<!-- results:start (python -m benchmarks.results_table --readme) -->"
END_MARKER = "<!-- results:end -->"
DIGITS = ("digits_confident_frac1k", "digits_min_class_frac1k", "digits_fd1k_test")
CONDITIONAL = ("digits_requested_class_frac1k", "digits_requested_class_min1k", "digits_fd1k_test")
MODES = ("modes_covered2500", "high_quality_frac2500", "reverse_kl2500")


@dataclasses.dataclass(frozen=True)
class Run:
  name: str
  title: str
  spec: str  # configs/FILE[:ARG]
  metrics: tuple[str, ...]


RUNS = (
  Run("dcgan", "DCGAN (default), digits 32x32", "configs/dcgan.py", DIGITS),
  Run("stylegan", "StyleGAN, digits 32x32 (grown from 8x8)", "configs/stylegan.py", DIGITS),
  Run("cgan", "cGAN, digits", "configs/cgan.py", CONDITIONAL),
  Run("acgan", "AC-GAN, digits", "configs/acgan.py", CONDITIONAL),
  Run("artgan", "ArtGAN, digits", "configs/artgan.py", CONDITIONAL),
  Run("gan_ring8", "GAN (PacGAN2 D), ring of 8", "configs/gan.py:dataset=ring8", MODES),
  Run("gan_grid25", "GAN (PacGAN2 D), grid of 25", "configs/gan.py:dataset=grid25", MODES),
  Run("wgan_ring8", "WGAN-GP, ring of 8", "configs/wgan.py:dataset=ring8", MODES),
  Run(
    "cyclegan",
    "CycleGAN, scenes summer <-> winter",
    "configs/cyclegan.py",
    ("cycle_l1_a_50_test", "cycle_l1_b_50_test"),
  ),
)


def finished(run_dir: pathlib.Path) -> dict | None:
  """(config, last eval record, last step) of a finished run directory, or None."""
  config_path, metrics_path = run_dir / "config.json", run_dir / "metrics.jsonl"
  if not config_path.is_file() or not metrics_path.is_file():
    return None
  config = json.loads(config_path.read_text())
  records = writers.read_metrics(run_dir)
  evals = [r for r in records if r["kind"] == "eval" and r["step"] >= config["num_steps"]]
  if not evals:
    return None
  merged = {}  # The end-of-run evaluation and any later `gans-jax evaluate` of the same step.
  for record in evals:
    merged.update(record)
  return {"config": config, "eval": merged, "step": merged["step"]}


def thumbnail(
  run_dir: pathlib.Path, name: str, directory: pathlib.Path = THUMBNAILS, width: int = 128
) -> pathlib.Path | None:
  """The run's last sample grid, scaled to ``width`` pixels, as ``directory``/NAME.png."""
  grids = sorted(run_dir.glob("samples_*.png"))
  if not grids:
    return None
  image = Image.open(grids[-1])
  height = round(image.height * width / image.width)
  directory.mkdir(parents=True, exist_ok=True)
  path = directory / f"{name}.png"
  image.resize((width, height), Image.LANCZOS).save(path)
  return path


def _value(value) -> str:
  if isinstance(value, float):
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
  return str(value)


def results_table(runs_dir: pathlib.Path, thumbnails: pathlib.Path = THUMBNAILS) -> str:
  """The Markdown results table of every finished run under ``runs_dir`` (thumbnails written
  to ``thumbnails``, linked relative to the repository root)."""
  lines = [
    "| Run | Steps | Metrics (last evaluation) | Samples | Reproduce |",
    "|---|---|---|---|---|",
  ]
  for run in RUNS:
    result = finished(runs_dir / run.name)
    if result is None:
      continue
    shown = ", ".join(
      f"{m} {_value(result['eval'][m])}" for m in run.metrics if m in result["eval"]
    )
    thumb = thumbnail(runs_dir / run.name, run.name, thumbnails)
    image = f"![{run.name}]({os.path.relpath(thumb, ROOT)})" if thumb else ""
    command = f"`gans-jax train --config {run.spec} --workdir runs/{run.name}`"
    lines.append(f"| {run.title} | {result['step']} | {shown} | {image} | {command} |")
  return "\n".join(lines)


def ablation_table(runs_dir: pathlib.Path) -> str:
  """pix2pix's Table 1 as ``gans-jax ablation --workdir RUNS/ablation`` measured it (its
  ``ablation.json``), in Markdown with the study's columns; "" when it has not run."""
  from gans_jax import studies

  path = runs_dir / "ablation" / "ablation.json"
  if not path.is_file():
    return ""
  rows = json.loads(path.read_text())
  headings = ["Loss", *(heading for heading, _ in studies.ABLATION_COLUMNS)]
  lines = ["| " + " | ".join(headings) + " |", "|---" * len(headings) + "|"]
  lines += ["| " + " | ".join(studies.ablation_cells(row)) + " |" for row in rows]
  return "\n".join(lines)


ARTISTIC_COLUMNS = (
  ("1 - MS-SSIM", "ms_ssim_diversity"),
  ("Pairwise distance", "pairwise_distance"),
  ("Near-duplicate pairs", "near_duplicate_pairs"),
  ("Fréchet (scenes judge)", "fd_judge"),
)


def artistic_table(runs_dir: pathlib.Path) -> str:
  """Bhavsar 2018's comparison on the landscapes as ``gans-jax artistic-comparison --workdir
  RUNS/artistic_landscapes --seeds S`` measured it (its ``comparison.json``): per variant the
  mean +- std over its seeds of each measure, then the real images' values; "" when it has not
  run."""
  import numpy as np

  path = runs_dir / "artistic_landscapes" / "comparison.json"
  if not path.is_file():
    return ""
  rows = json.loads(path.read_text())
  head = ["Variant", *(heading for heading, _ in ARTISTIC_COLUMNS)]
  lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
  for variant in dict.fromkeys(row["variant"] for row in rows):
    runs_of = [row for row in rows if row["variant"] == variant]
    cells = [f"{variant} ({len(runs_of)} seeds)" if "seed" in runs_of[0] else variant]
    for _, key in ARTISTIC_COLUMNS:
      values = [row[key] for row in runs_of if key in row]
      if not values:
        cells.append("-")
        continue
      digits = 0 if key == "near_duplicate_pairs" else 3
      spread = f" ± {np.std(values, ddof=1):.{digits}f}" if len(values) > 1 else ""
      cells.append(f"{np.mean(values):.{digits}f}{spread}")
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def coverage_table(runs_dir: pathlib.Path, name: str = "coverage", every: int | None = None) -> str:
  """PacGAN's Table 1 as ``gans-jax coverage --workdir RUNS/<name>`` measured it (its
  ``coverage_trials.json``): ours over the trials beside the published rows, then one line per
  trial and the means against steps (every ``every``-th evaluation, ``trials.format_curve``);
  "" when it has not run."""
  from gans_jax import trials

  path = runs_dir / name / "coverage_trials.json"
  if not path.is_file():
    return ""
  rows = json.loads(path.read_text())
  curve = trials.format_curve(rows, every)
  return f"{trials.format_coverage(rows)}\n\n{trials.format_trials(rows)}\n\n{curve}"


def write_readme(text: str, readme: pathlib.Path = ROOT / "README.md") -> None:
  """Replaces the README's block between the results markers with ``text``.

  Raises:
    ValueError: if the README lacks the markers.
  """
  content = readme.read_text()
  if START_MARKER not in content or END_MARKER not in content:
    raise ValueError(f"{readme} has no results block ({START_MARKER} ... {END_MARKER}).")
  head, rest = content.split(START_MARKER, 1)
  _, tail = rest.split(END_MARKER, 1)
  readme.write_text(f"{head}{START_MARKER}\n{text}\n{END_MARKER}{tail}")


def train_missing(runs_dir: pathlib.Path, names: list[str]) -> None:
  from gans_jax import config_utils, experiment

  known = {run.name: run for run in RUNS}
  for name in names:
    if name not in known:
      raise SystemExit(f"Unknown run {name!r}; known: {', '.join(known)}.")
    if finished(runs_dir / name) is None:
      config = config_utils.load_config(str(ROOT / known[name].spec))
      experiment.train_and_evaluate(config, runs_dir / name)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--runs", default="runs/results", help="directory of the run directories")
  parser.add_argument("--train", default="", help="comma-separated runs to train if missing")
  parser.add_argument("--readme", action="store_true", help="write the tables into README.md")
  args = parser.parse_args(argv)
  runs_dir = pathlib.Path(args.runs)
  if args.train:
    train_missing(runs_dir, args.train.split(","))
  text = results_table(runs_dir)
  ablation = ablation_table(runs_dir)
  if ablation:
    text += (
      "\n\npix2pix's Table 1 on the embedded scenes (`gans-jax ablation --workdir "
      f"{runs_dir}/ablation`; 100 held-out maps):\n\n{ablation}"
    )
  artistic = artistic_table(runs_dir)
  if artistic:
    text += (
      "\n\nBhavsar 2018's comparison on the embedded landscapes (`gans-jax artistic-comparison "
      f"--workdir {runs_dir}/artistic_landscapes --seeds 3`):\n\n{artistic}"
    )
  coverage = coverage_table(runs_dir)
  if coverage:
    text += (
      "\n\nPacGAN's Table 1 on the 2-D mixtures (`gans-jax coverage --workdir "
      f"{runs_dir}/coverage --trials 5`; 2,500 samples per trial):\n\n{coverage}"
    )
  long_grid = coverage_table(runs_dir, "coverage_50k", every=5)
  if long_grid:
    text += (
      "\n\nThe grid over 50,000 steps (`gans-jax coverage --config gan:steps=50000 --datasets "
      f"grid25 --workdir {runs_dir}/coverage_50k --trials 5`):\n\n{long_grid}"
    )
  print(text)
  if args.readme:
    write_readme(text)


if __name__ == "__main__":
  main()
