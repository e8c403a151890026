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
  """A grid for images [N, H, W, C] (or [rows, columns, H, W, C], as laid out); a scatter plot
  for 2-D points [N, 2] (with mode centers)."""
  samples = np.asarray(samples)
  if samples.ndim == 5:
    save_image(path, image_grid(samples.reshape(-1, *samples.shape[2:]), samples.shape[1]))
    return
  if samples.ndim == 4:
    save_image(path, image_grid(samples))
    return
  figure = _figure(4, 4)
  axes = figure.subplots()
  axes.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.5, label="samples")
  if centers is not None:
    axes.scatter(centers[:, 0], centers[:, 1], s=20, c="red", marker="x", label="modes")
  axes.set_aspect("equal")
  axes.legend(loc="upper right", fontsize=7)
  figure.tight_layout()
  figure.savefig(path)


def _figure(width: float, height: float):
  """A matplotlib Figure drawn off-screen by its own Agg canvas: no pyplot, so the global
  backend (a notebook's inline one, say) is left as it is."""
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure

  figure = Figure(figsize=(width, height), dpi=100)
  FigureCanvasAgg(figure)
  return figure


def save_loss_curves(path: str | pathlib.Path, records: list[dict]) -> None:
  """Plots every ``*_loss`` series of the train records of metrics.jsonl against the step."""
  train = [r for r in records if r.get("kind") == "train"]
  names = sorted({k for r in train for k in r if k.endswith("_loss")})
  figure = _figure(6, 3.5)
  axes = figure.subplots()
  for name in names:
    points = [(r["step"], r[name]) for r in train if name in r]
    axes.plot(*zip(*points, strict=True), label=name)
  axes.set_xlabel("step")
  axes.set_ylabel("loss")
  axes.legend()
  figure.tight_layout()
  figure.savefig(path)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
  """Spherical interpolation between latents a and b [..., D] at t in [0, 1] (White 2016): the
  path keeps the norm of a Gaussian latent, where a straight line would pass through the
  unlikely region near the origin. Falls back to a straight line for (anti)parallel vectors."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  unit_a = a / np.linalg.norm(a, axis=-1, keepdims=True)
  unit_b = b / np.linalg.norm(b, axis=-1, keepdims=True)
  omega = np.arccos(np.clip((unit_a * unit_b).sum(-1, keepdims=True), -1.0, 1.0))
  sin = np.sin(omega)
  safe = np.where(sin < 1e-6, 1.0, sin)
  curved = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / safe
  return np.where(sin < 1e-6, (1 - t) * a + t * b, curved).astype(np.float32)


def interpolation_latents(start: np.ndarray, end: np.ndarray, steps: int, method: str = "slerp"):
  """Latents [steps, D] from ``start`` to ``end`` [D] (both included), by "slerp" or "lerp"
  (Radford et al. 2016, Sec. 6.1: walking the latent space)."""
  if steps < 2:
    raise ValueError(f"An interpolation needs at least 2 steps, got {steps}.")
  if method not in ("slerp", "lerp"):
    raise ValueError(f"Unknown interpolation {method!r}: 'slerp' or 'lerp'.")
  ts = np.linspace(0.0, 1.0, steps)
  if method == "lerp":
    return ((1 - ts)[:, None] * start + ts[:, None] * end).astype(np.float32)
  return np.stack([slerp(start, end, t) for t in ts])


def vector_arithmetic(
  minuend: np.ndarray,
  subtrahend: np.ndarray,
  addend: np.ndarray,
  num: int = 9,
  noise: float = 0.25,
  seed: int = 0,
) -> np.ndarray:
  """Radford et al. 2016, Sec. 6.3.2: Y = mean(A) - mean(B) + mean(C) over a few exemplar
  latents per concept (three in the paper, "smiling woman - neutral woman + neutral man"),
  then ``num`` latents [num, D]: Y itself and Y plus uniform noise in [-noise, noise].

  Args:
    minuend, subtrahend, addend: latents [n_i, D] of the exemplars of A, B and C.
  """
  groups = [
    np.asarray(g, np.float32).reshape(-1, np.shape(g)[-1]) for g in (minuend, subtrahend, addend)
  ]
  if len({g.shape[-1] for g in groups}) != 1:
    raise ValueError(f"Exemplar latents differ in size: {[g.shape for g in groups]}.")
  result = groups[0].mean(0) - groups[1].mean(0) + groups[2].mean(0)
  jitter = np.random.default_rng(seed).uniform(-noise, noise, (num - 1, result.size))
  return np.concatenate([result[None], result + jitter]).astype(np.float32)
