"""Importing TensorFlow without its C++ start-up notices, when the environment asks for that.

TensorFlow 2.21 writes its start-up notices (oneDNN, CPU features), one set per shared library,
through absl before any log level applies, so ``TF_CPP_MIN_LOG_LEVEL`` no longer hides them; they
say nothing a user acts on. With ``TF_CPP_MIN_LOG_LEVEL`` >= 1 (the ``gans-jax`` command sets 2
unless told otherwise) the process's native stderr is pointed at /dev/null for the import only.
Python exceptions raised by the import are unaffected; ``TF_CPP_MIN_LOG_LEVEL=0`` shows all.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys


@contextlib.contextmanager
def _native_stderr_silenced():
  sys.stderr.flush()
  saved = os.dup(2)
  try:
    with open(os.devnull, "w") as devnull:
      os.dup2(devnull.fileno(), 2)
    yield
  finally:
    os.dup2(saved, 2)
    os.close(saved)


def import_module(name: str = "tensorflow"):
  """``importlib.import_module(name)`` (TensorFlow, or a package that imports it), quietly the
  first time TensorFlow loads when the log level asks for quiet."""
  level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0").strip()
  if "tensorflow" in sys.modules or level in ("", "0"):
    return importlib.import_module(name)
  with _native_stderr_silenced():
    return importlib.import_module(name)
