"""On an accelerator: are train steps bitwise reproducible, with and without XLA's
deterministic-ops flag, and how fast are they beside PyTorch on the same device? One JSON file.

  python -m benchmarks.device_probe --out probe.json

Runs each part in its own process (XLA reads ``XLA_FLAGS`` once, when its backend starts):

- ``determinism``, once with the environment's ``XLA_FLAGS`` and once with
  ``--xla_gpu_deterministic_ops=true`` added: for each case (the default DCGAN, DCGAN 64x64 RGB,
  WGAN-GP on digits, StyleGAN's first stage, pix2pix on the scenes' sizes), the compiled train
  step runs ``--steps`` steps on fixed random batches from the same initial state twice; the
  two final states are compared leaf by leaf (bitwise, and the largest difference);
- ``speed``: DCGAN 64x64 RGB (ngf = ndf = 64) train-step images/s at batch 64 and 512, float32
  and bfloat16 (``benchmarks.train_step.measure``), and at batch 64 under the deterministic flag;
- ``torch``: the same DCGAN steps in PyTorch eager on the same device
  (``benchmarks.torch_reference``), float32.

Needs no TensorFlow: batches are random arrays. A part that fails records its error and the
others still run. Written for a lent GPU machine (one prepared run); on a CPU it runs too (small
``--steps``, ``--cases``, ``--batches``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import traceback

DETERMINISTIC_FLAG = "--xla_gpu_deterministic_ops=true"
CASES = {
  "dcgan": ("dcgan", []),
  "dcgan64": ("dcgan:resolution=64,channels=3,width=64", ["batch_size=64"]),
  "wgan_gp": ("wgan:dataset=digits", []),
  "stylegan": ("stylegan", []),
  "pix2pix": ("pix2pix", []),
}


def _digest(leaves) -> str:
  import numpy as np

  hasher = hashlib.sha256()
  for leaf in leaves:
    hasher.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
  return hasher.hexdigest()[:16]


def determinism_case(spec: str, overrides: list[str], steps: int) -> dict:
  """Two runs of ``steps`` compiled steps from one initial state on the same batches."""
  import jax
  import numpy as np

  from benchmarks import train_step
  from gans_jax import config_utils, loop, run_data, trainers

  config = config_utils.load_config(spec)
  config_utils.apply_overrides(config, overrides)
  family = trainers.get_family(config.family)
  shape = run_data.sample_shape(config)
  stage = family.schedule(config, shape)[0]
  static = {"stage": stage} if family.stages else {}
  step = jax.jit(lambda s, b: family.train_step(s, b, config=config, **static), donate_argnums=0)
  batches = [
    train_step.random_batch(config, stage, jax.random.PRNGKey(100 + i)) for i in range(steps)
  ]
  finals, seconds = [], []
  for _ in range(2):
    state = loop.initial_state(config, shape)
    started = time.perf_counter()
    for batch in batches:
      state, metrics = step(state, batch)
    jax.block_until_ready((state, metrics))
    seconds.append(round(time.perf_counter() - started, 2))
    finals.append([np.asarray(leaf) for leaf in jax.tree.leaves(state)])
  differing = [i for i, (a, b) in enumerate(zip(*finals, strict=True)) if not np.array_equal(a, b)]
  largest = max(
    (float(np.max(np.abs(finals[0][i].astype(np.float64) - finals[1][i]))) for i in differing),
    default=0.0,
  )
  return {
    "bitwise_equal": not differing,
    "differing_leaves": len(differing),
    "leaves": len(finals[0]),
    "max_abs_difference": largest,
    "digests": [_digest(f) for f in finals],
    "seconds": seconds,
  }


def _environment() -> dict:
  import jax

  return {
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    "devices": [str(device) for device in jax.devices()],
    "jax": jax.__version__,
  }


def determinism(args) -> dict:
  results = _environment()
  for name in args.cases.split(","):
    spec, overrides = CASES[name]
    try:
      results[name] = determinism_case(spec, overrides, args.steps)
    except Exception:  # noqa: BLE001 -- recorded; the other cases still run.
      results[name] = {"error": traceback.format_exc()[-2000:]}
  return results


def _batches(args) -> list[int]:
  return [int(b) for b in args.batches.split(",")]


def speed(args) -> dict:
  from benchmarks import train_step
  from gans_jax import config_utils

  results = _environment()
  flagged = DETERMINISTIC_FLAG in results["xla_flags"]
  batches = _batches(args)[:1] if flagged else _batches(args)
  dtypes = ("float32",) if flagged else ("float32", "bfloat16")
  for batch in batches:
    for dtype in dtypes:
      name = f"dcgan64_b{batch}_{dtype}"
      try:
        config = config_utils.load_config("dcgan:resolution=64,channels=3,width=64")
        config_utils.apply_overrides(config, [f"batch_size={batch}", f"compute_dtype={dtype}"])
        results[name] = train_step.measure(config, steps=args.steps, repeats=5)
      except Exception:  # noqa: BLE001
        results[name] = {"error": traceback.format_exc()[-2000:]}
  return results


def torch_speed(args) -> dict:
  import statistics

  import torch

  from benchmarks import torch_reference

  device = "cuda" if torch.cuda.is_available() else "cpu"
  torch.set_default_device(device)
  results = {"device": device, "torch": torch.__version__}
  for batch in _batches(args):
    name = f"dcgan64_b{batch}_float32"
    try:
      step = torch_reference.dcgan_step(64, batch, width=64, channels=3)
      for _ in range(3):
        step()
      timings = []
      for _ in range(5):
        started = time.perf_counter()
        for _ in range(args.steps):
          step()
        timings.append((time.perf_counter() - started) / args.steps)
      median = statistics.median(timings)
      results[name] = {
        "images_per_sec": round(batch / median, 1),
        "step_ms": round(median * 1e3, 2),
      }
    except Exception:  # noqa: BLE001
      results[name] = {"error": traceback.format_exc()[-2000:]}
  return results


PARTS = {"determinism": determinism, "speed": speed, "torch": torch_speed}


def run_part(command: list[str], timeout: float, **options) -> dict:
  """Runs one part's ``command`` (``subprocess.run`` ``options``: env, cwd); its last line of
  output is the part's JSON result, else the error (its stderr, or the timeout) is."""
  started = time.perf_counter()
  try:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options)
  except subprocess.TimeoutExpired:
    return {"error": f"timed out after {timeout} s"}
  if done.returncode:
    return {"error": done.stderr[-3000:]}
  result = json.loads(done.stdout.strip().splitlines()[-1])
  result["part_seconds"] = round(time.perf_counter() - started, 1)
  return result


