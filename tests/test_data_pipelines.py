"""Data sources and the (seed, step) data order, on embedded, generated and mock TFDS data."""

import numpy as np
import pytest
from PIL import Image

import data_pipelines
from data_pipelines import embedded, order


def test_order_is_pure_function_of_seed_and_step():
  kwargs = dict(global_batch=8, num_examples=20, seed=3)
  a = [order.example_indices(s, **kwargs) for s in range(10)]
  b = [order.example_indices(s, **kwargs) for s in (7, 2, 9, 0, 1, 3, 4, 5, 6, 8)]
  np.testing.assert_array_equal(a[7], b[0])
  np.testing.assert_array_equal(a[8], b[9])
  # Each epoch is a permutation: steps 0-1 and half of 2 cover examples 0..19 exactly once.
  first_epoch = np.concatenate(a)[:20]
  assert sorted(first_epoch.tolist()) == list(range(20))
  assert not np.array_equal(first_epoch, np.concatenate(a)[20:40])  # Reshuffled per epoch.


def test_process_slices_tile_the_global_batch():
  kwargs = dict(global_batch=12, num_examples=50, seed=1)
  whole = order.example_indices(5, **kwargs)
  parts = [order.example_indices(5, process_index=p, process_count=3, **kwargs) for p in range(3)]
  np.testing.assert_array_equal(np.concatenate(parts), whole)
  with pytest.raises(ValueError, match="divide evenly"):
    order.example_indices(0, process_count=5, **kwargs)


def test_digits_split_is_stratified_and_disjoint():
  train_x, train_y = embedded.load_digits_split("train")
  test_x, test_y = embedded.load_digits_split("test")
  assert len(train_y) + len(test_y) == 1797
  assert train_x.dtype == np.uint8 and train_x.shape[1:] == (8, 8, 1) and train_x.max() == 255
  assert set(np.bincount(test_y)) <= {35, 36, 37}  # 20 % of each class (174..183 per class).


def test_ring8_and_grid25_points():
  points, labels = embedded.sample_points("grid25", 5000)
  centers, sigma = embedded.mode_centers("grid25")
  assert centers.shape == (25, 2) and sigma == 0.05
  np.testing.assert_allclose((points - centers[labels]).std(), 0.05, rtol=0.05)
  centers, _ = embedded.mode_centers("ring8")
  np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0)


def test_digits_batches_resume_exactly():
  source = data_pipelines.build_source("digits")
  kwargs = dict(global_batch=16, seed=0, resolution=16, channels=3)
  stream = data_pipelines.batches(source, **kwargs)
  batches = [next(stream) for _ in range(4)]
  assert batches[0]["x"].shape == (16, 16, 16, 3) and batches[0]["x"].dtype == np.float32
  assert -1.0 <= batches[0]["x"].min() and batches[0]["x"].max() <= 1.0
  resumed = next(data_pipelines.batches(source, start_step=3, **kwargs))
  np.testing.assert_array_equal(resumed["x"], batches[3]["x"])
  np.testing.assert_array_equal(resumed["label"], batches[3]["label"])


def _write_images(root, per_class=3, size=(12, 10)):
  rng = np.random.default_rng(0)
  for name in ("cats", "dogs"):
    (root / name).mkdir(parents=True)
    for i in range(per_class):
      pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
      Image.fromarray(pixels).save(root / name / f"{i}.png")


def test_folder_source_labels_from_subfolders(tmp_path):
  _write_images(tmp_path)
  source = data_pipelines.build_source(f"folder:{tmp_path}")
  assert source.num_examples == 6 and source.num_classes == 2
  batch = next(data_pipelines.batches(source, global_batch=6, seed=0, resolution=8, channels=3))
  assert batch["x"].shape == (6, 8, 8, 3)
  assert sorted(batch["label"].tolist()) == [0, 0, 0, 1, 1, 1]


def test_corrupt_image_is_named_or_skipped(tmp_path):
  _write_images(tmp_path)
  bad = tmp_path / "dogs" / "broken.png"
  bad.write_bytes(b"\x89PNG not really")
  with pytest.raises(data_pipelines.DatasetError, match="broken.png"):
    data_pipelines.build_source(f"folder:{tmp_path}")
  source = data_pipelines.build_source(f"folder:{tmp_path}", skip_corrupt=True)
  assert source.num_examples == 6


def test_image_corrupted_after_scan_fails_with_its_path(tmp_path):
  _write_images(tmp_path, per_class=1)
  source = data_pipelines.build_source(f"folder:{tmp_path}")
  (tmp_path / "cats" / "0.png").write_bytes(b"garbage")
  with pytest.raises(data_pipelines.DatasetError, match="0.png"):
    next(data_pipelines.batches(source, global_batch=2, seed=0, resolution=8, channels=3))


