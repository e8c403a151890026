"""Fingerprints of whole runs, to show that a refactoring changed no bit of what a run produces.

  python -m benchmarks.run_fingerprints [--cases default,pix2pix,stylegan] [--out F.json]

Each case trains through the ``gans-jax`` command in its own process (as a user runs it), then
hashes (SHA-256) every array of the final checkpoint's state, the final sample grid's pixels and
``gans-jax sample``'s output (64 samples, or the held-out translations). Run it before and after
a change, on the same machine, and compare the JSON: XLA:CPU's float results can differ between
CPU models, so fingerprints are compared only side by side on one machine.

Cases: ``default`` is ``gans-jax train`` with no config (README command 1's run, full length);
``pix2pix``, ``stylegan``, ``artgan``, ``wgan_gp`` (on digits), ``gan_paper`` and ``cgan_paper``
(the MLP paper presets on digits) are short runs of those configs on embedded data.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = {
  "default": [],
  "pix2pix": [
    "--config", "configs/pix2pix.py", "--config.num_steps=20", "--config.checkpoint_every_steps=20",
    "--config.sample_every_steps=20", "--config.eval_num_samples=16",
  ],
  "stylegan": [
    # 4 steps at 8x8 (batch 64), then 2 fade-in and 2 stable steps at 16x16 and 32x32 (batch 32).
    "--config", "configs/stylegan.py", "--config.progressive.initial_kimg=0.256",
    "--config.progressive.stable_kimg=0.064", "--config.progressive.fade_kimg=0.064",
    "--config.num_steps=12", "--config.checkpoint_every_steps=1000", "--config.eval_num_samples=64",
  ],
  # Short runs of two more trainers' steps: ArtGAN (label flips, noise) and WGAN-GP on images.
  "artgan": [
    "--config", "configs/artgan.py", "--config.num_steps=20", "--config.checkpoint_every_steps=20",
    "--config.sample_every_steps=20", "--config.eval_num_samples=64",
  ],
  "wgan_gp": [
    "--config", "configs/wgan.py:dataset=digits", "--config.num_steps=20",
    "--config.checkpoint_every_steps=20", "--config.sample_every_steps=20",
    "--config.eval_num_samples=64",
  ],
  # The MLP paper presets (pylearn2's SGD, dropout in G and D, uniform priors) on the digits.
  "gan_paper": [
    "--config", "configs/gan.py:paper=true,dataset=digits", "--config.num_steps=20",
    "--config.checkpoint_every_steps=20", "--config.sample_every_steps=20",
    "--config.eval_num_samples=64",
  ],
  "cgan_paper": [
    "--config", "configs/cgan.py:paper=true,dataset=digits", "--config.num_steps=20",
    "--config.checkpoint_every_steps=20", "--config.sample_every_steps=20",
    "--config.eval_num_samples=64",
  ],
}  # fmt: skip


def gans_jax(*args: str) -> None:
  completed = subprocess.run(
    [sys.executable, "-m", "gans_jax.main", *args], cwd=ROOT, capture_output=True, text=True
  )
  if completed.returncode:
    raise SystemExit(f"gans-jax {' '.join(args)} failed:\n{completed.stderr[-3000:]}")


def digest(array) -> str:
  array = np.ascontiguousarray(np.asarray(array))
  return hashlib.sha256(
    array.dtype.str.encode() + str(array.shape).encode() + array.tobytes()
  ).hexdigest()


def fingerprint(workdir: pathlib.Path, scratch: pathlib.Path) -> dict:
  from PIL import Image

  from gans_jax import runs

  _, state = runs.load_run(workdir)
  leaves = jax.tree_util.tree_flatten_with_path(state)[0]
  result = {"state": {jax.tree_util.keystr(path): digest(x) for path, x in leaves}}
  grids = sorted(workdir.glob("samples_*.png"))
  result["last_grid"] = {grids[-1].name: digest(np.asarray(Image.open(grids[-1])))}
  out = scratch / f"{workdir.name}_sample.npz"
  gans_jax("sample", "--workdir", str(workdir), "--num", "64", "--out", str(out))
  with np.load(out) as samples:
    result["sample"] = {name: digest(samples[name]) for name in sorted(samples.files)}
  return result


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--cases", default=",".join(CASES))
  parser.add_argument("--out", help="also write the JSON here")
  args = parser.parse_args(argv)
  report = {}
  with tempfile.TemporaryDirectory() as scratch:
    scratch = pathlib.Path(scratch)
    for case in args.cases.split(","):
      workdir = scratch / case
      started = time.perf_counter()
      gans_jax("train", "--workdir", str(workdir), *CASES[case])
      report[case] = {"seconds": round(time.perf_counter() - started, 1)}
      report[case].update(fingerprint(workdir, scratch))
  text = json.dumps(report, indent=1, sort_keys=True)
  if args.out:
    pathlib.Path(args.out).write_text(text + "\n")
  print(text)


if __name__ == "__main__":
  main()
