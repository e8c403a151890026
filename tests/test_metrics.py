"""Metrics against closed forms and independent computations; the digits classifier's accuracy."""

import jax
import numpy as np
import pytest
import scipy.linalg

from data_pipelines import embedded
from gans_jax.metrics import digits_classifier, frechet, modes2d


def test_frechet_distance_closed_form_for_diagonal_gaussians():
  mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
  var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
  expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
  value = frechet.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
  np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_frechet_distance_matches_sqrtm_formula():
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(40, 6)), rng.normal(size=(40, 6)) * 2 + 1
  mu1, s1 = frechet.feature_statistics(a)
  mu2, s2 = frechet.feature_statistics(b)
  covmean = scipy.linalg.sqrtm(s1 @ s2).real
  expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
  np.testing.assert_allclose(frechet.frechet_distance(mu1, s1, mu2, s2), expected, rtol=1e-9)
  assert frechet.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0, abs=1e-9)


def test_mode_coverage_counts_modes_and_quality():
  centers, sigma = embedded.mode_centers("ring8")
  rng = np.random.default_rng(0)
  on_three = centers[rng.integers(0, 3, 900)] + sigma * rng.normal(size=(900, 2))
  far = np.full((100, 2), 10.0)
  result = modes2d.mode_coverage(np.concatenate([on_three, far]), centers, sigma)
  assert result["modes_covered"] == 3
  assert result["high_quality_frac"] == pytest.approx(0.9, abs=0.01)  # 99.7 % of 900 within 3σ.
  points, _ = embedded.sample_points("grid25", 2500)
  assert modes2d.mode_coverage(points, *embedded.mode_centers("grid25"))["modes_covered"] == 25


def test_one_high_quality_sample_covers_a_mode_as_pacgans_code_counts():
  centers, sigma = embedded.mode_centers("ring8")
  points = np.concatenate([np.repeat(centers[:1], 999, 0), centers[1:2] + [2.9 * sigma, 0.0]])
  result = modes2d.mode_coverage(points, centers, sigma)
  assert result["modes_covered"] == 2 and result["mode_counts"][:2] == [999, 1]
  assert (
    modes2d.mode_coverage(centers[:1] + [3.1 * sigma, 0.0], centers, sigma)["modes_covered"] == 0
  )


def test_reverse_kl_and_jsd_of_mode_histograms_in_closed_form():
  from scipy.spatial import distance

  assert modes2d.reverse_kl([7] * 25) == pytest.approx(0.0, abs=1e-12)
  assert modes2d.reverse_kl([0, 40, 0, 0]) == pytest.approx(np.log(4))
  # p = (1/2, 1/4, 1/4, 0): sum p log(4 p) = 1/2 log 2 + 2 (1/4) log 1 = log(2) / 2.
  assert modes2d.reverse_kl([2, 1, 1, 0]) == pytest.approx(np.log(2) / 2)
  assert modes2d.reverse_kl([0, 0]) == float("inf")
  counts = [5, 1, 0, 9, 3]
  expected = distance.jensenshannon(np.array(counts) / 18, np.full(5, 0.2)) ** 2
  assert modes2d.mode_jsd(counts) == pytest.approx(expected)
  centers, sigma = embedded.mode_centers("grid25")
  result = modes2d.mode_coverage(np.repeat(centers[:5], [2, 1, 1, 0, 0], axis=0), centers, sigma)
  assert result["reverse_kl"] == pytest.approx(np.log(25) - 1.5 * np.log(2))


@pytest.fixture(scope="session")
def classifier_params():
  return digits_classifier.load_or_train(*embedded.load_digits_split("train"))


def test_digits_classifier_held_out_accuracy(classifier_params):
  accuracy = digits_classifier.accuracy(classifier_params, *embedded.load_digits_split("test"))
  assert accuracy >= 0.97


def test_digits_classifier_is_cached_and_deterministic(classifier_params, tmp_path, monkeypatch):
  path = digits_classifier.cache_path(*embedded.load_digits_split("train"))
  assert path.exists()
  loaded = digits_classifier.load_or_train(*embedded.load_digits_split("train"))
  for a, b in zip(
    np.concatenate([np.ravel(x) for x in jax.tree.leaves(loaded)]),
    np.concatenate([np.ravel(x) for x in jax.tree.leaves(classifier_params)]),
    strict=True,
  ):
    assert a == b


def test_digits_evaluator_on_real_digits_through_the_pipeline(classifier_params):
  """Real held-out digits at 32x32 RGB, as a perfect generator would emit them, score high."""
  import data_pipelines
  from gans_jax.metrics import evaluators

  test = embedded.load_digits_split("test")
  source = data_pipelines.build_source("digits", split="test")
  real = next(
    data_pipelines.batches(source, global_batch=len(test[1]), seed=0, resolution=32, channels=3)
  )["x"]
  evaluate = evaluators.digits_evaluator(
    embedded.load_digits_split("train"), test, num_samples=len(real), latent_dim=1, resolution=32
  )
  # A "sampler" that hands out the real images in order.
  position = iter(range(0, 10**6, 500))
  result = evaluate(
    lambda z, labels, _: real[next(position) :][: len(z)], key=jax.random.PRNGKey(0)
  )
  tag = str(len(real))
  assert result[f"digits_confident_frac{tag}"] >= 0.95
  assert result[f"digits_min_class_frac{tag}"] >= 0.08
  assert result[f"digits_fd{tag}_test"] < 1.0
  assert result[f"digits_not_digit_frac{tag}"] <= 0.02
  noise = np.random.default_rng(0).uniform(-1, 1, real.shape).astype(np.float32)
  result_noise = evaluate(lambda z, labels, _: noise[: len(z)], key=jax.random.PRNGKey(0))
  assert result_noise[f"digits_fd{tag}_test"] > 10 * max(result[f"digits_fd{tag}_test"], 0.1)
  assert result_noise[f"digits_confident_frac{tag}"] <= 0.01
  assert result_noise[f"digits_not_digit_frac{tag}"] >= 0.95


def test_digits_classifier_rejects_blobs_and_shuffled_digits(classifier_params):
  rng = np.random.default_rng(1)
  images, _ = embedded.load_digits_split("test")
  inputs = (images / 127.5 - 1.0).reshape(len(images), 64)
  shuffled = rng.permuted(inputs, axis=1).reshape(-1, 8, 8, 1).astype(np.float32)
  probs, _ = digits_classifier.classify(classifier_params, shuffled)
  assert (probs.argmax(1) == digits_classifier.NOT_A_DIGIT).mean() >= 0.95


def test_samples_of_any_size_reach_the_classifier_by_area_averaging():
  """32x32 (8 divides it): 4x4 block means. 28x28 (MNIST's size): each output pixel averages
  3.5 x 3.5 input pixels, the shared pixel counted by the half that lies under it."""
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  blocks = images.mean(-1).reshape(2, 8, 4, 8, 4).mean((2, 4))
  np.testing.assert_allclose(digits_classifier.to_classifier_input(images)[..., 0], blocks)
  stripe = np.full((1, 28, 28, 1), -1.0, np.float32)
  stripe[:, :, 3] = 1.0  # Column 3 is half under output column 0, half under column 1.
  reduced = digits_classifier.to_classifier_input(stripe)[0, :, :, 0]
  expected = np.full(8, -1.0)
  expected[:2] = -1.0 + 2.0 * 0.5 / 3.5
  np.testing.assert_allclose(reduced, np.tile(expected, (8, 1)), atol=1e-6)
  with pytest.raises(Exception, match="at least 8x8"):
    digits_classifier.to_classifier_input(np.zeros((1, 4, 4, 1)))
