"""Mode coverage on 2-D mixtures, the protocol of VEEGAN (Srivastava 2017) and PacGAN (Lin 2018).

The definitions are those of PacGAN's released code (fjxmlzn/PacGAN, ``MetricLogger``), which
computed its Table 1: a sample is high quality when it lies within 3 standard deviations of its
nearest mode; a mode is covered when at least one high-quality sample is nearest to it; the
reverse KL divergence is KL(p || uniform) between the histogram p of the high-quality samples
over the modes and the uniform one (PacGAN Sec. 5.1; the code logs the Jensen-Shannon divergence
of the same two histograms, reported here as well).
"""

from __future__ import annotations

import numpy as np


def mode_coverage(points: np.ndarray, centers: np.ndarray, sigma: float) -> dict:
  """Coverage statistics of samples [N, 2] against mode centers [M, 2].

  Returns:
    {"modes_covered": int, "num_modes": M, "high_quality_frac": float, "reverse_kl": float
    (nats; inf when no sample is high quality), "mode_jsd": float (nats), "mode_counts": [M]
    high-quality samples per mode}.
  """
  points = np.asarray(points, np.float64)
  distances = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=-1)  # [N, M]
  nearest = distances.argmin(1)
  high_quality = distances.min(1) < 3 * sigma
  counts = np.bincount(nearest[high_quality], minlength=len(centers))
  return {
    "modes_covered": int((counts > 0).sum()),
    "num_modes": len(centers),
    "high_quality_frac": float(high_quality.mean()),
    "reverse_kl": reverse_kl(counts),
    "mode_jsd": mode_jsd(counts),
    "mode_counts": counts.tolist(),
  }


def reverse_kl(counts) -> float:
  """KL(p || uniform) in nats of the histogram ``counts`` [M] normalised to p: log M - H(p);
  0 for a uniform histogram, log M when every count is in one mode, inf for an empty one."""
  counts = np.asarray(counts, np.float64)
  if counts.sum() == 0:
    return float("inf")
  p = counts[counts > 0] / counts.sum()
  return float(np.sum(p * np.log(p * len(counts))))


def mode_jsd(counts) -> float:
  """Jensen-Shannon divergence in nats between the histogram ``counts`` [M] (normalised) and the
  uniform one, as PacGAN's code logs it; nan for an empty histogram."""
  counts = np.asarray(counts, np.float64)
  if counts.sum() == 0:
    return float("nan")
  p = counts / counts.sum()
  u = np.full_like(p, 1.0 / len(p))
  m = (p + u) / 2
  kl = lambda a: float(np.sum(a[a > 0] * np.log(a[a > 0] / m[a > 0])))  # noqa: E731
  return 0.5 * kl(p) + 0.5 * kl(u)
