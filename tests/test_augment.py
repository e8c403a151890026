"""DiffAugment policies: exact pixel behaviour, gradients, and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import augment


def one_hot_images(batch=64, size=16):
  """Each image is -1 with one bright pixel at (5, 9): its shift is easy to read off."""
  images = -np.ones((batch, size, size, 1), np.float32)
  images[:, 5, 9, 0] = 1.0
  return jnp.asarray(images)


def test_translation_moves_each_image_by_whole_pixels_within_the_ratio():
  images = one_hot_images()
  moved = np.asarray(augment.translate(images, jax.random.PRNGKey(0), ratio=0.125))  # +-2 px.
  shifts = set()
  for image in moved:
    assert np.sum(image == 1.0) == 1 and np.sum(image == -1.0) == image.size - 1
    row, col = np.argwhere(image[..., 0] == 1.0)[0]
    shifts.add((row - 5, col - 9))
  assert {abs(dr) for dr, _ in shifts} | {abs(dc) for _, dc in shifts} <= {0, 1, 2}
  assert len(shifts) > 10  # Each image draws its own offset.


def test_translation_repeats_the_edge():
  images = jnp.broadcast_to(jnp.arange(8.0)[None, :, None, None], (32, 8, 8, 1))  # Row index.
  moved = np.asarray(augment.translate(images, jax.random.PRNGKey(1), ratio=0.25))
  for image in moved[..., 0]:
    column = image[:, 0]
    shift = column[4] - 4  # Rows keep their order; the first and last rows repeat.
    np.testing.assert_array_equal(column, np.clip(np.arange(8) + shift, 0, 7))


def test_cutout_zeroes_one_square_of_the_given_side():
  images = jnp.ones((64, 16, 16, 3))
  cut = np.asarray(augment.cutout(images, jax.random.PRNGKey(2), ratio=0.25))  # 4x4 squares.
  zeros = (cut == 0).all(-1)  # [B, H, W]; all channels together.
  assert set(np.unique(cut)) == {0.0, 1.0}
  assert (zeros.sum((1, 2)) <= 16).all() and (zeros.sum((1, 2)) == 16).mean() > 0.5
  for mask in zeros:
    rows, cols = np.nonzero(mask)
    if len(rows):  # One axis-aligned rectangle (a square, clipped at a border).
      assert mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()


def test_gradients_flow_through_the_augmentation():
  images = jax.random.normal(jax.random.PRNGKey(3), (8, 16, 16, 1))

  def total(x):
    return augment.diff_augment(x, jax.random.PRNGKey(4), ("translation", "cutout")).sum()

  grads = jax.grad(total)(images)
  # A pixel's gradient counts the copies of it that survive (edges can be repeated, cut-out
  # pixels are dropped), so it is a whole number, and most pixels survive once.
  np.testing.assert_array_equal(grads, np.round(grads))
  assert (grads == 1).mean() > 0.5


def test_empty_policy_is_the_identity_and_unknown_names_are_errors():
  points = jnp.ones((4, 2))
  assert augment.diff_augment(points, jax.random.PRNGKey(0), ()) is points
  assert augment.parse_policy(" translation, cutout ") == ("translation", "cutout")
  with pytest.raises(ValueError, match="'colour'"):
    augment.parse_policy("translation,colour")
  with pytest.raises(ValueError, match=r"images \[B, H, W, C\], got shape \(4, 2\)"):
    augment.diff_augment(points, jax.random.PRNGKey(0), ("translation",))
