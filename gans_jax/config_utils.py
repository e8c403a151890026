"""Loading configs from files, variant arguments and command-line overrides.

A config is named as ``FILE[:ARG]`` (``configs/dcgan.py:dataset=digits,resolution=64``): the
file defines ``get_config(arg)``, and ``ARG`` is a comma-separated ``key=value`` list that the
file parses with :func:`parse_arg`. Fields are then overridden one by one with
``--config.a.b=value``. Configs are locked, so a misspelt key fails with the list of valid ones.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
from collections.abc import Iterable
from typing import Any

import ml_collections

from gans_jax import errors

# Fields that may change between a run and its resumption: they set how long and how often,
# never what is computed at a given step.
RUN_LENGTH_FIELDS = (
  "num_steps",
  "checkpoint_every_steps",
  "checkpoint_every_secs",
  "sample_every_steps",
  "log_every_steps",
  "eval_num_samples",
  "eval",
  "num_epochs",  # The image-to-image budget: num_steps follows it.
  "progressive.total_kimg",  # StyleGAN's budget in images: num_steps follows it.
)
# Fields that say where a run computes (devices, hosts), not what: a run may resume on another
# mesh or process count (the data order is a function of the global batch alone).
PLACEMENT_FIELDS = ("parallel", "distributed")
# The config's documentation of itself: its declared departures from the paper.
DOCUMENTATION_FIELDS = ("departures",)

DEFAULT_CONFIG = "dcgan"  # Named configs resolve through config_directories().


ConfigError = errors.ConfigError  # Raised here for configs; defined with the other user errors.


def _parse_value(text: str) -> Any:
  """Reads ``text`` as a Python literal where it is one, else as a plain string."""
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def parse_arg(arg: str | None, **defaults: Any) -> ml_collections.ConfigDict:
  """Parses a variant argument such as ``"dataset=digits,resolution=64"``.

  Args:
    arg: comma-separated ``key=value`` pairs, or None / "" for all defaults.
    **defaults: every accepted key with its default; values are cast to the default's type.

  Returns:
    A ConfigDict with every key of ``defaults``.

  Raises:
    ConfigError: for a key not in ``defaults`` (the message lists the valid ones) or a value
      that cannot be read as the default's type.
  """
  result = dict(defaults)
  for item in filter(None, (arg or "").split(",")):
    key, sep, text = item.partition("=")
    if not sep:
      raise ConfigError(f"Config argument {item!r} is not of the form key=value.")
    if key not in defaults:
      raise ConfigError(
        f"Unknown config argument {key!r}; valid arguments: {', '.join(sorted(defaults))}."
      )
    result[key] = _cast_like(defaults[key], _parse_value(text), key)
  return ml_collections.ConfigDict(result)


def parse_preset_arg(arg: str | None, defaults: dict, paper) -> ml_collections.ConfigDict:
  """``parse_arg`` for a config file with a ``paper`` preset: ``paper=true`` turns the defaults
  into ``paper``'s values (a dict, or a function of the parsed arguments giving one, for a
  file with several papers, e.g. WGAN and WGAN-GP), and arguments given beside it still win."""
  chosen = parse_arg(arg, **defaults)
  if not chosen.paper:
    return chosen
  values = paper(chosen) if callable(paper) else paper
  return parse_arg(arg, **{**defaults, **values})


def _cast_like(reference: Any, value: Any, key: str) -> Any:
  """Casts ``value`` to the type of ``reference`` (int -> float allowed), or raises."""
  if reference is None or value is None:
    return value
  if isinstance(reference, bool):
    if isinstance(value, bool):
      return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
      return value.lower() == "true"
    raise ConfigError(f"{key}: expected true/false, got {value!r}.")
  if isinstance(reference, float) and isinstance(value, int) and not isinstance(value, bool):
    return float(value)
  if isinstance(reference, str) and not isinstance(value, str):
    return str(value)
  if isinstance(reference, tuple) and isinstance(value, list):
    return tuple(value)
  if not isinstance(value, type(reference)):
    raise ConfigError(
      f"{key}: expected a {type(reference).__name__}, got {value!r} ({type(value).__name__})."
    )
  return value


def config_directories() -> list[pathlib.Path]:
  """Where named configs live: a checkout's ``configs/`` (running from a clone or an editable
  install), then the copy a wheel installs inside the package (``gans_jax/configs``)."""
  package = pathlib.Path(__file__).resolve().parent
  return [d for d in (package.parent / "configs", package / "configs") if d.is_dir()]


def named_configs() -> dict[str, pathlib.Path]:
  """{name: file} of the project's configs ("dcgan" -> .../configs/dcgan.py), first found."""
  found = {}
  for directory in config_directories():
    for file in sorted(directory.glob("*.py")):
      if not file.name.startswith("_"):
        found.setdefault(file.stem, file)
  return found


