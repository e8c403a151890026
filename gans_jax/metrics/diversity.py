"""Sample diversity, the mode-collapse measures of the "Artistic GAN" comparison.

A collapsed generator draws few distinct images: its samples' classes concentrate (low entropy of
the class histogram), its samples lie close together (small mean pairwise distance) and look
alike (high MS-SSIM between random pairs; Odena et al. 2017 use 1 - MS-SSIM as diversity).
The same numbers on real images are the reference a healthy generator approaches.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from gans_jax.metrics import image_similarity


def class_entropy(histogram) -> float:
  """Entropy in bits of a class histogram (fractions or counts); log2(K) when uniform."""
  p = np.asarray(histogram, np.float64)
  if p.sum() <= 0:
    return 0.0  # No sample of any class.
  p = p[p > 0] / p.sum()
  return float(-(p * np.log2(p)).sum())


def _unit_pairs(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Sample i paired with sample i + N/2, as float32 in [0, 1] (uint8 input)."""
  if images.dtype != np.uint8 or images.ndim != 4 or len(images) < 2:
    raise ValueError(f"Need uint8 images [N >= 2, H, W, C], got {images.dtype} {images.shape}.")
  half = len(images) // 2
  unit = images.astype(np.float32) / 255.0
  return unit[:half], unit[half : 2 * half]


def mean_pairwise_distance(images: np.ndarray) -> float:
  """Mean over N/2 disjoint random pairs of the RMS pixel difference, pixels in [0, 1]."""
  a, b = _unit_pairs(images)
  return float(np.sqrt(((a - b) ** 2).reshape(len(a), -1).mean(1)).mean())


def ms_ssim_weights(size: int, window_size: int = 11) -> tuple[float, ...]:
  """MS-SSIM's standard exponents cut to the scales an image of ``size`` fits, renormalised
  (all five from 161 pixels up; two at 32x32)."""
  weights = list(image_similarity.MS_SSIM_WEIGHTS)
  while len(weights) > 1 and -(-size // 2 ** (len(weights) - 1)) < window_size:
    weights.pop()
  return tuple(w / sum(weights) for w in weights)


def ms_ssim_diversity(images: np.ndarray, batch: int = 250) -> tuple[float, int]:
  """(1 - mean MS-SSIM over N/2 disjoint pairs, the number of scales used)."""
  a, b = _unit_pairs(images)
  weights = ms_ssim_weights(min(images.shape[1:3]))
  scores = [
    np.asarray(
      image_similarity.ms_ssim(
        jnp.asarray(a[i : i + batch]),
        jnp.asarray(b[i : i + batch]),
        data_range=1.0,
        weights=weights,
      )
    )
    for i in range(0, len(a), batch)
  ]
  return float(1.0 - np.concatenate(scores).mean()), len(weights)


def diversity_report(images: np.ndarray) -> dict:
  """{"pairwise_distance", "ms_ssim_diversity", "ms_ssim_scales"} of uint8 images [N, H, W, C]."""
  diversity, scales = ms_ssim_diversity(images)
  return {
    "pairwise_distance": mean_pairwise_distance(images),
    "ms_ssim_diversity": diversity,
    "ms_ssim_scales": scales,
  }


def pairwise_rms(images: np.ndarray) -> np.ndarray:
  """float64 [N, N]: RMS pixel difference (pixels in [0, 1]) of every pair of uint8 images [N,
  H, W, C]; the diagonal is inf (a sample is no duplicate of itself). From the Gram matrix in
  float64: identical images come out within about 1e-7 of 0."""
  _unit_pairs(images)  # Checks dtype and shape.
  flat = images.reshape(len(images), -1).astype(np.float64) / 255.0
  squares = (flat**2).sum(1)
  distances = np.maximum(squares[:, None] + squares[None, :] - 2.0 * flat @ flat.T, 0.0)
  distances = np.sqrt(distances / flat.shape[1])
  np.fill_diagonal(distances, np.inf)
  return distances


def closest_pair_distance(images: np.ndarray) -> float:
  """The smallest RMS pixel difference between two of the images (uint8 [N, H, W, C])."""
  return float(pairwise_rms(images).min())


def near_duplicate_pairs(images: np.ndarray, threshold: float) -> int:
  """Mode-collapse count: pairs of the images (uint8 [N, H, W, C]) closer than ``threshold`` in
  RMS pixel difference. With the closest distance between two real training images as the
  threshold, a pair counts when it is more alike than any two real images are."""
  return int(np.triu(pairwise_rms(images) < threshold).sum())
