"""Parzen-window log-likelihood against a float64 brute force, scikit-learn and a closed form."""

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.neighbors import KernelDensity

from gans_jax.metrics import likelihood


def test_single_sample_is_a_gaussian_density():
  point = np.array([[0.3, -0.4, 1.0]])
  value = likelihood.parzen_log_likelihood(point, np.zeros((1, 3)), sigma=0.5)[0]
  expected = -np.sum(point**2) / (2 * 0.25) - 1.5 * np.log(2 * np.pi * 0.25)
  assert value == pytest.approx(expected, rel=1e-6)


def test_matches_a_float64_brute_force_and_scikit_learn():
  rng = np.random.default_rng(0)
  samples = rng.normal(size=(500, 6, 6)).astype(np.float32) * 0.5  # Flattened to 36 values.
  points = rng.normal(size=(300, 6, 6)).astype(np.float32) * 0.5
  flat_samples = samples.reshape(500, -1).astype(np.float64)
  flat_points = points.reshape(300, -1).astype(np.float64)
  squared = ((flat_points[:, None] - flat_samples[None]) ** 2).sum(-1)  # [300, 500]
  for sigma in (0.3, 1.0):
    ours = likelihood.parzen_log_likelihood(points, samples, sigma, batch_size=128)
    direct = (
      logsumexp(-squared / (2 * sigma**2), axis=1) - np.log(500) - 18 * np.log(2 * np.pi * sigma**2)
    )
    np.testing.assert_allclose(ours, direct, rtol=1e-5)
  # scikit-learn's tree-based KernelDensity agrees at a bandwidth where no point's density
  # underflows its bounds (at sigma 0.3 it returns values 20 nats off the brute force here).
  reference = KernelDensity(bandwidth=1.0).fit(flat_samples).score_samples(flat_points)
  np.testing.assert_allclose(ours, reference, rtol=1e-5)


def test_validation_picks_the_generating_bandwidth():
  # Samples and validation data from the same narrow mixture: the best sigma is the smallest
  # one that still covers the spread, and the report follows the GAN paper's protocol.
  rng = np.random.default_rng(1)
  centres = rng.normal(size=(5, 2)) * 5
  draw = lambda n: centres[rng.integers(0, 5, n)] + 0.2 * rng.normal(size=(n, 2))  # noqa: E731
  sigmas = [0.02, 0.2, 2.0]
  best, means = likelihood.select_sigma(draw(200), draw(2000), sigmas)
  assert best == 0.2 and means[0.2] > max(means[0.02], means[2.0])
  report = likelihood.parzen_evaluation(draw(300), draw(200), draw(2000), sigmas)
  assert report["parzen_sigma"] == 0.2 and 0 < report["parzen_ll_sem"] < 0.2


def test_errors_name_the_problem():
  with pytest.raises(ValueError, match="4 values vs samples of 3"):
    likelihood.parzen_log_likelihood(np.zeros((2, 4)), np.zeros((5, 3)), 1.0)
  with pytest.raises(ValueError, match="sigma must be positive, got 0"):
    likelihood.parzen_log_likelihood(np.zeros((2, 3)), np.zeros((5, 3)), 0)
