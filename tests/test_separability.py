"""Linear separability (Karras et al. 2019, Sec. 4.2): closed forms, synthetic latent spaces with
known answers, metric names and the evaluator's fit to the run."""

import jax
import numpy as np
import pytest

from gans_jax import config_utils, errors, evaluation, loop
from gans_jax.metrics import registry, separability
from tests.test_translation import CONFIGS


def test_conditional_entropy_closed_forms():
  assert separability.conditional_entropy([[5, 0], [0, 5]]) == 0.0  # Y known from X.
  assert separability.conditional_entropy([[1, 1], [1, 1]]) == pytest.approx(1.0)  # Independent.
  # X = 0 always (an SVM that says one side), Y balanced: H(Y | X) = H(Y) = 1 bit.
  assert separability.conditional_entropy([[3, 3], [0, 0]]) == pytest.approx(1.0)
  # p(x, y) = [[.4, .1], [.1, .4]]: H(Y|X) = H2(0.2) = 0.7219 bits.
  assert separability.conditional_entropy([[4, 1], [1, 4]]) == pytest.approx(0.721928, abs=1e-6)


def _latents(n=2000, d=8, seed=0):
  return np.random.default_rng(seed).normal(size=(n, d))


def test_separable_attributes_score_one():
  """Attributes that are half-spaces of z: exp(0) = 1, whatever their number."""
  z = _latents()
  logits = np.stack([z[:, 0], z[:, 1] - z[:, 2], 0.5 * z[:, 3] + z[:, 4] + 0.3], 1)
  attributes = 1 / (1 + np.exp(-8 * logits))
  assert separability.linear_separability(z, attributes) == pytest.approx(1.0, abs=1e-9)


def test_attributes_unrelated_to_the_latents_score_two_per_attribute():
  """Balanced attributes independent of z: about 1 bit each, so about 2 ** A (A = 2 here)."""
  z = _latents()
  attributes = np.random.default_rng(1).uniform(size=(len(z), 2))
  assert 3.5 < separability.linear_separability(z, attributes) <= 4.0


def test_a_constant_attribute_is_taken_as_perfectly_predicted():
  z = _latents(200)
  assert separability.attribute_entropy(z, np.full(len(z), 0.9)) == 0.0


def test_names_parse_and_errors_name_the_grammar():
  spec = separability.parse("ls10k_w_digits")
  assert (spec.count, spec.space, spec.classifier, spec.key) == (10_000, "w", "digits",
                                                                  "ls10k_w_digits")  # fmt: skip
  assert separability.parse("ls_z_digits", 500).key == "ls500_z_digits"
  assert registry.grammar_of("ls1k_z_digits").name == "separability"
  for bad in ("ls10k_digits", "ls0_z_digits", "ls10k_z_inception"):
    with pytest.raises(errors.ConfigError, match=r"ls\[COUNT\]_\{z\|w\}_digits"):
      separability.parse(bad)


def _config(spec, *overrides):
  config = config_utils.load_config(f"{CONFIGS}/{spec}")
  config_utils.apply_overrides(config, list(overrides))
  return config


@pytest.mark.parametrize(
  "spec, metrics, message",
  [
    ("dcgan.py", "ls1k_w_digits", "W needs a mapping network"),
    ("cgan.py", "ls1k_z_digits", "unconditional digits samples"),
    ("dcgan.py:dataset=folder:/nowhere", "ls1k_z_digits", "not a gan run on folder"),
  ],
)
def test_separability_that_does_not_fit_the_run_is_refused(spec, metrics, message):
  with pytest.raises(errors.ConfigError, match=message):
    evaluation.make_evaluator(_config(spec, f"eval.metrics={metrics}"))


def test_separability_of_a_digits_run_is_a_named_metric():
  """An untrained DCGAN on digits: a value between 1 and 2 ** 10, drawn from the metric key's
  z as the other metrics draw it, and the same twice."""
  config = _config("dcgan.py", "eval.protocol=none", "eval.metrics=ls600_z_digits")
  evaluate = evaluation.make_evaluator(config)
  state = loop.initial_state(config, (32, 32, 1))
  first = evaluate(state, jax.random.PRNGKey(3))
  assert set(first) == {"ls600_z_digits"} and 1.0 <= first["ls600_z_digits"] <= 2.0**10
  assert evaluate(state, jax.random.PRNGKey(3)) == first
