"""``config.deterministic`` (``gans_jax.determinism``): the XLA flag a bitwise GPU run needs is
set before the backend starts, by the CLI (checked in a fresh process, whatever its platform:
the environment the CLI builds is what a GPU backend would read), left out with
``deterministic=false``, and a GPU backend that started without it is an error."""

import os
import subprocess
import sys

import pytest

from gans_jax import determinism, errors

FLAG = "--xla_gpu_deterministic_ops=true"


def test_the_flag_is_added_to_what_xla_flags_already_say():
  assert determinism.xla_flags(True, "") == FLAG
  assert determinism.xla_flags(True, "--xla_dump_to=/tmp/x") == f"--xla_dump_to=/tmp/x {FLAG}"
  assert determinism.xla_flags(True, f"--a=1 {FLAG}") == f"--a=1 {FLAG}"  # Already there.
  assert determinism.xla_flags(False, "--a=1") == "--a=1"  # XLA's defaults.
  with pytest.raises(errors.ConfigError, match="deterministic_ops=false.*deterministic=false"):
    determinism.xla_flags(True, "--xla_gpu_deterministic_ops=false")
  assert determinism.xla_flags(False, "--xla_gpu_deterministic_ops=false").endswith("false")


def _flags_the_cli_sets(*overrides) -> str:
  """XLA_FLAGS after ``gans-jax describe`` configured a fresh process (CPU-only here)."""
  code = (
    "import os, sys; from gans_jax import main; "
    f"main.run(['describe', '--config', 'dcgan', *{list(overrides)!r}]); "
    "print('XLA_FLAGS=' + os.environ.get('XLA_FLAGS', ''), file=sys.stderr)"
  )
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
  done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                        timeout=300, check=True)  # fmt: skip
  return done.stderr.strip().splitlines()[-1].removeprefix("XLA_FLAGS=")


def test_the_cli_sets_the_flag_before_the_backend_starts_and_false_leaves_xla_s_defaults():
  assert _flags_the_cli_sets() == f"--xla_force_host_platform_device_count=2 {FLAG}"
  assert _flags_the_cli_sets("--config.deterministic=false") == (
    "--xla_force_host_platform_device_count=2"
  )


def test_a_backend_that_started_without_the_flag(monkeypatch):
  """On GPU an error naming the flag and both ways out; on CPU (no flag needed) nothing."""
  monkeypatch.setattr(determinism, "_backends_started", lambda: True)
  environ = {"XLA_FLAGS": "--a=1"}
  monkeypatch.setattr(determinism, "_started_on_gpu", lambda: False)
  determinism.configure({"deterministic": True}, environ)
  assert environ == {"XLA_FLAGS": "--a=1"}
  monkeypatch.setattr(determinism, "_started_on_gpu", lambda: True)
  with pytest.raises(errors.ConfigError, match="GPU backend started without XLA_FLAGS=--xla_gpu"):
    determinism.configure({"deterministic": True}, environ)
  determinism.configure({"deterministic": False}, environ)  # Nothing asked, nothing wrong.
  determinism.configure({"deterministic": True}, {"XLA_FLAGS": FLAG})  # Started with it.


def test_before_the_backend_starts_the_environment_gets_the_flag(monkeypatch):
  monkeypatch.setattr(determinism, "_backends_started", lambda: False)
  environ = {}
  determinism.configure({"deterministic": True}, environ)
  assert environ == {"XLA_FLAGS": FLAG}
