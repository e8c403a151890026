"""pix2pix and CycleGAN: reference parameter counts, jitter, the image history, the losses, the
steps' gradients, and checkpoint/resume of the history."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import config_schema, config_utils, experiment, loop, optimizers, runs
from gans_jax.losses import target_loss
from gans_jax.models import cyclegan as cyclegan_models
from gans_jax.models import pix2pix as pix2pix_models
from gans_jax.trainers import cyclegan, pix2pix, translation
from tests.helpers import ROOT

CONFIGS = ROOT / "configs"


def _count(module, *inputs):
  variables = jax.eval_shape(
    lambda: module.init(
      {"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)}, *inputs, train=False
    )  # fmt: skip
  )
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(variables["params"]))


def test_reference_parameter_counts():
  image = jnp.zeros((1, 256, 256, 3))
  assert _count(pix2pix_models.UNetGenerator((256, 256, 3)), image) == 54_413_955
  unet_128 = pix2pix_models.UNetGenerator((128, 128, 3), num_downs=7)
  assert _count(unet_128, jnp.zeros((1, 128, 128, 3))) == 41_828_995
  assert _count(pix2pix_models.PatchDiscriminator(), jnp.zeros((1, 256, 256, 6))) == 2_768_705
  assert _count(cyclegan_models.ResnetGenerator((256, 256, 3)), image) == 11_378_179
  patch_instance = pix2pix_models.PatchDiscriminator(norm="instance")
  assert _count(patch_instance, image) == 2_764_737


def test_describe_prints_the_papers_counts():
  pix = runs.describe(config_utils.load_config(f"{CONFIGS}/pix2pix.py:dataset=facades"))
  assert (pix["generator_params"], pix["discriminator_params"]) == (54_413_955, 2_768_705)
  cycle_config = config_utils.load_config(f"{CONFIGS}/cyclegan.py:dataset=horse2zebra")
  cycle = runs.describe(cycle_config)
  assert (cycle["generator_params"], cycle["generator_params_b"]) == (11_378_179, 11_378_179)
  assert (cycle["discriminator_params"], cycle["discriminator_params_b"]) == (2_764_737,) * 2
  assert cycle_config.model.generator.num_blocks == 9
  assert cycle["generator_output_shape"] == [256, 256, 3]


def _image_files(folder, count, width=8):
  from PIL import Image

  folder.mkdir(parents=True)
  for i in range(count):
    Image.fromarray(np.full((8, width, 3), i, np.uint8)).save(folder / f"{i}.png")


def test_own_folder_presets_scale_with_resolution_and_steps(tmp_path):
  _image_files(tmp_path / "paired" / "train", 7, width=16)
  spec = f"{CONFIGS}/pix2pix.py:dataset=paired:{tmp_path / 'paired'}"
  paper = config_utils.load_config(spec)
  # The paper's schedule on the folder's own size: 200 epochs of 7 images at batch 1.
  assert (paper.num_steps, paper.data.resolution, paper.model.generator.num_downs) == (1400, 256, 8)
  own = config_utils.load_config(f"{spec},resolution=64,steps=300")
  assert (own.data.resolution, own.data.load_size, own.model.generator.num_downs) == (64, 72, 6)
  for role in ("g", "d"):
    assert (own.optim[role].lr_constant_steps, own.optim[role].lr_linear_decay_steps) == (150, 150)
  config_utils.apply_overrides(own, ["num_steps=500"])  # The schedule follows num_steps...
  assert (own.optim.g.lr_constant_steps, own.optim.d.lr_linear_decay_steps) == (250, 250)
  config_utils.apply_overrides(own, ["optim.g.lr_constant_steps=400"])  # ...or the decay does.
  assert own.optim.g.lr_linear_decay_steps == 100
  config_utils.validate(own)
  config_utils.apply_overrides(own, ["optim.d.lr_linear_decay_steps=40000"])
  with pytest.raises(config_utils.ConfigError, match="optim.d.lr_constant_steps=250 .*num_steps"):
    config_utils.validate(own)
  with pytest.raises(config_utils.ConfigError, match="resolution=48 must be a power of 2"):
    config_utils.load_config(f"{spec},resolution=48")

  _image_files(tmp_path / "cycle" / "trainA", 3)
  _image_files(tmp_path / "cycle" / "trainB", 5)
  cycle = config_utils.load_config(
    f"{CONFIGS}/cyclegan.py:dataset=unpaired:{tmp_path / 'cycle'},resolution=64"
  )
  # An epoch is the larger domain (5 images); 6 residual blocks below 256x256.
  assert (cycle.num_steps, cycle.data.resolution, cycle.model.generator.num_blocks) == (1000, 64, 6)
  assert (cycle.optim.g.lr_constant_steps, cycle.optim.g.lr_linear_decay_steps) == (500, 500)
  with pytest.raises(Exception, match="No folder .*missing"):
    config_utils.load_config(f"{CONFIGS}/cyclegan.py:dataset=unpaired:{tmp_path / 'missing'}")


def test_patchgan_sees_70x70_patches():
  """One output logit depends on exactly a 70x70 window of the input (with fixed normalisation
  statistics: per-image statistics would make every logit see the whole image)."""
  d = pix2pix_models.PatchDiscriminator(width=4)
  x = jnp.zeros((1, 128, 128, 3))
  variables = d.init(jax.random.PRNGKey(0), x, train=False)

  def logit_grad_support(row, col):
    grads = jax.grad(lambda x: d.apply(variables, x, train=False)[0, row, col])(x)
    rows, cols = np.nonzero(np.abs(np.asarray(grads[0])).sum(-1))
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1

  assert logit_grad_support(7, 7) == (70, 70)


def test_patchgan_too_small_input_is_a_clear_error():
  with pytest.raises(ValueError, match="at least 24x24"):
    pix2pix_models.PatchDiscriminator(n_layers=3).init(
      jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)), train=False
    )


def test_unet_resolution_error_and_output_range():
  with pytest.raises(ValueError, match="multiple of 64"):
    pix2pix_models.UNetGenerator((48, 48, 3), num_downs=6).init(
      jax.random.PRNGKey(0), jnp.zeros((1, 48, 48, 3)), train=False
    )
  g = pix2pix_models.UNetGenerator((32, 32, 2), num_downs=5, width=4)
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 32, 32, 3))
  variables = g.init(jax.random.PRNGKey(0), x, train=False)
  y = g.apply(variables, x, train=False)
  assert y.shape == (2, 32, 32, 2) and float(jnp.abs(y).max()) <= 1.0


def test_random_jitter_crops_and_mirrors_pairs_alike():
  a = jnp.arange(2 * 9 * 9 * 1, dtype=jnp.float32).reshape(2, 9, 9, 1)
  b = jnp.concatenate([a, -a], -1)  # Another channel count, same content.
  for seed in range(6):
    out_a, out_b = translation.random_jitter([a, b], jax.random.PRNGKey(seed), 6, flip=True)
    assert out_a.shape == (2, 6, 6, 1) and out_b.shape == (2, 6, 6, 2)
    np.testing.assert_array_equal(out_b[..., :1], out_a)
    for image, window in zip(np.asarray(a), np.asarray(out_a), strict=True):
      candidates = [
        image[r : r + 6, c : c + 6] for r in range(4) for c in range(4)
      ]  # Every crop, and every mirrored crop.
      assert any(
        np.array_equal(window, x) or np.array_equal(window, x[:, ::-1]) for x in candidates
      )
  same, _ = translation.random_jitter([a, b], jax.random.PRNGKey(0), 9, flip=False)
  np.testing.assert_array_equal(same, a)
  with pytest.raises(ValueError, match="smaller than the crop"):
    translation.random_jitter([a], jax.random.PRNGKey(0), 10, flip=False)


def test_target_loss_closed_forms():
  x = jnp.array([[0.0, 2.0], [-1.0, 0.5]])
  softplus = lambda t: np.log1p(np.exp(t))
  np.testing.assert_allclose(
    target_loss(x, True, "non_saturating"), np.mean(softplus(-np.asarray(x))), rtol=1e-6
  )
  np.testing.assert_allclose(
    target_loss(x, False, "non_saturating"), np.mean(softplus(np.asarray(x))), rtol=1e-6
  )
  np.testing.assert_allclose(target_loss(x, True, "least_squares"), (1 + 1 + 4 + 0.25) / 4)
  np.testing.assert_allclose(target_loss(x, False, "least_squares"), (0 + 4 + 1 + 0.25) / 4)
  with pytest.raises(ValueError, match="hinge"):
    target_loss(x, True, "hinge")


def test_linear_learning_rate_decay():
  section = config_schema.optimizer_config(
    "adam", 2e-4, lr_constant_steps=100, lr_linear_decay_steps=100
  )
  schedule = optimizers.learning_rate(section)
  np.testing.assert_allclose([schedule(0), schedule(100), schedule(150), schedule(200)],
                             [2e-4, 2e-4, 1e-4, 0.0], atol=1e-12)  # fmt: skip
  section.lr_decay_rate = 0.5
  with pytest.raises(ValueError, match="Choose one decay"):
    optimizers.learning_rate(section)


_query_pool = jax.jit(cyclegan.query_pool)


def _query(pool, size, images, seed):
  return _query_pool(pool, size, images, jax.random.PRNGKey(seed))


def test_image_pool_fills_then_swaps_half_the_time():
  pool, size = jnp.zeros((3, 1)), jnp.int32(0)
  out, pool, size = _query(pool, size, jnp.array([[1.0], [2.0]]), 0)
  np.testing.assert_array_equal(out, [[1.0], [2.0]])  # Filling: images pass through...
  np.testing.assert_array_equal(pool, [[1.0], [2.0], [0.0]])  # ...and are stored.
  out, pool, size = _query(pool, size, jnp.array([[3.0]]), 1)
  assert int(size) == 3 and float(out[0, 0]) == 3.0
  swapped = 0
  for step in range(400):
    new = jnp.array([[10.0 + step]])
    before = np.asarray(pool)
    out, pool, size = _query(pool, size, new, 100 + step)
    value = float(out[0, 0])
    if value == 10.0 + step:  # Used as it is; the history is unchanged.
      np.testing.assert_array_equal(pool, before)
    else:  # A stored image came out, and the new one took its slot.
      swapped += 1
      slot = int(np.flatnonzero(before[:, 0] == value)[0])
      assert float(pool[slot, 0]) == 10.0 + step
  assert 160 < swapped < 240  # p = 1/2.
  empty = jnp.zeros((0, 1))
  out, _, _ = _query(empty, jnp.int32(0), jnp.array([[5.0]]), 0)
  assert float(out[0, 0]) == 5.0


def _tiny(config_name, **overrides):
  config = config_utils.load_config(f"{CONFIGS}/{config_name}")
  config_utils.apply_overrides(config, [f"{k}={v}" for k, v in overrides.items()])
  return config


TINY_PIX2PIX = dict(
  **{"data.resolution": 32, "data.load_size": 36, "model.generator.num_downs": 5},
  **{"model.generator.width": 4, "model.discriminator.width": 4, "batch_size": 2},
)


def test_pix2pix_generator_gradient_through_the_shared_forward_pass():
  """The step's G gradient (one forward, pulled back with jax.vjp after D's update) equals the
  gradient of Eq. 4 recomputed from scratch against the updated D with the same dropout."""
  config = _tiny("pix2pix.py", **TINY_PIX2PIX)
  state = pix2pix.init_state(config, jax.random.PRNGKey(0), (32, 32, 3))
  rng = np.random.default_rng(0)
  batch = {k: jnp.asarray(rng.uniform(-1, 1, (2, 36, 36, 3)), jnp.float32) for k in "ab"}
  new_state, metrics = pix2pix.train_step(state, batch, config=config)

  key = jax.random.fold_in(state.key, state.step)
  jitter_key, dropout_key = jax.random.split(key)
  a, b = translation.random_jitter([batch["a"], batch["b"]], jitter_key, 32, True)

  def full_loss(params):
    fake, _ = state.g.apply(a, train=True, params=params, rngs={"dropout": dropout_key})
    return pix2pix.generator_loss(new_state.d, a, fake, b, config=config)[0]

  loss, grads = jax.value_and_grad(full_loss)(state.g.params)
  np.testing.assert_allclose(loss, metrics["g_loss"], rtol=1e-5)
  expected = state.g.apply_gradients(grads=grads).params
  for x, y in zip(jax.tree.leaves(expected), jax.tree.leaves(new_state.g.params), strict=True):
    np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-7)
  expected_loss = float(metrics["g_gan"]) + 100 * float(metrics["g_l1"])
  assert float(metrics["g_loss"]) == pytest.approx(expected_loss, rel=1e-5)


def test_pix2pix_l1_only_leaves_d_alone_and_generate_is_per_image():
  config = _tiny("pix2pix.py:l1_only=true", **TINY_PIX2PIX)
  state = pix2pix.init_state(config, jax.random.PRNGKey(0), (32, 32, 3))
  batch = {k: jnp.full((2, 36, 36, 3), 0.1 * i) for i, k in enumerate("ab")}
  new_state, metrics = pix2pix.train_step(state, batch, config=config)
  assert set(metrics) == {"g_l1", "g_loss"}
  for x, y in zip(jax.tree.leaves(state.d), jax.tree.leaves(new_state.d), strict=True):
    np.testing.assert_array_equal(x, y)
  inputs = jax.random.uniform(jax.random.PRNGKey(2), (3, 32, 32, 3), minval=-1)
  key = jax.random.PRNGKey(3)
  together = pix2pix.generate(new_state, inputs, key)
  # Each image is normalised on its own: it does not matter what else is in the batch.
  alone = pix2pix.generate(new_state, inputs[:2], key)
  np.testing.assert_allclose(together[:2], alone, atol=1e-6)


TINY_CYCLEGAN = dict(
  **{"data.resolution": 16, "data.load_size": 18, "model.generator.num_blocks": 1},
  **{"model.generator.width": 4, "model.discriminator.width": 4, "pool_size": 3},
  **{"model.discriminator.n_layers": 2},
  **{"num_steps": 6, "checkpoint_every_steps": 2, "sample_every_steps": 6},
  **{"log_every_steps": 2, "eval_num_samples": 4, "num_grid_samples": 2},
)


def test_cyclegan_losses_by_hand():
  config = _tiny("cyclegan.py", **TINY_CYCLEGAN)
  state = cyclegan.init_state(config, jax.random.PRNGKey(0), (16, 16, 3))
  a, b = (jax.random.uniform(jax.random.PRNGKey(i), (2, 16, 16, 3), minval=-1) for i in (1, 2))
  total, (_, _, metrics) = cyclegan.generator_loss(state.g.params, state.g, state.d, a, b,
                                                   config=config)  # fmt: skip
  g = lambda x: cyclegan.generate(state, x)
  f = lambda x: cyclegan.generate_b_to_a(state, x)
  l1 = lambda x, y: float(jnp.mean(jnp.abs(x - y)))
  np.testing.assert_allclose(metrics["cycle_l1_a"], l1(f(g(a)), a), rtol=1e-5)
  np.testing.assert_allclose(metrics["identity_l1_b"], l1(g(b), b), rtol=1e-5)
  d_b = state.d.apply(g(a), train=True, method="b")[0]
  np.testing.assert_allclose(metrics["g_gan_ab"], float(jnp.mean((d_b - 1) ** 2)), rtol=1e-5)
  expected = (
    metrics["g_gan_ab"] + metrics["g_gan_ba"]
    + 10 * (metrics["cycle_l1_a"] + metrics["cycle_l1_b"])
    + 5 * (metrics["identity_l1_a"] + metrics["identity_l1_b"])
  )  # fmt: skip
  np.testing.assert_allclose(total, expected, rtol=1e-5)


def test_cyclegan_resume_restores_the_image_pool_bit_exactly(tmp_path):
  config = _tiny("cyclegan.py", **TINY_CYCLEGAN)
  quiet = functools.partial(experiment.train_and_evaluate, log=lambda _: None)
  straight = quiet(config, tmp_path / "straight")
  quiet(config, tmp_path / "resumed", stop_after=4)
  _, halfway = runs.load_run(tmp_path / "resumed")
  assert int(halfway.step) == 4 and int(halfway.extra["pool_size_a"]) == 3  # Full by step 4.
  resumed = quiet(config, tmp_path / "resumed")
  for x, y in zip(jax.tree.leaves(straight.state), jax.tree.leaves(resumed.state), strict=True):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
  assert set(straight.eval_metrics) == {"cycle_l1_a_4_test", "cycle_l1_b_4_test"}
  assert (tmp_path / "straight" / "samples_000006.png").exists()
  assert loop.CONFIG_FILE in {p.name for p in (tmp_path / "straight").iterdir()}


def test_cli_translates_and_runs_the_noise_experiment(tmp_path, capsys):
  from gans_jax import main

  tiny = [f"--config.{k}={v}" for k, v in TINY_PIX2PIX.items()]
  tiny += ["--config.num_steps=2", "--config.eval_num_samples=4", "--config.num_grid_samples=2"]
  spec = f"{CONFIGS}/pix2pix.py"
  assert main.main(["noise-experiment", "--config", spec, "--workdir", str(tmp_path), *tiny]) == 0
  table = capsys.readouterr().out
  for text in ("clean_inputs", "noisy_inputs (data.input_noise_fraction=0.25", "target mean",
               "generated var", "|difference| mean", "mean |difference| norm", "ssim",
               "fcn_pixel_acc", "fcn_class_iou", "fcn_fd", "real_vs_fake_acc"):  # fmt: skip
    assert text in table
  out = tmp_path / "t.npz"
  run = tmp_path / "noisy_inputs"
  assert main.main(["sample", "--workdir", str(run), "--num", "3", "--out", str(out)]) == 0
  with np.load(out) as arrays:
    assert {k: arrays[k].shape for k in arrays} == {k: (3, 32, 32, 3) for k in
                                                     ("inputs", "outputs", "targets")}  # fmt: skip
    np.testing.assert_array_equal(arrays["targets"][0], runs.translate(run, num=1)["targets"][0])
  again = tmp_path / "again.npz"
  assert (
    main.main(["sample", "--workdir", str(run), "--inputs", str(out), "--out", str(again)]) == 0
  )
  assert main.main(["sample", "--workdir", str(run), "--backward", "--out", str(again)]) == 2
  assert "no B -> A generator" in capsys.readouterr().err

  # A folder of PNGs: input | output | target per held-out pair, named after the source files
  # where the inputs are files, and a page showing them in rows.
  pages = tmp_path / "pages"
  assert main.main(["sample", "--workdir", str(run), "--num", "2", "--out", f"{pages}/"]) == 0
  assert sorted(p.name for p in pages.iterdir()) == sorted(
    [f"000{i}_{kind}.png" for i in range(2) for kind in ("input", "output", "target")]
    + ["index.html"]
  )
  from PIL import Image

  with np.load(out) as arrays:
    np.testing.assert_array_equal(np.asarray(Image.open(pages / "0001_target.png")),
                                  arrays["targets"][1])  # fmt: skip
  page = (pages / "index.html").read_text()
  assert page.count("<tr>") == 3 and "0001_output.png" in page
  photos = tmp_path / "photos"
  photos.mkdir()
  for name in ("beta", "alpha"):
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(photos / f"{name}.png")
  named = tmp_path / "named"
  args = ["sample", "--workdir", str(run), "--inputs", str(photos), "--out", str(named)]
  assert main.main(args) == 0
  assert sorted(p.name for p in named.iterdir()) == [
    "alpha_input.png", "alpha_output.png", "beta_input.png", "beta_output.png", "index.html"
  ]  # fmt: skip
  assert main.main(args) == 2  # Not into a folder that holds something.
  assert "is not an empty folder" in capsys.readouterr().err
