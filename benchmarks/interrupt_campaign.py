"""Interrupt a real training process at random times, rerun the same command, compare the bits.

  python -m benchmarks.interrupt_campaign --signal KILL --trials 20 --out /tmp/kill9.json
  python -m benchmarks.interrupt_campaign --signal TERM --trials 20 --out /tmp/term.json

Each trial starts ``gans-jax train`` on a small DCGAN (digits, 16x16, 300 steps), sends the signal
after a random delay, then reruns the same command until it exits 0. The delays are drawn in
turn from the phases of an uninterrupted run, timed from its output: start-up (before the first
logged step), training (twice as often) and the final evaluation, so every phase is hit whatever
its share of the run. Every fifth trial checkpoints every step, so signals land inside saves.

A trial counts as identical when the resumed run's final checkpoint equals the uninterrupted
run's bit for bit, ``metrics.jsonl`` holds every logged step once and exactly one final
evaluation, and (for TERM / INT) the interrupted process exited 143 / 130, or 0 if it had
finished, with no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
OVERRIDES = [
  "num_steps=300",
  "batch_size=16",
  "data.resolution=16",
  "model.generator.width=8",
  "model.discriminator.width=8",
  "sample_every_steps=100",
  "log_every_steps=10",
  "eval_num_samples=100",
]


def command(workdir: pathlib.Path, checkpoint_every: int) -> list[str]:
  overrides = [*OVERRIDES, f"checkpoint_every_steps={checkpoint_every}"]
  return [
    sys.executable, "-m", "gans_jax.main", "train", "--workdir", str(workdir),
    *(f"--config.{o}" for o in overrides),
  ]  # fmt: skip


PHASES = ("start-up", "training", "evaluation", "training")


def timed_run(args: list[str], env: dict) -> dict[str, tuple[float, float]]:
  """Runs ``args`` to the end; {phase: (start s, end s)} from when its lines appeared."""
  started = time.perf_counter()
  process = subprocess.Popen(
    args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
  )
  first_step = last_step = None
  for line in process.stdout:
    now = time.perf_counter() - started
    if line.startswith("step "):
      first_step = first_step or now
      last_step = now
  if process.wait():
    raise RuntimeError(f"the uninterrupted run failed: {' '.join(args)}")
  end = time.perf_counter() - started
  return {
    "start-up": (0.5, first_step),
    "training": (first_step, last_step),
    "evaluation": (last_step, end),
  }


def run_to_completion(args: list[str], env: dict) -> tuple[int, float]:
  """Reruns until exit 0 (at most 3 times); (reruns, seconds)."""
  started = time.perf_counter()
  for attempt in range(1, 4):
    if subprocess.run(args, cwd=ROOT, env=env, capture_output=True).returncode == 0:
      return attempt, time.perf_counter() - started
  raise RuntimeError(f"{' '.join(args)} did not finish in 3 attempts")


def leaves(workdir: pathlib.Path) -> list[np.ndarray]:
  from gans_jax import runs

  _, state = runs.load_run(workdir)
  return [np.asarray(x) for x in jax.tree.leaves(state)]


def records_ok(workdir: pathlib.Path) -> bool:
  from gans_jax import writers

  records = writers.read_metrics(workdir)
  steps = [r["step"] for r in records if r["kind"] == "train"]
  evals = [r for r in records if r["kind"] == "eval"]
  return steps == list(range(10, 301, 10)) and [r["step"] for r in evals] == [300]


def trial(index: int, signum: int, delay: float, root: pathlib.Path, reference, env) -> dict:
  workdir = root / f"trial_{index:02d}"
  every = 1 if index % 5 == 0 else 100
  args = command(workdir, every)
  process = subprocess.Popen(
    args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
  )
  time.sleep(delay)
  process.send_signal(signum)
  stdout, stderr = process.communicate()
  entries = [p.name for p in (workdir / "checkpoints").glob("*")]
  saved = sorted(int(name) for name in entries if name.isdigit())
  mid_save = any(not name.isdigit() for name in entries)  # Orbax's temporary step directory.
  last_line = (stdout.strip().splitlines() or [""])[-1][:80]
  expected_codes = {0, -signal.SIGKILL} if signum == signal.SIGKILL else {0, 128 + signum}
  clean_exit = process.returncode in expected_codes and "Traceback" not in stderr
  reruns, rerun_seconds = run_to_completion(args, env)
  identical = all(
    a.tobytes() == b.tobytes() for a, b in zip(leaves(workdir), reference, strict=True)
  )
  return {
    "trial": index,
    "checkpoint_every_steps": every,
    "delay_s": round(delay, 2),
    "exit_code": process.returncode,
    "message": (stderr.strip().splitlines() or [""])[-1][:160] if signum != signal.SIGKILL else "",
    "last_stdout_line": last_line,
    "checkpoints_after_signal": saved,
    "left_a_partial_save": mid_save,
    "reruns": reruns,
    "rerun_s": round(rerun_seconds, 1),
    "identical": identical and records_ok(workdir) and clean_exit,
  }


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--signal", default="KILL", choices=("KILL", "TERM", "INT"))
  parser.add_argument("--trials", type=int, default=20)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--out", help="JSON results file")
  args = parser.parse_args(argv)
  signum = getattr(signal, f"SIG{args.signal}")
  env = {**os.environ, "PYTHONPATH": str(ROOT)}
  rng = np.random.default_rng(args.seed)
  with tempfile.TemporaryDirectory() as tmp:
    root = pathlib.Path(tmp)
    phases = timed_run(command(root / "reference", 100), env)
    full_run = phases["evaluation"][1]
    reference = leaves(root / "reference")
    results = []
    for index in range(args.trials):
      phase = PHASES[index % len(PHASES)]
      result = trial(index, signum, rng.uniform(*phases[phase]), root, reference, env)
      result["phase"] = phase
      results.append(result)
      print(json.dumps(result), flush=True)
  identical = sum(r["identical"] for r in results)
  summary = {
    "signal": args.signal,
    "trials": len(results),
    "identical": identical,
    "uninterrupted_run_s": round(full_run, 1),
    "phases_s": {name: [round(a, 1), round(b, 1)] for name, (a, b) in phases.items()},
    "results": results,
  }
  print(f"SIG{args.signal}: {identical}/{len(results)} identical (a whole run: {full_run:.0f} s)")
  if args.out:
    pathlib.Path(args.out).write_text(json.dumps(summary, indent=1))
  return 0 if identical == len(results) else 1


if __name__ == "__main__":
  sys.exit(main())
