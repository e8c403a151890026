"""Bit-identical runs on every backend (``config.deterministic``; docs/design.md section 3).

Same config and seed give the same bits, and a resumed run the bits of an uninterrupted one, as
long as every computation is deterministic. On CPU and TPU XLA's programs are. On GPU, XLA picks
kernels by timing them (autotuning: two compilations may pick different ones) and runs scatters
and some reductions with atomics (summation order varies from run to run), unless the process
starts with ``--xla_gpu_deterministic_ops=true`` in ``XLA_FLAGS``: that flag makes those
operations deterministic, turns autotuning off, and makes compilation fail on the one operation
without a deterministic GPU kernel (select-and-scatter, max pooling's gradient, which no network
here trains through). XLA reads ``XLA_FLAGS`` once, when the first backend starts, so
``configure`` must run before the first JAX computation: the CLI calls it as soon as it has the
config, and ``experiment.train_and_evaluate`` and ``runs.load_run`` (what notebooks call) call
it again, which is a no-op once it is set and an error on a GPU backend that started without it.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from gans_jax import errors

GPU_DETERMINISTIC_OPS = "--xla_gpu_deterministic_ops"
_ON = f"{GPU_DETERMINISTIC_OPS}=true"


def _setting(flags: str) -> str | None:
  """The value ``flags`` gives ``--xla_gpu_deterministic_ops`` (the last one wins), or None."""
  value = None
  for flag in flags.split():
    name, _, given = flag.partition("=")
    if name == GPU_DETERMINISTIC_OPS:
      value = given.lower() or "true"
  return value


def xla_flags(deterministic: bool, flags: str) -> str:
  """``XLA_FLAGS`` for a run: ``flags`` with ``--xla_gpu_deterministic_ops=true`` added when
  ``deterministic`` (XLA's defaults, ``flags`` unchanged, otherwise).

  Raises:
    errors.ConfigError: when ``flags`` turn the option off explicitly and the run asks for it.
  """
  setting = _setting(flags)
  if not deterministic or setting in ("true", "1"):
    return flags
  if setting is not None:
    raise errors.ConfigError(
      f"XLA_FLAGS sets {GPU_DETERMINISTIC_OPS}={setting}, but config.deterministic is true: "
      "remove it from XLA_FLAGS, or set --config.deterministic=false."
    )
  return f"{flags} {_ON}".strip()


def _backends_started() -> bool:
  from jax._src import xla_bridge  # Only it knows; jax has no public test for this.

  started = getattr(xla_bridge, "backends_are_initialized", None)
  return started() if started else bool(getattr(xla_bridge, "_backends", True))


def _started_on_gpu() -> bool:
  import jax

  return jax.default_backend() in ("gpu", "cuda", "rocm")


def configure(config, environ: MutableMapping[str, str] = os.environ) -> None:
  """Sets ``XLA_FLAGS`` in ``environ`` for ``config.deterministic`` before the first backend
  starts. Once a backend has started nothing changes; that is an error only on a GPU backend
  that started without the flag a deterministic run needs (CPU and TPU do not need it).

  Raises:
    errors.ConfigError: naming the flag and both ways out.
  """
  deterministic = bool(config.get("deterministic", True))
  current = environ.get("XLA_FLAGS", "")
  wanted = xla_flags(deterministic, current)
  if wanted == current:
    return
  if not _backends_started():
    environ["XLA_FLAGS"] = wanted
    return
  if _started_on_gpu():
    raise errors.ConfigError(
      f"JAX's GPU backend started without XLA_FLAGS={_ON}, which a deterministic run needs "
      "(XLA reads its flags once): start the process with it (or call "
      "gans_jax.determinism.configure(config) before the first JAX computation), or set "
      "--config.deterministic=false."
    )