def test_missing_folder_and_unknown_dataset_errors(tmp_path):
  with pytest.raises(data_pipelines.DatasetError, match="not found: .*missing"):
    data_pipelines.build_source(f"folder:{tmp_path}/missing")
  with pytest.raises(data_pipelines.DatasetError, match="Known datasets: digits"):
    data_pipelines.build_source("mnist")


def test_tfds_source_with_mock_data():
  import tensorflow_datasets as tfds

  with tfds.testing.mock_data(num_examples=12):
    source = data_pipelines.build_source("tfds:mnist")
    assert source.num_examples == 12 and source.num_classes == 10
    stream = data_pipelines.batches(source, global_batch=4, seed=0, resolution=32, channels=1)
    batch = next(stream)
  assert batch["x"].shape == (4, 32, 32, 1)
  assert batch["label"].dtype == np.int32


def test_a_tfds_training_slice_reads_that_slice_and_held_out_splits_whole(monkeypatch):
  """``tfds:mnist[:50000]`` (goodfeli/adversarial's training images) asks TFDS for
  ``train[:50000]``; the test split it is evaluated on stays whole."""
  import tensorflow_datasets as tfds

  asked = []
  real = tfds.data_source

  def spy(name, split, **kwargs):
    asked.append((name, split))
    return real(name, split=split, **kwargs)

  monkeypatch.setattr(tfds, "data_source", spy)
  with tfds.testing.mock_data(num_examples=12):
    train = data_pipelines.build_source("tfds:mnist[:50000]")
    data_pipelines.build_source("tfds:mnist[:50000]", split="test")
  assert asked == [("mnist", "train[:50000]"), ("mnist", "test")]
  assert train.name == "tfds:mnist[:50000]" and train.num_classes == 10


def test_tensorflow_loads_without_its_start_up_notices():
  """With TF_CPP_MIN_LOG_LEVEL=2 (what ``gans-jax`` sets) the pipeline's TensorFlow import
  writes nothing to stderr (TensorFlow 2.21 prints its notices before any log level applies);
  an error in Python still reaches stderr afterwards."""
  import os
  import subprocess
  import sys

  from tests.helpers import ROOT

  program = "import data_pipelines.pipeline as p; p.tf.constant(1); raise SystemExit('after')"
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
  completed = subprocess.run(
    [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True
  )
  assert completed.returncode == 1 and completed.stderr == "after\n", completed.stderr


def test_center_crop_cuts_the_central_square_as_torchvision_does(tmp_path):
  """crop="center": the min(H, W) square at torchvision CenterCrop's offsets, before resizing
  (LSUN as the DCGAN and WGAN reference codes read it); square images pass unchanged."""
  wide = np.arange(5 * 8 * 3, dtype=np.uint8).reshape(5, 8, 3)
  tall = np.arange(7 * 4 * 3, dtype=np.uint8).reshape(7, 4, 3)
  Image.fromarray(wide).save(tmp_path / "a_wide.png")
  Image.fromarray(tall).save(tmp_path / "b_tall.png")
  source = data_pipelines.build_source(f"folder:{tmp_path}", crop="center")
  # torchvision: top = round((h - side) / 2), left = round((w - side) / 2).
  np.testing.assert_array_equal(source.get(0)[0], wide[:, 2:7])  # round(1.5) = 2.
  np.testing.assert_array_equal(source.get(1)[0], tall[2:6, :])  # round(1.5) = 2.
  digits = data_pipelines.build_source("digits", crop="center")
  np.testing.assert_array_equal(digits.arrays[0], data_pipelines.build_source("digits").arrays[0])
  with pytest.raises(data_pipelines.DatasetError, match="crop='center' needs images"):
    data_pipelines.build_source("ring8", crop="center")
  with pytest.raises(data_pipelines.DatasetError, match="Unknown crop 'middle'"):
    data_pipelines.build_source("digits", crop="middle")


def test_direction_b_to_a_swaps_a_pair_sources_domains():
  """direction="BtoA" (junyanz's --direction): B images become the inputs, pair by pair."""
  forward = data_pipelines.build_source("scenes", split="test")
  backward = data_pipelines.build_source("scenes", split="test", direction="BtoA")
  a, b = forward.get(3, 3)
  b_first, a_second = backward.get(3, 3)
  np.testing.assert_array_equal(b_first, b)
  np.testing.assert_array_equal(a_second, a)
  assert (backward.num_a, backward.num_b) == (forward.num_b, forward.num_a)
  assert backward.names == forward.names[::-1]
  if forward.arrays is not None:
    np.testing.assert_array_equal(backward.arrays[0], forward.arrays[1])
  with pytest.raises(data_pipelines.DatasetError, match="direction='BtoA' needs two-domain"):
    data_pipelines.build_source("digits", direction="BtoA")
  with pytest.raises(data_pipelines.DatasetError, match="Unknown direction 'AB'"):
    data_pipelines.build_source("scenes", direction="AB")
