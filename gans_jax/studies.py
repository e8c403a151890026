"""The papers' own comparisons, each a set of runs of one config and a table: pix2pix's Table 1
ablation (Isola et al. 2017), Tucker 2022's semantic-map noise experiment and Bhavsar 2018's
Artistic GAN against plain DCGAN."""

from __future__ import annotations

import json
import pathlib
import re

import ml_collections
import numpy as np

import data_pipelines
from gans_jax import config_utils, errors, evaluation, experiment, run_data, runs, trainers, writers
from gans_jax.metrics import diversity, evaluators, frechet, segmentation, translation


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


# pix2pix's Table 1 (Isola et al. 2017): each loss as overrides of the L1+cGAN config, in the
# table's order. "GAN" objectives give D the output alone (Eq. 2); "L1" has no D at all.
ABLATION_ROWS = {
  "L1": ["loss.adversarial_weight=0.0"],
  "GAN": ["loss.l1_weight=0.0", "loss.conditional=False"],
  "cGAN": ["loss.l1_weight=0.0"],
  "L1+GAN": ["loss.conditional=False"],
  "L1+cGAN": [],
}
UNCONDITIONAL_ROWS = ("GAN", "L1+GAN")  # Trained only when asked for (``unconditional``).
ABLATION_METRICS = "fcn_score,fcn_fd,real_vs_fake"


def ablation(config, workdir, *, unconditional: bool = False, log=print) -> list[dict]:
  """pix2pix's Table 1: ``config`` (an L1+cGAN pix2pix config) trained once per loss on the
  same data, seed and steps, each applied to the same held-out inputs and judged by the
  FCN-score, the Fréchet distance on the judge's features, the real-vs-fake test, L1 and SSIM.

  Args:
    config: a pix2pix config on paired data whose inputs are label maps
      (``data.label_palette`` set).
    workdir: one sub-directory per row (an existing one resumes).
    unconditional: also the "GAN" and "L1+GAN" rows (D without the input).

  Returns:
    One row per loss, in Table 1's order, then "Ground truth" (the held-out targets judged as
    if generated): {"row", "overrides", **the run's evaluation}; also written to
    ``workdir/ablation.json``.

  Raises:
    errors.ConfigError: for a config whose family is not pix2pix's kind, or data without a
      palette (naming ``data.label_palette``), before anything trains.
  """
  palette = segmentation.parse_palette(config.data.label_palette)
  family = trainers.get_family(config.family)
  if not family.translates or "conditional" not in config.loss:
    raise errors.ConfigError(
      f"The ablation varies pix2pix's losses (loss.adversarial_weight, loss.l1_weight, "
      f"loss.conditional); {config.family} has no such fields."
    )
  variants = {
    name: overrides
    for name, overrides in ABLATION_ROWS.items()
    if unconditional or name not in UNCONDITIONAL_ROWS
  }
  results = train_variants(config, workdir, variants, [f"eval.metrics={ABLATION_METRICS}"], log)
  rows = [
    {"row": name, "overrides": " ".join(variants[name]), **result.eval_metrics}
    for name, result in results.items()
  ]
  rows.append({"row": "Ground truth", "overrides": "", **_ground_truth(config, palette)})
  path = pathlib.Path(workdir) / "ablation.json"
  writers.write_atomically(path, json.dumps(rows, indent=1).encode())
  return rows


def _ground_truth(config, palette) -> dict:
  """The held-out targets judged as the runs' outputs are: the judge's own FCN-scores, the
  Fréchet distance and L1 of the targets to themselves (0), SSIM 1."""
  source, inputs, targets = run_data.held_out_pairs(config, config.eval_num_samples)
  judge = evaluation.segmentation_judge(config, palette)
  split = source.split or "test"
  metrics = translation.judged_metrics(
    ["fcn_score", "fcn_fd"], targets, inputs, targets, judge=judge, palette=palette, split=split
  )
  return metrics | translation.paired_metrics(targets, targets, split)


# Table 1's columns, then the real-vs-fake, Fréchet, L1 and SSIM ones: (heading, key prefix).
ABLATION_COLUMNS = (
  ("Per-pixel acc.", "fcn_pixel_acc"),
  ("Per-class acc.", "fcn_class_acc"),
  ("Class IOU", "fcn_class_iou"),
  ("Real-vs-fake acc.", "real_vs_fake_acc"),
  ("Real-vs-fake JS", "real_vs_fake_js"),
  ("Frechet (judge)", "fcn_fd"),
  ("L1", "l1_"),
  ("SSIM", "ssim_"),
)


