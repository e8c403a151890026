"""Repeated trials of the 2-D mode-coverage protocol over seeds, summarised beside PacGAN's Table 1
(Lin et al. 2018): modes covered, high-quality fraction and reverse KL (``metrics.modes2d``), mean
+- standard deviation over the trials with the standard error PacGAN reports, and the steps and
wall time of every trial.
"""

from __future__ import annotations

import json
import math
import pathlib
import time

import numpy as np

from gans_jax import config_utils, errors, experiment, writers

# PacGAN's Table 1 (10 trials; +- is the standard error): (mean, s.e.) of the modes covered, the
# high-quality percentage and the reverse KL, per benchmark and model, read from the paper.
PACGAN_TABLE1 = {
  "ring": {
    "GAN": ((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)),
    "ALI": ((6.6, 0.3), (97.6, 0.4), (0.36, 0.04)),
    "PacGAN2": ((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)),
    "PacGAN3": ((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)),
    "PacGAN4": ((7.8, 0.1), (95.9, 1.4), (0.07, 0.02)),
  },
  "grid": {
    "GAN": ((17.3, 0.8), (94.8, 0.7), (0.70, 0.07)),
    "ALI": ((24.1, 0.4), (95.7, 0.6), (0.14, 0.03)),
    "PacGAN2": ((23.8, 0.7), (91.3, 0.8), (0.13, 0.04)),
    "PacGAN3": ((24.6, 0.4), (94.2, 0.4), (0.06, 0.02)),
    "PacGAN4": ((24.8, 0.2), (93.6, 0.6), (0.04, 0.01)),
  },
}
BENCHMARK = {"ring8": "ring", "ring8_pacgan": "ring", "grid25": "grid"}
MEASURES = ("modes_covered", "high_quality_frac", "reverse_kl")
TRIAL_FILE = "trial.json"  # In each trial's run directory, once it finished.


def coverage_trials(
  spec: str,
  workdir,
  *,
  datasets=("ring8", "grid25"),
  trials: int = 5,
  overrides=(),
  log=print,
) -> list[dict]:
  """Trains the config ``spec`` (FILE[:ARG] of a 2-D config, e.g. ``configs/gan.py``) on each
  of ``datasets`` (given as its ``dataset=`` argument, so a preset follows its data) with seeds
  0 .. trials - 1, in ``workdir/<dataset>/seed<k>``, and measures each run's end.

  A finished trial is read back from its ``trial.json`` (its time as first measured); an
  unfinished run directory resumes, and its time counts only the resumed part ("resumed").

  Returns:
    One row per trial: {"dataset", "seed", "steps", "seconds", "resumed", "modes_covered",
    "num_modes", "high_quality_frac", "reverse_kl", "mode_counts", "curve": [[step,
    modes_covered, high_quality_frac, reverse_kl], ...] of every evaluation the run made};
    also written to ``workdir/coverage_trials.json``.

  Raises:
    errors.ConfigError: for a spec that names its dataset, a dataset without modes, or
      trials < 1, before anything trains.
  """
  file, _, arg = spec.partition(":")
  if "dataset=" in arg:
    raise errors.ConfigError(
      f"{spec} names a dataset; the trials give each of {', '.join(datasets)} as dataset=."
    )
  unknown = [d for d in datasets if d not in BENCHMARK]
  if unknown or trials < 1:
    raise errors.ConfigError(
      f"Mode-coverage trials run on {', '.join(BENCHMARK)} with trials >= 1; got datasets "
      f"{', '.join(datasets)}, trials={trials}."
    )
  arguments = lambda dataset: ",".join(filter(None, [arg, f"dataset={dataset}"]))  # noqa: E731
  # Every dataset's config loaded (and so checked) before the first trial trains.
  for dataset in datasets:
    config_utils.apply_overrides(
      config_utils.load_config(f"{file}:{arguments(dataset)}"), overrides
    )
  rows = []
  for dataset in datasets:
    for seed in range(trials):
      trial = config_utils.load_config(f"{file}:{arguments(dataset)}")
      config_utils.apply_overrides(trial, [*overrides, f"seed={seed}"])
      rows.append(_trial(trial, pathlib.Path(workdir) / dataset / f"seed{seed}", dataset, log))
  path = pathlib.Path(workdir) / "coverage_trials.json"
  writers.write_atomically(path, json.dumps(rows, indent=1).encode())
  return rows


def _trial(config, workdir: pathlib.Path, dataset: str, log) -> dict:
  """One seed's run: trained (or read back when finished) and measured."""
  done = workdir / TRIAL_FILE
  if done.exists():
    log(f"== {dataset} seed {config.seed}: finished before, read from {done}")
    return json.loads(done.read_text())
  log(f"== {dataset} seed {config.seed}")
  resumed = (workdir / "metrics.jsonl").exists()
  start = time.perf_counter()
  result = experiment.train_and_evaluate(config, workdir, log=log)
  seconds = time.perf_counter() - start
  measured = _coverage(result.eval_metrics)
  row = {
    "dataset": dataset,
    "seed": int(config.seed),
    "steps": int(config.num_steps),
    "seconds": round(seconds, 1),
    "resumed": resumed,
    **measured,
    "curve": _curve(workdir),
  }
  writers.write_atomically(done, json.dumps(row).encode())
  return row


