"""Conditional and regularised families on the one GAN trainer: cGAN, AC-GAN, WGAN, WGAN-GP.

Losses and regularisers against hand-computed values, the paper's MLP sizes, and short runs."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import config_utils, grids, loop, losses, runs
from gans_jax.trainers import gan
from tests.helpers import ROOT, TINY_DCGAN


def test_gradient_penalty_of_a_linear_critic_is_closed_form():
  """f(x) = w.x + b has gradient w everywhere, so the penalty is (|w| - 1)^2 exactly."""
  w = jnp.asarray(np.random.default_rng(0).normal(size=(4, 4, 3)), jnp.float32)
  critic = lambda x: jnp.einsum("bhwc,hwc->b", x, w) + 0.7
  real, fake = jnp.ones((5, 4, 4, 3)), jnp.zeros((5, 4, 4, 3))
  penalty = losses.gradient_penalty(critic, real, fake, jax.random.PRNGKey(0))
  expected = (np.linalg.norm(np.asarray(w)) - 1.0) ** 2
  assert float(penalty) == pytest.approx(expected, rel=1e-5)


def test_class_loss_is_cross_entropy():
  logits = jnp.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
  labels = jnp.array([0, 2])
  by_hand = np.mean(
    [-np.log(np.exp(2.0) / (np.exp(2.0) + 1 + np.exp(-1.0))), -np.log(1 / 3)],
  )
  assert float(losses.class_loss(logits, labels)) == pytest.approx(by_hand, rel=1e-6)


def test_weight_clipping_bounds_every_parameter():
  params = {"a": jnp.array([-0.5, 0.004, 0.3]), "b": {"c": jnp.array([[0.02, -0.011]])}}
  clipped = gan.clip_weights(params, 0.01)
  np.testing.assert_allclose(clipped["a"], [-0.01, 0.004, 0.01])
  np.testing.assert_allclose(clipped["b"]["c"], [[0.01, -0.01]])


def _config(spec, *extra):
  config = config_utils.load_config(f"{ROOT}/{spec}")
  config_utils.apply_overrides(config, [*TINY_DCGAN, *extra])
  return config


@pytest.mark.parametrize("spec", ["configs/cgan.py", "configs/acgan.py"])
def test_conditional_generator_depends_on_the_label(spec):
  config = _config(spec)
  state = loop.initial_state(config, (8, 8, 1))
  z = jnp.ones((2, config.model.latent_dim))
  samples = gan.generate(state, z, jnp.array([3, 7]))
  assert samples.shape == (2, 8, 8, 1)
  assert float(jnp.abs(samples[0] - samples[1]).max()) > 1e-4  # Same z, different digit.


def test_acgan_discriminator_has_a_class_head_and_reports_its_accuracy():
  config = _config("configs/acgan.py")
  state = loop.initial_state(config, (8, 8, 1))
  logits, classes = state.d.apply(jnp.zeros((3, 8, 8, 1)), train=False)[0]
  assert logits.shape == (3,) and classes.shape == (3, 10)
  batch = {"x": jnp.zeros((8, 8, 8, 1)), "label": jnp.arange(8, dtype=jnp.int32)}
  _, metrics = gan.train_step(state, batch, config=config)
  assert 0.0 <= float(metrics["d_class_acc"]) <= 1.0


def test_wgan_clips_the_critic_after_every_update():
  config = _config(
    "configs/dcgan.py", "loss.name=wasserstein", "d_weight_clip=0.01", "d_steps=2", "batch_size=4"
  )
  state = loop.initial_state(config, (8, 8, 1))
  batch = {"x": jnp.ones((8, 8, 8, 1)), "label": jnp.zeros(8, jnp.int32)}
  state, _ = gan.train_step(state, batch, config=config)
  largest = max(float(jnp.abs(p).max()) for p in jax.tree.leaves(state.d.params))
  assert largest <= 0.01 + 1e-7


@pytest.mark.parametrize("spec", ["net=mlp,resolution=28", "paper=true"])
def test_mirza_mlp_sizes_match_the_paper(spec):
  """G: z->200, y->1000, joined 1200 -> 784; D: x->240x5, y->50x5, joined 240x4 -> 1."""
  config = config_utils.load_config(f"{ROOT}/configs/cgan.py:{spec}")
  counts = runs.describe(config)
  generator = (100 * 200 + 200) + (10 * 1000 + 1000) + (1200 * 1200 + 1200) + (1200 * 784 + 784)
  discriminator = (784 * 1200 + 1200) + (10 * 250 + 250) + (290 * 960 + 960) + (240 + 1)
  assert counts["generator_params"] == generator
  assert counts["discriminator_params"] == discriminator
  assert counts["generator_output_shape"] == [28, 28, 1]


def test_mirzas_generator_drops_half_its_hidden_units_in_training_only():
  """paper=true: dropout 0.5 in G too (Mirza & Osindero, Sec. 4.1), on the joined 1,200 units
  and on the second hidden layer; sampling (train=False) keeps every unit."""
  import flax.linen as nn

  from gans_jax import models

  config = config_utils.load_config(f"{ROOT}/configs/cgan.py:paper=true")
  g = models.build_generator(config.model.generator, (28, 28, 1), jnp.float32, num_classes=10)
  z, labels = jnp.ones((400, 100)), jnp.arange(400) % 10
  variables = g.init(jax.random.PRNGKey(0), z, labels=labels, train=False)
  dropped = []

  def record(next_fun, args, kwargs, context):
    out = next_fun(*args, **kwargs)
    if isinstance(context.module, nn.Dropout) and context.method_name == "__call__":
      live = args[0] != 0
      dropped.append(float(jnp.mean((out == 0) & live) / jnp.mean(live)))
    return out

  with nn.intercept_methods(record):
    g.apply(variables, z, labels=labels, train=True, rngs={"dropout": jax.random.PRNGKey(1)})
    g.apply(variables, z, labels=labels, train=False)
  assert len(dropped) == 4 and all(abs(d - 0.5) < 0.02 for d in dropped[:2])
  assert dropped[2:] == [0.0, 0.0]


def test_grid_rows_are_classes():
  labels = grids.grid_class_labels(100, 10)
  assert labels.reshape(10, 10).tolist() == [[c] * 10 for c in range(10)]


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
  from gans_jax import main

  workdir = tmp_path_factory.mktemp("cgan_run")
  overrides = [f"--config.{item}" for item in TINY_DCGAN]
  args = ["train", "--config", f"{ROOT}/configs/cgan.py", "--workdir", str(workdir)]
  assert main.main([*args, *overrides]) == 0
  return workdir


def test_conditional_run_reports_requested_class_accuracy(conditional_run):
  import json

  records = (conditional_run / "metrics.jsonl").read_text().splitlines()
  final = json.loads(records[-1])
  assert final["kind"] == "eval"
  assert 0.0 <= final["digits_requested_class_frac100"] <= 1.0


def test_sample_per_class_and_labels(conditional_run, tmp_path):
  from gans_jax import main

  out = tmp_path / "s.npz"
  base = ["sample", "--workdir", str(conditional_run), "--out", str(out)]
  assert main.main([*base, "--per-class", "2"]) == 0
  data = np.load(out)
  assert data["images"].shape == (20, 8, 8, 1)
  assert data["labels"].tolist() == [c for c in range(10) for _ in range(2)]
  assert main.main([*base, "--labels", "7,1,7"]) == 0
  assert np.load(out)["labels"].tolist() == [7, 1, 7]
  assert main.main([*base, "--labels", "12"]) == 2  # Outside 0..9: a one-line error.


def _class_folder(root, names=("square", "circle", "cross"), per_class=8):
  from PIL import Image

  rng = np.random.default_rng(0)
  for name in names:
    (root / name).mkdir(parents=True)
    for i in range(per_class):
      Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / name / f"{i}.png")
  return f"folder:{root}"


def test_classes_and_their_names_come_from_the_folder(tmp_path):
  dataset = _class_folder(tmp_path / "shapes")
  config = config_utils.load_config(f"{ROOT}/configs/cgan.py:dataset={dataset}")
  assert config.model.num_classes == 3
  assert tuple(config.data.class_names) == ("circle", "cross", "square")  # Sorted, as labels.
  with pytest.raises(config_utils.ConfigError, match="classes=4 but .* has 3 classes"):
    config_utils.load_config(f"{ROOT}/configs/cgan.py:dataset={dataset},classes=4")
  digits = config_utils.load_config(f"{ROOT}/configs/acgan.py")
  assert (digits.model.num_classes, digits.data.class_names[-1]) == (10, "9")


def test_a_folder_run_samples_classes_by_name_in_rows_of_the_grid(tmp_path):
  from PIL import Image

  from gans_jax import main

  dataset = _class_folder(tmp_path / "shapes")
  workdir = tmp_path / "run"
  overrides = [f"--config.{item}" for item in TINY_DCGAN]
  overrides += ["--config.num_grid_samples=12", "--config.eval.selfsup_steps=10"]
  args = [
    "train",
    "--config",
    f"{ROOT}/configs/cgan.py:dataset={dataset}",
    "--workdir",
    str(workdir),
  ]
  assert main.main([*args, *overrides]) == 0
  assert json.loads((workdir / "config.json").read_text())["data"]["class_names"] == [
    "circle", "cross", "square"
  ]  # fmt: skip
  # 12 grid samples of 3 classes: 3 rows (one per class) of 4, 8x8 images with 2-pixel gaps.
  grid = np.asarray(Image.open(workdir / "samples_000006.png"))
  assert grid.shape[:2] == (3 * 10 + 2, 4 * 10 + 2)
  out = tmp_path / "pages"
  sample = ["sample", "--workdir", str(workdir), "--out"]
  assert main.main([*sample, f"{out}/", "--labels", "square,circle,2"]) == 0
  assert sorted(p.name for p in out.iterdir()) == [
    "0000_square.png", "0001_circle.png", "0002_square.png", "index.html"
  ]  # fmt: skip
  npz = tmp_path / "s.npz"
  assert main.main([*sample, str(npz), "--per-class", "1"]) == 0
  with np.load(npz) as arrays:
    assert arrays["labels"].tolist() == [0, 1, 2]
    assert arrays["class_names"].tolist() == ["circle", "cross", "square"]
  assert main.main([*sample, str(npz), "--labels", "triangle"]) == 2
