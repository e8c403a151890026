"""The roll call before jax.distributed: who did not come is named, in one line."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

from gans_jax import rendezvous
from tests.helpers import ROOT, free_port


def _call_all(address: str, ids, num_processes: int, timeout_s: float, delays=None) -> dict:
  """Runs ``roll_call`` for each id in its own thread (after ``delays[id]`` seconds); returns
  {id: None or the exception it raised}."""
  outcomes = {}

  def call(process_id):
    time.sleep((delays or {}).get(process_id, 0.0))
    try:
      rendezvous.roll_call(address, num_processes, process_id, timeout_s)
      outcomes[process_id] = None
    except rendezvous.RollCallError as error:
      outcomes[process_id] = error

  threads = [threading.Thread(target=call, args=(i,)) for i in ids]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join(timeout=60)
  return outcomes


def test_all_processes_arrive_even_when_process_0_starts_last():
  address = f"localhost:{free_port()}"
  outcomes = _call_all(address, range(4), 4, 20.0, delays={0: 1.0, 3: 0.5})
  assert outcomes == {0: None, 1: None, 2: None, 3: None}


def test_the_port_is_free_again_for_the_coordination_service():
  port = free_port()
  assert _call_all(f"localhost:{port}", range(2), 2, 20.0) == {0: None, 1: None}
  with socket.create_server(("", port)):  # What JAX's coordination service does next.
    pass


def test_process_0_names_the_processes_that_did_not_arrive():
  address = f"localhost:{free_port()}"
  started = time.monotonic()
  outcomes = _call_all(address, [0, 2], 4, 1.5)
  assert time.monotonic() - started < 10
  message = str(outcomes[0])
  assert "processes 1, 3 of 4 did not join" in message
  assert address in message and "initialization_timeout_s" in message
  # The process that did come hears why the run cannot start.
  assert "processes 1, 3 of 4 did not join" in str(outcomes[2])
  assert "\n" not in message


def test_a_process_whose_coordinator_never_answers_says_so():
  address = f"localhost:{free_port()}"
  outcomes = _call_all(address, [1], 2, 1.0)
  assert "process 1 of 2: nothing answered at" in str(outcomes[1])
  assert "process 0 did not start, or the address is wrong" in str(outcomes[1])


def test_layout_mistakes_end_the_roll_call_for_everyone():
  address = f"localhost:{free_port()}"
  outcomes = {}

  def call(process_id, num_processes):
    try:
      rendezvous.roll_call(address, num_processes, process_id, 20.0)
      outcomes[process_id, num_processes] = None
    except rendezvous.RollCallError as error:
      outcomes[process_id, num_processes] = str(error)

  threads = [threading.Thread(target=call, args=(0, 3))]
  threads[0].start()
  time.sleep(0.3)
  threads.append(threading.Thread(target=call, args=(1, 2)))
  threads[1].start()
  for thread in threads:
    thread.join(timeout=60)
  assert "process 1 was started for 2 processes, process 0 for 3" in outcomes[0, 3]
  assert outcomes[1, 2] == f"process 1: {outcomes[0, 3]}"


def test_duplicate_ids_and_bad_arguments_are_named():
  port = free_port()
  results = {}

  def call(key, process_id):
    try:
      rendezvous.roll_call(f"localhost:{port}", 3, process_id, 20.0)
      results[key] = None
    except rendezvous.RollCallError as error:
      results[key] = str(error)

  threads = [threading.Thread(target=call, args=("zero", 0))]
  threads[0].start()
  time.sleep(0.3)
  for key in ("first", "second"):
    threads.append(threading.Thread(target=call, args=(key, 1)))
    threads[-1].start()
    time.sleep(0.3)
  for thread in threads:
    thread.join(timeout=60)
  assert results["zero"] == "two processes joined with id 1."
  assert results["first"] == results["second"] == "process 1: two processes joined with id 1."
  with pytest.raises(rendezvous.RollCallError, match=r"process_id 3 is outside \[0, 3\)"):
    rendezvous.roll_call(f"localhost:{port}", 3, 3, 1.0)
  with pytest.raises(rendezvous.RollCallError, match="is not host:port"):
    rendezvous.roll_call("localhost", 2, 1, 1.0)
  rendezvous.roll_call("nowhere:1", 1, 0, 1.0)  # A single process has no one to wait for.


def test_train_ends_with_one_line_naming_the_missing_process(tmp_path):
  """Without the roll call, JAX aborts this run in C++ after its timeout, naming no process."""
  command = [
    sys.executable,
    "-m",
    "gans_jax.main",
    "train",
    "--workdir",
    str(tmp_path / "run"),
    f"--config.distributed.coordinator_address=localhost:{free_port()}",
    "--config.distributed.num_processes=2",
    "--config.distributed.process_id=0",
    "--config.distributed.initialization_timeout_s=2",
  ]
  finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert finished.returncode != 0
  last = finished.stderr.strip().splitlines()[-1]
  assert "process 1 of 2 did not join the coordinator" in last, finished.stderr[-2000:]
  assert "Traceback" not in finished.stderr
  assert not (tmp_path / "run").exists()  # Nothing written for a run that never started.
