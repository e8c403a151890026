"""Faithful by default: every field a config sets away from its paper is a declared departure
(field, the paper's value, ours, why), and a ``paper`` preset declares none in force."""

import pytest

from gans_jax import config_schema, config_utils, errors, main
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
  assert config_schema.departures(paper) == []
  declared = {d["field"]: d for d in config_schema.departures(default)}
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
  assert "num_steps" not in {d["field"] for d in config_schema.departures(config)}


def test_a_departure_of_a_field_the_config_lacks_is_refused():
  with pytest.raises(errors.ConfigError, match="names 'loss.nmae'"):
    config_schema.depart(config_utils.load_config("sngan"), "loss.nmae", "hinge", "typo")


def test_describe_prints_the_departures_then_the_counts(capsys):
  assert main.main(["describe", "--config", "sngan"]) == 0
  lines = capsys.readouterr().out.strip().splitlines()
  assert lines[0].startswith("Departures from the paper (field: paper -> ours; why):")
  assert any(line.startswith("  num_steps: 100000 -> 2000; to train in minutes") for line in lines)
  assert lines[-1].startswith('{"generator_params": ')
  assert main.main(["describe", "--config", f"{ROOT}/configs/sngan.py:paper=true"]) == 0
  assert capsys.readouterr().out.startswith("Departures from the paper: none.\n")
