"""Run outputs: TensorBoard scalars and ``metrics.jsonl``, written by process 0 only.

TensorBoard event files are written with the ``tensorboard`` package's own writer, so training
never imports TensorFlow from the library side.
"""

from __future__ import annotations

import json
import os
import pathlib
import time

import jax
import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

METRICS_FILE = "metrics.jsonl"


class MetricWriter:
  """Appends scalar metrics to TensorBoard and to ``metrics.jsonl`` (no-op off process 0)."""

  def __init__(self, workdir: str | pathlib.Path):
    self.workdir = pathlib.Path(workdir)
    self.active = jax.process_index() == 0
    self._events = EventFileWriter(str(self.workdir / "tensorboard")) if self.active else None

  def write(self, step: int, kind: str, values: dict) -> None:
    """Writes one record: ``{"step", "kind", **values}``; numeric values also to TensorBoard."""
    if not self.active:
      return
    record = {"step": int(step), "kind": kind, **{k: _jsonable(v) for k, v in values.items()}}
    with open(self.workdir / METRICS_FILE, "a") as file:
      file.write(json.dumps(record) + "\n")
    scalars = [
      summary_pb2.Summary.Value(tag=f"{kind}/{name}", simple_value=float(value))
      for name, value in record.items()
      if name not in ("step", "kind") and isinstance(value, (int, float))
    ]
    if scalars:
      event = event_pb2.Event(
        wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=scalars)
      )
      self._events.add_event(event)
      self._events.flush()

  def close(self) -> None:
    if self._events is not None:
      self._events.close()


def _jsonable(value):
  value = np.asarray(value)
  return value.item() if value.ndim == 0 else value.tolist()


def write_atomically(path: str | pathlib.Path, data: str | bytes) -> None:
  """Writes ``data`` to ``path`` through a temporary file and a rename: readers (and a run
  killed mid-write) see the old file or the new one, never half of one."""
  path = pathlib.Path(path)
  temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
  if isinstance(data, str):
    temporary.write_text(data)
  else:
    temporary.write_bytes(data)
  os.replace(temporary, path)


def read_metrics(workdir: str | pathlib.Path) -> list[dict]:
  path = pathlib.Path(workdir) / METRICS_FILE
  if not path.exists():
    return []
  return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def truncate_metrics(workdir: str | pathlib.Path, last_step: int) -> None:
  """Drops records after ``last_step`` (logged after the checkpoint a run resumes from)."""
  path = pathlib.Path(workdir) / METRICS_FILE
  if jax.process_index() != 0 or not path.exists():
    return
  kept = [r for r in read_metrics(workdir) if r["step"] <= last_step]
  write_atomically(path, "".join(json.dumps(r) + "\n" for r in kept))


class Progress:
  """One console line per report: step, metrics, images/s, ETA."""

  def __init__(self, num_steps: int, images_per_step: int, start_step: int):
    self.num_steps = num_steps
    self.images_per_step = images_per_step
    self._last_step = start_step
    self._last_time = time.perf_counter()

  def report(self, step: int, metrics: dict) -> str:
    now = time.perf_counter()
    steps_per_sec = (step - self._last_step) / max(now - self._last_time, 1e-9)
    self._last_step, self._last_time = step, now
    eta = (self.num_steps - step) / max(steps_per_sec, 1e-9)
    values = " ".join(f"{k} {float(v):.4f}" for k, v in sorted(metrics.items()))
    return (
      f"step {step}/{self.num_steps} | {values} | "
      f"{steps_per_sec * self.images_per_step:.0f} img/s | ETA {_duration(eta)}"
    )


def _duration(seconds: float) -> str:
  minutes, seconds = divmod(int(seconds), 60)
  return f"{minutes}m{seconds:02d}s"
