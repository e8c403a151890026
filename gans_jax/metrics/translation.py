"""Evaluators of image-to-image models on held-out data (pix2pix, CycleGAN).

A translator is ``translate(inputs [n, R, R, C], key) -> outputs`` in [-1, 1]. Paired data is
judged against its targets (L1, SSIM, PSNR, detail, and Tucker 2022's RGB table); unpaired data by
cycle reconstruction, the quantity CycleGAN's cycle loss drives down.

The papers' own protocols are named metrics of paired data (``JUDGED_METRICS``): the FCN-score
(``metrics.segmentation``: labels -> photo through a segmentation judge, and for a model that
translates back, photo -> labels scored directly), a Fréchet distance on the judge's features, and
a real-vs-fake test standing in for the AMT studies (``metrics.real_vs_fake``).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np

from gans_jax import errors, visualize
from gans_jax.metrics import evaluators, frechet, image_similarity, real_vs_fake, segmentation

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


# The named metrics of paired held-out data (``--metrics`` / ``eval.metrics`` of a translating
# run), with what their result keys hold; {n} the pair count, {split} the held-out split.
JUDGED_METRICS = {
  "fcn_score": (
    "FCN-score (Isola 2017 Tables 1-2, Zhu 2017 Tables 1-2): the segmentation judge's labels of "
    "the outputs against the input label maps: fcn_{pixel_acc,class_acc,class_iou}{n}_{split}; "
    "a model that translates back adds photo -> labels scored directly: seg_*{n}_{split}"
  ),
  "fcn_fd": (
    "Frechet distance between the judge's context features of the outputs and of the real "
    "targets, every position a sample: fcn_fd{n}_{split}"
  ),
  "real_vs_fake": (
    "classifier two-sample test (Lopez-Paz & Oquab 2017) for the AMT study (Isola 2017 Tables "
    "3-4): real_vs_fake_{acc,js,p}{n}_{split} (acc 0.5 / js 0: indistinguishable)"
  ),
}
NEEDS_JUDGE = ("fcn_score", "fcn_fd")


def parse_judged(name: str, default_count: int = 0) -> str:
  """A judged metric's name, checked.

  Raises:
    errors.ConfigError: for a name outside ``JUDGED_METRICS``.
  """
  if name not in JUDGED_METRICS:
    raise errors.ConfigError(
      f"Unknown held-out translation metric {name!r}; known: {', '.join(JUDGED_METRICS)}."
    )
  return name


def judged_metrics(
  names,
  outputs: np.ndarray,
  inputs: np.ndarray,
  targets: np.ndarray,
  *,
  judge: segmentation.Judge | None = None,
  palette: np.ndarray | None = None,
  back_translated: np.ndarray | None = None,
  split: str = "test",
) -> dict:
  """``names`` of ``JUDGED_METRICS`` for outputs [n, R, R, C_b] of inputs [n, R, R, C_a] against
  their targets [n, R, R, C_b], all in [-1, 1].

  Args:
    names: which metrics.
    judge: the segmentation judge (``fcn_score``, ``fcn_fd``).
    palette: uint8 [K, 3], the input label maps' colours (``fcn_score``).
    back_translated: the model's label maps of the targets (photo -> labels), when it
      translates back: scored against the input maps as ``seg_*``.
    split: the held-out split's name, ending every key.

  Returns:
    {metric key: value}; see ``JUDGED_METRICS``.
  """
  tag = f"{evaluators.count_tag(len(outputs))}_{split}"
  result = {}
  if "fcn_score" in names:
    truth = segmentation.labels_from_maps(inputs, palette)
    predicted, _ = segmentation.predict(judge, outputs)
    matrix = segmentation.confusion(predicted, truth, len(palette))
    result |= {f"fcn_{k}{tag}": v for k, v in segmentation.scores(matrix).items()}
    if back_translated is not None:
      nearest = segmentation.labels_from_maps(back_translated, palette, max_distance=np.inf)
      matrix = segmentation.confusion(nearest, truth, len(palette))
      result |= {f"seg_{k}{tag}": v for k, v in segmentation.scores(matrix).items()}
  if "fcn_fd" in names:
    statistics = [
      frechet.feature_statistics(judge_positions(judge, images)) for images in (outputs, targets)
    ]
    result[f"fcn_fd{tag}"] = frechet.frechet_distance(*statistics[0], *statistics[1])
  if "real_vs_fake" in names:
    test = real_vs_fake.two_sample_test(targets, outputs)
    result |= {f"real_vs_fake_{k}{tag}": v for k, v in test.items()}
  return result


def judge_positions(judge, images: np.ndarray) -> np.ndarray:
  """The judge's context features of images [N, R, R, 3] in [-1, 1], every position a sample:
  float32 [N * R/4 * R/4, C]."""
  features = segmentation.predict(judge, images)[1]
  return features.reshape(-1, features.shape[-1])


def judged_evaluator(
  names, translate_fn, inputs, targets, split: str = "test", *, judge=None, palette=None,
  back_fn=None,
):  # fmt: skip
  """evaluate(state, key) -> ``judged_metrics`` of translate_fn(state, inputs, key).

  Args:
    judge: () -> the segmentation judge, called at the first evaluation (it may train first).
    back_fn: (state, targets, key) -> label maps, for a model that translates back.
  """
  loaded = {}

  def evaluate(state, key) -> dict:
    if judge is not None and "judge" not in loaded:
      loaded["judge"] = judge()
    outputs = translate_all(lambda x, k: translate_fn(state, x, k), inputs, key)
    back = None
    if back_fn is not None and "fcn_score" in names:
      back_key = jax.random.fold_in(key, 1)
      back = translate_all(lambda x, k: back_fn(state, x, k), targets, back_key)
    return judged_metrics(
      names, outputs, inputs, targets, judge=loaded.get("judge"), palette=palette,
      back_translated=back, split=split,
    )  # fmt: skip

  return evaluate


def comparison_strip(inputs: np.ndarray, *columns: np.ndarray) -> np.ndarray:
  """Rows of [input | column 1 | column 2 ...] side by side: [n, R, R * (1 + k), 3] in [-1, 1]
  (grey images repeated to RGB), for sample grids."""
  as_rgb = lambda x: np.repeat(x, 3, -1) if x.shape[-1] == 1 else x
  return np.concatenate([as_rgb(np.asarray(x)) for x in (inputs, *columns)], axis=2)
