"""SSIM, PSNR and L1 against scikit-image's reference implementations."""

import jax.numpy as jnp
import numpy as np
import pytest
from skimage import metrics as skmetrics

from gans_jax.metrics import image_similarity


def image_pairs(shape, seed=0):
  """Targets with smooth structure and noisy, shifted, contrast-changed copies in [-1, 1]."""
  rng = np.random.default_rng(seed)
  batch, height, width, channels = shape
  yy, xx = np.mgrid[:height, :width] / max(height, width)
  base = np.stack([np.sin(6 * xx + c) * np.cos(4 * yy - c) for c in range(channels)], -1)
  targets = np.clip(base[None] + 0.3 * rng.normal(size=shape), -1, 1)
  scale = rng.uniform(0.5, 1.0, (batch, 1, 1, 1))
  images = np.clip(scale * np.roll(targets, 1, axis=2) + 0.2 * rng.normal(size=shape), -1, 1)
  images[0] = targets[0]  # One identical pair: SSIM 1, PSNR inf.
  return images.astype(np.float32), targets.astype(np.float32)


@pytest.mark.parametrize("shape", [(3, 32, 32, 3), (2, 23, 40, 1), (2, 11, 11, 2)])
def test_ssim_matches_scikit_image(shape):
  images, targets = image_pairs(shape)
  ours = np.asarray(image_similarity.ssim(jnp.asarray(images), jnp.asarray(targets)))
  reference = [
    skmetrics.structural_similarity(
      image.astype(np.float64),
      target.astype(np.float64),
      gaussian_weights=True,
      sigma=1.5,
      use_sample_covariance=False,
      data_range=2.0,
      channel_axis=-1,
    )
    for image, target in zip(images, targets, strict=True)
  ]
  np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)
  assert ours[0] == pytest.approx(1.0, abs=1e-6) and (ours[1:] < 0.9).all()


def test_psnr_and_l1_match_references():
  images, targets = image_pairs((3, 16, 16, 3), seed=1)
  ours = np.asarray(image_similarity.psnr(jnp.asarray(images), jnp.asarray(targets)))
  assert np.isinf(ours[0])
  for i in (1, 2):
    expected = skmetrics.peak_signal_noise_ratio(targets[i], images[i], data_range=2.0)
    assert ours[i] == pytest.approx(expected, rel=1e-5)
  l1 = np.asarray(image_similarity.l1(jnp.asarray(images), jnp.asarray(targets)))
  np.testing.assert_allclose(l1, np.abs(images - targets).mean((1, 2, 3)), rtol=1e-6)


def test_gaussian_window_is_normalised_and_symmetric():
  window = np.asarray(image_similarity.gaussian_window(11, 1.5))
  assert window.sum() == pytest.approx(1.0, abs=1e-6)
  np.testing.assert_allclose(window, window[::-1])
  assert window.argmax() == 5


def test_ssim_errors_name_the_shapes():
  with pytest.raises(ValueError, match=r"\(1, 8, 8, 1\) and \(1, 8, 9, 1\)"):
    image_similarity.ssim(jnp.zeros((1, 8, 8, 1)), jnp.zeros((1, 8, 9, 1)))
  with pytest.raises(ValueError, match="8x8 are smaller than the 11x11"):
    image_similarity.ssim(jnp.zeros((1, 8, 8, 1)), jnp.zeros((1, 8, 8, 1)))


def test_rgb_distance_report_by_hand():
  targets = np.zeros((1, 1, 2, 3))
  targets[0, 0, 1] = [2.0, 4.0, 6.0]
  generated = np.zeros((1, 1, 2, 3))
  generated[0, 0, 0] = [3.0, 0.0, 4.0]  # |diff| = (3, 0, 4), norm 5.
  generated[0, 0, 1] = [2.0, 4.0, 6.0]  # Exact: norm 0.
  report = image_similarity.rgb_distance_report(generated, targets)
  assert report["target_mean"] == [1.0, 2.0, 3.0] and report["target_var"] == [1.0, 4.0, 9.0]
  assert report["generated_mean"] == [2.5, 2.0, 5.0]
  assert report["abs_diff_mean"] == [1.5, 0.0, 2.0] and report["abs_diff_var"] == [2.25, 0, 4]
  assert report["diff_norm_mean"] == 2.5
  with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
    image_similarity.rgb_distance_report(generated[..., :1], targets[..., :1])


@pytest.mark.parametrize(
  "shape, weights",
  [
    ((2, 161, 170, 3), image_similarity.MS_SSIM_WEIGHTS),  # Odd sides: mirrored padding.
    ((3, 32, 32, 1), (0.4, 0.6)),  # Two scales, as for the 32x32 digits.
  ],
)
def test_ms_ssim_matches_tensorflow(shape, weights):
  tf = pytest.importorskip("tensorflow")
  images, targets = ((x + 1) / 2 for x in image_pairs(shape, seed=1))  # In [0, 1].
  ours = image_similarity.ms_ssim(
    jnp.asarray(images), jnp.asarray(targets), data_range=1.0, weights=weights
  )
  reference = tf.image.ssim_multiscale(images, targets, max_val=1.0, power_factors=weights)
  np.testing.assert_allclose(np.asarray(ours), reference.numpy(), rtol=1e-5, atol=1e-6)
  assert float(ours[0]) == pytest.approx(1.0, abs=1e-6)


def test_ms_ssim_names_the_size_it_needs():
  with pytest.raises(ValueError, match=">= 161"):
    image_similarity.ms_ssim(jnp.zeros((1, 160, 160, 1)), jnp.zeros((1, 160, 160, 1)))
