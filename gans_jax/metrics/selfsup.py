"""A feature network for any image data that needs no download: trained once, self-supervised,
on the run's own training images, and cached.

The pretext task is rotation prediction (Gidaris, Singh & Komodakis 2018, "Unsupervised
Representation Learning by Predicting Image Rotations"): each training image is turned by 0, 90,
180 or 270 degrees and a small CNN learns which. Telling the turns apart needs the objects'
shapes and their usual orientation, so its penultimate features react to what a generator gets
wrong (blobs, broken strokes, texture soup) and the Fréchet distance, KID and precision/recall
computed on them rank models as a detector trained for the data would (tested on digits against
the digits classifier's Fréchet distance).

The features are the data's own, not ImageNet's: numbers are comparable between models of one
dataset and one network (the cache key names both), never with FID or across datasets. The
metric names say so: ``fd1k_selfsup``, ``kid1k_selfsup``, ``pr1k_selfsup``.

Images are resized to 32x32 RGB (bilinear). Training is deterministic (fixed seed, CPU float32 by
default) and the weights are cached under ``$GANS_JAX_CACHE`` keyed by a hash of the training
pixels and of every setting.
"""

from __future__ import annotations

import hashlib
import pathlib

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gans_jax import metrics, writers

VERSION = 1
SIZE = 32  # Side of the network's input.
WIDTHS = (16, 32, 64, 64)  # Convolutions; all but the first halve the resolution.
STEPS = 400
BATCH = 64
LEARNING_RATE = 1e-3
SEED = 0
MAX_TRAINING_IMAGES = 10_000


class RotationNet(nn.Module):
  """[B, 32, 32, 3] in [-1, 1] -> (rotation logits [B, 4], features [B, 128])."""

  @nn.compact
  def __call__(self, x):
    for i, width in enumerate(WIDTHS):
      x = nn.relu(nn.Conv(width, (3, 3), strides=1 if i == 0 else 2)(x))
    features = jnp.concatenate([x.mean((1, 2)), x.max((1, 2))], axis=-1)
    return nn.Dense(4)(features), features


def to_network_input(images: np.ndarray) -> np.ndarray:
  """uint8 [N, H, W, C] (C = 1 or 3) -> float32 [N, 32, 32, 3] in [-1, 1]."""
  images = np.asarray(images, np.float32) / 127.5 - 1.0
  if images.shape[-1] == 1:
    images = np.repeat(images, 3, axis=-1)
  if images.shape[1:3] != (SIZE, SIZE):
    images = np.asarray(jax.image.resize(images, (len(images), SIZE, SIZE, 3), "linear"))
  return images


def _rotated(x: jax.Array, turns: jax.Array) -> jax.Array:
  """Each image of x [B, S, S, C] turned by its number of quarter turns [B]."""
  options = jnp.stack([jnp.rot90(x, k, axes=(1, 2)) for k in range(4)])  # [4, B, S, S, C]
  return jnp.take_along_axis(options, turns[None, :, None, None, None], axis=0)[0]


def _train(inputs: np.ndarray, steps: int):
  model = RotationNet()
  init_key, order_key, turn_key = jax.random.split(jax.random.PRNGKey(SEED), 3)
  params = model.init(init_key, inputs[:1])["params"]
  tx = optax.adam(LEARNING_RATE)
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, x, key):
    turn_key, flip_key = jax.random.split(key)
    flips = jax.random.bernoulli(flip_key, 0.5, (len(x), 1, 1, 1))
    x = jnp.where(flips, x[:, :, ::-1], x)  # Mirroring keeps "up" where it is.
    turns = jax.random.randint(turn_key, (len(x),), 0, 4)

    def loss_fn(p):
      logits, _ = model.apply({"params": p}, _rotated(x, turns))
      return optax.softmax_cross_entropy_with_integer_labels(logits, turns).mean()

    grads = jax.grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state

  for i in range(steps):
    idx = np.asarray(jax.random.randint(jax.random.fold_in(order_key, i), (BATCH,), 0, len(inputs)))
    params, opt_state = step(params, opt_state, inputs[idx], jax.random.fold_in(turn_key, i))
  return params


def training_subset(images: np.ndarray) -> np.ndarray:
  """The training images the network learns from: all, or an even spread of 10,000."""
  if len(images) <= MAX_TRAINING_IMAGES:
    return images
  return images[np.linspace(0, len(images) - 1, MAX_TRAINING_IMAGES).astype(int)]


def cache_path(images: np.ndarray, steps: int = STEPS) -> pathlib.Path:
  """Where the network trained on uint8 ``images`` is kept (a hash of pixels and settings)."""
  digest = hashlib.sha256()
  digest.update(repr((images.shape, str(images.dtype))).encode())
  digest.update(np.ascontiguousarray(images).tobytes())
  settings = (VERSION, SIZE, WIDTHS, steps, BATCH, LEARNING_RATE, SEED)
  digest.update(repr(settings).encode())
  return metrics.cache_dir() / f"selfsup_rotation-{digest.hexdigest()[:16]}.msgpack"


def load_or_train(images: np.ndarray, steps: int = STEPS):
  """The network's params for uint8 training ``images`` [N, H, W, C]: cached, else trained for
  ``steps`` batches (400: under a minute on a 2-core CPU) and cached."""
  images = training_subset(images)
  path = cache_path(images, steps)
  template = RotationNet().init(jax.random.PRNGKey(0), np.zeros((1, SIZE, SIZE, 3)))["params"]
  if path.exists():
    return flax.serialization.from_bytes(template, path.read_bytes())
  params = _train(to_network_input(images), steps)
  path.parent.mkdir(parents=True, exist_ok=True)
  writers.write_atomically(path, flax.serialization.to_bytes(params))  # Whole or absent.
  return params


@jax.jit
def _apply(params, inputs):
  return RotationNet().apply({"params": params}, inputs)


def embed(params, images: np.ndarray, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
  """(features [N, 128], rotation logits [N, 4]) of uint8 images [N, H, W, C]."""
  features, logits = [], []
  for start in range(0, len(images), batch):
    out_logits, out_features = _apply(params, to_network_input(images[start : start + batch]))
    features.append(np.asarray(out_features))
    logits.append(np.asarray(out_logits))
  return np.concatenate(features), np.concatenate(logits)
