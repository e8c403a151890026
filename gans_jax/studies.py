"""The papers' own comparisons, each a set of runs of one config and a table: Tucker 2022's
semantic-map noise experiment and Bhavsar 2018's Artistic GAN against plain DCGAN."""

from __future__ import annotations

import json
import pathlib

import ml_collections
import numpy as np

import data_pipelines
from gans_jax import config_utils, errors, experiment, run_data, runs, trainers, writers
from gans_jax.metrics import evaluators


def train_variants(config, workdir, variants: dict, common: list, log=print) -> dict:
  """Trains ``config`` once per variant, in ``workdir/<name>`` with the variant's overrides and
  then the ``common`` ones applied (an existing variant directory resumes).

  Returns:
    {name: loop.RunResult}, in the order of ``variants``.
  """
  results = {}
  for name, overrides in variants.items():
    variant = ml_collections.ConfigDict(config.to_dict())
    config_utils.apply_overrides(variant, [*overrides, *common])
    log(f"== {name}: {' '.join(overrides) or 'the config as given'}")
    results[name] = experiment.train_and_evaluate(variant, pathlib.Path(workdir) / name, log=log)
  return results


def noise_experiment(config, workdir, *, noise: float, noise_images: float = 1.0, log=print):
  """Tucker 2022's experiment: pix2pix trained twice on the same paired data, on clean inputs and
  with ``noise`` of the pixels of a fraction ``noise_images`` of the training inputs replaced by
  random colours, then both applied to the same clean held-out inputs.

  Returns:
    One row per run: {"run", "overrides", **its held-out evaluation} (RGB table, L1, SSIM,
    PSNR, detail ratio; ``metrics.translation.paired_metrics``); also written to
    ``workdir/noise_experiment.json``.
  """
  if not trainers.get_family(config.family).translates:
    raise errors.ConfigError(
      f"The noise experiment needs an image-to-image config, not {config.family}."
    )
  variants = {
    "clean_inputs": ["data.input_noise_fraction=0.0"],
    "noisy_inputs": [
      f"data.input_noise_fraction={noise}",
      f"data.input_noise_images={noise_images}",
    ],
  }
  results = train_variants(config, workdir, variants, [], log)
  rows = [
    {"run": name, "overrides": " ".join(variants[name]), **result.eval_metrics}
    for name, result in results.items()
  ]
  path = pathlib.Path(workdir) / "noise_experiment.json"
  writers.write_atomically(path, json.dumps(rows, indent=1).encode())
  return rows


def format_noise_table(rows: list[dict]) -> str:
  """The noise experiment's rows as Tucker 2022's table: per run, the mean and variance per RGB
  channel (0..255) of the targets, the generated images and |target - generated|, the mean norm
  of the per-pixel RGB difference, then L1 / SSIM / PSNR / detail ratio."""
  lines = [f"{'':28}{'R':>10}{'G':>10}{'B':>10}"]
  labels = {"target": "target", "generated": "generated", "abs_diff": "|difference|"}
  for row in rows:
    lines.append(f"{row['run']} ({row['overrides']})")
    rgb = next(v for k, v in row.items() if k.startswith("rgb_"))
    for key, label in labels.items():
      for stat in ("mean", "var"):
        values = "".join(f"{v:>10.2f}" for v in rgb[f"{key}_{stat}"])
        lines.append(f"  {label + ' ' + stat:26}{values}")
    lines.append(f"  {'mean |difference| norm':26}{rgb['diff_norm_mean']:>10.2f}")
    scores = {k.split("_")[0] if "detail" not in k else "detail": v for k, v in row.items()
              if isinstance(v, float)}  # fmt: skip
    lines.append("  " + "  ".join(f"{k} {v:.4f}" for k, v in scores.items()))
  return "\n".join(lines)


ARTISTIC_VARIANTS = {
  "clip_and_noise": [],
  "plain_dcgan": ["d_weight_clip=0.0", "d_input_noise=0.0"],
}


def compare_variants(config, workdir, variants: dict, *, num_samples: int = 1000, log=print):
  """Trains ``config`` once per variant and measures how diverse each one's samples are.

  Every variant runs in ``workdir/<name>`` on the same data, seed and number of steps, with its
  overrides (``["d_weight_clip=0.0", ...]``) applied; an existing variant directory resumes.
  Each run's ``num_samples`` samples (latents of seed 0) are then measured with
  ``metrics.diversity`` and, on digits, by the run's own evaluation on as many samples (the
  class histogram of the digits classifier). A last row measures the real images the same way.
  The rows are also written to ``workdir/comparison.json``.

  Returns:
    One dict per variant, then one for the real data: {"variant", "pairwise_distance",
    "ms_ssim_diversity", "ms_ssim_scales"}, plus on digits "class_entropy_bits",
    "min_class_frac" and "fd_test" (the real row: entropy of the true labels).
  """
  from gans_jax.metrics import diversity

  if config.data.resolution < 11:
    raise config_utils.ConfigError(
      f"The comparison's MS-SSIM needs images of at least 11x11, got data.resolution="
      f"{config.data.resolution}."
    )
  workdir = pathlib.Path(workdir)
  rows = []
  results = train_variants(config, workdir, variants, [f"eval_num_samples={num_samples}"], log)
  for name, result in results.items():
    images = runs.sample(workdir / name, num_samples)["images"]
    row = {"variant": name, **diversity.diversity_report(images)}
    tag = evaluators.count_tag(num_samples)
    if f"digits_class_entropy{tag}" in result.eval_metrics:
      row["class_entropy_bits"] = result.eval_metrics[f"digits_class_entropy{tag}"]
      row["min_class_frac"] = result.eval_metrics[f"digits_min_class_frac{tag}"]
      row["fd_test"] = result.eval_metrics[f"digits_fd{tag}_test"]
    rows.append(row)
  source = run_data.dataset_source(config)
  real = data_pipelines.reference_images(
    source, count=num_samples, resolution=config.data.resolution, channels=config.data.channels
  )
  row = {"variant": "real_data", **diversity.diversity_report(real)}
  if config.dataset == "digits":
    labels = source.arrays[1]
    row["class_entropy_bits"] = diversity.class_entropy(np.bincount(labels, minlength=10))
  rows.append(row)
  writers.write_atomically(workdir / "comparison.json", json.dumps(rows, indent=1).encode())
  return rows


def format_comparison(rows: list[dict]) -> str:
  """The rows of ``compare_variants`` as an aligned text table."""
  columns = ["variant"] + [k for k in rows[0] if k != "variant"]
  cells = [[_cell(row.get(c, "-")) for c in columns] for row in rows]
  widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
  lines = [
    "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
    for r in [columns, *cells]
  ]
  return "\n".join(lines)


def _cell(value) -> str:
  return f"{value:.4f}" if isinstance(value, float) else str(value)
