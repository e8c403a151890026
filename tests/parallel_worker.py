"""One process of the multi-device tests (tests/test_parallel.py).

Trains a tiny config through ``loop.train`` on the devices this process sees (the caller sets
``XLA_FLAGS=--xla_force_host_platform_device_count=N``) and saves what the tests compare:

- ``loss/<name>``: every step's training metrics (Adam, the config's own optimizers);
- ``param/<path>``: the state's arrays after those steps;
- ``grad/<path>``: the first step's gradients, read off a run with SGD at learning rate 1
  (new params = params - gradient, exact to float32 rounding of the subtraction).

Variants, several per process (compiling is most of the cost): ``plain``; ``ulp``, where every
input float moves one ulp up (``nextafter``) and only the Adam run is made: the float-noise
baseline that parameter differences are judged against; ``fsdp``, plain with the whole state
sharded over every device (``parallel.mesh_shape=(1,-1)``). Each writes ``<workdir>/<variant>.npz``.

  python -m tests.parallel_worker --family dcgan --variants plain,ulp --workdir DIR
"""

from __future__ import annotations

import argparse
import json
import pathlib

import jax
import numpy as np

import data_pipelines
from gans_jax import config_utils, loop, parallel, resolved, run_data
from tests.helpers import ROOT

STEPS = 4
CONFIGS = {
  # BatchNorm in G (4x4, 8x8) and D (4x4): one example per device on 8 devices, so only
  # global-batch statistics can agree.
  "dcgan": (
    "configs/dcgan.py",
    [
      "batch_size=8",
      "data.resolution=16",
      "model.generator.width=8",
      "model.discriminator.width=8",
      "model.latent_dim=8",
    ],
  ),
  # U-Net (BatchNorm down to 1x1, dropout) + PatchGAN on the embedded scenes, with random jitter.
  "pix2pix": (
    "configs/pix2pix.py",
    [
      "batch_size=8",
      "data.resolution=32",
      "data.load_size=36",
      "model.generator.num_downs=5",
      "model.generator.width=4",
      "model.discriminator.width=4",
    ],
  ),
}
QUIET = [
  f"num_steps={STEPS}",
  "log_every_steps=1",
  "checkpoint_every_steps=1000",
  "sample_every_steps=1000",
  "num_grid_samples=4",
]


def family_config(family: str, *extra: str):
  spec, overrides = CONFIGS[family]
  config = config_utils.load_config(str(ROOT / spec))
  config_utils.apply_overrides(config, [*overrides, *QUIET, *extra])
  return config


def _one_ulp_up(batches):
  for batch in batches:
    yield {k: np.nextafter(v, np.inf) if v.dtype == np.float32 else v for k, v in batch.items()}


def train(config, workdir: pathlib.Path, perturb: bool = False):
  """Trains ``config`` in ``workdir`` on every local device; returns (state, metric records)."""
  source = data_pipelines.build_source(config.dataset)
  if source.kind == "pairs":
    batches_from = run_data.pair_batches_from(config, source)
  else:
    batches_from = run_data.batches_from(config, source)
  if perturb:
    plain = batches_from
    batches_from = lambda start, stage: _one_ulp_up(plain(start, stage))  # noqa: E731
  run = resolved.ResolvedRun.create(
    config,
    run_data.sample_shape(config),
    batches_from,
    render_grid=lambda state: np.zeros((1, 4, 4, 3), np.float32),
  )
  result = loop.train(run, workdir, log=lambda _: None)
  records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  return parallel.to_host(result.state), [r for r in records if r["kind"] == "train"]


def flat(tree, prefix: str) -> dict:
  leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {prefix + jax.tree_util.keystr(path): np.asarray(x) for path, x in leaves}


def trainable(state) -> dict:
  """What a step changes: both networks' params and BatchNorm statistics."""
  return {
    "g": state.g.params,
    "d": state.d.params,
    "g_stats": state.g.batch_stats,
    "d_stats": state.d.batch_stats,
  }


def mesh_of(config):
  return parallel.make_mesh(config.parallel.mesh_shape)


VARIANTS = ("plain", "ulp", "fsdp")


def run_variant(family: str, variant: str, workdir: pathlib.Path) -> dict:
  """The arrays one variant saves: "plain" (losses, params, gradients), "ulp" (the same Adam
  run on inputs one ulp up: losses and params) or "fsdp" (plain with the state sharded)."""
  placement = ["parallel.mesh_shape=(1,-1)", "parallel.fsdp_min_size=1"]
  placement = placement if variant == "fsdp" else []
  config = family_config(family, *placement)
  state, records = train(config, workdir / "adam", perturb=variant == "ulp")
  arrays = flat(trainable(state), "param/")
  for name in records[0]:
    if name not in ("step", "kind"):
      arrays[f"loss/{name}"] = np.array([r[name] for r in records])
  if variant != "ulp":
    sgd = [f"optim.{role}.{field}" for role in "gd" for field in ("name=sgd", "learning_rate=1.0")]
    sgd_config = family_config(family, "num_steps=1", *sgd, *placement)
    before, _ = loop.sharded_initial_state(
      sgd_config, run_data.sample_shape(sgd_config), mesh_of(sgd_config)
    )
    before = parallel.to_host(before)
    arrays.update(flat(trainable(before), "init/"))  # The fresh state, in this variant's layout.
    after, _ = train(sgd_config, workdir / "sgd")
    for role in ("g", "d"):
      grads = jax.tree.map(
        lambda b, a: b - a, getattr(before, role).params, getattr(after, role).params
      )
      arrays.update(flat({role: grads}, "grad/"))
  arrays["device_count"] = np.array(jax.device_count())
  # How many state arrays each device holds only part of (fsdp): the layout was really used.
  shardings = parallel.state_shardings(
    trainable(state), mesh_of(config), config.parallel.fsdp_min_size
  )
  arrays["sharded_arrays"] = np.array(
    sum(not s.is_fully_replicated for s in jax.tree.leaves(shardings))
  )
  return arrays


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--family", choices=sorted(CONFIGS), required=True)
  parser.add_argument("--variants", default="plain", help=f"comma-separated, of {VARIANTS}")
  parser.add_argument("--workdir", required=True, help="runs and <variant>.npz results go here")
  args = parser.parse_args()
  workdir = pathlib.Path(args.workdir)
  for variant in args.variants.split(","):
    arrays = run_variant(args.family, variant, workdir / variant)
    np.savez(workdir / f"{variant}.npz", **arrays)


if __name__ == "__main__":
  main()
