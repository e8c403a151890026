"""Mode coverage on 2-D mixtures, the protocol of VEEGAN (Srivastava 2017) and PacGAN (Lin 2018).

A sample is high quality when it lies within 3 standard deviations of its nearest mode. A mode is
covered when at least a fifth of the per-mode average of the samples are high-quality samples
assigned to it (PacGAN: 20 of 2,500 samples for the 25-mode grid).
"""

from __future__ import annotations

import numpy as np


def mode_coverage(points: np.ndarray, centers: np.ndarray, sigma: float) -> dict:
  """Coverage statistics of samples [N, 2] against mode centers [M, 2].

  Returns:
    {"modes_covered": int, "num_modes": M, "high_quality_frac": float, "mode_counts": [M]}.
  """
  points = np.asarray(points, np.float64)
  distances = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=-1)  # [N, M]
  nearest = distances.argmin(1)
  high_quality = distances.min(1) <= 3 * sigma
  counts = np.bincount(nearest[high_quality], minlength=len(centers))
  threshold = len(points) / len(centers) / 5
  return {
    "modes_covered": int((counts >= threshold).sum()),
    "num_modes": len(centers),
    "high_quality_frac": float(high_quality.mean()),
    "mode_counts": counts.tolist(),
  }
