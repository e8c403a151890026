"""Parzen-window log-likelihood (Breuleux et al. 2011; the protocol of Goodfellow et al. 2014).

A Gaussian kernel density with bandwidth sigma is fitted to generated samples s_1..s_N and the
mean log-likelihood of held-out data is reported:

    log p(x) = logsumexp_i(-|x - s_i|^2 / (2 sigma^2)) - log N - (d / 2) log(2 pi sigma^2).

Sigma is chosen on a validation split from a grid, as in the GAN paper, then the test split is
scored with it. The estimate is known to be poor in high dimension (Theis et al. 2016); it is here
to reproduce the paper's tables, not as a recommended metric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def _log_likelihoods(points, samples, sigma):
  """log p(x) [B] of points [B, d] under the Parzen density of samples [N, d]."""
  squared = (
    jnp.sum(points**2, 1)[:, None] - 2 * points @ samples.T + jnp.sum(samples**2, 1)[None, :]
  )  # [B, N]
  squared = jnp.maximum(squared, 0.0)
  dim = points.shape[1]
  return (
    jax.nn.logsumexp(-squared / (2 * sigma**2), axis=1)
    - math.log(samples.shape[0])
    - 0.5 * dim * jnp.log(2 * jnp.pi * sigma**2)
  )


def parzen_log_likelihood(
  points: np.ndarray, samples: np.ndarray, sigma: float, batch_size: int = 256
) -> np.ndarray:
  """Per-point log-likelihood [M] (nats) of points [M, ...] under samples [N, ...] (flattened).

  Computed in float32 in batches of ``batch_size`` points (the tests compare with
  scikit-learn's float64 KernelDensity).
  """
  points = np.asarray(points, np.float32).reshape(len(points), -1)
  samples = jnp.asarray(np.asarray(samples, np.float32).reshape(len(samples), -1))
  if points.shape[1] != samples.shape[1]:
    raise ValueError(f"Points of {points.shape[1]} values vs samples of {samples.shape[1]}.")
  if sigma <= 0:
    raise ValueError(f"Parzen sigma must be positive, got {sigma}.")
  chunks = [
    np.asarray(_log_likelihoods(jnp.asarray(points[i : i + batch_size]), samples, sigma))
    for i in range(0, len(points), batch_size)
  ]
  return np.concatenate(chunks)


def select_sigma(
  validation: np.ndarray, samples: np.ndarray, sigmas: Sequence[float]
) -> tuple[float, dict[float, float]]:
  """The sigma of ``sigmas`` with the highest mean validation log-likelihood, and all means."""
  means = {float(s): float(parzen_log_likelihood(validation, samples, s).mean()) for s in sigmas}
  return max(means, key=means.get), means


def parzen_evaluation(
  test: np.ndarray,
  validation: np.ndarray,
  samples: np.ndarray,
  sigmas: Sequence[float] = tuple(np.logspace(-1, 0, 10)),
) -> dict:
  """The GAN paper's protocol: sigma by validation, then the test mean and its standard error."""
  sigma, _ = select_sigma(validation, samples, sigmas)
  values = parzen_log_likelihood(test, samples, sigma)
  return {
    "parzen_sigma": sigma,
    "parzen_ll_mean": float(values.mean()),
    "parzen_ll_sem": float(values.std(ddof=1) / np.sqrt(len(values))),
  }
