"""Run outputs: TensorBoard (scalars, learning rates, sample grids, the config) and
``metrics.jsonl``, written by process 0 only.

TensorBoard event files are written with the ``tensorboard`` package's own writer, so training
never imports TensorFlow from the library side.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import time

import jax
import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from gans_jax import errors

METRICS_FILE = "metrics.jsonl"
# Written (atomically, {"step": N}) once a run has trained, evaluated and drawn its loss curves.
FINISHED_FILE = "finished.json"


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
    append_line(self.workdir / METRICS_FILE, json.dumps(record))
    scalars = [
      summary_pb2.Summary.Value(tag=f"{kind}/{name}", simple_value=float(value))
      for name, value in record.items()
      if name not in ("step", "kind") and isinstance(value, (int, float))
    ]
    if scalars:
      self._add(step, scalars)

  def scalars(self, step: int, values: dict[str, float]) -> None:
    """TensorBoard only (e.g. learning rates): ``values`` under their own tags."""
    if self.active and values:
      self._add(
        step, [summary_pb2.Summary.Value(tag=k, simple_value=float(v)) for k, v in values.items()]
      )

  def image(self, step: int, tag: str, png: bytes) -> None:
    """A PNG (a sample grid) to TensorBoard's images tab."""
    if not self.active:
      return
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as decoded:
      width, height = decoded.size
      channels = len(decoded.getbands())
    picture = summary_pb2.Summary.Image(
      height=height, width=width, colorspace=channels, encoded_image_string=png
    )
    self._add(step, [summary_pb2.Summary.Value(tag=tag, image=picture)])

  def text(self, step: int, tag: str, markdown: str) -> None:
    """Text (the run's config) to TensorBoard's text tab."""
    if not self.active:
      return
    from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2, types_pb2

    tensor = tensor_pb2.TensorProto(
      dtype=types_pb2.DT_STRING,
      string_val=[markdown.encode()],
      tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[]),
    )
    metadata = summary_pb2.SummaryMetadata(
      plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text")
    )
    self._add(step, [summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])

  def _add(self, step: int, values: list) -> None:
    event = event_pb2.Event(
      wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values)
    )
    self._events.add_event(event)
    self._events.flush()

  def restart_at(self, step: int) -> None:
    """Tells TensorBoard the run restarts at ``step``: it drops the events logged after it by
    the attempt that was interrupted (a SessionLog START, as TensorFlow's writers emit)."""
    if self.active:
      start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
      self._events.add_event(event_pb2.Event(wall_time=time.time(), step=step, session_log=start))
      self._events.flush()

  def close(self) -> None:
    if self._events is not None:
      self._events.close()


def append_line(path: pathlib.Path, line: str) -> None:
  """Appends ``line`` and a newline with one write on an O_APPEND descriptor: a process killed
  during it leaves the whole line or none of it (a crash of the machine itself may still cut
  it; ``read_metrics`` drops such a trailing piece)."""
  data = (line + "\n").encode()
  descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
  try:
    written = os.write(descriptor, data)
    while written < len(data):  # Regular files take it whole; a short write finishes here.
      written += os.write(descriptor, data[written:])
  finally:
    os.close(descriptor)


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
  """The records of a run's ``metrics.jsonl`` (none if it has none).

  A last line without its newline that is not JSON (what a crash mid-append can leave) is
  dropped with a warning; the next resume rewrites the file without it.

  Raises:
    errors.RunDirectoryError: naming the file and line when any other line is not a JSON record.
  """
  path = pathlib.Path(workdir) / METRICS_FILE
  if not path.exists():
    return []
  text = path.read_text()
  lines = text.split("\n")
  records = []
  for number, line in enumerate(lines, start=1):
    if not line.strip():
      continue
    try:
      records.append(json.loads(line))
    except json.JSONDecodeError as error:
      if number == len(lines):  # The unterminated last line.
        logging.warning("%s: dropped an incomplete last line (%d bytes)", path, len(line))
        continue
      raise errors.RunDirectoryError(
        f"{path}, line {number}, is not a JSON record ({error}); remove or mend that line."
      ) from None
  return records


