"""Throughput of a config's compiled train step, as one JSON line.

  python -m benchmarks.train_step --config configs/dcgan.py:resolution=64,channels=3,width=64
  python -m benchmarks.train_step --config configs/gan.py:dataset=ring8 --batch 256
  python -m benchmarks.train_step --stage last \
    --config stylegan:paper=true,dataset=digits,resolution=256,channels=3

Times the jitted step alone (random data already on the device, state donated), after a warm-up,
as the median over several timed runs of a fixed number of steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax
import jax.numpy as jnp

from gans_jax import compile_options, config_utils, host_memory, loop, parallel, run_data, trainers


def random_batch(config, stage, key) -> dict:
  """Random data in the shape the family's step reads at ``stage`` (no dataset, no TensorFlow):
  {"x", "label"} for one domain, {"a", "b"} at the load size for a translating family."""
  examples = stage.batch_size
  if trainers.get_family(config.family).translates:
    size = config.data.load_size
    key_a, key_b = jax.random.split(key)
    return {
      "a": jax.random.uniform(key_a, (examples, size, size, config.data.input_channels), minval=-1),
      "b": jax.random.uniform(key_b, (examples, size, size, config.data.channels), minval=-1),
    }
  shape = run_data.sample_shape(config)
  return {
    "x": jax.random.uniform(key, (examples, *shape), minval=-1, maxval=1),
    "label": jnp.zeros((examples,), jnp.int32),
  }


def compiled_step(config, stage: str = "first"):
  """``config``'s train step at its ``stage`` ("first" or "last": a growing family's full
  resolution), compiled as the loop compiles it, with an initial state and a random batch.

  Returns:
    (compiled step (state, batch) -> (state, metrics), state, batch, compile seconds, the stage).
  """
  family = trainers.get_family(config.family)
  mesh = parallel.make_mesh()
  shape = run_data.sample_shape(config)
  schedule = family.schedule(config, shape)
  chosen = schedule[0] if stage == "first" else schedule[-1]
  batch = parallel.to_global(random_batch(config, chosen, jax.random.PRNGKey(1)), mesh)
  state = jax.device_put(loop.initial_state(config, shape), parallel.replicated(mesh))
  static = {"stage": chosen} if family.stages else {}
  step = jax.jit(
    lambda s, b: family.train_step(s, b, config=config, **static),
    donate_argnums=0,
    compiler_options=compile_options.for_train_step(config),
  )

  started = time.perf_counter()
  compiled = host_memory.compile_then_release(step, state, batch)  # As the loop compiles.
  return compiled, state, batch, time.perf_counter() - started, chosen


def measure(config, *, steps: int = 10, repeats: int = 5, stage: str = "first") -> dict:
  """Compiles and times ``config``'s train step at its ``stage`` ("first" or "last": a growing
  family's full resolution); returns images/s, compile time and more."""
  compiled, state, batch, compile_sec, chosen = compiled_step(config, stage)
  shape = run_data.sample_shape(config)
  state, metrics = compiled(state, batch)  # Warm-up.
  jax.block_until_ready(metrics)
  timings = []
  for _ in range(repeats):
    started = time.perf_counter()
    for _ in range(steps):
      state, metrics = compiled(state, batch)
    jax.block_until_ready((state, metrics))
    timings.append((time.perf_counter() - started) / steps)
  median = statistics.median(timings)
  return {
    "config": config.model.generator.get("name", config.family),
    "batch_size": chosen.batch_size // config.d_steps,
    "resolution": 4 * 2**chosen.level if "progressive" in config else shape[0],
    "d_steps": config.d_steps,
    "images_per_sec": round(chosen.batch_size / config.d_steps / median, 1),
    "step_ms": round(median * 1000, 2),
    "compile_sec": round(compile_sec, 2),
    "devices": jax.device_count(),
    "backend": jax.default_backend(),
  }


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--config", help="FILE[:ARG], default configs/dcgan.py")
  parser.add_argument("--batch", type=int, help="override batch_size")
  parser.add_argument("--steps", type=int, default=10, help="steps per timed run")
  parser.add_argument("--repeats", type=int, default=5, help="timed runs (the median is kept)")
  parser.add_argument("--stage", choices=("first", "last"), default="first",
                      help="a growing family's stage (last: the full resolution)")  # fmt: skip
  args = parser.parse_args(argv)
  config = config_utils.load_config(args.config)
  if args.batch:
    config_utils.apply_overrides(config, [f"batch_size={args.batch}"])
  result = measure(config, steps=args.steps, repeats=args.repeats, stage=args.stage)
  result["config"] = args.config or "configs/dcgan.py"
  print(json.dumps(result))


if __name__ == "__main__":
  main()
