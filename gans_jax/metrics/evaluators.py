"""End-of-run evaluators for the embedded datasets: stream samples, return named metrics.

An evaluator is ``evaluate(sampler, key) -> dict``, where ``sampler(z, labels, key)`` returns G's
samples for latents z [n, latent] and class labels int32 [n] (ignored by unconditional models).
Conditional models are sampled class-balanced: sample i asks for class i mod K
(``balanced_labels``). Metric names state their protocol (sample count, reference set).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np

from gans_jax.metrics import digits_classifier, diversity, frechet, modes2d

Sampler = Callable[[jax.Array, np.ndarray, jax.Array], np.ndarray]


def count_tag(count: int) -> str:
  """How metric names state a sample count: "1k" for 1,000, "2500" for 2,500."""
  return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def balanced_labels(num: int, num_classes: int) -> np.ndarray:
  """int32 [num]: 0, 1, ..., K-1, 0, 1, ... (all zeros when unconditional, K = 0)."""
  return (np.arange(num) % max(num_classes, 1)).astype(np.int32)


def draw(
  sampler: Sampler,
  key: jax.Array,
  num: int,
  latent_dim: int,
  batch: int = 500,
  num_classes: int = 0,
) -> np.ndarray:
  """``num`` samples in batches of ``batch`` latents drawn from ``key``, sample i of class
  ``balanced_labels(num, num_classes)[i]``."""
  keys = jax.random.split(key, -(-num // batch))
  labels = balanced_labels(len(keys) * batch, num_classes)
  chunks = [
    sampler(
      jax.random.normal(k, (batch, latent_dim)),
      labels[i * batch : (i + 1) * batch],
      jax.random.fold_in(k, SAMPLING_STREAM),
    )
    for i, k in enumerate(keys)
  ]
  return np.concatenate(chunks)[:num]


# The randomness a batch's samples draw besides z (StyleGAN's noise inputs): a stream of the
# batch's key of its own, so that z, and every family that draws nothing else, stays as it was.
SAMPLING_STREAM = 0x4E4F4953


def digits_evaluator(
  train, test, num_samples: int, latent_dim: int, resolution: int, num_classes: int = 0
):
  """Judges digit samples with the project's digits classifier.

  Args:
    train: (uint8 [N, 8, 8, 1], labels [N]) digits the classifier is trained on (cached).
    test: (uint8 [M, 8, 8, 1], labels [M]) held-out digits, the Fréchet reference.
    num_samples: samples to draw.
    latent_dim: size of z.
    resolution: the samples' size; the real reference goes through the same resizing.
    num_classes: 10 for a class-conditional model (samples are then drawn 1/10 per digit and
      judged against the digit asked for), 0 for an unconditional one.

  Returns:
    evaluate(sampler, key) -> {"digits_confident_frac{n}" (classified as a digit with
    probability >= 0.9), "digits_class_hist{n}" (fraction per digit), "digits_min_class_frac{n}",
    "digits_class_entropy{n}" (bits, log2(10) = 3.32 when uniform), "digits_not_digit_frac{n}",
    "digits_fd{n}_test"}, n the sample count ("1k" for 1,000);
    conditional models add "digits_requested_class_frac{n}" (classified as the digit asked for)
    and "digits_requested_class_min{n}" (the same, for the worst digit).
  """
  tag = count_tag(num_samples)

  def evaluate(sampler: Sampler, key: jax.Array) -> dict:
    # Loaded here, not when the evaluator is built: on a fresh machine the classifier trains
    # first (about a minute), and a run should not wait for it before its first step.
    params = digits_classifier.load_or_train(*train)
    reference = frechet.feature_statistics(
      digits_classifier.real_features(params, test[0], resolution)
    )
    samples = draw(sampler, key, num_samples, latent_dim, num_classes=num_classes)
    probs, features = digits_classifier.classify(
      params, digits_classifier.to_classifier_input(samples)
    )
    predicted = probs.argmax(1)
    is_digit = predicted != digits_classifier.NOT_A_DIGIT
    confident = is_digit & (probs.max(1) >= digits_classifier.CONFIDENCE)
    histogram = np.bincount(predicted, minlength=11) / len(probs)  # [11], last: not a digit.
    result = {}
    if num_classes:
      requested = balanced_labels(num_samples, num_classes)
      hits = predicted == requested
      per_class = [hits[requested == c].mean() for c in range(num_classes)]
      result[f"digits_requested_class_frac{tag}"] = float(hits.mean())
      result[f"digits_requested_class_min{tag}"] = float(min(per_class))
    return result | {
      f"digits_confident_frac{tag}": float(confident.mean()),
      f"digits_class_hist{tag}": [round(float(h), 4) for h in histogram[:10]],
      f"digits_min_class_frac{tag}": float(histogram[:10].min()),
      f"digits_class_entropy{tag}": diversity.class_entropy(histogram[:10]),
      f"digits_not_digit_frac{tag}": float(histogram[10]),
      f"digits_fd{tag}_test": frechet.frechet_distance(
        *frechet.feature_statistics(features), *reference
      ),
    }

  return evaluate


def modes_evaluator(centers: np.ndarray, sigma: float, num_samples: int, latent_dim: int):
  """Mode coverage of 2-D samples (VEEGAN / PacGAN protocol, see ``modes2d``)."""

  def evaluate(sampler: Sampler, key: jax.Array) -> dict:
    points = draw(sampler, key, num_samples, latent_dim)  # 2-D data is unconditional.
    coverage = modes2d.mode_coverage(points, centers, sigma)
    return {
      f"modes_covered{num_samples}": coverage["modes_covered"],
      "num_modes": coverage["num_modes"],
      f"high_quality_frac{num_samples}": coverage["high_quality_frac"],
      f"reverse_kl{num_samples}": coverage["reverse_kl"],
      f"mode_jsd{num_samples}": coverage["mode_jsd"],
      f"mode_counts{num_samples}": coverage["mode_counts"],
    }

  return evaluate
