"""Latent interpolation and DCGAN vector arithmetic (visualize.py) against hand-computed values."""

import math

import numpy as np
import pytest

from gans_jax import visualize


def test_slerp_keeps_the_norm_between_orthogonal_unit_vectors():
  a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
  np.testing.assert_allclose(visualize.slerp(a, b, 0.0), a, atol=1e-7)
  np.testing.assert_allclose(visualize.slerp(a, b, 1.0), b, atol=1e-7)
  half = math.sqrt(0.5)
  np.testing.assert_allclose(visualize.slerp(a, b, 0.5), [half, half], atol=1e-7)
  # A straight line would pass through (0.5, 0.5), of norm 0.71.
  np.testing.assert_allclose(visualize.interpolation_latents(a, b, 3, "lerp")[1], [0.5, 0.5])


def test_slerp_of_parallel_vectors_is_the_straight_line():
  a = np.array([1.0, 2.0])
  np.testing.assert_allclose(visualize.slerp(a, 3 * a, 0.5), 2 * a, rtol=1e-6)


def test_interpolation_latents_run_from_start_to_end():
  rng = np.random.default_rng(0)
  start, end = rng.normal(size=(2, 16))
  path = visualize.interpolation_latents(start, end, 7)
  assert path.shape == (7, 16)
  np.testing.assert_allclose(path[0], start, rtol=1e-5)
  np.testing.assert_allclose(path[-1], end, rtol=1e-5)
  with pytest.raises(ValueError, match="2 steps"):
    visualize.interpolation_latents(start, end, 1)


def test_vector_arithmetic_averages_exemplars_then_jitters():
  smiling_woman = np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]])  # Mean (2, 1).
  neutral_woman = np.array([[1.0, 1.0]])
  neutral_man = np.array([[0.0, 5.0], [0.0, 3.0]])  # Mean (0, 4).
  latents = visualize.vector_arithmetic(smiling_woman, neutral_woman, neutral_man, num=9)
  assert latents.shape == (9, 2)
  np.testing.assert_allclose(latents[0], [1.0, 4.0])
  assert np.all(np.abs(latents[1:] - latents[0]) <= 0.25)
  assert len({tuple(row) for row in latents}) == 9
