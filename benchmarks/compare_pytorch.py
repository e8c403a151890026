"""gans_jax vs PyTorch on the same CPU: full D + G train steps, alternated in one run, as a table.

  python -m benchmarks.compare_pytorch                       # all three cases, 3 rounds each
  python -m benchmarks.compare_pytorch --cases dcgan64 --rounds 5 --seconds 20

Cases (same architecture, batch and step on both sides; ``benchmarks/torch_reference.py``):
  dcgan64     DCGAN 64x64x3, ngf = ndf = 64, batch 64
  dcgan32     DCGAN 32x32x3, ngf = ndf = 64, batch 128
  pix2pix256  pix2pix unet_256 + 70x70 PatchGAN, ngf = ndf = 64, batch 1

Each framework runs in its own process (so neither's threads or allocator disturb the other and
peak memory is per framework); the driver alternates timed rounds between them so that drifts of
the machine hit both alike. Reported per case: images/s (median of the rounds) and the ratio,
compile time (gans_jax: XLA compilation; PyTorch: its first step), peak resident memory of each
process, XLA's FLOP count of the step and the GFLOP/s both reach, against this CPU's measured
float32 matmul peak (the better of XLA's and PyTorch's 2048^3 matmul). Needs torch (CPU):
``pip install torch==2.13.0``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = ("dcgan64", "dcgan32", "pix2pix256")


# ----------------------------------------------------------------------------- workers


def _jax_step(case: str):
  """(step() -> None, images per step, compile seconds, FLOPs per step) for gans_jax."""
  import jax
  import jax.numpy as jnp

  from gans_jax import compile_options, config_utils, host_memory, loop, run_data, trainers

  if case.startswith("dcgan"):
    resolution, batch = (64, 64) if case == "dcgan64" else (32, 128)
    spec = f"configs/dcgan.py:resolution={resolution},channels=3,width=64,batch={batch}"
    overrides = ["augment.policy=", "ema_decay=0.0"]  # The plain DCGAN step.
  else:
    spec, overrides = "configs/pix2pix.py:dataset=facades", []
  config = config_utils.load_config(spec)
  config_utils.apply_overrides(config, overrides)
  family = trainers.get_family(config.family)
  shape = run_data.sample_shape(config)
  key = jax.random.PRNGKey(1)
  if family.translates:
    load = config.data.load_size
    batch = {
      side: jax.random.uniform(
        jax.random.fold_in(key, i), (config.batch_size, load, load, 3), minval=-1
      )
      for i, side in enumerate("ab")
    }
  else:
    batch = {
      "x": jax.random.uniform(key, (config.batch_size, *shape), minval=-1, maxval=1),
      "label": jnp.zeros((config.batch_size,), jnp.int32),
    }
  state = loop.initial_state(config, shape)
  jitted = jax.jit(
    lambda s, b: family.train_step(s, b, config=config),
    donate_argnums=0,
    compiler_options=compile_options.for_train_step(config),  # As gans-jax train compiles it.
  )
  started = time.perf_counter()
  compiled = host_memory.compile_then_release(jitted, state, batch)  # As the loop compiles.
  compile_sec = time.perf_counter() - started
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  holder = {"state": state}

  def step():
    holder["state"], metrics = compiled(holder["state"], batch)
    return metrics

  jax.block_until_ready(step())  # Warm-up.
  return (lambda: jax.block_until_ready(step())), config.batch_size, compile_sec, cost["flops"]


def _torch_step(case: str):
  import torch

  from benchmarks import torch_reference

  torch.set_num_threads(os.cpu_count())
  torch.manual_seed(0)
  if case.startswith("dcgan"):
    resolution, batch = (64, 64) if case == "dcgan64" else (32, 128)
    step = torch_reference.dcgan_step(resolution, batch)
  else:
    batch, step = 1, torch_reference.pix2pix_step()
  started = time.perf_counter()
  step()  # The first step: PyTorch's one-off costs (allocations, kernel selection).
  return step, batch, time.perf_counter() - started, None


def worker(framework: str, case: str) -> None:
  """Serves ``time SECONDS`` requests on stdin with one JSON line each; ``quit`` ends."""
  step, images, compile_sec, flops = (_jax_step if framework == "jax" else _torch_step)(case)
  print(json.dumps({"compile_sec": compile_sec, "flops": flops}), flush=True)
  for line in sys.stdin:
    command, *args = line.split()
    if command == "quit":
      break
    budget, steps, started = float(args[0]), 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - started < budget:
      step()
      steps += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"images_per_sec": steps * images / elapsed, "steps": steps}), flush=True)
  peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  print(json.dumps({"peak_mb": peak_mb}), flush=True)


def matmul_peak(framework: str, size: int = 2048, repeats: int = 10) -> float:
  """Float32 matmul GFLOP/s of ``size``^3 products (best of ``repeats``)."""
  if framework == "jax":
    import jax
    import jax.numpy as jnp

    a = jnp.ones((size, size), jnp.float32)
    product = jax.jit(lambda x: x @ x)
    run = lambda: product(a).block_until_ready()  # noqa: E731
  else:
    import torch

    torch.set_num_threads(os.cpu_count())
    a = torch.ones(size, size)
    run = lambda: a @ a  # noqa: E731
  run()
  best = float("inf")
  for _ in range(repeats):
    started = time.perf_counter()
    run()
    best = min(best, time.perf_counter() - started)
  return 2 * size**3 / best / 1e9


# ----------------------------------------------------------------------------- driver


class _Worker:
  def __init__(self, framework: str, case: str):
    command = [sys.executable, "-m", "benchmarks.compare_pytorch", "--worker", framework, case]
    self.process = subprocess.Popen(
      command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    self.ready = self._read()

  def _read(self) -> dict:
    line = self.process.stdout.readline()
    if not line:
      raise RuntimeError(f"benchmark worker {self.process.args[-2:]} exited without a result")
    return json.loads(line)

  def time(self, seconds: float) -> float:
    self.process.stdin.write(f"time {seconds}\n")
    return self._read()["images_per_sec"]

  def close(self) -> float:
    self.process.stdin.write("quit\n")
    peak = self._read()["peak_mb"]
    self.process.wait()
    return peak


def compare(case: str, rounds: int, seconds: float) -> dict:
  """Both frameworks' numbers for one case (workers started one after the other)."""
  workers = {"gans_jax": _Worker("jax", case), "pytorch": _Worker("torch", case)}
  rates = {name: [] for name in workers}
  for _ in range(rounds):
    for name, running in workers.items():
      rates[name].append(running.time(seconds))
  row = {"case": case, "flops": workers["gans_jax"].ready["flops"]}
  for name, running in workers.items():
    row[name] = {
      "images_per_sec": statistics.median(rates[name]),
      "rounds": [round(r, 2) for r in rates[name]],
      "compile_sec": running.ready["compile_sec"],
      "peak_mb": running.close(),
    }
  row["ratio"] = row["gans_jax"]["images_per_sec"] / row["pytorch"]["images_per_sec"]
  return row


