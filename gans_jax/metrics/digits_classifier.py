"""A small CNN classifier of the embedded 8x8 digits, trained once by the project and cached.

It judges samples of models trained on ``digits`` when no Inception weights are at hand: the
fraction of samples it classifies with confidence >= 0.9, their class histogram, and a Fréchet
distance on its 128-d penultimate features (DESIGN section 6). Samples of any resolution are
reduced to 8x8 grey by block averaging; the classifier is also trained on real digits that went
up to 16/32/64 pixels (bilinear, as the data pipeline does) and back, so that round trip is not
mistaken for a defect.

Training is deterministic (fixed seed, full-precision CPU arithmetic), and the weights are cached
under ``$GANS_JAX_CACHE`` (default ``~/.cache/gans_jax``), keyed by a hash of the data and of
every training setting.
"""

from __future__ import annotations

import hashlib
import os
import pathlib

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

VERSION = 1
EPOCHS = 20
BATCH = 64
LEARNING_RATE = 1e-3
SEED = 0
ROUND_TRIP_SIZES = (16, 32, 64)
CONFIDENCE = 0.9


class DigitsClassifier(nn.Module):
  """[B, 8, 8, 1] in [-1, 1] -> (logits [B, 10], features [B, 128])."""

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Conv(32, (3, 3))(x))
    x = nn.relu(nn.Conv(64, (3, 3))(x))
    x = nn.avg_pool(x, (2, 2), (2, 2))  # [B, 4, 4, 64]
    features = nn.relu(nn.Dense(128)(x.reshape(x.shape[0], -1)))
    return nn.Dense(10)(features), features


def to_classifier_input(images: np.ndarray) -> np.ndarray:
  """Images [N, R, R, C] in [-1, 1], R a multiple of 8 -> grey [N, 8, 8, 1] by block means."""
  images = np.asarray(images, np.float32)
  n, h, w, _ = images.shape
  if h % 8 or w % 8:
    raise ValueError(f"Digit images must be a multiple of 8 pixels on a side, got {h}x{w}.")
  grey = images.mean(-1)
  return grey.reshape(n, 8, h // 8, 8, w // 8).mean((2, 4))[..., None]


def _from_uint8(images: np.ndarray) -> np.ndarray:
  return np.asarray(images, np.float32) / 127.5 - 1.0


def _round_trips(images: np.ndarray) -> np.ndarray:
  """Real 8x8 digits taken up to each ROUND_TRIP_SIZES (bilinear) and back (block means)."""
  trips = []
  for size in ROUND_TRIP_SIZES:
    up = jax.image.resize(images, (len(images), size, size, 1), "linear")
    trips.append(to_classifier_input(np.asarray(up)))
  return np.concatenate(trips)


@jax.jit
def _logits_and_features(params, images):
  return DigitsClassifier().apply({"params": params}, images)


def _train(images: np.ndarray, labels: np.ndarray):
  inputs = _from_uint8(images)
  inputs = np.concatenate([inputs, _round_trips(inputs)])
  targets = np.tile(labels, 1 + len(ROUND_TRIP_SIZES))
  model = DigitsClassifier()
  init_key, shuffle_key = jax.random.split(jax.random.PRNGKey(SEED))
  params = model.init(init_key, inputs[:1])["params"]
  tx = optax.adam(LEARNING_RATE)
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, x, y):
    def loss_fn(p):
      logits, _ = model.apply({"params": p}, x)
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    grads = jax.grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state

  steps_per_epoch = len(inputs) // BATCH
  for epoch in range(EPOCHS):
    order = np.asarray(jax.random.permutation(jax.random.fold_in(shuffle_key, epoch), len(inputs)))
    for i in range(steps_per_epoch):
      idx = order[i * BATCH : (i + 1) * BATCH]
      params, opt_state = step(params, opt_state, inputs[idx], targets[idx])
  return params


def _cache_path(images: np.ndarray, labels: np.ndarray) -> pathlib.Path:
  digest = hashlib.sha256()
  digest.update(np.ascontiguousarray(images).tobytes())
  digest.update(np.ascontiguousarray(labels).tobytes())
  settings = (VERSION, EPOCHS, BATCH, LEARNING_RATE, SEED, ROUND_TRIP_SIZES)
  digest.update(repr(settings).encode())
  root = pathlib.Path(os.environ.get("GANS_JAX_CACHE", pathlib.Path.home() / ".cache/gans_jax"))
  return root / f"digits_classifier-{digest.hexdigest()[:16]}.msgpack"


def load_or_train(images: np.ndarray, labels: np.ndarray):
  """The classifier's params for this training set: from the cache, else trained and cached.

  Args:
    images: uint8 [N, 8, 8, 1] training digits (``data_pipelines.embedded``'s train split).
    labels: int [N] in 0..9.
  """
  path = _cache_path(images, labels)
  template = DigitsClassifier().init(jax.random.PRNGKey(0), np.zeros((1, 8, 8, 1)))["params"]
  if path.exists():
    return flax.serialization.from_bytes(template, path.read_bytes())
  params = _train(images, labels)
  path.parent.mkdir(parents=True, exist_ok=True)
  temporary = path.with_suffix(f".tmp{os.getpid()}")
  temporary.write_bytes(flax.serialization.to_bytes(params))
  os.replace(temporary, path)  # Atomic: concurrent runs never read half a file.
  return params


def classify(params, inputs: np.ndarray, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
  """Class probabilities [N, 10] and features [N, 128] of classifier inputs [N, 8, 8, 1]."""
  probs, features = [], []
  for start in range(0, len(inputs), batch):
    logits, feats = _logits_and_features(params, inputs[start : start + batch])
    probs.append(np.asarray(jax.nn.softmax(logits)))
    features.append(np.asarray(feats))
  return np.concatenate(probs), np.concatenate(features)


def accuracy(params, images: np.ndarray, labels: np.ndarray) -> float:
  """Accuracy on uint8 [N, 8, 8, 1] digits."""
  probs, _ = classify(params, _from_uint8(images))
  return float((probs.argmax(1) == labels).mean())


def real_features(params, images: np.ndarray) -> np.ndarray:
  """Features [N, 128] of uint8 [N, 8, 8, 1] real digits (the Fréchet reference)."""
  return classify(params, _from_uint8(images))[1]