def _coverage(metrics: dict) -> dict:
  """The protocol's keys of an evaluation, without their sample count: modes_covered2500 ->
  modes_covered."""
  found = {}
  for name in (*MEASURES, "mode_counts"):
    key = next((k for k in metrics if k.startswith(name) and k[len(name) :].isdigit()), None)
    if key is None:
      raise errors.ConfigError(
        f"The run's evaluation has no {name} (eval.protocol must be mode_coverage)."
      )
    found[name] = metrics[key]
  found["num_modes"] = metrics["num_modes"]
  return found


def _curve(workdir: pathlib.Path) -> list[list]:
  """[step, modes_covered, high_quality_frac, reverse_kl] of every evaluation in the run's
  metrics.jsonl, in step order (the last one per step)."""
  by_step = {}
  for line in (workdir / writers.METRICS_FILE).read_text().splitlines():
    record = json.loads(line)
    if record.get("kind") == "eval":
      try:
        measured = _coverage(record)
      except errors.ConfigError:  # An evaluation of other metrics.
        continue
      by_step[record["step"]] = [record["step"], *(measured[name] for name in MEASURES)]
  return [by_step[step] for step in sorted(by_step)]


def summary(rows: list[dict]) -> dict:
  """{dataset: {"trials", "steps", "seconds_mean", "seconds_max", and per measure (mean, std,
  standard error)}} of ``coverage_trials``' rows; std with n - 1 (0 for one trial)."""
  found = {}
  for dataset in dict.fromkeys(row["dataset"] for row in rows):
    mine = [row for row in rows if row["dataset"] == dataset]
    seconds = [row["seconds"] for row in mine]
    entry = {
      "trials": len(mine),
      "steps": sorted({row["steps"] for row in mine}),
      "num_modes": mine[0]["num_modes"],
      "seconds_mean": float(np.mean(seconds)),
      "seconds_max": float(np.max(seconds)),
    }
    for name in MEASURES:
      values = np.asarray([row[name] for row in mine], np.float64)
      std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
      entry[name] = (float(values.mean()), std, std / math.sqrt(len(values)))
    found[dataset] = entry
  return found


def format_coverage(rows: list[dict], label: str = "gans_jax") -> str:
  """A Markdown table: ours (mean +- std, the standard error in brackets, over the trials, with
  the steps and the mean and largest time of a trial) above PacGAN's Table 1 rows (mean +-
  standard error, 400,000 updates), one column group per benchmark."""
  found = summary(rows)
  groups = [(BENCHMARK[d], d) for d in found]
  head = ["Model"]
  for benchmark, dataset in groups:
    head += [f"{benchmark}: modes (of {found[dataset]['num_modes']})", f"{benchmark}: high "
             "quality", f"{benchmark}: reverse KL", f"{benchmark}: steps, s per trial"]  # fmt: skip
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  ours = [f"{label} ({found[groups[0][1]]['trials']} trials, mean ± std (s.e.))"]
  for _, dataset in groups:
    entry = found[dataset]
    modes, quality, kl = (entry[name] for name in MEASURES)
    ours += [
      f"{modes[0]:.1f} ± {modes[1]:.1f} ({modes[2]:.1f})",
      f"{100 * quality[0]:.1f} ± {100 * quality[1]:.1f} ({100 * quality[2]:.1f}) %",
      f"{kl[0]:.2f} ± {kl[1]:.2f} ({kl[2]:.2f})",
      f"{'/'.join(map(str, entry['steps']))}, {entry['seconds_mean']:.0f} "
      f"(max {entry['seconds_max']:.0f})",
    ]
  lines.append("| " + " | ".join(ours) + " |")
  for model in PACGAN_TABLE1["grid"]:
    cells = [f"{model} (PacGAN's Table 1, 10 trials, mean ± s.e.)"]
    for benchmark, _ in groups:
      (m, m_se), (q, q_se), (k, k_se) = PACGAN_TABLE1[benchmark][model]
      cells += [f"{m} ± {m_se}", f"{q} ± {q_se} %", f"{k:.2f} ± {k_se:.2f}", "400,000, -"]
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def format_trials(rows: list[dict]) -> str:
  """One line per trial: dataset, seed, modes, high quality, reverse KL, steps, seconds."""
  return "\n".join(
    f"- {row['dataset']} seed {row['seed']}: {row['modes_covered']}/{row['num_modes']} modes, "
    f"{100 * row['high_quality_frac']:.1f} % high quality, reverse KL {row['reverse_kl']:.3f}, "
    f"{row['steps']} steps, {row['seconds']:.0f} s{' (resumed)' if row['resumed'] else ''}"
    for row in rows
  )


def format_curve(rows: list[dict], every: int | None = None) -> str:
  """Modes covered, high quality and reverse KL against steps, the mean over each dataset's
  trials at every ``every``-th evaluation step they all made (None: at most 5 rows, ending at
  the last step): a Markdown table per dataset."""
  tables = []
  for dataset in dict.fromkeys(row["dataset"] for row in rows):
    curves = [{point[0]: point[1:] for point in row["curve"]} for row in rows
              if row["dataset"] == dataset]  # fmt: skip
    steps = sorted(set.intersection(*(set(curve) for curve in curves)))
    stride = every or max(1, -(-len(steps) // 5))
    steps = steps[len(steps) - 1 :: -stride][::-1]  # The last step always shown.
    lines = [f"| {dataset}: step | modes | high quality | reverse KL |", "|---|---|---|---|"]
    for step in steps:
      modes, quality, kl = np.mean([curve[step] for curve in curves], axis=0)
      lines.append(f"| {step} | {modes:.1f} | {100 * quality:.1f} % | {kl:.2f} |")
    tables.append("\n".join(lines))
  return "\n\n".join(tables)
