"""ArtGAN: K + 1 targets, its loss against hand-computed values, the shared Enc/Dec autoencoder,
label flipping, the decaying learning rate, and a short run through the one loop."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import config_schema, config_utils, optimizers
from gans_jax.trainers import artgan, gan
from tests.helpers import ROOT, TINY_DCGAN


def _config(*extra):
  config = config_utils.load_config(f"{ROOT}/configs/artgan.py")
  config_utils.apply_overrides(config, [*TINY_DCGAN, *extra])
  return config


def test_targets_are_one_hot_over_k_plus_one_outputs():
  targets = artgan.categorical_targets(jnp.array([0, 3, 10]), 10)
  assert targets.shape == (3, 11)
  np.testing.assert_array_equal(np.argmax(targets, -1), [0, 3, 10])
  np.testing.assert_array_equal(targets.sum(-1), [1, 1, 1])


def test_categorical_loss_sums_binary_cross_entropies():
  # sigmoid(0) = 1/2 against 1 and sigmoid(ln 3) = 3/4 against 0: ln 2 + ln 4 = ln 8 per sample.
  logits = jnp.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
  targets = jnp.array([[1.0, 0.0], [1.0, 0.0]])
  np.testing.assert_allclose(artgan.categorical_loss(logits, targets), math.log(8.0), rtol=1e-6)


def test_label_flipping_swaps_real_and_generated_targets():
  key = jax.random.key(0)
  real, fake = jnp.array([1, 2, 3]), jnp.array([4, 5, 6])
  kept = artgan.flip_targets(key, real, fake, 10, 0.0)
  np.testing.assert_array_equal(kept[0], [1, 2, 3])
  np.testing.assert_array_equal(kept[1], [10, 10, 10])
  flipped = artgan.flip_targets(key, real, fake, 10, 1.0)
  np.testing.assert_array_equal(flipped[0], [10, 10, 10])
  np.testing.assert_array_equal(flipped[1], [4, 5, 6])
  labels = jnp.arange(20_000) % 10
  real_targets, _ = artgan.flip_targets(key, labels, labels, 10, 0.05)
  assert abs(float(jnp.mean(real_targets == 10)) - 0.05) < 0.01


def test_decoder_of_encoder_reconstructs_the_input_shape():
  config = _config()
  state = gan.init_state(config, jax.random.key(0), (8, 8, 1))
  images = jnp.zeros((3, 8, 8, 1))
  logits, _ = state.d.apply(images, train=False)
  assert logits.shape == (3, 11)
  features, _ = state.d.apply(images, train=False, method="encode")
  assert features.shape == (3, 4, 4, 4)  # Enc's output is zNet's output shape.
  reconstruction, _ = state.g.apply(features, train=False, method="decode")
  assert reconstruction.shape == images.shape
  samples, _ = state.g.apply(jnp.zeros((3, 8)), labels=jnp.array([0, 1, 2]), train=False)
  assert samples.shape == images.shape
  assert not np.allclose(samples[0], samples[1])  # The label reaches G.


def test_reconstruction_trains_only_the_decoder():
  """The L2 term's gradient reaches Dec and not zNet (nor D), and a G step dominated by it
  lowers the reconstruction error of the same images."""
  config = _config("artgan.reconstruction_weight=1e6")
  state = gan.init_state(config, jax.random.key(1), (8, 8, 1))
  real = jax.random.uniform(jax.random.key(2), (8, 8, 8, 1), minval=-1, maxval=1)
  grads = jax.grad(lambda p: artgan.reconstruction_error(state.g, state.d, p, real))(state.g.params)
  assert all(float(jnp.abs(leaf).max()) == 0 for leaf in jax.tree.leaves(grads["znet"]))
  assert max(float(jnp.abs(leaf).max()) for leaf in jax.tree.leaves(grads["decoder"])) > 0
  g, metrics = artgan._generator_update(state.g, state.d, real, jax.random.key(3), config=config)
  _, again = artgan._generator_update(g, state.d, real, jax.random.key(3), config=config)
  assert again["g_reconstruction"] < metrics["g_reconstruction"]


def test_artgan_needs_classes():
  config = _config("model.num_classes=0")
  with pytest.raises(ValueError, match="num_classes"):
    gan.init_state(config, jax.random.key(0), (8, 8, 1))


def test_exponential_learning_rate_decay():
  section = config_schema.optimizer_config("rmsprop", 1e-3, lr_decay_rate=0.9, lr_decay_steps=100)
  schedule = optimizers.learning_rate(section)
  np.testing.assert_allclose(
    [schedule(0), schedule(100), schedule(250)], [1e-3, 9e-4, 1e-3 * 0.9**2.5]
  )
  section.lr_decay_steps = 0
  with pytest.raises(ValueError, match="lr_decay_steps"):
    optimizers.learning_rate(section)
  assert optimizers.learning_rate(config_schema.optimizer_config("adam", 2e-4)) == 2e-4


def test_artgan_trains_through_the_loop(tmp_path):
  from gans_jax import main

  overrides = [f"--config.{item}" for item in TINY_DCGAN]
  args = ["train", "--config", f"{ROOT}/configs/artgan.py", "--workdir", str(tmp_path)]
  assert main.main([*args, *overrides]) == 0
  assert (tmp_path / "samples_000006.png").exists()


def test_artgan_trains_on_a_folder_of_class_subfolders(tmp_path, capsys):
  from PIL import Image

  from gans_jax import main

  rng = np.random.default_rng(0)
  for genre in ("landscape", "portrait"):
    (tmp_path / "art" / genre).mkdir(parents=True)
    for i in range(4):
      pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
      Image.fromarray(pixels).save(tmp_path / "art" / genre / f"{i}.png")
  overrides = [f"--config.{item}" for item in TINY_DCGAN if not item.startswith("num_steps")]
  overrides.append("--config.eval.selfsup_steps=10")  # The folder's offline metric, kept short.
  spec = f"{ROOT}/configs/artgan.py:dataset=folder:{tmp_path / 'art'},channels=3,steps=2"
  args = ["train", "--config", spec, "--workdir", str(tmp_path / "run"), *overrides]
  assert main.main([*args, "--config.model.num_classes=10"]) == 2  # The folder has 2.
  assert "model.num_classes=10 but folder:" in capsys.readouterr().err
  assert not (tmp_path / "run" / "checkpoints").exists()
  assert main.main(args) == 0  # Two classes, read from the subfolders.


def test_artistic_comparison_prints_both_rows(tmp_path, capsys):
  """Bhavsar 2018's comparison on a tiny budget: both variants train on the same data and steps, and
  the table has a row per variant plus the real data's, with the diversity measures."""
  import json

  from gans_jax import main

  tiny = [item for item in TINY_DCGAN if not item.startswith(("model.latent_dim", "data."))]
  overrides = [f"--config.{item}" for item in tiny]
  spec = f"{ROOT}/configs/artistic.py:resolution=16,width=4,steps=4"
  args = [
    "artistic-comparison",
    "--config",
    spec,
    "--workdir",
    str(tmp_path),
    "--num-samples",
    "64",
  ]
  assert main.main([*args, *overrides]) == 0
  table = capsys.readouterr().out.splitlines()[-4:]
  assert table[0].split()[:5] == [
    "variant",
    "seed",
    "pairwise_distance",
    "ms_ssim_diversity",
    "ms_ssim_scales",
  ]
  assert [line.split()[0] for line in table[1:]] == ["clip_and_noise", "plain_dcgan", "real_data"]
  rows = json.loads((tmp_path / "comparison.json").read_text())
  clipped = json.loads((tmp_path / "clip_and_noise" / "config.json").read_text())
  plain = json.loads((tmp_path / "plain_dcgan" / "config.json").read_text())
  assert (clipped["d_weight_clip"], clipped["d_input_noise"]) == (0.01, 0.1)
  assert (plain["d_weight_clip"], plain["d_input_noise"]) == (0.0, 0.0)
  assert clipped["num_steps"] == plain["num_steps"] == 6
  for row in rows:
    assert 0.0 < row["pairwise_distance"] < 1.0 and 0.0 < row["ms_ssim_diversity"] <= 2.0
  assert 0.0 <= rows[0]["class_entropy_bits"] <= 3.33
  assert rows[-1]["class_entropy_bits"] > 3.3  # The real digits are nearly balanced.
  args[2] = f"{ROOT}/configs/artistic.py:resolution=8"
  assert main.main(args) == 2  # Too small for MS-SSIM: said before any training.
  assert "at least 11x11" in capsys.readouterr().err


