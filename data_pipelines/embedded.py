"""Small datasets that need no download: scikit-learn's digits and the 2-D mode benchmarks.

Pure numpy (no TensorFlow), so the evaluation code and tests can read the same arrays that the
training pipeline feeds.
"""

from __future__ import annotations

import numpy as np

DIGITS_HELD_OUT_FRACTION = 0.2
DIGITS_SPLIT_SEED = 20140610  # Fixed: the split is part of the dataset, not of a run.
POINTS_PER_DATASET = 100_000
POINTS_DATA_SEED = 20170101


def load_digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
  """The 1,797 real 8x8 digit scans of scikit-learn, split deterministically.

  Args:
    split: "train" (80 %, stratified) or "test" (the held-out 20 %).

  Returns:
    images: uint8 [N, 8, 8, 1] in 0..255 (the scans' 0..16 scaled by 255/16, rounded).
    labels: int32 [N] in 0..9.
  """
  from sklearn.datasets import load_digits

  digits = load_digits()
  images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
  labels = digits.target.astype(np.int32)
  rng = np.random.default_rng(DIGITS_SPLIT_SEED)
  test_mask = np.zeros(len(labels), bool)
  for digit in range(10):  # Stratified: 20 % of every class is held out.
    members = np.flatnonzero(labels == digit)
    held = rng.choice(members, size=round(len(members) * DIGITS_HELD_OUT_FRACTION), replace=False)
    test_mask[held] = True
  if split == "train":
    return images[~test_mask], labels[~test_mask]
  if split == "test":
    return images[test_mask], labels[test_mask]
  raise ValueError(f"Unknown digits split {split!r}; valid splits: train, test.")


def mode_centers(name: str) -> tuple[np.ndarray, float]:
  """Centers [M, 2] and standard deviation of a 2-D mixture benchmark.

  ring8: 8 Gaussians evenly on a circle of radius 2, sigma 0.02 (VEEGAN, Srivastava 2017).
  ring8_pacgan: the same ring at half the scale, radius 1 and sigma 0.01, as PacGAN's code
    (fjxmlzn/PacGAN, 2DRing config) trains it.
  grid25: a 5x5 grid at {-4, -2, 0, 2, 4}^2, sigma 0.05 (VEEGAN; PacGAN, Lin 2018).
  """
  if name in ("ring8", "ring8_pacgan"):
    radius = 2.0 if name == "ring8" else 1.0
    angles = 2 * np.pi * np.arange(8) / 8
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01 * radius
  if name == "grid25":
    axis = np.arange(-4.0, 5.0, 2.0)
    return np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2), 0.05
  raise ValueError(f"Unknown 2-D dataset {name!r}; valid: ring8, ring8_pacgan, grid25.")


def sample_points(name: str, num: int = POINTS_PER_DATASET) -> tuple[np.ndarray, np.ndarray]:
  """A fixed sample of a 2-D mixture: points float32 [num, 2] and mode labels int32 [num]."""
  centers, sigma = mode_centers(name)
  rng = np.random.default_rng(POINTS_DATA_SEED)
  labels = rng.integers(0, len(centers), size=num).astype(np.int32)
  points = centers[labels] + sigma * rng.standard_normal((num, 2))
  return points.astype(np.float32), labels
