"""Where a compiled train step's time and host memory go, as a table and one JSON line.

  python -m benchmarks.step_profile --config configs/dcgan.py:resolution=64,channels=3,width=64 \
      --override augment.policy= --override ema_decay=0.0       # compare_pytorch's DCGAN 64x64
  python -m benchmarks.step_profile --config configs/pix2pix.py:dataset=facades --top 30

Time: the step's operations as XLA's runtime traces them (``jax.profiler``), grouped by kind (a
fusion's name without its number: ``transpose_copy_fusion``, ``ynn_fusion``, ...), in ms per
step. With YNNPACK (``cpu_convolutions="ynnpack"``) convolutions are among the ``ynn_fusion``
spans; with Eigen's (``"eigen"``) a ``convolution`` span is only its launch, and the work runs on
threads the trace does not follow. Operations that run at the same time both count, so the
traced total (``traced_ms``) can exceed the step.

Memory (Linux): the process's resident set after the imports, after the initial state and the
step's compilation, and after the timed steps, its high-water mark, and XLA's
``memory_analysis()`` of the step (arguments, outputs and the temporary buffer each run allocates).
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import pathlib
import re
import tempfile
import time

import jax

from benchmarks import train_step
from gans_jax import config_utils

# Trace events that are not operations of the step: the runtime's own spans and Python frames.
_NOT_OPERATIONS = re.compile(
  r"^(\$|end: |ThunkExecutor|PjitFunction|CommonPjRt|Slinky|Parse|Handle)"
)


def resident_mb() -> dict:
  """{"rss", "peak"} in MB from /proc/self/status (empty elsewhere)."""
  status = pathlib.Path("/proc/self/status")
  if not status.exists():
    return {}
  fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
  return {
    name: round(int(fields[key].split()[0]) / 1024)
    for name, key in (("rss", "VmRSS"), ("peak", "VmHWM"))
    if key in fields
  }


def operation_kinds(events, steps: int) -> list[dict]:
  """Complete ("X") trace events -> [{"kind", "ms", "count"}] per step, largest first."""
  total, count = collections.Counter(), collections.Counter()
  for event in events:
    if event.get("ph") != "X" or _NOT_OPERATIONS.match(event["name"]):
      continue
    kind = re.sub(r"\.\d+$", "", event["name"])
    total[kind] += event["dur"]
    count[kind] += 1
  return [
    {"kind": kind, "ms": round(us / steps / 1e3, 3), "count": count[kind] // steps}
    for kind, us in total.most_common()
  ]


def traced_kinds(run, steps: int) -> list[dict]:
  """Runs ``run()`` ``steps`` times under ``jax.profiler``; returns ``operation_kinds``."""
  with tempfile.TemporaryDirectory() as directory:
    with jax.profiler.trace(directory, create_perfetto_trace=True):
      for _ in range(steps):
        run()
    (path,) = glob.glob(f"{directory}/**/perfetto_trace.json.gz", recursive=True)
    with gzip.open(path) as file:
      events = json.load(file)["traceEvents"]
  return operation_kinds(events, steps)


def profile(config, *, steps: int = 3) -> dict:
  """The time and memory breakdown of ``config``'s first-stage train step."""
  memory = {"imports": resident_mb()}
  compiled, state, batch, compile_sec, _ = train_step.compiled_step(config)
  memory["compiled"] = resident_mb()
  analysis = compiled.memory_analysis()
  holder = {"state": state}

  def run():
    holder["state"], metrics = compiled(holder["state"], batch)
    jax.block_until_ready(metrics)

  run()  # Warm-up.
  started = time.perf_counter()
  for _ in range(steps):
    run()
  step_ms = (time.perf_counter() - started) / steps * 1e3
  memory["stepped"] = resident_mb()
  kinds = traced_kinds(run, steps)
  return {
    "step_ms": round(step_ms, 1),
    "compile_sec": round(compile_sec, 2),
    "traced_ms": round(sum(k["ms"] for k in kinds), 1),
    "kinds": kinds,
    "resident_mb": memory,
    "xla_mb": {
      name: round(getattr(analysis, f"{name}_size_in_bytes") / 2**20, 1)
      for name in ("argument", "output", "alias", "temp")
    },
  }


def format_report(result: dict, top: int) -> str:
  lines = [
    f"step {result['step_ms']} ms (compiled in {result['compile_sec']} s); traced operations "
    f"{result['traced_ms']} ms",
    "",
    "| operation kind | ms / step | per step |",
    "|---|---|---|",
  ]
  lines += [f"| {k['kind']} | {k['ms']:.2f} | {k['count']} |" for k in result["kinds"][:top]]
  memory = ", ".join(
    f"{stage} {values.get('rss')} MB" for stage, values in result["resident_mb"].items()
  )
  peak = result["resident_mb"]["stepped"].get("peak")
  xla = ", ".join(f"{name} {mb} MiB" for name, mb in result["xla_mb"].items())
  lines += ["", f"resident: {memory}; peak {peak} MB", f"XLA buffers: {xla}"]
  return "\n".join(lines)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--config", help="FILE[:ARG], default configs/dcgan.py")
  parser.add_argument("--override", action="append", default=[], help="KEY=VALUE, repeatable")
  parser.add_argument("--steps", type=int, default=3, help="steps timed and traced")
  parser.add_argument("--top", type=int, default=20, help="operation kinds listed")
  args = parser.parse_args(argv)
  config = config_utils.load_config(args.config)
  config_utils.apply_overrides(config, args.override)
  result = profile(config, steps=args.steps)
  print(format_report(result, args.top))
  print(json.dumps(result))


if __name__ == "__main__":
  main()
