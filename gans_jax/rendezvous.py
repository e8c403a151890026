"""A roll call of a multi-process run before ``jax.distributed`` starts (docs/design.md section 4).

``jax.distributed.initialize`` ends every waiting process with a fatal C++ error when one
process never arrives ("DEADLINE_EXCEEDED ... RegisterTask"), naming neither the missing
process nor the cause. ``roll_call`` first gathers the processes over plain TCP on the
coordinator's own port, so that a run that cannot start ends with one line that says which
processes did not arrive (on process 0) or that process 0 never answered (on the others).

The protocol is one line each way: process i > 0 connects to ``host:port`` (retrying while
process 0 is not listening yet) and sends ``GREETING i n``; once all n - 1 have arrived,
process 0 answers ``go`` to each, or ``error <why>`` when the roll call fails (a timeout, a
duplicate id, another process count). The others close their connections first, so that no
closed socket of process 0 holds the port that JAX's coordination service binds next.
"""

from __future__ import annotations

import socket
import time

from gans_jax import errors

GREETING = "gans_jax-roll-call"
_RETRY_SECONDS = 0.2  # Between connection attempts while process 0 is not listening yet.


class RollCallError(errors.UserError, RuntimeError):
  """A multi-process run whose processes did not all arrive, or disagree on the layout."""


def split_address(address: str) -> tuple[str, int]:
  """``"host:port"`` (IPv6 hosts in brackets) -> (host, port).

  Raises:
    RollCallError: for an address without a numeric port.
  """
  host, _, port = address.rpartition(":")
  if not host or not port.isdigit():
    raise RollCallError(f"coordinator address {address!r} is not host:port.")
  return host.strip("[]"), int(port)


def roll_call(address: str, num_processes: int, process_id: int, timeout_s: float) -> None:
  """Returns once all ``num_processes`` processes have called it with the same address.

  Args:
    address: "host:port" of process 0 (``config.distributed.coordinator_address``).
    num_processes: the process count, at least 1.
    process_id: this process's id in [0, num_processes).
    timeout_s: how long to wait for the others (``initialization_timeout_s``).

  Raises:
    RollCallError: naming the processes that did not arrive within ``timeout_s`` (process 0),
      saying that process 0 did not answer (the others), or for an inconsistent layout.
  """
  if not 0 <= process_id < num_processes:
    raise RollCallError(f"process_id {process_id} is outside [0, {num_processes}).")
  if num_processes == 1:
    return
  host, port = split_address(address)
  deadline = time.monotonic() + timeout_s
  if process_id == 0:
    _gather(port, num_processes, deadline, address, timeout_s)
  else:
    _report(host, port, num_processes, process_id, deadline, address, timeout_s)


def _listen(port: int) -> socket.socket:
  """A socket listening on ``port`` of every interface, IPv6 and IPv4 where the host has both
  (as JAX's coordination service listens)."""
  if socket.has_dualstack_ipv6():
    try:
      return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
    except OSError:
      pass  # IPv6 compiled in but not configured on this host: IPv4 alone.
  return socket.create_server(("", port))


def _gather(port, num_processes, deadline, address, timeout_s) -> None:
  """Process 0: accepts the others' greetings, then answers all of them at once."""
  try:
    server = _listen(port)
  except OSError as error:
    raise RollCallError(
      f"process 0 cannot listen on port {port} of {address}: {error.strerror} (is another run "
      "using it?)."
    ) from None
  arrived: dict[int, socket.socket] = {}
  failure = None
  with server:
    while failure is None and len(arrived) < num_processes - 1:
      remaining = deadline - time.monotonic()
      if remaining <= 0:
        missing = [i for i in range(1, num_processes) if i not in arrived]
        failure = (
          f"process{'es' if len(missing) > 1 else ''} {', '.join(map(str, missing))} of "
          f"{num_processes} did not join the coordinator at {address} within {timeout_s:g} s "
          "(config.distributed.initialization_timeout_s)."
        )
        break
      server.settimeout(remaining)
      try:
        connection, _ = server.accept()
      except TimeoutError:
        continue
      failure = _admit(connection, num_processes, arrived, deadline)
    _answer(arrived, "go" if failure is None else f"error {failure}")
  if failure is not None:
    raise RollCallError(failure)


def _admit(connection, num_processes, arrived, deadline) -> str | None:
  """Reads one greeting into ``arrived``; returns why the roll call fails, or None."""
  connection.settimeout(max(deadline - time.monotonic(), 0.1))
  try:
    words = connection.makefile("r").readline().split()
  except (TimeoutError, OSError):
    words = []
  if len(words) != 3 or words[0] != GREETING or not (words[1] + words[2]).isdigit():
    connection.close()  # Not one of ours (a port scan, a stray client): ignore it.
    return None
  process_id, count = int(words[1]), int(words[2])
  why = None
  if count != num_processes:
    why = f"process {process_id} was started for {count} processes, process 0 for {num_processes}."
  elif not 0 < process_id < num_processes:
    why = f"a process joined with id {process_id}, outside [1, {num_processes})."
  elif process_id in arrived:
    why = f"two processes joined with id {process_id}."
  if why is not None:
    _send(connection, f"error {why}")
    connection.close()
    return why
  arrived[process_id] = connection
  return None


def _send(connection, line: str) -> None:
  try:
    connection.sendall(f"{line}\n".encode())
  except OSError:
    pass  # That process is gone; the answer it would have read changes nothing here.


def _answer(arrived: dict, line: str) -> None:
  """Sends ``line`` to every arrived process, then waits briefly for each to close first."""
  for connection in arrived.values():
    _send(connection, line)
  for connection in arrived.values():
    connection.settimeout(5.0)
    try:
      connection.recv(1)  # b"" once the other side has closed.
    except OSError:
      pass
    connection.close()


def _report(host, port, num_processes, process_id, deadline, address, timeout_s) -> None:
  """Process i > 0: greets process 0 and waits for its answer."""
  connection = None
  while connection is None:
    try:
      connection = socket.create_connection((host, port), timeout=_RETRY_SECONDS * 5)
    except OSError:
      if time.monotonic() + _RETRY_SECONDS > deadline:
        raise RollCallError(
          f"process {process_id} of {num_processes}: nothing answered at {address} within "
          f"{timeout_s:g} s (process 0 did not start, or the address is wrong; "
          "config.distributed.coordinator_address, initialization_timeout_s)."
        ) from None
      time.sleep(_RETRY_SECONDS)
  with connection:
    # Process 0 answers once everyone is in or its own deadline passes, which is at most
    # timeout_s after it started listening, so before timeout_s from now.
    connection.settimeout(timeout_s + 5.0)
    try:
      connection.sendall(f"{GREETING} {process_id} {num_processes}\n".encode())
      answer = connection.makefile("r").readline().strip()
    except (TimeoutError, OSError):
      answer = ""
  if answer == "go":
    return
  if answer.startswith("error "):
    raise RollCallError(f"process {process_id}: {answer[len('error ') :]}")
  raise RollCallError(
    f"process {process_id} of {num_processes}: process 0 at {address} closed the roll call "
    "without an answer (it failed or was stopped; see its output)."
  )
