"""Procedural landscapes: semantic maps and their painted renderings, for image-to-image models.

Offline stand-ins for pix2pix's label -> photo datasets and for Tucker 2022's semantic maps ->
paintings experiment. Every scene is a pure function of (its index, the resolution): a layout of
five classes (sky, mountain, water, ground, tree) drawn as flat colours in the semantic map, and
the same layout rendered with textures in two styles, "summer" (the paired targets) and "winter"
(the other domain of the unpaired split). Textures (clouds, rock, ripples, grass, foliage) come from
smooth random noise, so the map fixes where things are and roughly their colour, not every pixel:
a translation model has to invent plausible texture, which is what separates an adversarial loss
from L1 alone.

Pure numpy; about 3 ms per 64x64 scene.
"""

from __future__ import annotations

import functools

import numpy as np

CLASSES = ("sky", "mountain", "water", "ground", "tree")
# Flat colours of the semantic maps (uint8 RGB), one per class, far apart from each other.
MAP_PALETTE = np.array(
  [[70, 130, 180], [140, 90, 60], [0, 0, 140], [150, 230, 120], [0, 100, 0]], np.uint8
)
SCENES_SEED = 20161121  # pix2pix's arXiv date; fixed, the scenes are part of the dataset.
SPLIT_SIZES = {"train": 400, "test": 100}  # The size of pix2pix's facades training split.
STYLES = ("summer", "winter")


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
  """float64 [size, size] value noise in about [-1, 1]: a cells x cells random grid, bilinearly
  upsampled (features about size / cells pixels wide)."""
  grid = rng.uniform(-1.0, 1.0, (cells + 1, cells + 1))
  position = np.linspace(0.0, cells, size, endpoint=False)
  low = position.astype(int)
  frac = position - low
  rows = grid[low] * (1 - frac)[:, None] + grid[low + 1] * frac[:, None]  # [size, cells + 1]
  return rows[:, low] * (1 - frac)[None, :] + rows[:, low + 1] * frac[None, :]


def _layout(rng: np.random.Generator, size: int) -> tuple[np.ndarray, dict]:
  """Class indices int [size, size] of one scene, and the geometry the renderer reuses."""
  y, x = np.mgrid[0:size, 0:size] / size  # Rows go down, as in images.
  horizon = rng.uniform(0.45, 0.65)
  # Mountain ridge: a few random sinusoids, height above the horizon in [0.05, 0.35].
  ridge = np.zeros(size)
  for frequency in (1, 2, 5):
    ridge += (
      rng.uniform(0.3, 1.0)
      / frequency
      * np.sin(2 * np.pi * frequency * x[0] + rng.uniform(0, 2 * np.pi))
    )
  ridge = horizon - (0.05 + 0.3 * (ridge - ridge.min()) / (np.ptp(ridge) + 1e-9))
  labels = np.where(y < ridge[None, :], 0, 1)  # Sky above the ridge, mountain below.
  labels = np.where(y >= horizon, 3, labels)  # Ground below the horizon.
  if rng.uniform() < 0.8:  # A lake touching the horizon.
    center, half_width = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.45)
    depth = rng.uniform(0.1, 0.3)
    inside = ((x - center) / half_width) ** 2 + ((y - horizon) / depth) ** 2 < 1.0
    labels = np.where(inside & (y >= horizon), 2, labels)
  for _ in range(rng.integers(2, 7)):  # Conifers standing on the ground.
    base_x, base_y = rng.uniform(0.05, 0.95), rng.uniform(horizon + 0.08, 1.0)
    height = rng.uniform(0.12, 0.3) * (0.5 + base_y)  # Nearer (lower) trees are larger.
    top = base_y - height
    half = 0.35 * height * np.clip((y - top) / height, 0, 1)  # Widening downwards.
    labels = np.where((y >= top) & (y <= base_y) & (np.abs(x - base_x) <= half), 4, labels)
  return labels, {"horizon": horizon, "ridge": ridge}


