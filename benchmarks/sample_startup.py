"""How long ``gans-jax sample`` takes from the command to the file, and to a refused argument.

  python -m benchmarks.sample_startup [--workdir RUN] [--config FILE[:ARG]] [--repeats 3]

Without ``--workdir`` it first trains the named config (default: ``configs/dcgan.py``) for a few
steps in a temporary directory, so the run is real but cheap. It then times, as separate
processes (start-up included, as a user sees it): ``sample --num 64 --out F.npz``,
``sample --num 64 --out DIR/`` and ``sample --out x.png`` (refused). Prints one JSON line of
median seconds. The target is under 10 s plus the sampling itself on the development CPU.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHORT_RUN = ["num_steps=4", "checkpoint_every_steps=4", "sample_every_steps=4", "log_every_steps=2"]


def gans_jax(*args: str) -> tuple[int, float]:
  """(exit code, seconds) of one ``gans-jax`` command in its own process."""
  started = time.perf_counter()
  completed = subprocess.run(
    [sys.executable, "-m", "gans_jax.main", *args], cwd=ROOT, capture_output=True, text=True
  )
  return completed.returncode, time.perf_counter() - started


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", help="an existing run (default: train a short one)")
  parser.add_argument("--config", default=str(ROOT / "configs" / "dcgan.py"))
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args(argv)
  with tempfile.TemporaryDirectory() as scratch:
    scratch = pathlib.Path(scratch)
    workdir = args.workdir
    if workdir is None:
      workdir = str(scratch / "run")
      overrides = [f"--config.{o}" for o in SHORT_RUN]
      code, train_s = gans_jax("train", "--config", args.config, "--workdir", workdir, *overrides)
      if code:
        raise SystemExit(f"training the short run failed (exit {code})")
    cases = {
      "sample_npz_s": (["--num", "64", "--out", str(scratch / "s{}.npz")], 0),
      "sample_pngs_s": (["--num", "64", "--out", str(scratch / "pages{}") + "/"], 0),
      "refused_out_s": (["--num", "64", "--out", str(scratch / "x.png")], 2),
    }
    result = {"workdir": workdir, "repeats": args.repeats}
    for name, (case, expected) in cases.items():
      times = []
      for repeat in range(args.repeats):
        code, seconds = gans_jax("sample", "--workdir", workdir, *(a.format(repeat) for a in case))
        if code != expected:
          raise SystemExit(f"{name}: exit {code}, expected {expected}")
        times.append(seconds)
      result[name] = round(statistics.median(times), 2)
  print(json.dumps(result))


if __name__ == "__main__":
  main()