def config_summary(file: pathlib.Path) -> tuple[str, dict[str, Any]]:
  """(first line of its docstring, {variant argument: default}) of a config file, read from its
  source (nothing is executed): its module-level ``DEFAULTS`` dict (a file with a paper preset,
  ``parse_preset_arg``), or the keywords of its ``parse_arg`` call."""
  tree = ast.parse(file.read_text())
  title = (ast.get_docstring(tree) or "").strip().split("\n")[0]
  arguments = {}
  for node in tree.body:
    targets = [getattr(t, "id", None) for t in node.targets] if isinstance(node, ast.Assign) else []
    if "DEFAULTS" in targets:
      return title, ast.literal_eval(node.value)
  for node in ast.walk(tree):
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "parse_arg":
      for keyword in node.keywords:
        try:
          arguments[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
          arguments[keyword.arg] = ast.unparse(keyword.value)
  return title, arguments


def resolve_config_path(text: str) -> pathlib.Path:
  """A config file from ``text``: a path to a file, or a project config's name, given as
  ``dcgan``, ``dcgan.py`` or ``configs/dcgan.py`` from any directory.

  Raises:
    ConfigError: naming ``text`` and listing the named configs.
  """
  path = pathlib.Path(text)
  if path.is_file():
    return path
  parts = path.parts
  if len(parts) == 1 or (len(parts) == 2 and parts[0] == "configs"):
    named = named_configs().get(path.stem if path.suffix == ".py" else path.name)
    if named is not None:
      return named
  raise ConfigError(f"Config file not found: {text}; named configs: {', '.join(named_configs())}.")


def load_config(spec: str | None = None) -> ml_collections.ConfigDict:
  """Loads ``FILE[:ARG]`` (default: ``dcgan``) and returns the locked config; FILE is a path
  or a project config's name (``resolve_config_path``).

  Raises:
    ConfigError: if the file is missing or has no ``get_config``.
  """
  spec = spec or DEFAULT_CONFIG
  path_text, _, arg = spec.partition(":")
  path = resolve_config_path(path_text)
  module_spec = importlib.util.spec_from_file_location(f"_gans_jax_config_{path.stem}", path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  if not hasattr(module, "get_config"):
    raise ConfigError(f"Config file {path} defines no get_config(arg).")
  config = module.get_config(arg or None)
  config.lock()
  return config


def _field_names(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
  names = []
  for key, value in config.items():
    names.append(prefix + key)
    if isinstance(value, ml_collections.ConfigDict):
      names.extend(_field_names(value, prefix + key + "."))
  return names


def apply_overrides(config: ml_collections.ConfigDict, overrides: Iterable[str]) -> None:
  """Applies ``a.b=value`` overrides in place, with the type of the existing field.

  Raises:
    ConfigError: naming the key when it does not exist (with the valid keys) or the value
      has the wrong type.
  """
  for item in overrides:
    key, sep, text = item.partition("=")
    if not sep:
      raise ConfigError(f"Override {item!r} is not of the form --config.key=value.")
    *parents, leaf = key.split(".")
    node = config
    for parent in parents:
      child = node.get(parent) if isinstance(node, ml_collections.ConfigDict) else None
      if not isinstance(child, ml_collections.ConfigDict):
        raise ConfigError(_unknown_key_message(config, key))
      node = child
    if leaf not in node:
      raise ConfigError(_unknown_key_message(config, key))
    with node.unlocked():
      node[leaf] = _cast_like(node[leaf], _parse_value(text), key)


def _unknown_key_message(config: ml_collections.ConfigDict, key: str) -> str:
  return f"Unknown config key {key!r}; valid keys: {', '.join(_field_names(config))}."


def section_of(tree, dotted: str):
  """(the section of ``tree`` (a ConfigDict or dict) that holds the dotted field's last part,
  that part); (None, part) when a section on the way is missing."""
  *parents, leaf = dotted.split(".")
  node = tree
  for parent in parents:
    node = node.get(parent)
    if node is None:
      return None, leaf
  return node, leaf


def to_dict(config: ml_collections.ConfigDict) -> dict:
  """The config as plain JSON-compatible data (tuples become lists)."""
  return json.loads(config.to_json())


def differing_keys(saved: dict, current: dict, prefix: str = "") -> list[str]:
  """Dotted keys whose values differ between two config dicts (run-length, placement and
  documentation fields ignored)."""
  keys = []
  for key in sorted(set(saved) | set(current)):
    name = prefix + key
    if name in RUN_LENGTH_FIELDS + PLACEMENT_FIELDS + DOCUMENTATION_FIELDS:
      continue
    a, b = saved.get(key), current.get(key)
    if isinstance(a, dict) and isinstance(b, dict):
      keys.extend(differing_keys(a, b, name + "."))
    elif a != b:
      keys.append(name)
  return keys


# Run fields that must be whole numbers of at least 1, and ones that may also be 0 (off).
POSITIVE_INT_FIELDS = (
  "num_steps",
  "batch_size",
  "d_steps",
  "checkpoint_every_steps",
  "sample_every_steps",
  "log_every_steps",
  "eval_num_samples",
  "num_grid_samples",
)
NON_NEGATIVE_FIELDS = ("checkpoint_every_secs", "eval.every_steps")


def validate(config: ml_collections.ConfigDict) -> None:
  """Checks the run fields every family reads, before any start-up work.

  Raises:
    ConfigError: naming the first field whose value cannot work (a count below 1, a negative
      period) and the override that sets it.
  """
  for name in POSITIVE_INT_FIELDS + NON_NEGATIVE_FIELDS:
    node, *rest = name.split(".")
    value = config[node][rest[0]] if rest else config.get(node)
    if value is None:
      continue
    lowest = 1 if name in POSITIVE_INT_FIELDS else 0
    whole = name not in POSITIVE_INT_FIELDS or (
      isinstance(value, int) and not isinstance(value, bool)
    )
    if not whole or value < lowest:
      kind = "a whole number >= 1" if lowest else "a number >= 0 (0 turns it off)"
      raise ConfigError(f"{name}={value!r} must be {kind}; set --config.{name}=...")
  _check_linear_schedules(config)


def _check_linear_schedules(config: ml_collections.ConfigDict) -> None:
  """A linear learning-rate decay (one update per step, as pix2pix and CycleGAN) must end at
  ``num_steps``: shorter leaves the rate at 0 for the rest, longer never reaches its end."""
  for role, section in config.optim.items():
    decay = section.lr_linear_decay_steps
    if not decay:
      continue
    constant = section.lr_constant_steps
    if constant < 0 or decay < 0 or constant + decay != config.num_steps:
      prefix = f"optim.{role}."
      raise ConfigError(
        f"The learning-rate schedule {prefix}lr_constant_steps={constant} + "
        f"{prefix}lr_linear_decay_steps={decay} = {constant + decay} steps does not fit "
        f"num_steps={config.num_steps}; set them to add up to num_steps (or leave them unset "
        "to follow num_steps)."
      )
