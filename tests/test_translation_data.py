"""Two-domain data: the embedded scenes, pix2pix / CycleGAN folder layouts, TFDS cycle_gan,
Tucker 2022's input noise, and the pair pipeline."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import data_pipelines
from data_pipelines import pipeline, scenes
from data_pipelines.images import replace_with_noise


def test_scenes_are_deterministic_and_maps_use_the_palette():
  first_map, first_render = scenes.scene(3, 32)
  again_map, again_render = scenes.scene(3, 32)
  np.testing.assert_array_equal(first_map, again_map)
  np.testing.assert_array_equal(first_render, again_render)
  colours = {tuple(c) for c in first_map.reshape(-1, 3)}
  assert colours <= {tuple(c) for c in scenes.MAP_PALETTE}
  assert {tuple(scenes.MAP_PALETTE[0]), tuple(scenes.MAP_PALETTE[3])} <= colours  # Sky, ground.
  # The renderings are textured: many more colours than classes.
  assert len({tuple(c) for c in first_render.reshape(-1, 3)}) > 50
  winter_map, winter_render = scenes.scene(3, 32, "winter")
  np.testing.assert_array_equal(winter_map, first_map)  # One layout, two styles.
  assert np.abs(winter_render.astype(int) - first_render).mean() > 20
  redrawn_map, redrawn_render = scenes.scene(3, 32, texture_draw=1)
  np.testing.assert_array_equal(redrawn_map, first_map)  # Same layout, other textures.
  assert 0 < np.abs(redrawn_render.astype(int) - first_render).mean() < 20
  with pytest.raises(ValueError, match="autumn"):
    scenes.scene(0, 32, "autumn")


def test_scene_sources_split_and_pair():
  train, test = (data_pipelines.build_source("scenes", split=s) for s in ("train", "test"))
  assert (train.num_a, test.num_a, train.paired) == (400, 100, True)
  assert not np.array_equal(train.get(0, 0)[0], test.get(0, 0)[0])
  unpaired = data_pipelines.build_source("scenes_unpaired")
  assert (unpaired.paired, unpaired.num_a, unpaired.num_b) == (False, 200, 200)
  # No scene in both domains: the maps behind A and B differ.
  _, winter = scenes.scenes_split("train", 64, "winter")
  assert not any(np.array_equal(unpaired.get(0, j)[1], winter[0]) for j in range(200))


def _save(path, array):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(array).save(path)


def test_paired_folder_splits_side_by_side_images(tmp_path):
  rng = np.random.default_rng(0)
  halves = {}
  for split in ("train", "val"):
    for i in range(3):
      a, b = rng.integers(0, 255, (2, 8, 8, 3), dtype=np.uint8)
      halves[split, i] = (a, b)
      _save(tmp_path / split / f"{i}.png", np.concatenate([a, b], axis=1))
  source = data_pipelines.build_source(f"paired:{tmp_path}")
  assert (source.paired, source.num_a) == (True, 3)
  a, b = source.get(1, 1)
  np.testing.assert_array_equal(a, halves["train", 1][0])
  np.testing.assert_array_equal(b, halves["train", 1][1])
  test = data_pipelines.build_source(f"paired:{tmp_path}", split="test")  # Falls back to val.
  np.testing.assert_array_equal(test.get(0, 0)[0], halves["val", 0][0])
  batch = next(
    data_pipelines.pair_batches(source, global_batch=3, seed=0, resolution=8, channels=(3, 3))
  )
  pairs = {(x.tobytes(), y.tobytes()) for x, y in zip(batch["a"], batch["b"], strict=True)}
  expected = {
    tuple(pipeline.to_model_range(h[None], 8, 3).numpy()[0].tobytes() for h in halves["train", i])
    for i in range(3)
  }
  assert pairs == expected  # Each A arrives with its own B.


def test_paired_folder_errors_name_the_problem(tmp_path):
  with pytest.raises(data_pipelines.DatasetError, match="No 'train' split folder"):
    data_pipelines.build_source(f"paired:{tmp_path}")
  _save(tmp_path / "train" / "odd.png", np.zeros((4, 7, 3), np.uint8))
  source = data_pipelines.build_source(f"paired:{tmp_path}")
  with pytest.raises(data_pipelines.DatasetError, match="7 pixels wide"):
    source.get(0, 0)


def test_unpaired_folders_layouts(tmp_path):
  for domain, count in (("A", 3), ("B", 5)):
    for i in range(count):
      _save(tmp_path / f"train{domain}" / f"{i}.png", np.full((6, 6, 3), i, np.uint8))
  root = data_pipelines.build_source(f"unpaired:{tmp_path}")
  assert (root.paired, root.num_a, root.num_b) == (False, 3, 5)
  pair = data_pipelines.build_source(f"unpaired:{tmp_path / 'trainB'},{tmp_path / 'trainA'}")
  assert (pair.num_a, pair.num_b) == (5, 3)
  with pytest.raises(data_pipelines.DatasetError, match="testA"):
    data_pipelines.build_source(f"unpaired:{tmp_path}", split="test")


def test_unpaired_domains_follow_independent_orders():
  source = data_pipelines.build_source("scenes_unpaired")
  a_first = [scenes.scenes_split("train", 64)[1][i] for i in range(200)]
  stream = data_pipelines.pair_batches(source, global_batch=200, seed=0, resolution=64)
  batch = next(stream)
  # Both domains are a full permutation of their images (an epoch of 200), in different orders.
  index_of = {pipeline.to_model_range(a[None], 64, 3).numpy()[0].tobytes(): i for i, a in
              enumerate(a_first)}  # fmt: skip
  order_a = [index_of[x.tobytes()] for x in batch["a"]]
  assert sorted(order_a) == list(range(200))
  assert not np.array_equal(batch["a"][:5], batch["b"][:5])


def test_tfds_cycle_gan_with_mock_data():
  import tensorflow_datasets as tfds

  with tfds.testing.mock_data(num_examples=6):
    source = data_pipelines.build_source("tfds:cycle_gan/horse2zebra")
    assert (source.paired, source.num_a, source.num_b) == (False, 6, 6)
    batch = next(data_pipelines.pair_batches(source, global_batch=2, seed=0, resolution=32))
  assert batch["a"].shape == batch["b"].shape == (2, 32, 32, 3)


def _distinct_images(rng, count, size=8):
  """``count`` random uint8 [size, size, 3] images, no two alike."""
  return rng.integers(0, 255, (count, size, size, 3), dtype=np.uint8)


def _paired_folder(root):
  a, b = _distinct_images(np.random.default_rng(1), 2 * 4).reshape(2, 4, 8, 8, 3)
  for k in range(4):
    _save(root / "test" / f"{k:02d}.png", np.concatenate([a[k], b[k]], axis=1))
  return f"paired:{root}", a, b


def _unpaired_root(root):
  a, b = (
    _distinct_images(np.random.default_rng(2), 3),
    _distinct_images(np.random.default_rng(3), 5),
  )
  for domain, images in (("A", a), ("B", b)):
    for k, image in enumerate(images):
      _save(root / f"test{domain}" / f"{k:02d}.png", image)
  return f"unpaired:{root}", a, b


def _unpaired_two_folders(root):
  a, b = (
    _distinct_images(np.random.default_rng(4), 4),
    _distinct_images(np.random.default_rng(5), 3),
  )
  for name, images in (("x", a), ("y", b)):
    for k, image in enumerate(images):
      _save(root / name / f"{k:02d}.png", image)
  return f"unpaired:{root / 'x'},{root / 'y'}", a, b


def _scenes(_):
  maps, renderings = scenes.scenes_split("test", 64)
  return "scenes", maps[:4], renderings[:4]


def _scenes_unpaired(_):
  _, summer = scenes.scenes_split("test", 64, "summer")
  _, winter = scenes.scenes_split("test", 64, "winter")
  half = len(summer) // 2
  return "scenes_unpaired", summer[:4], winter[half : half + 4]


@pytest.mark.parametrize(
  "make", [_paired_folder, _unpaired_root, _unpaired_two_folders, _scenes, _scenes_unpaired]
)
def test_kth_held_out_pair_is_the_kth_files_a_and_b(tmp_path, make):
  name, expected_a, expected_b = make(tmp_path)
  source = data_pipelines.build_source(name, split="test")
  size = expected_a.shape[1]
  inputs, targets = data_pipelines.reference_pairs(source, count=4, resolution=size)
  for got, expected in ((inputs, expected_a), (targets, expected_b)):
    assert len(got) == min(4, len(expected))
    for k, image in enumerate(got):
      np.testing.assert_array_equal(image, pipeline.to_model_range(expected[k][None], size, 3)[0])


def test_held_out_pairs_need_no_tensorflow_even_resized(tmp_path):
  name, _, _ = _paired_folder(tmp_path)
  program = (
    "import sys, data_pipelines\n"
    f"source = data_pipelines.build_source({name!r}, split='test')\n"
    "inputs, targets = data_pipelines.reference_pairs(source, count=4, resolution=12)\n"
    "assert inputs.shape == targets.shape == (4, 12, 12, 3), inputs.shape\n"
    "assert 'tensorflow' not in sys.modules\n"
  )
  subprocess.run([sys.executable, "-c", program], check=True)


def test_kth_held_out_pair_of_tfds_cycle_gan_is_the_kth_example():
  import tensorflow_datasets as tfds

  with tfds.testing.mock_data(num_examples=4):
    source = data_pipelines.build_source("tfds:cycle_gan/horse2zebra", split="test")
    inputs, targets = data_pipelines.reference_pairs(source, count=3, resolution=32)
    for got, split in ((inputs, "testA"), (targets, "testB")):
      examples = tfds.data_source("cycle_gan/horse2zebra", split=split)
      for k in range(3):
        expected = pipeline.to_model_range(examples[k]["image"][None], 32, 3).numpy()[0]
        np.testing.assert_array_equal(got[k], expected)


def test_a_paired_folder_without_test_split_is_judged_on_val_and_says_so(tmp_path):
  from gans_jax.metrics import translation

  _, a, b = _paired_folder(tmp_path)
  (tmp_path / "test").rename(tmp_path / "val")
  source = data_pipelines.build_source(f"paired:{tmp_path}", split="test")
  assert source.split == "val"
  assert data_pipelines.build_source("scenes", split="test").split == ""
  images = pipeline.to_model_range(b, 16, 3).numpy()  # Upsampled: SSIM needs 11x11.
  assert set(translation.paired_metrics(images, images, source.split)) == {
    "l1_4_val", "ssim_4_val", "psnr_4_val", "detail_ratio_4_val", "rgb_4_val"
  }  # fmt: skip


def test_paired_folder_reads_a_and_b_from_their_own_files(tmp_path):
  name, a, b = _paired_folder(tmp_path)
  source = data_pipelines.build_source(name, split="test")
  got_a, got_b = source.get(1, 3)
  np.testing.assert_array_equal(got_a, a[1])
  np.testing.assert_array_equal(got_b, b[3])


def test_input_noise_is_fixed_per_example():
  images = np.zeros((40, 16, 16, 3), np.uint8)
  noisy = replace_with_noise(images, np.arange(40), 0.25)
  changed = (noisy != 0).any(-1).mean(axis=(1, 2))  # Fraction of pixels changed per image.
  assert 0.18 < changed.mean() < 0.27  # 1/4 of the pixels, a few draws of exactly 0 aside.
  np.testing.assert_array_equal(noisy, replace_with_noise(images, np.arange(40), 0.25))
  half = replace_with_noise(images, np.arange(40), 0.25, image_fraction=0.5)
  touched = (half != 0).any(axis=(1, 2, 3))
  assert 10 < touched.sum() < 30
  np.testing.assert_array_equal(half[touched], noisy[touched])  # The same noise where applied.
  assert np.all(images == 0)  # The input is not modified.


def test_pair_batches_apply_noise_to_inputs_only():
  source = data_pipelines.build_source("scenes")
  clean = next(data_pipelines.pair_batches(source, global_batch=4, seed=1, resolution=64))
  noisy = next(
    data_pipelines.pair_batches(
      source, global_batch=4, seed=1, resolution=64, input_noise=(0.25, 1.0)
    )
  )
  np.testing.assert_array_equal(clean["b"], noisy["b"])
  changed = (np.abs(clean["a"] - noisy["a"]) > 1e-6).any(-1).mean()
  assert 0.15 < changed < 0.3
