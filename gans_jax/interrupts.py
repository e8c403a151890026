"""SIGINT and SIGTERM during training: finish the step in flight, save, then stop.

Schedulers (Slurm, preemptible TPU VMs) send SIGTERM some time before they kill a job, and a
person presses Ctrl-C (SIGINT). Inside ``deferred_signals`` either one only sets a flag; the
loop reads it between steps, checkpoints and raises ``Interrupted``, which the command prints
as one line and turns into the shell's exit code for the signal (130 for SIGINT, 143 for
SIGTERM). A second signal exits at once, without saving.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
  """Training stopped on a signal; ``message`` says what was saved, ``exit_code`` is 128 + it.

  A KeyboardInterrupt, so ``except Exception`` does not swallow it (a notebook shows it as an
  interrupted cell).
  """

  def __init__(self, signum: int, message: str):
    super().__init__(message)
    self.signum = signum
    self.message = message
    self.exit_code = 128 + signum


class SignalFlag:
  """The first signal received inside ``deferred_signals`` (0 while none was)."""

  def __init__(self):
    self.signum = 0
    self.on_signal = None  # Optional callable(signum) run on the first signal (see loop).

  def _handle(self, signum, frame):
    del frame
    if self.signum:  # The second signal: the user does not want to wait for the save.
      os.write(2, f"\n{name(signum)} again: exiting now, without saving.\n".encode())
      os._exit(128 + signum)
    self.signum = signum
    if self.on_signal is not None:
      self.on_signal(signum)


@contextlib.contextmanager
def _handling(handler) -> Iterator[None]:
  """``handler`` for SIGINT and SIGTERM within the block, the previous handlers after it.

  Signal handlers can only be installed from the main thread; elsewhere (a worker thread of a
  test runner or a server) signals keep their old behaviour.
  """
  if threading.current_thread() is not threading.main_thread():
    yield
    return
  previous = {signum: signal.signal(signum, handler) for signum in HANDLED}
  try:
    yield
  finally:
    for signum, old in previous.items():
      signal.signal(signum, old)


@contextlib.contextmanager
def deferred_signals() -> Iterator[SignalFlag]:
  """Within the block, SIGINT and SIGTERM set the yielded flag instead of stopping the process
  (off the main thread the flag simply never rises)."""
  flag = SignalFlag()
  with _handling(flag._handle):
    yield flag


@contextlib.contextmanager
def interruptible(what: str = "nothing was saved") -> Iterator[None]:
  """Within the block SIGTERM, like SIGINT, raises ``Interrupted`` with the message
  "<SIGNAL>: stopped; <what>." (Python's default for SIGTERM ends the process silently, with no
  word of what was kept); ``deferred_signals`` inside it takes over while there is something to
  save."""

  def stop(signum, frame):
    del frame
    raise Interrupted(signum, f"{name(signum)}: stopped; {what}.")

  with _handling(stop):
    yield


def name(signum: int) -> str:
  return signal.Signals(signum).name
