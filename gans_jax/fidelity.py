"""Departures from the paper, declared as data (docs/design.md section 10).

A config file declares each field it sets away from its paper's value with ``depart``; the
declarations live in ``config.departures`` (field, the paper's value, why), which resume ignores,
and ``departures`` lists those still in force, as ``gans-jax describe`` prints them.
"""

from __future__ import annotations

import json

import ml_collections

from gans_jax import config_utils, errors


def depart(config, field: str, paper, why: str) -> None:
  """Declares that ``config`` sets ``field`` (dotted) away from its paper's value ``paper``, for
  the reason ``why`` (what it measurably buys on the data at hand). ``gans-jax describe`` prints
  the departures in force (``departures``); a ``paper`` preset declares none.

  Raises:
    errors.ConfigError: for a field the config does not have.
  """
  _field_value(config, field)  # The field must exist.
  config.departures = (*config.departures, (field, _comparable(paper), why))


def preset_config(arg, defaults: dict, paper, build, declare, selects: tuple[str, ...] = ()):
  """``get_config`` of a config file with a ``paper`` preset: ``build(args)`` (the config of
  the variant arguments, ``config_utils.parse_preset_arg``), then ``declare(config,
  paper_config, beside_paper)`` its departures from the preset, which ``build`` also makes with
  ``paper=true`` and the arguments named in ``selects`` (those that choose among a file's
  papers, e.g. WGAN's ``gp``) as given."""
  args = config_utils.parse_preset_arg(arg, defaults, paper)
  config = build(args)
  given = lambda value: str(value).lower() if isinstance(value, bool) else value  # noqa: E731
  chosen = ",".join(["paper=true", *(f"{name}={given(args[name])}" for name in selects)])
  declare(config, build(config_utils.parse_preset_arg(chosen, defaults, paper)), args.paper)
  return config


BESIDE_PAPER = "a variant argument given beside paper=true"


def depart_from(config, paper, reasons: dict[str, str], beside_paper: bool = False) -> None:
  """``depart`` for every field of ``reasons`` ({dotted field or section: why}), each with its
  value in the config ``paper`` (the family's paper preset). A section (e.g. a network that is
  another network) departs as a whole. ``beside_paper``: ``config`` is the paper preset with
  other variant arguments, which are then the reason for every field they change.

  Raises:
    errors.ConfigError: for a field either config lacks.
  """
  for field, why in reasons.items():
    depart(config, field, _field_value(paper, field), BESIDE_PAPER if beside_paper else why)


SHORT_RUN = "to train in minutes on 2 CPU cores (paper=true restores it)"


def digits_default_reasons() -> dict[str, str]:
  """What every image family's digits default departs in, and why: the embedded digits at
  32x32, grey, a short run (the rest of ``depart_from``'s reasons are the config's own)."""
  return {
    "dataset": "the embedded digits, offline",
    "data.resolution": "32x32 (the digits are 8x8), as configs/dcgan.py",
    "data.channels": "the digits are grey",
    "num_steps": SHORT_RUN,
  }


def departures(config) -> list[dict]:
  """The declared departures whose field still differs from the paper's value (an override can
  restore the paper's), each {"field", "paper", "ours", "why"}."""
  found = []
  for field, paper, why in config.departures:
    ours = _field_value(config, field)
    if _comparable(ours) != _comparable(paper):
      found.append({"field": field, "paper": paper, "ours": _comparable(ours), "why": why})
  return found


def format_departures(config) -> str:
  """The departures in force as lines for ``gans-jax describe``."""
  if not config.departures:  # Not "none": nothing was compared with a paper preset.
    return "Departures from the paper: not declared (this config has no paper preset yet)."
  found = departures(config)
  if not found:
    return "Departures from the paper: none."
  lines = ["Departures from the paper (field: paper -> ours; why):"]
  lines.extend(
    f"  {d['field']}: {_change(d['field'], d['paper'], d['ours'])}; {d['why']}" for d in found
  )
  return "\n".join(lines)


def _change(field: str, paper, ours) -> str:
  """The change "paper -> ours"; for two sections with the same fields (two optimizers, two
  networks of one kind), only the fields that differ; two different networks whole."""
  sections = isinstance(paper, dict) and isinstance(ours, dict)
  other_network = field.startswith("model.") and sections and paper.get("name") != ours.get("name")
  if not sections or set(paper) != set(ours) or other_network:
    return f"{paper!r} -> {ours!r}"
  keys = [key for key in paper if paper[key] != ours[key]]
  return "{" + ", ".join(f"{key}: {paper[key]!r} -> {ours[key]!r}" for key in keys) + "}"


def _field_value(config, field: str):
  node = config
  for part in field.split("."):
    if not isinstance(node, ml_collections.ConfigDict) or part not in node:
      raise errors.ConfigError(f"A departure names {field!r}, which the config does not have.")
    node = node[part]
  return node


def _comparable(value):
  """Plain data: tuples as lists, sections as dicts (as config.json holds them)."""
  if isinstance(value, ml_collections.ConfigDict):
    return json.loads(value.to_json())
  return list(value) if isinstance(value, (tuple, list)) else value