def ablation_cells(row: dict) -> list[str]:
  """One ablation row as text: its loss, then each of ``ABLATION_COLUMNS`` to 3 decimals
  ("-" where the row has no value; a rounding's -0.000 shown as 0.000)."""
  cells = [row["row"]]
  for _, prefix in ABLATION_COLUMNS:
    value = next((v for k, v in row.items() if k.startswith(prefix)), None)
    cells.append("-" if value is None else f"{value:.3f}".replace("-0.000", "0.000"))
  return cells


def format_ablation(rows: list[dict]) -> str:
  """The ablation's rows in Table 1's layout (Loss | Per-pixel acc. | Per-class acc. | Class
  IOU) with the real-vs-fake, Fréchet, L1 and SSIM columns; "-" where a row has no value."""
  table = [["Loss", *(heading for heading, _ in ABLATION_COLUMNS)]]
  table.extend(ablation_cells(row) for row in rows)
  widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
  align = lambda i, cell, width: cell.ljust(width) if i == 0 else cell.rjust(width)
  return "\n".join(
    "  ".join(align(i, c, w) for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in table
  )


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
  of the per-pixel RGB difference, then L1 / SSIM / PSNR / detail ratio, and the FCN-score,
  Fréchet (judge) and real-vs-fake columns when the run measured them."""
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
    scores = {_protocol_free(k): v for k, v in row.items() if isinstance(v, float)}
    for group in ("", "fcn_", "real_vs_fake_"):  # Similarity, FCN-score, real-vs-fake.
      line = [f"{k} {v:.4f}" for k, v in scores.items() if _score_group(k) == group]
      if line:
        lines.append("  " + "  ".join(line))
  return "\n".join(lines)


def _protocol_free(key: str) -> str:
  """A metric key without its count and split: "fcn_pixel_acc100_test" -> "fcn_pixel_acc",
  "l1_100_test" -> "l1"."""
  return re.sub(r"_?\d+k?_[a-z]+$", "", key)


def _score_group(name: str) -> str:
  return next((g for g in ("fcn_", "real_vs_fake_") if name.startswith(g)), "")


ARTISTIC_VARIANTS = {
  "clip_and_noise": [],
  "plain_dcgan": ["d_weight_clip=0.0", "d_input_noise=0.0"],
}


def compare_variants(
  config, workdir, variants: dict, *, num_samples: int = 1000, seeds: int = 1, log=print
):
  """Trains ``config`` once per variant and seed and measures how diverse each run's samples are.

  Every variant runs on the same data and number of steps, with its overrides
  (``["d_weight_clip=0.0", ...]``) and ``seed=k``, in ``workdir/<name>`` (one seed) or
  ``workdir/<name>/seed<k>``; an existing run directory resumes. Each run's ``num_samples``
  samples (latents of seed 0) are measured with ``metrics.diversity``: MS-SSIM diversity, mean
  pairwise distance and near-duplicate pairs (closer than the closest two real training images);
  on digits also by the run's own evaluation (the digits classifier's class histogram); on the
  embedded landscapes also by the Fréchet distance on the scenes judge's features to the held-out
  renderings. A last row measures the real training images the same way (its Fréchet distance
  is that of the training to the held-out images).

  Returns:
    One dict per run ({"variant", "seed", "pairwise_distance", "ms_ssim_diversity",
    "ms_ssim_scales", "near_duplicate_pairs", and "class_entropy_bits", "min_class_frac",
    "fd_test" on digits or "fd_judge" on landscapes}), then the real data's ({"variant":
    "real_data", "near_duplicate_threshold", ...}); also written to ``workdir/comparison.json``.
  """
  if config.data.resolution < 11:
    raise config_utils.ConfigError(
      f"The comparison's MS-SSIM needs images of at least 11x11, got data.resolution="
      f"{config.data.resolution}."
    )
  workdir = pathlib.Path(workdir)
  source = run_data.dataset_source(config)
  real = data_pipelines.reference_images(
    source, count=num_samples, resolution=config.data.resolution, channels=config.data.channels
  )
  threshold = diversity.closest_pair_distance(real)
  judge = _landscape_judge(config) if config.dataset == "landscapes" else None
  rows = []
  for seed in range(seeds):
    runs_of_seed = {
      name if seeds == 1 else f"{name}/seed{seed}": [*overrides, f"seed={seed}"]
      for name, overrides in variants.items()
    }
    common = [f"eval_num_samples={num_samples}"]
    for name, result in train_variants(config, workdir, runs_of_seed, common, log).items():
      images = runs.sample(workdir / name, num_samples)["images"]
      row = {"variant": name.split("/")[0], "seed": seed, **diversity.diversity_report(images)}
      row["near_duplicate_pairs"] = diversity.near_duplicate_pairs(images, threshold)
      row |= _digits_scores(result.eval_metrics, num_samples)
      if judge is not None:
        row["fd_judge"] = judge(images)
      rows.append(row)
  row = {"variant": "real_data", **diversity.diversity_report(real)}
  row["near_duplicate_threshold"] = threshold
  if config.dataset == "digits":
    labels = source.arrays[1]
    row["class_entropy_bits"] = diversity.class_entropy(np.bincount(labels, minlength=10))
  if judge is not None:
    row["fd_judge"] = judge(real)
  rows.append(row)
  writers.write_atomically(workdir / "comparison.json", json.dumps(rows, indent=1).encode())
  return rows


def _digits_scores(metrics: dict, num_samples: int) -> dict:
  """The digits classifier's class entropy, smallest class and Fréchet distance of a run's
  evaluation ({} for other data)."""
  tag = evaluators.count_tag(num_samples)
  if f"digits_class_entropy{tag}" not in metrics:
    return {}
  return {
    "class_entropy_bits": metrics[f"digits_class_entropy{tag}"],
    "min_class_frac": metrics[f"digits_min_class_frac{tag}"],
    "fd_test": metrics[f"digits_fd{tag}_test"],
  }


def _landscape_judge(config):
  """uint8 images [N, R, R, 3] -> the Fréchet distance between their scenes-judge context
  features and the held-out landscape renderings' (every position a sample); the judge is the
  one of the scenes' translation metrics (``metrics.segmentation``), at the config's size."""
  size = config.data.resolution
  palette = segmentation.parse_palette("scenes")
  scenes = data_pipelines.build_source("scenes", split="train")
  judge = evaluation.judge_of_pairs(scenes, size, (3, 3), palette)
  held_out = data_pipelines.reference_images(
    data_pipelines.build_source("landscapes", split="test"),
    count=10**9,
    resolution=size,
    channels=3,
  )

  def features(images):  # uint8 -> [-1, 1], as the judge was trained.
    return translation.judge_positions(judge, images.astype(np.float32) / 127.5 - 1.0)

  reference = frechet.feature_statistics(features(held_out))
  return lambda images: frechet.frechet_distance(
    *frechet.feature_statistics(features(images)), *reference
  )


def artistic_comparison(
  config, workdir, *, num_samples: int = 1000, seeds: int = 1, log=print
) -> list[dict]:
  """Bhavsar 2018's comparison: ``compare_variants`` of ``ARTISTIC_VARIANTS`` (D weight
  clipping + noise on D's input, against plain DCGAN), ``seeds`` runs each."""
  return compare_variants(
    config, workdir, ARTISTIC_VARIANTS, num_samples=num_samples, seeds=seeds, log=log
  )


