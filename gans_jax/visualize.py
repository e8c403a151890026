"""Pictures of a run: sample grids, 2-D scatter plots, loss curves (PNG files)."""

from __future__ import annotations

import math
import pathlib

import numpy as np
from PIL import Image


def to_uint8(images: np.ndarray) -> np.ndarray:
  """float [..., H, W, C] in [-1, 1] -> uint8 in [0, 255] (the library's one conversion back)."""
  return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def image_grid(images: np.ndarray, num_columns: int | None = None, padding: int = 2) -> np.ndarray:
  """Tiles images [N, H, W, C] (float in [-1, 1]) into one uint8 [rows*(H+p)+p, ..., C] image."""
  images = to_uint8(images)
  n, h, w, c = images.shape
  cols = num_columns or math.ceil(math.sqrt(n))
  rows = math.ceil(n / cols)
  grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), 255, np.uint8)
  for index, image in enumerate(images):
    r, col = divmod(index, cols)
    top, left = padding + r * (h + padding), padding + col * (w + padding)
    grid[top : top + h, left : left + w] = image
  return grid


def save_image(path: str | pathlib.Path, image: np.ndarray) -> None:
  """Writes uint8 [H, W, C] (C = 1 or 3) as PNG."""
  array = image[..., 0] if image.shape[-1] == 1 else image
  Image.fromarray(array).save(path)


def save_samples(path: str | pathlib.Path, samples: np.ndarray, centers=None) -> None:
  """A grid for images [N, H, W, C]; a scatter plot for 2-D points [N, 2] (with mode centers)."""
  samples = np.asarray(samples)
  if samples.ndim == 4:
    save_image(path, image_grid(samples))
    return
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  figure, axes = plt.subplots(figsize=(4, 4), dpi=100)
  axes.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.5, label="samples")
  if centers is not None:
    axes.scatter(centers[:, 0], centers[:, 1], s=20, c="red", marker="x", label="modes")
  axes.set_aspect("equal")
  axes.legend(loc="upper right", fontsize=7)
  figure.tight_layout()
  figure.savefig(path)
  plt.close(figure)


def save_loss_curves(path: str | pathlib.Path, records: list[dict]) -> None:
  """Plots every ``*_loss`` series of the train records of metrics.jsonl against the step."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  train = [r for r in records if r.get("kind") == "train"]
  names = sorted({k for r in train for k in r if k.endswith("_loss")})
  figure, axes = plt.subplots(figsize=(6, 3.5), dpi=100)
  for name in names:
    points = [(r["step"], r[name]) for r in train if name in r]
    axes.plot(*zip(*points, strict=True), label=name)
  axes.set_xlabel("step")
  axes.set_ylabel("loss")
  axes.legend()
  figure.tight_layout()
  figure.savefig(path)
  plt.close(figure)
