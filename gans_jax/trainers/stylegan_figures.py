"""StyleGAN's paper figures (Karras et al. 2019): style mixing, truncation sweep, noise variation.

Each function takes a trained StyleGAN state and returns images [rows, columns, R, R, C] in
[-1, 1] that ``visualize.image_grid`` tiles; ``FIGURES`` offers them to the CLI as the family's
``figures`` hook (``gans-jax style-mix|truncation|noise-map``, written as PNGs). Latents and noise
come from explicit keys, so a figure is a pure function of (checkpoint, key).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gans_jax import errors
from gans_jax.trainers import stylegan
from gans_jax.trainers.types import Figure

# The paper's Fig. 3 groups of layers, by the resolutions they act on.
CROSSOVER_RANGES = ("coarse", "middle", "fine")
# Fig. 8's truncation values.
PAPER_PSIS = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)


def style_layers(range_name: str, num_levels: int) -> tuple[int, int]:
  """Layers [first, last) whose styles a Fig. 3 group copies from source B.

  coarse: 4x4 - 8x8; middle: 16x16 - 32x32; fine: 64x64 and up (paper, Sec. 3.1). A network that
  stops below 64x64 gives its top level to "fine" and keeps the rest of 16-32 as "middle".

  Raises:
    ValueError: for an unknown name, or a network with fewer than three levels.
  """
  if range_name not in CROSSOVER_RANGES:
    raise errors.UsageError(
      f"Unknown crossover {range_name!r}; known: {', '.join(CROSSOVER_RANGES)}."
    )
  if num_levels < 3:
    raise errors.UsageError(f"Style mixing groups need >= 3 levels (16x16), got {num_levels}.")
  fine_start = min(4, num_levels - 1)  # Level 4 is 64x64.
  first, last = {"coarse": (0, 2), "middle": (2, fine_start), "fine": (fine_start, num_levels)}[
    range_name
  ]
  return 2 * first, 2 * last


def _latent_size(state) -> int:
  """Size of z, read off the mapping network's first layer."""
  return state.g.params["mapping"]["dense_0"]["kernel"].shape[0]


def style_mixing_grid(state, key, num_rows: int = 5, num_columns: int = 5, psi: float = 1.0):
  """Fig. 3: row r is source A_r, column c source B_c, each cell A_r with a group of B_c's styles.

  Returns:
    images [1 + 3 num_rows, 1 + num_columns, R, R, C]: the first row shows the B sources (after a
    blank corner), then one block of rows per group (coarse, middle, fine), each starting with
    the A source.
  """
  a_key, b_key, noise_key = jax.random.split(key, 3)
  latent = _latent_size(state)
  w_a = stylegan.map_latents(state, jax.random.normal(a_key, (num_rows, latent)))
  w_b = stylegan.map_latents(state, jax.random.normal(b_key, (num_columns, latent)))
  ws_a = stylegan.truncate(stylegan.broadcast_styles(state, w_a), state.extra["w_avg"], psi)
  ws_b = stylegan.truncate(stylegan.broadcast_styles(state, w_b), state.extra["w_avg"], psi)
  num_layers = ws_a.shape[1]

  def render(ws):  # The same noise maps for every cell, so only the styles differ.
    noise = jnp.broadcast_to(noise_key, (ws.shape[0], *noise_key.shape))
    return jax.vmap(lambda w, k: stylegan.synthesize(state, w[None], k)[0])(ws, noise)

  sources_a, sources_b = np.asarray(render(ws_a)), np.asarray(render(ws_b))
  blank = np.full_like(sources_a[:1], -1.0)
  rows = [np.concatenate([blank, sources_b])]
  layer = jnp.arange(num_layers)[None, None, :, None]
  for name in CROSSOVER_RANGES:
    first, last = style_layers(name, num_layers // 2)
    from_b = (layer >= first) & (layer < last)
    mixed = jnp.where(from_b, ws_b[None], ws_a[:, None])  # [rows, columns, L, W]
    cells = np.asarray(render(mixed.reshape(-1, *mixed.shape[2:])))
    cells = cells.reshape(num_rows, num_columns, *cells.shape[1:])
    rows.extend(np.concatenate([sources_a[r : r + 1], cells[r]]) for r in range(num_rows))
  return np.stack(rows)


def truncation_sweep(state, key, num_rows: int = 4, psis=PAPER_PSIS, cutoff: int | None = None):
  """Fig. 8: each row one z, each column a truncation psi (1: none; 0: the mean face w_avg;
  negative: the 'anti' image). Returns images [num_rows, len(psis), R, R, C]."""
  z_key, noise_key = jax.random.split(key)
  latent = _latent_size(state)
  z = jax.random.normal(z_key, (num_rows, latent))
  columns = [
    np.asarray(stylegan.generate(state, z, None, noise_key, psi=psi, cutoff=cutoff)) for psi in psis
  ]
  return np.stack(columns, axis=1)


def noise_variation(state, key, num_rows: int = 3, num_resamples: int = 3, num_std: int = 100):
  """Fig. 4: per z, the image, ``num_resamples`` re-draws of its noise inputs, and the per-pixel
  standard deviation over ``num_std`` re-draws (scaled to [-1, 1] by its maximum, so bright marks
  the pixels that noise changes). Returns images [num_rows, 1 + num_resamples + 1, R, R, C]."""
  z_key, noise_key = jax.random.split(key)
  latent = _latent_size(state)
  ws = stylegan.broadcast_styles(
    state, stylegan.map_latents(state, jax.random.normal(z_key, (num_rows, latent)))
  )
  draw = jax.jit(lambda k: stylegan.synthesize(state, ws, k))
  keys = jax.random.split(noise_key, num_std)
  samples = np.stack([np.asarray(draw(k)) for k in keys], axis=1)  # [rows, num_std, R, R, C]
  std = samples.std(axis=1)
  std = std / max(float(std.max()), 1e-12) * 2.0 - 1.0
  return np.concatenate([samples[:, : 1 + num_resamples], std[:, None]], axis=1)


def _rows(rows: int | None) -> dict:
  return {"num_rows": rows} if rows else {}


def _parse_psis(text: str) -> list[float]:
  return [float(value) for value in text.split(",")]


FIGURES = {
  "style-mix": Figure(
    "StyleGAN Fig. 3: sources A (rows) x B (columns), coarse/middle/fine styles of B",
    lambda state, key, *, rows=None: style_mixing_grid(state, key, **_rows(rows)),
  ),
  "truncation": Figure(
    "StyleGAN Fig. 8: one z per row, one truncation psi per column",
    lambda state, key, *, rows=None, psi=PAPER_PSIS, cutoff=None: truncation_sweep(
      state, key, psis=psi, cutoff=cutoff, **_rows(rows)
    ),
    (
      (
        "--psi",
        {
          "type": _parse_psis,
          "default": ",".join(f"{p:g}" for p in PAPER_PSIS),
          "help": "comma-separated psis",
        },
      ),
      ("--cutoff", {"type": int, "help": "truncate only layers below this"}),
    ),  # fmt: skip
  ),
  "noise-map": Figure(
    "StyleGAN Fig. 4: noise re-draws and the per-pixel std over 100 of them",
    lambda state, key, *, rows=None: noise_variation(state, key, **_rows(rows)),
  ),
}
