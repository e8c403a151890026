"""Perceptual path length (Karras, Laine & Aila 2019, Sec. 4.1), on a pluggable distance.

PPL = E[d(G(lerp(t)), G(lerp(t + eps))) / eps^2] over random endpoint pairs and t, with eps = 1e-4:
in Z the interpolation is a slerp of the two (normalised) latents, in W a lerp of their w's (Eq. 2
and 3); t ~ U(0, 1) for full paths or t = 0 for path endpoints (the paper's "end" sampling). The
two images of a pair share their noise inputs. Face datasets are cropped to the face centre first
(rows 3/8 - 7/8, columns 2/8 - 6/8 as in NVlabs' metric) and images larger than 256 are
average-pooled to 256. Distances outside the 1st - 99th percentiles are dropped before the mean.

The paper's distance is LPIPS on VGG16 (``gans_jax.metrics.lpips``, weights from a converted
checkpoint). Where those weights are absent, a *proxy* distance can stand in, clearly named in the
result key: the squared distance of unit-normalised features of the digits classifier or of the
FID Inception network. Proxy values are comparable with each other, not with published PPLs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gans_jax import errors

EPSILON = 1e-4
NAME_PATTERN = re.compile(
  r"^ppl(?:(\d+)(k?))?_(z|w)(?:_(full|end))?(?:_(lpips|digits|inception))?$"
)
# What the result keys call each distance: proxies say so.
DISTANCE_TAGS = {"lpips": "lpips", "digits": "proxy_digits", "inception": "proxy_inception"}


@dataclasses.dataclass(frozen=True)
class PPLSpec:
  count: int  # Endpoint pairs.
  space: str  # "z" or "w".
  sampling: str  # "full" or "end".
  distance: str  # "lpips", "digits" or "inception".

  @property
  def key(self) -> str:
    tag = f"{self.count // 1000}k" if self.count % 1000 == 0 else str(self.count)
    return f"ppl{tag}_{self.space}_{self.sampling}_{DISTANCE_TAGS[self.distance]}"


def parse(name: str, default_count: int = 1000) -> PPLSpec:
  """``"ppl10k_w_full_lpips"`` -> PPLSpec (sampling "full" and distance "lpips" by default).

  Raises:
    ValueError: for a name outside ``ppl[COUNT]_{z|w}[_full|_end][_lpips|_digits|_inception]``.
  """
  match = NAME_PATTERN.match(name)
  if not match or match.group(1) == "0":
    raise errors.ConfigError(
      f"Unknown PPL metric {name!r}: expected ppl[COUNT]_{{z|w}}[_full|_end]"
      "[_lpips|_digits|_inception], e.g. ppl10k_w_full_lpips or ppl1k_z_digits."
    )
  number, thousands, space, sampling, distance = match.groups()
  count = int(number) * (1000 if thousands else 1) if number else default_count
  return PPLSpec(count, space, sampling or "full", distance or "lpips")


def normalize(v: jax.Array) -> jax.Array:
  return v / jnp.sqrt(jnp.sum(jnp.square(v), axis=-1, keepdims=True))


def slerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
  """Spherical interpolation of a, b [N, D] at t [N, 1], on the unit sphere (as NVlabs' PPL)."""
  a, b = normalize(a), normalize(b)
  cosine = jnp.clip(jnp.sum(a * b, axis=-1, keepdims=True), -1.0, 1.0)
  angle = t * jnp.arccos(cosine)
  orthogonal = normalize(b - cosine * a)
  return normalize(a * jnp.cos(angle) + orthogonal * jnp.sin(angle))


def lerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
  return a + (b - a) * t


def face_crop(images: np.ndarray) -> np.ndarray:
  """The face centre of aligned faces [N, H, W, C] (NVlabs' PPL crop), pooled to <= 256."""
  c = images.shape[1] // 8
  images = images[:, c * 3 : c * 7, c * 2 : c * 6]
  factor = images.shape[1] // 256
  if factor > 1:
    n, h, w, ch = images.shape
    images = images.reshape(n, h // factor, factor, w // factor, factor, ch).mean(axis=(2, 4))
  return images


def endpoint_pairs(map_fn, synthesize_fn, key, batch: int, latent_dim: int, spec: PPLSpec):
  """Images [batch, R, R, C] at t and at t + eps of one batch of random paths.

  Args:
    map_fn: z [N, Z] -> w [N, W].
    synthesize_fn: (w [N, W], noise key) -> images [N, R, R, C] in [-1, 1].
    key: draws endpoints, t and the (shared) noise.
  """
  z_key, t_key, noise_key = jax.random.split(key, 3)
  z0, z1 = jax.random.normal(z_key, (2, batch, latent_dim))
  t = jax.random.uniform(t_key, (batch, 1)) * (1.0 if spec.sampling == "full" else 0.0)
  if spec.space == "z":
    w_t, w_e = map_fn(slerp(z0, z1, t)), map_fn(slerp(z0, z1, t + EPSILON))
  else:
    w0, w1 = map_fn(z0), map_fn(z1)
    w_t, w_e = lerp(w0, w1, t), lerp(w0, w1, t + EPSILON)
  return synthesize_fn(w_t, noise_key), synthesize_fn(w_e, noise_key)


def path_length(
  map_fn: Callable,
  synthesize_fn: Callable,
  distance_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
  key: jax.Array,
  spec: PPLSpec,
  latent_dim: int,
  batch: int = 100,
  crop: bool = False,
) -> float:
  """The perceptual path length of ``spec`` (see the module docstring).

  Args:
    map_fn, synthesize_fn: the generator, as for ``endpoint_pairs``.
    distance_fn: (images a, images b) [N, H, W, C] in [-1, 1] -> distances [N].
    key: the evaluation key (one split per batch).
    spec: count, space, sampling, distance.
    latent_dim: size of z.
    batch: pairs per generator call.
    crop: apply the face crop (aligned face datasets).
  """
  pair_fn = jax.jit(lambda k: endpoint_pairs(map_fn, synthesize_fn, k, batch, latent_dim, spec))
  distances = []
  for batch_key in jax.random.split(key, -(-spec.count // batch)):
    a, b = (np.asarray(x, np.float32) for x in pair_fn(batch_key))
    if crop:
      a, b = face_crop(a), face_crop(b)
    distances.append(np.asarray(distance_fn(a, b), np.float64) / EPSILON**2)
  return filtered_mean(np.concatenate(distances)[: spec.count])


def filtered_mean(values: np.ndarray) -> float:
  """Mean of the values within the 1st and 99th percentiles (NVlabs: 'lower' / 'higher')."""
  low = np.percentile(values, 1, method="lower")
  high = np.percentile(values, 99, method="higher")
  return float(np.mean(values[(values >= low) & (values <= high)]))


def feature_distance(embed: Callable[[np.ndarray], np.ndarray]):
  """A proxy distance: ||f(a) / |f(a)| - f(b) / |f(b)|||^2 of features f = ``embed`` (images
  in [-1, 1] -> features [N, D]), the shape of LPIPS's per-layer term without its learned
  weights."""

  def distance(a, b):
    fa, fb = (np.asarray(embed(x), np.float64) for x in (a, b))
    fa /= np.linalg.norm(fa, axis=1, keepdims=True) + 1e-10
    fb /= np.linalg.norm(fb, axis=1, keepdims=True) + 1e-10
    return np.sum(np.square(fa - fb), axis=1)

  return distance