def _run_part(part: str, args, extra_flag: str) -> dict:
  env = dict(os.environ)
  env["XLA_FLAGS"] = " ".join(filter(None, [env.get("XLA_FLAGS", ""), extra_flag]))
  options = ["--steps", str(args.steps), "--cases", args.cases, "--batches", args.batches]
  command = [sys.executable, "-m", "benchmarks.device_probe", "--part", part, *options]
  return run_part(command, args.timeout, env=env)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default="device_probe.json")
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--cases", default=",".join(CASES), help="determinism cases")
  parser.add_argument("--batches", default="64,512", help="DCGAN 64x64 batch sizes to time")
  parser.add_argument("--part", choices=PARTS, help="run one part here (used internally)")
  parser.add_argument("--timeout", type=int, default=240, help="seconds per part")
  args = parser.parse_args(argv)
  if args.part:
    print(json.dumps(PARTS[args.part](args)))
    return
  report = {}
  runs = [
    ("determinism", "determinism", ""),
    ("determinism_with_flag", "determinism", DETERMINISTIC_FLAG),
    ("speed", "speed", ""),
    ("speed_with_flag", "speed", DETERMINISTIC_FLAG),
    ("torch", "torch", ""),
  ]
  for name, part, flag in runs:
    report[name] = _run_part(part, args, flag)
    with open(args.out, "w") as file:  # After every part: a killed run keeps what it measured.
      json.dump(report, file, indent=1)
    print(name, json.dumps(report[name])[:600], flush=True)


if __name__ == "__main__":
  main()
