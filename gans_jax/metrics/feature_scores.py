"""Scores on features of any extractor (InceptionV3, the digits classifier, ...), in float64 numpy.

- Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))) from class logits, averaged
  over splits, as torch-fidelity computes it.
- Kernel Inception Distance (Binkowski et al. 2018): the unbiased MMD^2 estimate with the cubic
  polynomial kernel k(a, b) = (a.b / d + 1)^3, averaged over random subsets.
- Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of
  balls around its points with radius the distance to the k-th nearest neighbour (k = 3).
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax


def inception_score(
  logits: np.ndarray, splits: int = 10, shuffle_seed: int | None = None
) -> tuple[float, float]:
  """Mean and (population) standard deviation of the Inception Score over ``splits`` splits.

  Args:
    logits: [N, classes] (1008 for the FID InceptionV3).
    splits: number of equal consecutive splits (the last ones take the remainder, as
      torch-fidelity's ``i * N // splits`` boundaries do).
    shuffle_seed: permute the samples first with ``np.random.RandomState(seed)`` (torch-fidelity
      shuffles with seed 2020); None keeps their order.
  """
  logits = np.asarray(logits, np.float64)
  if logits.ndim != 2 or len(logits) < splits:
    raise ValueError(f"Need logits [N >= splits={splits}, classes], got {logits.shape}.")
  if shuffle_seed is not None:
    logits = logits[np.random.RandomState(shuffle_seed).permutation(len(logits))]
  log_p = log_softmax(logits, axis=1)  # [N, classes]
  scores = []
  for i in range(splits):
    chunk = log_p[i * len(log_p) // splits : (i + 1) * len(log_p) // splits]
    probs = np.exp(chunk)  # p(y|x) [n, classes]
    log_marginal = np.log(probs.mean(0))  # log p(y) over the split.
    kl = (probs * (chunk - log_marginal)).sum(1)  # [n] KL(p(y|x) || p(y)).
    scores.append(np.exp(kl.mean()))
  return float(np.mean(scores)), float(np.std(scores))


def polynomial_kernel(a: np.ndarray, b: np.ndarray, degree=3, gamma=None, coef0=1.0) -> np.ndarray:
  """(gamma a.b + coef0)^degree for rows of a [n, d] and b [m, d] -> [n, m]; gamma = 1/d."""
  gamma = 1.0 / a.shape[1] if gamma is None else gamma
  return (a @ b.T * gamma + coef0) ** degree


def mmd2_unbiased(k_aa: np.ndarray, k_ab: np.ndarray, k_bb: np.ndarray) -> float:
  """Unbiased MMD^2 from kernel matrices of two samples of equal size m (Gretton 2012, Eq. 3
  with the diagonal of the within-sample terms left out)."""
  m = len(k_aa)
  within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
  return float(within - 2 * k_ab.sum() / (m * m))


def kernel_distance(
  features_a: np.ndarray,
  features_b: np.ndarray,
  *,
  subsets: int = 100,
  subset_size: int = 1000,
  seed: int = 0,
  degree: int = 3,
  gamma: float | None = None,
  coef0: float = 1.0,
) -> tuple[float, float]:
  """KID: mean and std of the unbiased polynomial-kernel MMD^2 over random subsets.

  Each subset draws ``subset_size`` rows of each set without replacement, from
  ``np.random.RandomState(seed)``.
  """
  features_a = np.asarray(features_a, np.float64)
  features_b = np.asarray(features_b, np.float64)
  if features_a.ndim != 2 or features_b.ndim != 2 or features_a.shape[1] != features_b.shape[1]:
    raise ValueError(
      f"Need features [N, d] and [M, d], got {features_a.shape} and {features_b.shape}."
    )
  if min(len(features_a), len(features_b)) < subset_size:
    raise ValueError(
      f"KID subset size {subset_size} exceeds the samples ({len(features_a)} and "
      f"{len(features_b)}); lower subset_size."
    )
  rng = np.random.RandomState(seed)

  def kernel(x, y):
    return polynomial_kernel(x, y, degree, gamma, coef0)

  values = []
  for _ in range(subsets):
    a = features_a[rng.choice(len(features_a), subset_size, replace=False)]
    b = features_b[rng.choice(len(features_b), subset_size, replace=False)]
    values.append(mmd2_unbiased(kernel(a, a), kernel(a, b), kernel(b, b)))
  return float(np.mean(values)), float(np.std(values))


def _pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  squared = (a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None, :]
  return np.sqrt(np.clip(squared, 0, None))


def _knn_radii(features: np.ndarray, k: int) -> np.ndarray:
  """Distance of each row to its k-th nearest other row [N]."""
  distances = _pairwise_distances(features, features)
  return np.partition(distances, k, axis=1)[:, k]  # The 0th is the point itself.


def _coverage(manifold: np.ndarray, radii: np.ndarray, queries: np.ndarray) -> float:
  """Fraction of queries inside at least one ball (centre ``manifold[i]``, radius ``radii[i]``)."""
  inside = _pairwise_distances(queries, manifold) <= radii[None, :]
  return float(inside.any(1).mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
  """Improved precision (fake inside the real manifold) and recall (real inside the fake one).

  Args:
    real: [N, d] features of real data; fake: [M, d] features of samples; k: the neighbour
      that sets each ball's radius (3 in the paper).
  """
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  if min(len(real), len(fake)) <= k:
    raise ValueError(f"Need more than k={k} samples in each set, got {len(real)} and {len(fake)}.")
  precision = _coverage(real, _knn_radii(real, k), fake)
  recall = _coverage(fake, _knn_radii(fake, k), real)
  return precision, recall
