"""Evaluators of image-to-image models on held-out data (pix2pix, CycleGAN).

A translator is ``translate(inputs [n, R, R, C], key) -> outputs`` in [-1, 1]. Paired data is
judged against its targets (L1, SSIM, PSNR, detail, and Tucker 2022's RGB table); unpaired data by
cycle reconstruction, the quantity CycleGAN's cycle loss drives down.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np

from gans_jax import visualize
from gans_jax.metrics import evaluators, image_similarity

Translator = Callable[[np.ndarray, jax.Array], np.ndarray]


def translate_all(translate: Translator, inputs: np.ndarray, key, batch: int = 25) -> np.ndarray:
  """``translate`` over ``inputs`` [n, ...] in batches, batch i with ``fold_in(key, i)``."""
  chunks = [
    np.asarray(translate(inputs[start : start + batch], jax.random.fold_in(key, i)))
    for i, start in enumerate(range(0, len(inputs), batch))
  ]
  return np.concatenate(chunks)


def paired_metrics(outputs: np.ndarray, targets: np.ndarray, split: str = "test") -> dict:
  """Outputs vs. targets, [n, R, R, C] in [-1, 1]; keys end in the held-out split's name
  (shown here for "test").

  Returns:
    {"l1_{n}_test" (mean |output - target| in [-1, 1] units), "ssim_{n}_test", "psnr_{n}_test"
    (dB, range 2), "detail_ratio_{n}_test" (the outputs' mean Laplacian energy over the
    targets': 1 is as sharp as the data, blurry outputs score well below), and Tucker 2022's RGB
    table as "rgb_{n}_test" (``image_similarity.rgb_distance_report`` on uint8 pixels)}.
  """
  tag = evaluators.count_tag(len(outputs))
  detail = image_similarity.laplacian_energy(outputs).mean() / max(
    image_similarity.laplacian_energy(targets).mean(), 1e-12
  )
  result = {
    f"l1_{tag}_{split}": float(image_similarity.l1(outputs, targets).mean()),
    f"ssim_{tag}_{split}": float(image_similarity.ssim(outputs, targets).mean()),
    f"psnr_{tag}_{split}": float(image_similarity.psnr(outputs, targets).mean()),
    f"detail_ratio_{tag}_{split}": float(detail),
  }
  if outputs.shape[-1] == 3:
    report = image_similarity.rgb_distance_report(
      visualize.to_uint8(outputs), visualize.to_uint8(targets)
    )
    result[f"rgb_{tag}_{split}"] = {k: _rounded(v) for k, v in report.items()}
  return result


def _rounded(value):
  return [round(v, 3) for v in value] if isinstance(value, list) else round(value, 3)


def paired_evaluator(translate_fn, inputs: np.ndarray, targets: np.ndarray, split: str = "test"):
  """evaluate(state, key) -> ``paired_metrics`` of translate_fn(state, inputs, key)."""

  def evaluate(state, key) -> dict:
    outputs = translate_all(lambda x, k: translate_fn(state, x, k), inputs, key)
    return paired_metrics(outputs, targets, split)

  return evaluate


def cycle_evaluator(forward_fn, backward_fn, images_a: np.ndarray, images_b: np.ndarray):
  """evaluate(state, key) -> {"cycle_l1_a_{n}_test": mean |F(G(a)) - a|, "cycle_l1_b_{m}_test":
  mean |G(F(b)) - b|} on held-out images of each domain, in [-1, 1] units."""

  def evaluate(state, key) -> dict:
    forward = lambda x, k: forward_fn(state, x, k)
    backward = lambda x, k: backward_fn(state, x, k)
    key_a, key_b = jax.random.split(key)
    cycled_a = translate_all(backward, translate_all(forward, images_a, key_a), key_a)
    cycled_b = translate_all(forward, translate_all(backward, images_b, key_b), key_b)
    return {
      f"cycle_l1_a_{evaluators.count_tag(len(images_a))}_test": float(
        np.abs(cycled_a - images_a).mean()
      ),
      f"cycle_l1_b_{evaluators.count_tag(len(images_b))}_test": float(
        np.abs(cycled_b - images_b).mean()
      ),
    }

  return evaluate


def comparison_strip(inputs: np.ndarray, *columns: np.ndarray) -> np.ndarray:
  """Rows of [input | column 1 | column 2 ...] side by side: [n, R, R * (1 + k), 3] in [-1, 1]
  (grey images repeated to RGB), for sample grids."""
  as_rgb = lambda x: np.repeat(x, 3, -1) if x.shape[-1] == 1 else x
  return np.concatenate([as_rgb(np.asarray(x)) for x in (inputs, *columns)], axis=2)