def format_table(rows: list[dict], peak_gflops: float) -> str:
  lines = [
    f"float32 matmul peak of this CPU: {peak_gflops:.1f} GFLOP/s",
    "",
    "| case | gans_jax img/s | PyTorch img/s | ratio | compile s (jax / torch 1st step) "
    "| peak MB (jax / torch) | GFLOP/step | GFLOP/s jax / torch (% of peak) |",
    "|---|---|---|---|---|---|---|---|",
  ]
  for row in rows:
    jx, pt = row["gans_jax"], row["pytorch"]
    batch = {"dcgan64": 64, "dcgan32": 128, "pix2pix256": 1}[row["case"]]
    gflop = row["flops"] / 1e9
    rate_j = gflop * jx["images_per_sec"] / batch
    rate_t = gflop * pt["images_per_sec"] / batch
    lines.append(
      f"| {row['case']} | {jx['images_per_sec']:.2f} | {pt['images_per_sec']:.2f} "
      f"| {row['ratio']:.2f}x | {jx['compile_sec']:.1f} / {pt['compile_sec']:.1f} "
      f"| {jx['peak_mb']:.0f} / {pt['peak_mb']:.0f} | {gflop:.1f} "
      f"| {rate_j:.1f} ({100 * rate_j / peak_gflops:.0f} %) / "
      f"{rate_t:.1f} ({100 * rate_t / peak_gflops:.0f} %) |"
    )
  return "\n".join(lines)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {CASES}")
  parser.add_argument("--rounds", type=int, default=3, help="timed rounds per framework")
  parser.add_argument("--seconds", type=float, default=15.0, help="length of a timed round")
  parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "CASE"), help=argparse.SUPPRESS)
  parser.add_argument("--peak", metavar="FRAMEWORK", help=argparse.SUPPRESS)
  parser.add_argument("--json", help="also write the rows to this file")
  args = parser.parse_args(argv)
  if args.worker:
    return worker(*args.worker)
  if args.peak:
    return print(matmul_peak(args.peak))
  peaks = [
    float(
      subprocess.check_output([sys.executable, "-m", "benchmarks.compare_pytorch", "--peak", f])
    )
    for f in ("jax", "torch")
  ]
  rows = []
  for case in args.cases.split(","):
    if case not in CASES:
      raise SystemExit(f"unknown case {case!r}; known: {', '.join(CASES)}")
    rows.append(compare(case, args.rounds, args.seconds))
    print(json.dumps(rows[-1]), flush=True)
  print(f"matmul peaks: XLA {peaks[0]:.1f}, PyTorch {peaks[1]:.1f} GFLOP/s")
  print(format_table(rows, max(peaks)))
  if args.json:
    with open(args.json, "w") as file:
      json.dump({"rows": rows, "matmul_peaks": peaks}, file, indent=2)


if __name__ == "__main__":
  main()
