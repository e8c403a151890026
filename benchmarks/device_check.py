"""Everything an accelerator lease should measure, in one run and one JSON file (about 6 minutes
on one GPU; ``benchmarks/device_check.sh`` is the command, with its set-up).

  python -m benchmarks.device_check --out device_check.json [--small]

Parts, each in its own process (a part that fails or runs out of time records its error and the
others still run; the file is rewritten after every part, so a killed run keeps what it has):

- ``environment``: jax, devices, PyTorch and its device, XLA_FLAGS;
- ``tests``: the test modules that matter on an accelerator (determinism flag, layer choices off
  CPU, the StyleGAN import), with pytest when it is installed;
- ``reproduction``: ``gans-jax train`` of the default config, ``--steps`` steps, twice in fresh
  directories and once stopped half-way and resumed: the three final checkpoints compared bit
  for bit (``config.deterministic`` is on, so the CLI starts XLA with its deterministic flag);
  with several devices, also one device against all of them (largest parameter difference);
- ``jax_speed`` and ``torch_speed``: train-step images/s in float32 and bfloat16 for DCGAN 64x64
  (batch 64 and 512), pix2pix 256x256 (batch 1 and 16) and StyleGAN 256x256 (its last stage,
  batch 32; gans_jax only: PyTorch has no reference StyleGAN here), gans_jax's compiled step beside
  PyTorch eager on the same device (``benchmarks.torch_reference``; bfloat16 through autocast);
- ``inception``: FID InceptionV3 images/s, gans_jax beside pytorch-fid on the same device.

``--small`` shrinks every size so the whole check runs on a CPU in a few minutes (what CI-free
runs here do); the numbers then mean nothing, the plumbing is what it checks.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

from benchmarks import device_probe

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEST_MODULES = (
  "tests/test_determinism.py",
  "tests/test_layers.py",
  "tests/test_stylegan1_import.py",
)

# name -> (config, overrides, stage, PyTorch reference (kind, resolution, batch) or None).
SPEED_CASES = {
  "dcgan64_b64": ("dcgan:resolution=64,channels=3,width=64", ["batch_size=64"], "first",
                  ("dcgan", 64, 64)),
  "dcgan64_b512": ("dcgan:resolution=64,channels=3,width=64", ["batch_size=512"], "first",
                   ("dcgan", 64, 512)),
  "pix2pix256_b1": ("pix2pix:paper=true", ["batch_size=1"], "first",
                    ("pix2pix", 256, 1)),
  "pix2pix256_b16": ("pix2pix:paper=true", ["batch_size=16"], "first",
                     ("pix2pix", 256, 16)),
  "stylegan256": ("stylegan:paper=true,dataset=digits,resolution=256,channels=3", [], "last", None),
}  # fmt: skip
SMALL_CASES = {
  "dcgan32_b8": ("dcgan:resolution=32,channels=3,width=8", ["batch_size=8"], "first",
                 ("dcgan", 32, 8)),
  "pix2pix64_b1": ("pix2pix:dataset=scenes", ["batch_size=1", "model.generator.width=8",
                   "model.discriminator.width=8", "data.resolution=64", "data.load_size=64"],
                   "first", ("pix2pix", 64, 1)),
  "stylegan16": ("stylegan:resolution=16", [], "last", None),
}  # fmt: skip


def environment(args) -> dict:
  import jax

  result = {
    "jax": jax.__version__,
    "backend": jax.default_backend(),
    "devices": [str(device) for device in jax.devices()],
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
  }
  try:
    import torch

    result["torch"] = torch.__version__
    result["torch_cuda"] = torch.cuda.is_available()
  except ImportError as error:
    result["torch"] = f"not importable: {error}"
  return result


def tests(args) -> dict:
  try:
    import pytest  # noqa: F401
  except ImportError:
    return {"skipped": "pytest is not installed"}
  command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TEST_MODULES]
  done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=args.timeout)
  lines = done.stdout.strip().splitlines()
  return {"returncode": done.returncode, "summary": lines[-1] if lines else "",
          "failures": [line for line in lines if line.startswith("FAILED")][:20]}  # fmt: skip


def _train(workdir, steps: int, *extra: str, env=None) -> float:
  command = [sys.executable, "-m", "gans_jax.main", "train", "--workdir", str(workdir),
             f"--config.num_steps={steps}", "--config.eval.protocol=none",
             f"--config.checkpoint_every_steps={steps}", *extra]  # fmt: skip
  started = time.perf_counter()
  done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
  if done.returncode:
    raise RuntimeError(done.stderr[-2000:])
  return round(time.perf_counter() - started, 1)


def _final_arrays(workdir) -> list:
  import jax
  import numpy as np

  from gans_jax import runs

  return [np.asarray(leaf) for leaf in jax.tree.leaves(runs.load_run(workdir)[1])]


def _equal(arrays, others) -> bool:
  import numpy as np

  return all(np.array_equal(a, b) for a, b in zip(arrays, others, strict=True))


def reproduction(args) -> dict:
  import jax
  import numpy as np

  steps = args.steps
  with tempfile.TemporaryDirectory() as folder:
    folder = pathlib.Path(folder)
    seconds = [_train(folder / "first", steps), _train(folder / "second", steps)]
    _train(folder / "resumed", steps // 2)
    seconds.append(_train(folder / "resumed", steps))
    first, second, resumed = (_final_arrays(folder / n) for n in ("first", "second", "resumed"))
    result = {
      "steps": steps,
      "seconds": seconds,
      "two_runs_bitwise_equal": _equal(first, second),
      "resumed_bitwise_equal": _equal(first, resumed),
      "devices": jax.device_count(),
    }
    if jax.device_count() > 1:
      one = {**os.environ, "CUDA_VISIBLE_DEVICES": "0"}
      _train(folder / "one_device", steps, env=one)
      single = _final_arrays(folder / "one_device")
      result["one_vs_all_devices_max_difference"] = max(
        float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(first, single, strict=True)
        if a.dtype.kind == "f"
      )  # fmt: skip
  return result


def _cases(args) -> dict:
  return SMALL_CASES if args.small else SPEED_CASES


def jax_speed(args) -> dict:
  from benchmarks import train_step
  from gans_jax import config_utils

  results = {}
  for name, (spec, overrides, stage, _) in _cases(args).items():
    for dtype in ("float32", "bfloat16"):
      try:
        config = config_utils.load_config(spec)
        config_utils.apply_overrides(config, [*overrides, f"compute_dtype={dtype}"])
        results[f"{name}_{dtype}"] = train_step.measure(
          config, steps=args.speed_steps, repeats=3, stage=stage
        )
      except Exception:  # noqa: BLE001 -- recorded; the other cases still run.
        results[f"{name}_{dtype}"] = {"error": traceback.format_exc()[-1500:]}
  return results


def _time_torch(step, steps: int) -> float:
  for _ in range(2):
    step()
  timings = []
  for _ in range(3):
    started = time.perf_counter()
    for _ in range(steps):
      step()
    timings.append((time.perf_counter() - started) / steps)
  return statistics.median(timings)


def torch_speed(args) -> dict:
  import torch

  from benchmarks import torch_reference

  device = "cuda" if torch.cuda.is_available() else "cpu"
  torch.set_default_device(device)
  results = {"device": device}
  for name, (*_, reference) in _cases(args).items():
    if reference is None:
      continue
    kind, resolution, batch = reference
    for dtype in ("float32", "bfloat16"):
      try:
        if kind == "dcgan":
          step = torch_reference.dcgan_step(resolution, batch, width=8 if args.small else 64)
        else:
          step = torch_reference.pix2pix_step(resolution, batch, width=8 if args.small else 64)
        autocast = torch.autocast(device, torch.bfloat16, enabled=dtype == "bfloat16")
        with autocast:
          seconds = _time_torch(step, args.speed_steps)
        results[f"{name}_{dtype}"] = {
          "images_per_sec": round(batch / seconds, 1),
          "step_ms": round(seconds * 1e3, 2),
        }
      except Exception:  # noqa: BLE001
        results[f"{name}_{dtype}"] = {"error": traceback.format_exc()[-1500:]}
  return results


def inception(args) -> dict:
  import torch

  from benchmarks import inception_throughput

  images = 100 if args.small else 1000
  batch = 25 if args.small else 200
  device = "cuda" if torch.cuda.is_available() else "cpu"
  return inception_throughput.measure(batch, images, rounds=2 if args.small else 3, device=device)


PARTS = {
  "environment": environment,
  "tests": tests,
  "reproduction": reproduction,
  "jax_speed": jax_speed,
  "torch_speed": torch_speed,
  "inception": inception,
}


def _run_part(part: str, args) -> dict:
  command = [sys.executable, "-m", "benchmarks.device_check", "--part", part,
             "--steps", str(args.steps), "--speed-steps", str(args.speed_steps),
             "--timeout", str(args.timeout), *(["--small"] if args.small else [])]  # fmt: skip
  return device_probe.run_part(command, args.timeout, cwd=ROOT)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default="device_check.json")
  parser.add_argument("--small", action="store_true", help="CPU-sized: checks the plumbing")
  parser.add_argument("--steps", type=int, default=20, help="train steps of the reproduction")
  parser.add_argument("--speed-steps", type=int, default=10, help="steps per timed round")
  parser.add_argument("--timeout", type=int, default=150, help="seconds per part")
  parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated")
  parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)  # One part, internally.
  args = parser.parse_args(argv)
  if args.part:
    print(json.dumps(PARTS[args.part](args)))
    return
  report = {"small": args.small}
  for part in args.parts.split(","):
    report[part] = _run_part(part, args)
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1))
    print(part, json.dumps(report[part])[:400], flush=True)


if __name__ == "__main__":
  main()
