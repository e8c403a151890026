"""Fréchet distance between Gaussians fitted to features (Heusel et al. 2017, Eq. 6).

    d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)

computed in float64 with symmetric eigendecompositions only (no complex matrix square root):
Tr((S1 S2)^1/2) = Tr((S1^1/2 S2 S1^1/2)^1/2), and S1^1/2 S2 S1^1/2 is symmetric PSD.
"""

from __future__ import annotations

import io
import os
import pathlib
from typing import NamedTuple

import numpy as np

from gans_jax import errors, writers


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean [D] and covariance [D, D] (unbiased, as pytorch-fid) of features [N, D], in float64."""
  features = np.asarray(features, np.float64)
  if features.ndim != 2 or len(features) < 2:
    raise ValueError(f"Need features of shape [N >= 2, D], got {features.shape}.")
  return features.mean(0), np.cov(features, rowvar=False)


class Moments(NamedTuple):
  """Running count, mean [D] and sum of squared deviations [D, D] of features, in float64."""

  count: int
  mean: np.ndarray
  scatter: np.ndarray


def moments_init(dim: int) -> Moments:
  return Moments(0, np.zeros(dim), np.zeros((dim, dim)))


def moments_update(moments: Moments, features: np.ndarray) -> Moments:
  """Adds a batch [n, D] (Chan et al.'s pairwise merge: exact, and stable in float64 because each
  batch is centred on its own mean before the outer products)."""
  features = np.asarray(features, np.float64)
  if features.ndim != 2 or features.shape[1] != len(moments.mean):
    raise ValueError(f"Expected features [n, {len(moments.mean)}], got {features.shape}.")
  n = len(features)
  if n == 0:
    return moments
  batch_mean = features.mean(0)
  centred = features - batch_mean
  total = moments.count + n
  delta = batch_mean - moments.mean
  mean = moments.mean + delta * (n / total)
  scatter = (
    moments.scatter + centred.T @ centred + np.outer(delta, delta) * (moments.count * n / total)
  )
  return Moments(total, mean, scatter)


def moments_statistics(moments: Moments) -> tuple[np.ndarray, np.ndarray]:
  """Mean [D] and unbiased covariance [D, D] (as ``np.cov``)."""
  if moments.count < 2:
    raise ValueError(f"Need at least 2 feature vectors for a covariance, got {moments.count}.")
  return moments.mean, moments.scatter / (moments.count - 1)


def save_statistics(path: str | os.PathLike, mu: np.ndarray, sigma: np.ndarray) -> None:
  """Writes pytorch-fid's stats format (``np.savez_compressed`` with ``mu`` and ``sigma``),
  through a temporary file, so an interrupted write leaves no partial file."""
  path = pathlib.Path(path)
  buffer = io.BytesIO()
  np.savez_compressed(buffer, mu=np.asarray(mu), sigma=np.asarray(sigma))
  path.parent.mkdir(parents=True, exist_ok=True)
  writers.write_atomically(path, buffer.getvalue())


def load_statistics(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
  """(mu [D], sigma [D, D]) from a stats ``.npz`` (pytorch-fid's or ours).

  Raises:
    ValueError: naming the file and what is wrong (missing, unreadable, no ``mu`` / ``sigma``,
      inconsistent shapes).
  """
  path = pathlib.Path(path)
  if not path.is_file():
    raise errors.UsageError(f"Statistics file not found: {path}")
  try:
    with np.load(path, allow_pickle=False) as data:
      arrays = {name: data[name] for name in data.files}
  except Exception as error:
    raise errors.UsageError(f"Cannot read statistics file {path}: {error}") from None
  for key in ("mu", "sigma"):
    if key not in arrays:
      raise errors.UsageError(
        f"Statistics file {path} has no {key!r} array (it has {sorted(arrays)}); expected "
        "pytorch-fid's format, an .npz with 'mu' [D] and 'sigma' [D, D]."
      )
  mu, sigma = arrays["mu"], arrays["sigma"]
  if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
    raise errors.UsageError(
      f"Statistics file {path}: mu {mu.shape} and sigma {sigma.shape} do not match."
    )
  return mu.astype(np.float64), sigma.astype(np.float64)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
  eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2)
  return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
  """The squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
  mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
  sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
  if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
    raise errors.UsageError(
      f"Statistics of different feature sizes: mu {mu1.shape} vs {mu2.shape}, "
      f"sigma {sigma1.shape} vs {sigma2.shape} (different --dims?)."
    )
  root1 = _psd_sqrt(sigma1)
  middle = root1 @ sigma2 @ root1
  trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
  diff = mu1 - mu2
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)
