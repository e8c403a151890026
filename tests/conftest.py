"""Shared test set-up: no network, a private cache, and compiled objects shared across tests."""

import os
import pathlib
import shutil
import tempfile
import uuid

# Tests must never reach a real TFDS download; offline it hangs for minutes in DNS retries.
os.environ.setdefault("TFDS_DATA_DIR", "/nonexistent-tfds-data-dir")
os.environ.setdefault("NO_GCE_CHECK", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Many tests compile the same small train steps again (a fresh jit per run, a resumed run, a CLI
# subprocess). XLA's persistent cache, shared by this session's xdist workers and the subprocesses
# they start (through the environment, so set before JAX is imported), compiles each once: on
# this 2-core machine it cut two StyleGAN tests from 132 s to 93 s. The cache holds compiled
# executables only; every step still traces and runs, and a fresh one per session keeps runs apart.
# The controller imports this first and its xdist workers inherit its environment.
_RUN = os.environ.setdefault("GANS_JAX_TESTS_RUN", uuid.uuid4().hex)
XLA_CACHE = pathlib.Path(tempfile.gettempdir()) / f"gans_jax_tests_xla_cache_{_RUN}"
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(XLA_CACHE))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")


def pytest_unconfigure(config):
  """The session's controller (not an xdist worker) removes the cache it shared."""
  if not hasattr(config, "workerinput"):
    shutil.rmtree(XLA_CACHE, ignore_errors=True)
