"""SN-GAN (Miyato et al. 2018): spectral normalisation against numpy's SVD, the networks'
layout, the family's step, and resume with the power-iteration vectors bit-exact."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import config_utils, experiment, loop, trainers
from gans_jax.models import sngan as networks
from tests.helpers import ROOT
from tests.test_reproducibility import assert_bitwise_equal

TINY = [
  "num_steps=4",
  "batch_size=8",
  "model.generator.width=16",
  "model.discriminator.width=16",
  "model.latent_dim=8",
  "checkpoint_every_steps=2",
  "sample_every_steps=4",
  "log_every_steps=1",
  "eval_num_samples=100",
  "num_grid_samples=4",
]


def tiny_config(*extra):
  config = config_utils.load_config(str(ROOT / "configs" / "sngan.py"))
  config_utils.apply_overrides(config, [*TINY, *extra])
  return config


def test_config_is_the_papers_recipe():
  config = config_utils.load_config(str(ROOT / "configs" / "sngan.py"))
  assert (config.family, config.loss.name, config.d_steps, config.batch_size) == (
    "sngan", "hinge", 5, 64,
  )  # fmt: skip
  assert (config.optim.d.learning_rate, config.optim.d.b1, config.optim.d.b2) == (2e-4, 0.0, 0.9)
  paper = config_utils.load_config(f"{ROOT}/configs/sngan.py:paper=true,steps=7")
  assert (paper.dataset, paper.data.channels, paper.model.generator.width) == (
    "tfds:cifar10", 3, 512,
  )  # fmt: skip
  assert paper.num_steps == 7  # Arguments beside paper=true still win.


def test_spectral_norm_divides_by_the_largest_singular_value():
  """After enough training-mode calls (one power iteration each), the stored sigma of every
  layer is the top singular value of its kernel as a [fan_in, out] matrix (numpy's SVD)."""
  d = networks.Discriminator(width=16)
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 32, 32, 3))
  variables = d.init(jax.random.PRNGKey(0), x, train=False)
  stats = variables["batch_stats"]
  step = jax.jit(
    lambda s: d.apply({"params": variables["params"], "batch_stats": s}, x, mutable=["batch_stats"])
  )
  for _ in range(200):
    stats = step(stats)[1]["batch_stats"]
  checked = 0
  for layer, entries in stats.items():
    (sigma_name,) = [name for name in entries if name.endswith("/sigma")]
    inner, _ = sigma_name.split("/", 1)
    kernel = np.asarray(variables["params"][inner]["kernel"])
    expected = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    np.testing.assert_allclose(float(entries[sigma_name]), expected, rtol=1e-3, err_msg=layer)
    checked += 1
  assert checked == 8  # Seven convolutions and the dense layer.


def test_networks_follow_the_reference_layout():
  g = networks.Generator((32, 32, 3), width=64)
  z = jnp.zeros((2, 128))
  g_vars = g.init(jax.random.PRNGKey(0), z, train=False)
  images = g.apply(g_vars, z, train=False)
  assert images.shape == (2, 32, 32, 3) and float(jnp.max(jnp.abs(images))) <= 1.0
  assert g_vars["params"]["Dense_0"]["kernel"].shape == (128, 4 * 4 * 64)
  assert g_vars["batch_stats"]["BatchNorm_0"]["mean"].shape == (4 * 4 * 64,)  # Before reshape.
  d = networks.Discriminator(width=64)
  d_vars = d.init(jax.random.PRNGKey(0), images, train=False)
  kernels = [d_vars["params"][f"Conv_{i}"]["kernel"].shape for i in range(7)]
  assert [k[-1] for k in kernels] == [8, 16, 16, 32, 32, 64, 64]  # The code's ch/8 ... ch.
  assert [k[0] for k in kernels] == [3, 4, 3, 4, 3, 4, 3]
  assert d.apply(d_vars, images, train=False).shape == (2,)
  with pytest.raises(ValueError, match="32x32"):
    networks.Discriminator(width=8).init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 1)))


def test_a_step_updates_the_power_iteration_vectors():
  config = tiny_config()
  state = loop.initial_state(config, (32, 32, 1))
  batch = {
    "x": jax.random.uniform(jax.random.PRNGKey(2), (8 * 5, 32, 32, 1), minval=-1, maxval=1),
    "label": jnp.zeros((8 * 5,), jnp.int32),
  }
  step = jax.jit(lambda s, b: trainers.get_family("sngan").train_step(s, b, config=config))
  new_state, metrics = step(state, batch)
  before, after = jax.tree.leaves(state.d.batch_stats), jax.tree.leaves(new_state.d.batch_stats)
  assert all(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
  assert int(new_state.d.opt_state[0].count) == 5  # n_dis D updates, then one G update.
  assert int(new_state.g.opt_state[0].count) == 1
  assert all(np.isfinite(float(v)) for v in metrics.values())


def test_resume_restores_the_power_iteration_vectors_bit_exactly(tmp_path):
  config = tiny_config()
  quiet = {"log": lambda _: None}
  straight = experiment.train_and_evaluate(config, tmp_path / "straight", **quiet).state
  experiment.train_and_evaluate(config, tmp_path / "resumed", stop_after=2, **quiet)
  resumed = experiment.train_and_evaluate(config, tmp_path / "resumed", **quiet).state
  assert jax.tree.leaves(resumed.d.batch_stats)  # The u vectors are in the checked state.
  assert_bitwise_equal(resumed, straight)
