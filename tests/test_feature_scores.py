"""Inception Score, KID and precision/recall against closed forms and direct definitions."""

import itertools

import numpy as np
import pytest
from scipy.stats import entropy

from gans_jax.metrics import feature_scores


def test_inception_score_closed_forms():
  # Confident, balanced over C classes: p(y|x) one-hot, p(y) uniform -> IS = C exactly.
  classes = 7
  logits = np.full((70, classes), -1e4)
  logits[np.arange(70), np.arange(70) % classes] = 0.0
  mean, std = feature_scores.inception_score(logits, splits=2)
  assert mean == pytest.approx(classes, rel=1e-9) and std == pytest.approx(0, abs=1e-9)
  # Identical predictions for every sample: KL 0 -> IS = 1.
  same = np.tile(np.random.default_rng(0).normal(size=(1, 5)), (40, 1))
  assert feature_scores.inception_score(same, splits=4)[0] == pytest.approx(1.0, abs=1e-12)


def test_inception_score_matches_its_definition_per_split():
  rng = np.random.default_rng(1)
  logits = rng.normal(scale=3, size=(103, 11))
  order = np.random.RandomState(2020).permutation(103)
  probs = np.exp(logits[order]) / np.exp(logits[order]).sum(1, keepdims=True)
  scores = []
  for i in range(10):
    chunk = probs[i * 103 // 10 : (i + 1) * 103 // 10]
    scores.append(np.exp(np.mean([entropy(p, chunk.mean(0)) for p in chunk])))
  mean, std = feature_scores.inception_score(logits, splits=10, shuffle_seed=2020)
  assert mean == pytest.approx(np.mean(scores), rel=1e-10)
  assert std == pytest.approx(np.std(scores), rel=1e-8)


def direct_unbiased_mmd2(a, b):
  """U-statistic by explicit loops over pairs (the textbook formula)."""
  k = lambda x, y: (x @ y / a.shape[1] + 1) ** 3  # noqa: E731
  m = len(a)
  within = sum(k(a[i], a[j]) + k(b[i], b[j]) for i, j in itertools.permutations(range(m), 2))
  across = sum(k(a[i], b[j]) for i in range(m) for j in range(m))
  return within / (m * (m - 1)) - 2 * across / (m * m)


def test_kid_is_the_unbiased_polynomial_mmd_over_subsets():
  rng = np.random.default_rng(3)
  a, b = rng.normal(size=(12, 4)), rng.normal(0.5, 1.0, size=(15, 4))
  mean, std = feature_scores.kernel_distance(a, b, subsets=3, subset_size=12, seed=5)
  chooser = np.random.RandomState(5)
  expected = []
  for _ in range(3):
    sub_a = a[chooser.choice(12, 12, replace=False)]
    sub_b = b[chooser.choice(15, 12, replace=False)]
    expected.append(direct_unbiased_mmd2(sub_a, sub_b))
  assert mean == pytest.approx(np.mean(expected), rel=1e-10)
  assert std == pytest.approx(np.std(expected), rel=1e-8)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
  rng = np.random.default_rng(4)
  same = feature_scores.kernel_distance(
    rng.normal(size=(400, 8)), rng.normal(size=(400, 8)), subsets=10, subset_size=200
  )
  shifted = feature_scores.kernel_distance(
    rng.normal(size=(400, 8)), rng.normal(1.0, 1.0, size=(400, 8)), subsets=10, subset_size=200
  )
  assert abs(same[0]) < 3 * same[1] + 1e-3 and shifted[0] > 10 * abs(same[0])
  with pytest.raises(ValueError, match="subset size 500 exceeds"):
    feature_scores.kernel_distance(np.zeros((400, 2)), np.zeros((400, 2)), subset_size=500)


def test_precision_recall_on_a_hand_checked_line():
  # Reals at 0..9 on a line: radii (3rd neighbour) are 2 inside and 3 at the ends, so the first
  # four fakes (up to 2.5 beyond the last real) are inside and the last two far outside.
  real = np.arange(10.0)[:, None]
  fake = np.array([[0.5], [4.2], [9.9], [11.5], [30.0], [-20.0]])
  precision, recall = feature_scores.precision_recall(real, fake, k=3)
  radii = np.array([sorted(abs(real[:, 0] - r))[3] for r in real[:, 0]])
  inside = [(abs(f - real[:, 0]) <= radii).any() for f in fake[:, 0]]
  assert precision == pytest.approx(np.mean(inside)) and precision == pytest.approx(4 / 6)
  fake_radii = np.array([sorted(abs(fake[:, 0] - f))[3] for f in fake[:, 0]])
  covered = [(abs(r - fake[:, 0]) <= fake_radii).any() for r in real[:, 0]]
  assert recall == pytest.approx(np.mean(covered))
  # The same set against itself: everything is inside.
  assert feature_scores.precision_recall(real, real) == (1.0, 1.0)
  with pytest.raises(ValueError, match="more than k=3"):
    feature_scores.precision_recall(real[:3], fake)
