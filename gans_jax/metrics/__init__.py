"""Evaluation metrics: pure functions on arrays or feature statistics, plus thin evaluators."""

import os
import pathlib


def cache_dir() -> pathlib.Path:
  """Where the project caches what it computes once (classifier weights, reference features):
  ``$GANS_JAX_CACHE``, default ``~/.cache/gans_jax``."""
  return pathlib.Path(os.environ.get("GANS_JAX_CACHE", pathlib.Path.home() / ".cache/gans_jax"))
