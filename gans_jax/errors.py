"""The project's user-error classes: mistakes a user can fix, reported in one line.

The ``gans-jax`` command prints a ``UserError`` (and ``data_pipelines.DatasetError``) as one line
and exits 2; every other exception is a bug or an environment failure and keeps its traceback
(exit 1). Library callers (tests, notebooks) catch these like any exception. The classes also
derive from the built-in class that describes them (``ValueError`` for bad values), so code that
catches those keeps working.
"""

from __future__ import annotations


class UserError(Exception):
  """Base of every error the user can fix: a config field, a path, a file, a command argument."""


class ConfigError(UserError, ValueError):
  """A config file, variant argument, override or field value that cannot be used."""


class UsageError(UserError, ValueError):
  """A command argument or an input file that cannot be used (names the argument or path)."""


class RunDirectoryError(UserError, RuntimeError):
  """A run directory that cannot be used: not a directory, not writable, or in use by a run."""


class TrainingError(UserError, RuntimeError):
  """Training cannot go on: diverged losses, or a run directory of another config."""