def _render(labels, geometry, rng: np.random.Generator, style: str) -> np.ndarray:
  """The painted rendering (uint8 [size, size, 3]) of a layout in ``style``."""
  size = labels.shape[0]
  y = np.mgrid[0:size, 0:size][0] / size
  clouds = np.clip(_smooth_noise(rng, size, 4) + 0.3 * _smooth_noise(rng, size, 8), 0, 1)
  rock = _smooth_noise(rng, size, 16)
  grass = _smooth_noise(rng, size, 24)
  foliage = _smooth_noise(rng, size, 32)
  ripples = np.sin(2 * np.pi * (y * size / 3.0 + 0.5 * _smooth_noise(rng, size, 6)))
  horizon = geometry["horizon"]
  below_ridge = np.clip((y - geometry["ridge"][None, :]) / 0.1, 0, 1)  # 0 at the crest.
  winter = style == "winter"

  image = np.zeros((size, size, 3))
  top, bottom = (
    ([0.55, 0.6, 0.7], [0.85, 0.85, 0.9]) if winter else ([0.2, 0.4, 0.85], [0.7, 0.85, 1.0])
  )
  sky = np.array(top) + (np.array(bottom) - top) * np.clip(y / horizon, 0, 1)[..., None]
  image = np.where((labels == 0)[..., None], sky + 0.35 * clouds[..., None] * (1 - sky), image)
  rock_colour = np.array([0.45, 0.42, 0.45] if winter else [0.5, 0.38, 0.28])
  snow = (below_ridge < (0.9 if winter else 0.35))[..., None]  # Snow caps near the crest.
  mountain = rock_colour * (1 + 0.25 * rock[..., None])
  mountain = np.where(snow, 0.92 + 0.05 * rock[..., None], mountain)
  image = np.where((labels == 1)[..., None], mountain, image)
  water_colour = np.array([0.6, 0.7, 0.8] if winter else [0.1, 0.3, 0.6])
  water = water_colour * (1 + (0.05 if winter else 0.15) * ripples[..., None])
  image = np.where((labels == 2)[..., None], water, image)
  haze = np.clip((y - horizon) / (1 - horizon), 0, 1)[..., None]  # Darker, richer near us.
  ground_colour = np.array([0.9, 0.9, 0.95] if winter else [0.45, 0.65, 0.25])
  ground = ground_colour * (0.8 + 0.2 * (1 - haze)) * (1 + 0.2 * grass[..., None])
  image = np.where((labels == 3)[..., None], ground, image)
  tree_colour = np.array([0.12, 0.25, 0.15] if winter else [0.1, 0.35, 0.1])
  tree = tree_colour * (1 + 0.5 * foliage[..., None])
  if winter:  # Snow on the branches.
    tree = np.where((foliage > 0.4)[..., None], [0.85, 0.88, 0.9], tree)
  image = np.where((labels == 4)[..., None], tree, image)
  return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


def scene(
  index: int, size: int, style: str = "summer", texture_draw: int = 0
) -> tuple[np.ndarray, np.ndarray]:
  """Scene ``index`` at ``size`` x ``size``: (semantic map, rendering), uint8 [size, size, 3].

  The layout and the textures depend only on (index, size); the style changes colours only.
  ``texture_draw`` > 0 paints the same layout with other textures (the dataset is draw 0): what
  an ideal conditional sampler would produce, used by ``benchmarks/scenes_ssim_bounds.py``.
  """
  if style not in STYLES:
    raise ValueError(f"Unknown scene style {style!r}; known: {', '.join(STYLES)}.")
  labels, geometry = _layout(np.random.default_rng([SCENES_SEED, index, size]), size)
  texture_rng = np.random.default_rng([SCENES_SEED, index, size, 1 + texture_draw])
  return MAP_PALETTE[labels], _render(labels, geometry, texture_rng, style)


@functools.lru_cache(maxsize=8)
def scenes_split(split: str, size: int, style: str = "summer") -> tuple[np.ndarray, np.ndarray]:
  """All scenes of a split: (maps, renderings), uint8 [N, size, size, 3] each.

  Args:
    split: "train" (400 scenes) or "test" (100 other scenes).
    size: the side in pixels.
    style: "summer" or "winter" renderings.
  """
  if split not in SPLIT_SIZES:
    raise ValueError(f"Unknown scenes split {split!r}; valid splits: {', '.join(SPLIT_SIZES)}.")
  first = 0 if split == "train" else SPLIT_SIZES["train"]
  pairs = [scene(first + i, size, style) for i in range(SPLIT_SIZES[split])]
  maps, renderings = (np.stack(part) for part in zip(*pairs, strict=True))
  maps.flags.writeable = renderings.flags.writeable = False  # Cached: shared by every caller.
  return maps, renderings
