"""The offline feature network (rotation prediction on the run's own training images) and the
metrics on it: deterministic and cached, sensitive to what separates real images from broken ones,
and the default evaluation of a folder run."""

import json

import numpy as np
import pytest

from data_pipelines import embedded
from gans_jax import config_utils
from gans_jax.metrics import frechet, selfsup, suite

STEPS = 150  # Enough to separate digits from noise; the default is 400.


@pytest.fixture(scope="module")
def digits_16():
  """uint8 digits at 16x16 (train, test), as a model at that resolution sees them."""
  train, test = (embedded.load_digits_split(split)[0] for split in ("train", "test"))
  return tuple(np.repeat(np.repeat(x, 2, 1), 2, 2) for x in (train, test))


def _fd(a, b):
  return frechet.frechet_distance(*frechet.feature_statistics(a), *frechet.feature_statistics(b))


def test_training_is_deterministic_and_cached(digits_16, tmp_path, monkeypatch):
  monkeypatch.setenv("GANS_JAX_CACHE", str(tmp_path))
  images = digits_16[0][:200]
  first = selfsup.load_or_train(images, steps=5)
  (cached,) = tmp_path.glob("selfsup_rotation-*.msgpack")
  assert cached == selfsup.cache_path(images, 5)
  cached.unlink()
  again = selfsup.load_or_train(images, steps=5)  # Trained anew: the same bits.
  for x, y in zip(first.values(), again.values(), strict=True):
    for a, b in zip(x.values(), y.values(), strict=True):
      np.testing.assert_array_equal(a, b)
  assert selfsup.cache_path(images, 6) != cached  # Every setting keys the cache.


def test_features_separate_real_digits_from_broken_ones(digits_16):
  train, test = digits_16
  params = selfsup.load_or_train(train, steps=STEPS)
  rng = np.random.default_rng(0)
  n = len(test)
  real_train, _ = selfsup.embed(params, train[:n])
  real_test, _ = selfsup.embed(params, test)
  shuffled = rng.permuted(test.reshape(n, -1), axis=1).reshape(test.shape)  # Same pixel values.
  noise = rng.integers(0, 256, test.shape, dtype=np.uint8)
  blurred = np.repeat(np.repeat(test[:, ::4, ::4], 4, 1), 4, 2)  # Digits at 4x4, blown up.
  held_out = _fd(real_train, real_test)
  for broken in (shuffled, noise, blurred):
    assert _fd(real_train, selfsup.embed(params, broken)[0]) > 3 * held_out


def test_metric_names():
  (spec,) = suite.parse_metrics("kid1k_selfsup")
  assert (spec.kind, spec.count, spec.detector) == ("kid", 1000, "selfsup")
  with pytest.raises(config_utils.ConfigError, match="selfsup predicts rotations"):
    suite.parse_metrics("is1k_selfsup")


def test_a_folder_run_is_evaluated_offline_by_default(tmp_path):
  from PIL import Image

  from gans_jax import main
  from tests.helpers import TINY_DCGAN

  rng = np.random.default_rng(0)
  (tmp_path / "photos").mkdir()
  for i in range(24):
    Image.fromarray(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(
      tmp_path / "photos" / f"{i}.png"
    )
  overrides = [f"--config.{item}" for item in TINY_DCGAN] + [
    f"--config.dataset=folder:{tmp_path / 'photos'}", "--config.data.channels=3",
    "--config.eval.selfsup_steps=10", "--config.eval.inception_weights=/no/weights.npz",
  ]  # fmt: skip
  assert main.main(["train", "--workdir", str(tmp_path / "run"), *overrides]) == 0
  final = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
  assert final["kind"] == "eval"
  assert {"fd100_selfsup_train", "kid100_selfsup_train", "precision100_selfsup_train"} <= set(final)
  assert all(np.isfinite(v) for k, v in final.items() if k.endswith("_train"))
