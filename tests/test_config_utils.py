"""Config loading: variant arguments, overrides, locking, run-directory comparison."""

import pathlib

import pytest

from gans_jax import config_utils

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_variant_argument_sets_fields():
  config = config_utils.load_config(f"{ROOT}/configs/dcgan.py:resolution=64,channels=3,kernel=5")
  assert config.data.resolution == 64
  assert config.data.channels == 3
  assert config.model.generator.kernel_size == 5


def test_unknown_variant_argument_lists_valid_ones():
  with pytest.raises(config_utils.ConfigError, match="resolution"):
    config_utils.load_config(f"{ROOT}/configs/dcgan.py:resolutoin=64")


def test_overrides_keep_types_and_reject_unknown_keys():
  config = config_utils.load_config(f"{ROOT}/configs/dcgan.py")
  config_utils.apply_overrides(config, ["num_steps=7", "optim.g.learning_rate=1e-3"])
  assert config.num_steps == 7 and config.optim.g.learning_rate == 1e-3
  with pytest.raises(config_utils.ConfigError, match="valid keys: .*num_steps"):
    config_utils.apply_overrides(config, ["num_stpes=7"])
  with pytest.raises(config_utils.ConfigError, match="optim.q"):
    config_utils.apply_overrides(config, ["optim.q.learning_rate=1"])
  with pytest.raises(config_utils.ConfigError, match="num_steps: expected a int"):
    config_utils.apply_overrides(config, ["num_steps=many"])


def test_missing_config_file_is_named():
  with pytest.raises(config_utils.ConfigError, match="nowhere.py"):
    config_utils.load_config("nowhere.py")


def test_differing_keys_ignores_run_length():
  a = {"num_steps": 10, "seed": 0, "optim": {"g": {"learning_rate": 1.0}}}
  b = {"num_steps": 20, "seed": 0, "optim": {"g": {"learning_rate": 2.0}}}
  assert config_utils.differing_keys(a, b) == ["optim.g.learning_rate"]
