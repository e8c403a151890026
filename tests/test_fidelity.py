"""Faithful by default: every field a config sets away from its paper is a declared departure
(field, the paper's value, ours, why), and a ``paper`` preset declares none in force."""

import pytest

from gans_jax import config_utils, errors, fidelity, main
from tests.helpers import ROOT

# Fields that say how a run is run, observed or documented, never what it trains.
NOT_TRAINING = (
  "checkpoint_every_steps",
  "checkpoint_every_secs",
  "sample_every_steps",
  "log_every_steps",
  "num_grid_samples",
  "eval",
  "eval_num_samples",
  "cpu_convolutions",
  "parallel",
  "distributed",
  "departures",
)


def _leaves(tree: dict, prefix: str = "") -> dict:
  found = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      found.update(_leaves(value, prefix + key + "."))
    else:
      found[prefix + key] = value
  return found


def _with_paper_preset() -> list[str]:
  """The named configs that take ``paper=true``."""
  names = []
  for name in config_utils.named_configs():
    try:
      config_utils.load_config(f"{name}:paper=true")
    except errors.ConfigError as error:
      if "Unknown config argument 'paper'" in str(error):
        continue
      raise
    names.append(name)
  return names


@pytest.mark.parametrize("name", _with_paper_preset())
def test_the_default_departs_from_the_paper_preset_only_where_it_says_so(name):
  default = config_utils.load_config(name)
  paper = config_utils.load_config(f"{name}:paper=true")
  assert fidelity.departures(paper) == []
  declared = {d["field"]: d for d in fidelity.departures(default)}
  ours, theirs = (_leaves(config_utils.to_dict(c)) for c in (default, paper))
  for field in sorted(set(ours) | set(theirs)):
    if field.split(".")[0] in NOT_TRAINING or ours.get(field) == theirs.get(field):
      continue
    assert field in declared, f"{name}: {field} = {ours.get(field)!r}, paper {theirs.get(field)!r}"
    assert declared[field]["paper"] == theirs[field] and declared[field]["why"]
  assert set(declared) <= set(ours)


def test_an_override_back_to_the_papers_value_ends_that_departure():
  config = config_utils.load_config("sngan")
  config_utils.apply_overrides(config, ["num_steps=100000"])
  assert "num_steps" not in {d["field"] for d in fidelity.departures(config)}


def test_a_departure_of_a_field_the_config_lacks_is_refused():
  with pytest.raises(errors.ConfigError, match="names 'loss.nmae'"):
    fidelity.depart(config_utils.load_config("sngan"), "loss.nmae", "hinge", "typo")


def test_describe_prints_the_departures_then_the_counts(capsys):
  assert main.main(["describe", "--config", "sngan"]) == 0
  lines = capsys.readouterr().out.strip().splitlines()
  assert lines[0].startswith("Departures from the paper (field: paper -> ours; why):")
  assert any(line.startswith("  num_steps: 100000 -> 2000; to train in minutes") for line in lines)
  assert lines[-1].startswith('{"generator_params": ')
  assert main.main(["describe", "--config", f"{ROOT}/configs/sngan.py:paper=true"]) == 0
  assert capsys.readouterr().out.startswith("Departures from the paper: none.\n")
  assert main.main(["describe", "--config", "pix2pix"]) == 0
  assert capsys.readouterr().out.startswith("Departures from the paper: not declared")


def test_a_uniform_latent_prior_is_what_g_sees_of_standard_normal_z():
  import jax
  import numpy as np

  from gans_jax import models

  z = jax.random.normal(jax.random.PRNGKey(0), (20_000, 2))
  u = np.asarray(models.LATENT_PRIORS["uniform"](z))
  assert u.min() > -1.0 and u.max() < 1.0
  np.testing.assert_allclose(u.mean(0), 0.0, atol=0.02)
  np.testing.assert_allclose(u.var(0), 1 / 3, atol=0.01)  # U(-1, 1)'s variance.
  np.testing.assert_allclose(np.histogram(u[:, 0], 4, (-1, 1))[0] / 20_000, 0.25, atol=0.015)
  with pytest.raises(errors.ConfigError, match="Unknown model.latent_prior 'laplace'"):
    models.with_latent_prior(None, "laplace")


def test_the_dcgan_paper_preset_trains_offline(tmp_path):
  """paper=true on the embedded digits (RGB 64x64 from grey, ngf = ndf = 128, 5x5 kernels,
  U(-1, 1) z, L2 1e-5): a few steps at a small batch, then a sample."""
  from gans_jax import experiment, runs

  config = config_utils.load_config("dcgan:paper=true,dataset=digits")
  overrides = ["num_steps=2", "batch_size=4", "checkpoint_every_steps=2", "sample_every_steps=2",
               "eval.protocol=none", "num_grid_samples=4"]  # fmt: skip
  config_utils.apply_overrides(config, overrides)
  result = experiment.train_and_evaluate(config, tmp_path, log=lambda _: None)
  assert int(result.state.step) == 2 and "inner" in result.state.g.params  # The prior's wrapper.
  assert runs.sample(tmp_path, 2)["images"].shape == (2, 64, 64, 3)


def test_the_dcgan_paper_presets_parameters_are_newmus_layer_sizes():
  """Newmu/dcgan_code's faces model (ngf = ndf = 128, 5x5, 64x64 RGB, nz = 100), layer by layer:
  G: gw 100 x 16,384, gg / gb per unit of the projection, then 5x5 deconvolutions 1024 -> 512
  -> 256 -> 128 with gains and biases, and 128 -> 3 without; D: 5x5 convolutions 3 -> 128 ->
  256 -> 512 -> 1024 (gains and biases after the first) and a 16,384 -> 1 dense head."""
  from gans_jax import runs

  generator = 100 * 16_384 + 2 * 16_384
  for c_in, c_out in ((1024, 512), (512, 256), (256, 128)):
    generator += c_in * c_out * 25 + 2 * c_out
  generator += 128 * 3 * 25
  discriminator = 3 * 128 * 25
  for c_in, c_out in ((128, 256), (256, 512), (512, 1024)):
    discriminator += c_in * c_out * 25 + 2 * c_out
  discriminator += 1024 * 4 * 4
  counts = runs.describe(config_utils.load_config("dcgan:paper=true"))
  assert (counts["generator_params"], counts["discriminator_params"]) == (generator, discriminator)
  assert (generator, discriminator) == (18_885_760, 17_232_768)