def test_artistic_comparison_over_seeds_on_the_landscapes(tmp_path):
  """Several seeds per variant on the embedded landscapes: a run per variant and seed, the
  judge's Fréchet distance and the near-duplicate count per run, then mean +- std per variant
  (one variant here: the command's two are the test above)."""
  import json

  from gans_jax import studies

  tiny = [item for item in TINY_DCGAN if not item.startswith(("model.latent_dim", "data."))]
  spec = f"{ROOT}/configs/artistic.py:dataset=landscapes,resolution=16,channels=3,width=4,steps=2"
  config = config_utils.load_config(spec)
  config_utils.apply_overrides(config, tiny)
  variants = {"plain_dcgan": studies.ARTISTIC_VARIANTS["plain_dcgan"]}
  rows = studies.compare_variants(
    config, tmp_path, variants, num_samples=40, seeds=2, log=lambda _: None
  )
  assert [(r["variant"], r.get("seed")) for r in rows] == [
    ("plain_dcgan", 0), ("plain_dcgan", 1), ("real_data", None)
  ]  # fmt: skip
  for seed in (0, 1):
    saved = json.loads((tmp_path / "plain_dcgan" / f"seed{seed}" / "config.json").read_text())
    assert (saved["seed"], saved["dataset"], saved["d_weight_clip"]) == (seed, "landscapes", 0.0)
  assert all(row["fd_judge"] > 0 for row in rows)
  assert all(0 <= row["near_duplicate_pairs"] <= 40 * 39 // 2 for row in rows[:-1])
  assert rows[-1]["near_duplicate_threshold"] > 0.05  # Distinct renderings differ.
  table = studies.format_comparison(rows)
  summary = table[table.index("Mean ± std over seeds:") :].splitlines()
  assert summary[2].split()[:3] == ["plain_dcgan", "(2", "seeds)"]


def test_near_duplicates_count_pairs_closer_than_a_threshold():
  from gans_jax.metrics import diversity

  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (6, 4, 4, 3), dtype=np.uint8)
  images[3] = images[0]
  images[5] = images[0]  # Three copies of one image: three pairs at distance 0.
  assert diversity.near_duplicate_pairs(images, 1e-6) == 3  # Gram-matrix roundoff: < 1e-7.
  assert diversity.closest_pair_distance(images) == pytest.approx(0.0, abs=1e-6)
  two = np.zeros((2, 2, 2, 1), np.uint8)
  two[1] = 51  # Every pixel 0.2 apart: RMS 0.2.
  assert diversity.closest_pair_distance(two) == pytest.approx(0.2)
  assert (
    diversity.near_duplicate_pairs(two, 0.2) == 0 and diversity.near_duplicate_pairs(two, 0.21) == 1
  )


def test_class_entropy_in_bits():
  from gans_jax.metrics import diversity

  assert diversity.class_entropy([0.25] * 4) == pytest.approx(2.0)
  assert diversity.class_entropy([5, 0, 0]) == 0.0
  assert diversity.class_entropy([0, 0]) == 0.0
  images = np.zeros((4, 16, 16, 1), np.uint8)
  images[2:] = 255  # Pairs (0, 2) and (1, 3): black against white, distance 1.
  assert diversity.mean_pairwise_distance(images) == pytest.approx(1.0)
