"""A newcomer's journeys on their own photographs, each command timed as they would run it.

  python -m benchmarks.own_data_journeys --out /tmp/journeys [--steps 300]

Makes three kinds of folders from scikit-image's sample photographs (``skimage.data``: 900
random 64x64 crops of three pictures, 300 each, one class subfolder per picture): ``photos/``
(class folders), ``paired/`` (pix2pix's layout: A = the crop's edges, B = the crop, side by side)
and ``unpaired/`` (CycleGAN's layout: crops of one picture as A, of another as B). Then runs, as
separate ``gans-jax`` processes: DCGAN and cGAN on the photos, pix2pix on the pairs, CycleGAN on
the unpaired folders, ``sample`` of each into a PNG folder, ``evaluate`` of the DCGAN run, and
the discovery commands. Prints one JSON line per command (exit code, seconds, the last line).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
PICTURES = ("astronaut", "coffee", "chelsea")
CROPS = 300
SIZE = 64


def _crops(picture: str, rng: np.random.Generator) -> np.ndarray:
  from skimage import data, transform

  image = getattr(data, picture)()
  image = transform.rescale(image, 0.5, channel_axis=-1, anti_aliasing=True)  # More per crop.
  image = (image * 255).astype(np.uint8)
  h, w = image.shape[:2]
  tops, lefts = rng.integers(0, h - SIZE, CROPS), rng.integers(0, w - SIZE, CROPS)
  return np.stack([image[t : t + SIZE, x : x + SIZE] for t, x in zip(tops, lefts, strict=True)])


def _edges(crop: np.ndarray) -> np.ndarray:
  from skimage import color, feature

  lines = feature.canny(color.rgb2gray(crop), sigma=1.5)
  return np.repeat(np.where(lines, 0, 255).astype(np.uint8)[..., None], 3, -1)


def make_folders(out: pathlib.Path) -> dict[str, pathlib.Path]:
  """The three folders under ``out`` (made once; kept if present)."""
  from PIL import Image

  folders = {"photos": out / "photos", "paired": out / "paired", "unpaired": out / "unpaired"}
  if all(f.is_dir() for f in folders.values()):
    return folders
  rng = np.random.default_rng(0)
  crops = {picture: _crops(picture, rng) for picture in PICTURES}
  for picture, images in crops.items():
    (folders["photos"] / picture).mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
      Image.fromarray(image).save(folders["photos"] / picture / f"{i:03d}.png")
  for i, image in enumerate(crops["chelsea"]):
    split = "train" if i < 270 else "val"  # pix2pix's own datasets ship train/ and val/.
    (folders["paired"] / split).mkdir(parents=True, exist_ok=True)
    pair = np.concatenate([_edges(image), image], axis=1)
    Image.fromarray(pair).save(folders["paired"] / split / f"chelsea_{i:03d}.png")
  for domain, picture in (("A", "astronaut"), ("B", "coffee")):
    for i, image in enumerate(crops[picture]):
      split = "train" if i < 270 else "test"
      (folders["unpaired"] / f"{split}{domain}").mkdir(parents=True, exist_ok=True)
      Image.fromarray(image).save(folders["unpaired"] / f"{split}{domain}" / f"{i:03d}.png")
  return folders


def gans_jax(*args: str) -> dict:
  started = time.perf_counter()
  completed = subprocess.run(
    [sys.executable, "-m", "gans_jax.main", *args], cwd=ROOT, capture_output=True, text=True
  )
  lines = (completed.stdout + completed.stderr).strip().splitlines()
  return {
    "command": "gans-jax " + " ".join(args),
    "exit_code": completed.returncode,
    "seconds": round(time.perf_counter() - started, 1),
    "last_line": lines[-1] if lines else "",
    "output": lines,
  }


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", required=True, help="folders and run directories go here")
  parser.add_argument("--steps", type=int, default=300)
  args = parser.parse_args(argv)
  out = pathlib.Path(args.out)
  folders = make_folders(out)
  runs = out / "runs"
  steps = args.steps
  photos, paired, unpaired = (str(folders[k]) for k in ("photos", "paired", "unpaired"))
  journeys = [
    ("list", "configs"),
    ("train", "--help"),
    ("train", "--config", f"dcgan:dataset=folder:{photos},resolution=64,channels=3",
     "--workdir", f"{runs}/dcgan", f"--config.num_steps={steps}"),
    ("evaluate", "--workdir", f"{runs}/dcgan"),
    ("sample", "--workdir", f"{runs}/dcgan", "--num", "16", "--out", f"{runs}/dcgan_samples/"),
    ("train", "--config", f"cgan:dataset=folder:{photos},resolution=64,channels=3",
     "--workdir", f"{runs}/cgan", f"--config.num_steps={steps}"),
    ("sample", "--workdir", f"{runs}/cgan", "--labels", "chelsea,coffee,astronaut",
     "--out", f"{runs}/cgan_samples/"),
    ("train", "--config", f"pix2pix:dataset=paired:{paired},resolution=64,steps={steps}",
     "--workdir", f"{runs}/pix2pix"),
    ("sample", "--workdir", f"{runs}/pix2pix", "--num", "8", "--out", f"{runs}/pix2pix_pages/"),
    ("train", "--config", f"cyclegan:dataset=unpaired:{unpaired},resolution=64,steps={steps}",
     "--workdir", f"{runs}/cyclegan"),
    ("sample", "--workdir", f"{runs}/cyclegan", "--num", "8", "--out", f"{runs}/cyclegan_pages/"),
    ("sample", "--workdir", f"{runs}/cyclegan", "--num", "8", "--out", f"{runs}/x.png"),
  ]  # fmt: skip
  for journey in journeys:
    result = gans_jax(*journey)
    summary = [line for line in result.pop("output") if ": " in line and line.startswith("  ")]
    print(json.dumps({**result, "metrics": summary[-8:]}), flush=True)


if __name__ == "__main__":
  main()
