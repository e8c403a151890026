"""Departures from the paper, declared as data (docs/design.md section 10).

A config file declares each field it sets away from its paper's value with ``depart``; the
declarations live in ``config.departures`` (field, the paper's value, why), which resume ignores,
and ``departures`` lists those still in force, as ``gans-jax describe`` prints them.
"""

from __future__ import annotations

import ml_collections

from gans_jax import errors


def depart(config, field: str, paper, why: str) -> None:
  """Declares that ``config`` sets ``field`` (dotted) away from its paper's value ``paper``, for
  the reason ``why`` (what it measurably buys on the data at hand). ``gans-jax describe`` prints
  the departures in force (``departures``); a ``paper`` preset declares none.

  Raises:
    errors.ConfigError: for a field the config does not have.
  """
  _field_value(config, field)  # The field must exist.
  config.departures = (*config.departures, (field, _comparable(paper), why))


def depart_from(config, paper, reasons: dict[str, str]) -> None:
  """``depart`` for every field of ``reasons`` ({dotted field: why}), each with its value in
  the config ``paper`` (the family's paper preset).

  Raises:
    errors.ConfigError: for a field either config lacks.
  """
  for field, why in reasons.items():
    depart(config, field, _field_value(paper, field), why)


def departures(config) -> list[dict]:
  """The declared departures whose field still differs from the paper's value (an override can
  restore the paper's), each {"field", "paper", "ours", "why"}."""
  found = []
  for field, paper, why in config.departures:
    ours = _field_value(config, field)
    if _comparable(ours) != _comparable(paper):
      found.append({"field": field, "paper": paper, "ours": ours, "why": why})
  return found


def format_departures(config) -> str:
  """The departures in force as lines for ``gans-jax describe``."""
  if not config.departures:  # Not "none": nothing was compared with a paper preset.
    return "Departures from the paper: not declared (this config has no paper preset yet)."
  found = departures(config)
  if not found:
    return "Departures from the paper: none."
  lines = ["Departures from the paper (field: paper -> ours; why):"]
  lines.extend(f"  {d['field']}: {d['paper']!r} -> {d['ours']!r}; {d['why']}" for d in found)
  return "\n".join(lines)


def _field_value(config, field: str):
  node = config
  for part in field.split("."):
    if not isinstance(node, ml_collections.ConfigDict) or part not in node:
      raise errors.ConfigError(f"A departure names {field!r}, which the config does not have.")
    node = node[part]
  return node


def _comparable(value):
  return list(value) if isinstance(value, (tuple, list)) else value