def truncate_metrics(workdir: str | pathlib.Path, last_step: int, *, drop_final: bool) -> None:
  """Keeps the records of steps up to ``last_step`` (the checkpoint a run resumes from; 0 when
  it starts over) and drops the ones an interrupted attempt logged after it.

  With ``drop_final`` (a resume at the last step, whose end-of-run evaluation is redone) the
  evaluation records at ``last_step`` go too, so a rerun never writes them twice.
  """
  path = pathlib.Path(workdir) / METRICS_FILE
  if jax.process_index() != 0 or not path.exists():
    return
  kept = [
    r
    for r in read_metrics(workdir)
    if r["step"] <= last_step
    and not (drop_final and r["step"] == last_step and r["kind"] == "eval")
  ]
  write_atomically(path, "".join(json.dumps(r) + "\n" for r in kept))


def mark_finished(workdir: str | pathlib.Path, step: int) -> None:
  """Records that the run finished at ``step`` (process 0 only)."""
  if jax.process_index() == 0:
    write_atomically(pathlib.Path(workdir) / FINISHED_FILE, json.dumps({"step": int(step)}))


def finished_step(workdir: str | pathlib.Path) -> int | None:
  """The step a run finished at (``mark_finished``), or None for a run that has not."""
  path = pathlib.Path(workdir) / FINISHED_FILE
  try:
    return int(json.loads(path.read_text())["step"])
  except FileNotFoundError:
    return None
  except (ValueError, KeyError, TypeError) as error:
    raise errors.RunDirectoryError(f"{path} is not a finished-run record ({error}).") from None


class Progress:
  """One console line per report: step, metrics, images/s, ETA.

  Rates are measured from the step after the train step's compilation (``compiled``), so
  neither the images/s nor the ETA counts compile time; until then they read "compiling".
  """

  def __init__(self, num_steps: int, images_per_step: int, start_step: int):
    self.num_steps = num_steps
    self.images_per_step = images_per_step
    self._mark: tuple[int, float] | None = None  # (step, time) after the last compilation.

  def compiled(self, step: int) -> None:
    """The train step (re)compiled during step ``step``; rates count from here."""
    self._mark = (step, time.perf_counter())

  def report(self, step: int, metrics: dict) -> str:
    values = " ".join(f"{k} {float(v):.4f}" for k, v in sorted(metrics.items()))
    speed = "compiling"
    if self._mark is not None and step > self._mark[0]:
      steps_per_sec = (step - self._mark[0]) / max(time.perf_counter() - self._mark[1], 1e-9)
      eta = (self.num_steps - step) / max(steps_per_sec, 1e-9)
      speed = f"{rate_text(steps_per_sec * self.images_per_step)} img/s | ETA {_duration(eta)}"
    return f"step {step}/{self.num_steps} | {values} | {speed}"


def rate_text(per_second: float) -> str:
  """A rate with the digits that matter: 1142, 28.5, 0.81."""
  return f"{per_second:.0f}" if per_second >= 100 else f"{per_second:.3g}"


def _duration(seconds: float) -> str:
  minutes, seconds = divmod(int(seconds), 60)
  return f"{minutes}m{seconds:02d}s"


def config_markdown(config: dict) -> str:
  """A resolved config (as a dict) as a Markdown code block (TensorBoard's text tab)."""
  text = json.dumps(config, indent=2, sort_keys=True)
  return "\n".join("    " + line for line in text.splitlines())


def run_summary(workdir, start_step, step, elapsed, images_seen, metrics, eval_metrics) -> str:
  """The lines a run prints at its end: where, how far and fast, its last metrics, its files."""
  rate = rate_text(images_seen / max(elapsed, 1e-9))
  lines = [
    "",
    f"Run directory: {workdir}",
    f"Trained steps {start_step} -> {step} in {elapsed:.0f}s ({rate} img/s, compilation included).",
    "Final train metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())),
  ]
  for name, value in eval_metrics.items():
    lines.append(f"  {name}: {_format_value(value)}")
  lines.append(
    "Files: config.json, checkpoints/, tensorboard/, metrics.jsonl, samples_*.png, "
    "loss_curves.png, finished.json (once finished), run.lock"
  )
  return "\n".join(lines)


def _format_value(value) -> str:
  return f"{value:.4f}" if isinstance(value, float) else str(value)


def format_metrics(metrics: dict) -> str:
  return ", ".join(f"{k}={_format_value(v)}" for k, v in metrics.items() if not isinstance(v, list))
