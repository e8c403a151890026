"""The run directory as a resource: created with clear errors, and held by one run at a time.

Two runs writing one directory interleave their ``metrics.jsonl`` records and race on the same
checkpoint steps, so ``train`` holds an exclusive lock on ``<workdir>/run.lock`` while it runs.
The lock is an ``fcntl.flock`` on that file: the kernel releases it when its process dies, so a
lock file left by a killed run (its PID no longer alive) never blocks the next one. The file
records the holder (PID, host, start time) for the message a second run prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pathlib
import socket
import sys
import time
from collections.abc import Iterator

from gans_jax import errors

LOCK_FILE = "run.lock"


def create(workdir: str | pathlib.Path) -> pathlib.Path:
  """Makes ``workdir`` (and its parents) if needed, after ``check_usable``.

  Raises:
    errors.RunDirectoryError: naming the path when it is a file, cannot be created or cannot be
      written.
  """
  workdir = pathlib.Path(workdir)
  check_usable(workdir)
  try:
    workdir.mkdir(parents=True, exist_ok=True)
  except OSError as error:
    raise errors.RunDirectoryError(
      f"Cannot create the run directory {workdir}: {error.strerror}."
    ) from None
  return workdir


def check_usable(workdir: str | pathlib.Path) -> None:
  """Fails early, creating nothing, when ``workdir`` could not become a run directory.

  Raises:
    errors.RunDirectoryError: naming the path when it is a file, or it (or, if it does not
      exist yet, its nearest existing parent) cannot be written.
  """
  workdir = pathlib.Path(workdir)
  if workdir.exists() and not workdir.is_dir():
    raise errors.RunDirectoryError(f"--workdir {workdir} is a file, not a directory.")
  existing = next(p for p in (workdir, *workdir.absolute().parents) if p.exists())
  if not existing.is_dir() or not os.access(existing, os.W_OK):
    raise errors.RunDirectoryError(
      f"Cannot write in the run directory {workdir} ({existing}: a read-only file system, no "
      "permission, or not a directory)."
    )


def _holder(lock_path: pathlib.Path) -> str:
  """Who holds ``lock_path``, from what its holder wrote there."""
  try:
    holder = json.loads(lock_path.read_text())
    return f"process {holder['pid']} on {holder['host']} (since {holder['started']})"
  except (OSError, ValueError, KeyError):
    return "another process"


@contextlib.contextmanager
def locked(workdir: str | pathlib.Path) -> Iterator[pathlib.Path]:
  """Holds ``<workdir>/run.lock`` exclusively for the ``with`` block.

  Also the first write into ``workdir``, so an unwritable directory fails here, before any
  computation.

  Raises:
    errors.RunDirectoryError: naming the holder when another process runs in ``workdir``, or the
      reason when the lock file cannot be written (e.g. a read-only file system).
  """
  lock_path = pathlib.Path(workdir) / LOCK_FILE
  try:
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
  except OSError as error:
    raise errors.RunDirectoryError(
      f"Cannot write in the run directory {workdir}: {error.strerror} ({lock_path})."
    ) from None
  try:
    try:
      fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      raise errors.RunDirectoryError(
        f"{workdir} is in use by {_holder(lock_path)}; wait for that run to end, or use "
        "another --workdir."
      ) from None
    holder = {
      "pid": os.getpid(),
      "host": socket.gethostname(),
      "started": time.strftime("%Y-%m-%d %H:%M:%S"),
      "command": " ".join(sys.argv),
    }
    os.ftruncate(descriptor, 0)
    os.write(descriptor, json.dumps(holder).encode())
    yield lock_path
  finally:
    os.close(descriptor)  # Releases the lock; the file stays (its contents are only a note).
