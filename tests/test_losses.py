"""Adversarial losses against values computed by hand from their definitions."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax.losses import (
  ADVERSARIAL_LOSSES,
  get_adversarial_loss,
  logistic_discriminator_per_example,
)

REAL = jnp.array([2.0, -1.0])
FAKE = jnp.array([0.5, -3.0])


def sigmoid(t):
  return 1 / (1 + math.exp(-t))


def mean(values):
  return sum(values) / len(values)


def test_bce_discriminator_is_goodfellow_value_function():
  expected = -mean([math.log(sigmoid(t)) for t in REAL.tolist()]) - mean(
    [math.log(1 - sigmoid(t)) for t in FAKE.tolist()]
  )
  for name in ("minimax", "non_saturating"):
    value = get_adversarial_loss(name).discriminator(REAL, FAKE)
    np.testing.assert_allclose(value, expected, rtol=1e-6)


def test_stylegans_per_example_logistic_loss_is_the_same_value():
  per_example = logistic_discriminator_per_example(REAL, FAKE)
  expected = [
    -math.log(sigmoid(r)) - math.log(1 - sigmoid(f))
    for r, f in zip(REAL.tolist(), FAKE.tolist(), strict=True)
  ]
  np.testing.assert_allclose(per_example, expected, rtol=1e-6)
  bce = get_adversarial_loss("non_saturating").discriminator(REAL, FAKE)
  np.testing.assert_allclose(jnp.mean(per_example), bce, rtol=1e-6)


def test_minimax_generator_is_log_one_minus_d():
  expected = mean([math.log(1 - sigmoid(t)) for t in FAKE.tolist()])
  np.testing.assert_allclose(get_adversarial_loss("minimax").generator(FAKE), expected, rtol=1e-6)


def test_non_saturating_generator_is_minus_log_d():
  expected = -mean([math.log(sigmoid(t)) for t in FAKE.tolist()])
  value = get_adversarial_loss("non_saturating").generator(FAKE)
  np.testing.assert_allclose(value, expected, rtol=1e-6)


def test_wasserstein():
  loss = get_adversarial_loss("wasserstein")
  np.testing.assert_allclose(loss.discriminator(REAL, FAKE), (0.5 - 3.0) / 2 - (2.0 - 1.0) / 2)
  np.testing.assert_allclose(loss.generator(FAKE), -(0.5 - 3.0) / 2)


def test_hinge():
  loss = get_adversarial_loss("hinge")
  # real: max(0, 1-2)=0, max(0, 1+1)=2; fake: max(0, 1+0.5)=1.5, max(0, 1-3)=0.
  np.testing.assert_allclose(loss.discriminator(REAL, FAKE), (0 + 2) / 2 + (1.5 + 0) / 2)
  np.testing.assert_allclose(loss.generator(FAKE), 1.25)


def test_least_squares():
  loss = get_adversarial_loss("least_squares")
  real_term = 0.5 * mean([(2 - 1) ** 2, (-1 - 1) ** 2])
  fake_term = 0.5 * mean([0.5**2, 3.0**2])
  np.testing.assert_allclose(loss.discriminator(REAL, FAKE), real_term + fake_term)
  np.testing.assert_allclose(loss.generator(FAKE), 0.5 * mean([0.25, 16.0]))


def test_losses_stable_for_extreme_logits():
  big = jnp.array([1e4, -1e4])
  for loss in ADVERSARIAL_LOSSES.values():
    assert np.isfinite(loss.discriminator(big, -big))
    assert np.isfinite(loss.generator(big))


def test_unknown_loss_lists_known_ones():
  with pytest.raises(ValueError, match="non_saturating"):
    get_adversarial_loss("nonsaturating")
