"""The config schema: each family's own fields, the fields it does not read, step budgets in
images, and configs saved by earlier versions."""

import json

import jax
import numpy as np
import pytest

from gans_jax import config_schema, config_utils, errors, loop, optimizers, resolved, runs
from tests.helpers import ROOT

CONFIGS = ROOT / "configs"


def load(spec: str, *overrides: str):
  config = config_utils.load_config(str(CONFIGS / spec))
  config_utils.apply_overrides(config, overrides)
  return config


def test_stylegan_steps_follow_the_budget_in_images_and_the_schedule():
  """Digits preset: 200 kimg at 8x8 (batch 64) = 3,125 steps; 16x16 and 32x32 (batch 32) fade
  30 kimg (938 steps) and train 30 kimg (938) each; 320 kimg end 1,874 steps into 32x32."""
  config = load("stylegan.py")
  assert config.num_steps == 3125 + 2 * 938 + 1874
  # 16x16 at batch 64: 469 + 469 steps, so 32x32 starts at step 4,063 after 260,032 images.
  config_utils.apply_overrides(config, ["progressive.batch_sizes=(64,64,64,32)"])
  assert config.num_steps == 4063 + 1874
  config_utils.apply_overrides(config, ["progressive.total_kimg=300"])
  assert config.num_steps == 4063 + 1249  # ceil((300,000 - 260,032) / 32).
  config_utils.apply_overrides(config, ["num_steps=12", "progressive.stable_kimg=60"])
  assert config.num_steps == 12  # A step count given outright replaces the budget.
  assert config_utils.to_dict(config)["num_steps"] == 12


def test_image_to_image_steps_follow_the_epochs_and_the_schedule_follows_them():
  """facades: 400 training images, 200 epochs at batch 1, half constant then half decay."""
  config = load("pix2pix.py:dataset=facades")
  assert (config.num_steps, config.optim.g.lr_constant_steps) == (80_000, 40_000)
  config_utils.apply_overrides(config, ["num_epochs=100", "batch_size=4"])
  assert config.num_steps == 10_000 and config.optim.d.lr_linear_decay_steps == 5_000
  config_utils.validate(config)  # The schedule still ends at num_steps.
  config_utils.apply_overrides(config, ["num_steps=600"])
  assert (config.num_steps, config.optim.g.lr_constant_steps) == (600, 300)


def test_each_family_declares_its_fields_and_drops_the_ones_it_does_not_read():
  stylegan = config_schema.base_config("stylegan")
  assert stylegan.loss.r1_gamma == 10.0 and stylegan.progressive.total_kimg == 25000.0
  assert "batch_size" not in stylegan and "name" not in stylegan.loss
  pix2pix = config_schema.base_config("pix2pix")
  assert pix2pix.loss.l1_weight == 100.0 and pix2pix.data.input_noise_fraction == 0.0
  assert "latent_dim" not in pix2pix.model and "augment" not in pix2pix
  assert config_schema.base_config("cyclegan").pool_size == 50
  assert "artgan" in config_schema.base_config("artgan")
  assert "artgan" not in config_schema.base_config("gan")


@pytest.mark.parametrize(
  ("spec", "override"),
  [
    ("stylegan.py", "loss.name=hinge"),
    ("stylegan.py", "ema_decay=0.999"),
    ("pix2pix.py", "model.latent_dim=8"),
    ("cyclegan.py", "augment.policy=translation"),
  ],
)
def test_setting_a_field_the_family_does_not_read_is_an_error_naming_it(spec, override):
  with pytest.raises(errors.ConfigError, match=f"Unknown config key '{override.split('=')[0]}'"):
    load(spec, override)


def test_a_hand_built_config_with_an_unused_field_is_refused():
  config = load("stylegan.py")
  with config.unlocked():
    config.ema_decay = 0.999
  with pytest.raises(errors.ConfigError, match="stylegan does not read ema_decay"):
    resolved.ResolvedRun.create(config, (32, 32, 1), lambda start, stage: iter(()))


def _older(current: dict, drop: list[str], add: dict | None = None) -> dict:
  """``current`` as an earlier version would have saved it."""
  saved = json.loads(json.dumps(current))
  for name in drop:
    *parents, leaf = name.split(".")
    node = saved
    for parent in parents:
      node = node[parent]
    del node[leaf]
  for name, value in (add or {}).items():
    *parents, leaf = name.split(".")
    node = saved
    for parent in parents:
      node = node[parent]
    node[leaf] = value
  return saved


def test_configs_saved_by_earlier_versions_read_as_today_and_resume(tmp_path):
  current = config_utils.to_dict(load("stylegan.py"))
  saved = _older(
    current,
    drop=["progressive.total_kimg", "eval.protocol", "eval.lpips_weights"],
    add={"batch_size": 32, "loss.name": "non_saturating", "model.truncation_psi": 0.7},
  )
  upgraded = config_schema.upgrade_saved(saved)
  assert config_utils.differing_keys(upgraded, current) == []
  assert upgraded["eval"]["protocol"] == "default" and "batch_size" not in upgraded
  # A DCGAN config from before the linear learning-rate decay and convolution library fields
  # (its default, YNNPACK, is what runs used before the field).
  dcgan = config_utils.to_dict(load("dcgan.py"))
  drop = ["optim.g.lr_linear_decay_steps", "optim.d.lr_constant_steps", "cpu_convolutions"]
  old_dcgan = _older(dcgan, drop=drop)
  assert config_schema.upgrade_saved(old_dcgan) == dcgan
  # A network field added since (DCGAN's projection_norm) takes the network's own default
  # when compared with a config that sets it.
  no_field = _older(dcgan, drop=["model.generator.projection_norm"])
  assert config_utils.differing_keys(config_schema.upgrade_saved(no_field, like=dcgan), dcgan) == []
  # Such a run directory resumes, and its tools read it.
  (tmp_path / loop.CONFIG_FILE).write_text(json.dumps(saved))
  loop.check_or_write_config(load("stylegan.py"), tmp_path)
  assert runs.run_config(tmp_path).eval.protocol == "default"


def test_a_saved_config_of_an_unknown_family_is_named():
  with pytest.raises(errors.ConfigError, match="names family 'biggan'"):
    config_schema.upgrade_saved({"family": "biggan"})


@pytest.mark.parametrize("schedule", [{}, {"lr_decay_rate": 0.5, "lr_decay_steps": 3}])
def test_a_stages_learning_rate_scale_is_the_optimizers_rate(schedule):
  """Progressive growing's per-resolution rates: the config's optimizer at scale x its rate,
  on the same optimizer state."""
  base = config_schema.optimizer_config("adam", 0.001, b1=0.0, b2=0.99, **schedule)
  doubled = config_schema.optimizer_config("adam", 0.002, b1=0.0, b2=0.99, **schedule)
  params = {"w": np.linspace(-1.0, 1.0, 6, dtype=np.float32)}
  grads = {"w": np.linspace(0.5, -0.3, 6, dtype=np.float32)}
  scaled_tx = optimizers.build_optimizer(base, 2.0)
  state = optimizers.build_optimizer(base).init(params)
  for _ in range(4):
    scaled, state_scaled = scaled_tx.update(grads, state, params)
    expected, state_expected = optimizers.build_optimizer(doubled).update(grads, state, params)
    np.testing.assert_allclose(scaled["w"], expected["w"], rtol=1e-6)
    assert jax.tree.structure(state_scaled) == jax.tree.structure(state_expected)
    state = state_scaled