def format_comparison(rows: list[dict]) -> str:
  """The rows of ``compare_variants`` as an aligned text table, one line per run; with several
  seeds, then the mean +- standard deviation over the seeds of each variant."""
  columns = list(dict.fromkeys(key for row in rows for key in row))
  lines = _aligned(columns, [[_cell(row.get(c, "-")) for c in columns] for row in rows])
  variants = list(dict.fromkeys(row["variant"] for row in rows if "seed" in row))
  by_variant = {v: [row for row in rows if row["variant"] == v and "seed" in row] for v in variants}
  if max(map(len, by_variant.values()), default=0) < 2:
    return "\n".join(lines)
  measures = [c for c in columns if c not in ("variant", "seed", "ms_ssim_scales")]
  summary = []
  for variant, runs_of in by_variant.items():
    cells = [f"{variant} ({len(runs_of)} seeds)"]
    for measure in measures:
      values = [row[measure] for row in runs_of if isinstance(row.get(measure), (int, float))]
      cells.append(_mean_std(values))
    summary.append(cells)
  return "\n".join(
    [*lines, "", "Mean ± std over seeds:", *_aligned(["variant", *measures], summary)]
  )


def _mean_std(values: list) -> str:
  if not values:
    return "-"
  std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
  return f"{float(np.mean(values)):.4f} ± {std:.4f}"


def _aligned(columns: list[str], cells: list[list[str]]) -> list[str]:
  widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
  return [
    "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
    for r in [columns, *cells]
  ]


def _cell(value) -> str:
  return f"{value:.4f}" if isinstance(value, float) else str(value)
