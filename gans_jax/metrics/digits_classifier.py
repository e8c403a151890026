"""A small CNN classifier of the embedded 8x8 digits, trained once by the project and cached.

It judges samples of models trained on ``digits`` when no Inception weights are at hand: the
fraction of samples it classifies with confidence >= 0.9, their class histogram, and a Fréchet
distance on its 128-d penultimate features (docs/design.md section 6). Samples of any resolution are
reduced to 8x8 grey by block averaging; the classifier is also trained on real digits that went
up to 16/32/64 pixels (bilinear, as the data pipeline does) and back, so that round trip is not
mistaken for a defect, and with random stroke contrast (ink intensity scaled by U(0.6, 1)), so
that a faint but well-formed digit still counts as one.

An eleventh class, "not a digit", is trained on negatives made fresh for every batch: uniform
noise, the pixels of real digits shuffled, and smooth random blobs. Without it, a softmax over
ten digits calls two thirds of uniform noise a digit with confidence >= 0.9 (measured), which
would make the confidence metric meaningless. Blends of two digits are deliberately not among
the negatives: the metric asks "is this a confidently recognisable digit", as a plain digit
classifier would answer it, not "is it free of any trace of another digit" (with blends as
negatives, GAN samples that a plain classifier accepts at ~78 % drop to ~35 %; measured).

Training is deterministic (fixed seed, full-precision CPU arithmetic), and the weights are cached
under ``$GANS_JAX_CACHE`` (default ``~/.cache/gans_jax``), keyed by a hash of the data and of
every training setting.
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

from gans_jax import errors, metrics, writers

VERSION = 4
NOT_A_DIGIT = 10  # Index of the rejection class.
EPOCHS = 20
BATCH = 64
LEARNING_RATE = 1e-3
SEED = 0
ROUND_TRIP_SIZES = (16, 32, 64)
MIN_CONTRAST = 0.6
CONFIDENCE = 0.9


class DigitsClassifier(nn.Module):
  """[B, 8, 8, 1] in [-1, 1] -> (logits [B, 11], features [B, 128]); class 10 = not a digit."""

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Conv(32, (3, 3))(x))
    x = nn.relu(nn.Conv(64, (3, 3))(x))
    x = nn.avg_pool(x, (2, 2), (2, 2))  # [B, 4, 4, 64]
    features = nn.relu(nn.Dense(128)(x.reshape(x.shape[0], -1)))
    return nn.Dense(11)(features), features


def area_weights(size: int, out: int = 8) -> np.ndarray:
  """[out, size]: row i averages the input pixels under output pixel i, each weighted by the
  fraction of it that pixel covers (area resampling; block means when ``out`` divides
  ``size``)."""
  edges = np.arange(size + 1) * (out / size)  # Input pixel edges in output-pixel units.
  lo, hi = np.arange(out)[:, None], np.arange(out)[:, None] + 1.0
  overlap = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
  return overlap / overlap.sum(1, keepdims=True)


def to_classifier_input(images: np.ndarray) -> np.ndarray:
  """Images [N, H, W, C] in [-1, 1], H, W >= 8 -> grey [N, 8, 8, 1] by area averaging (block
  means when 8 divides the sides, e.g. 28x28 MNIST-sized samples weigh 3.5-pixel blocks).

  Raises:
    errors.ConfigError: for images under 8 pixels on a side.
  """
  images = np.asarray(images, np.float32)
  _, h, w, _ = images.shape
  if h < 8 or w < 8:
    raise errors.ConfigError(f"Digit images must be at least 8x8 pixels, got {h}x{w}.")
  grey = images.mean(-1)
  if not (h % 8 or w % 8):  # Block means, summed as they always were.
    return grey.reshape(len(grey), 8, h // 8, 8, w // 8).mean((2, 4))[..., None]
  rows, cols = area_weights(h), area_weights(w)
  return np.einsum("ih,nhw,jw->nij", rows, grey, cols, optimize=True)[..., None]


def _from_uint8(images: np.ndarray) -> np.ndarray:
  return np.asarray(images, np.float32) / 127.5 - 1.0


def _round_trip(inputs: np.ndarray, size: int) -> np.ndarray:
  """8x8 digits in [-1, 1] taken up to size x size (bilinear, as the data pipeline resizes) and
  reduced back to 8x8 as samples are."""
  up = jax.image.resize(inputs, (len(inputs), size, size, 1), "linear")
  return to_classifier_input(np.asarray(up))


def _round_trips(images: np.ndarray) -> np.ndarray:
  """Real 8x8 digits after a round trip through each of ROUND_TRIP_SIZES."""
  return np.concatenate([_round_trip(images, size) for size in ROUND_TRIP_SIZES])


@jax.jit
def _logits_and_features(params, images):
  return DigitsClassifier().apply({"params": params}, images)


def _negatives(key: jax.Array, digits: jax.Array) -> jax.Array:
  """Non-digits [B, 8, 8, 1] in [-1, 1], a third of each kind, from a batch of real digits."""
  b = len(digits)
  kind = (jnp.arange(b) % 3)[None, :, None, None, None]
  noise_key, shuffle_key, blob_key = jax.random.split(key, 3)
  noise = jax.random.uniform(noise_key, digits.shape, minval=-1.0, maxval=1.0)
  shuffled = jax.vmap(jax.random.permutation)(
    jax.random.split(shuffle_key, b), digits.reshape(b, 64)
  )
  blobs = jax.random.uniform(blob_key, (b, 3, 3, 1), minval=-1.0, maxval=1.0)
  blobs = jax.image.resize(blobs, digits.shape, "linear")  # Smooth, stroke-like intensity.
  choices = jnp.stack([noise, shuffled.reshape(digits.shape), blobs])  # [3, B, 8, 8, 1]
  return jnp.take_along_axis(choices, kind, axis=0)[0]


def _train(images: np.ndarray, labels: np.ndarray):
  inputs = _from_uint8(images)
  inputs = np.concatenate([inputs, _round_trips(inputs)])
  targets = np.tile(labels, 1 + len(ROUND_TRIP_SIZES))
  model = DigitsClassifier()
  init_key, shuffle_key, contrast_key = jax.random.split(jax.random.PRNGKey(SEED), 3)
  params = model.init(init_key, inputs[:1])["params"]
  tx = optax.adam(LEARNING_RATE)
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, x, y, key):
    contrast_key, negatives_key = jax.random.split(key)
    contrast = jax.random.uniform(contrast_key, (len(x), 1, 1, 1), minval=MIN_CONTRAST, maxval=1.0)
    x = (x + 1.0) * contrast - 1.0  # Background stays at -1; ink gets fainter.
    x = jnp.concatenate([x, _negatives(negatives_key, x)])
    y = jnp.concatenate([y, jnp.full_like(y, NOT_A_DIGIT)])

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
      key = jax.random.fold_in(contrast_key, epoch * steps_per_epoch + i)
      params, opt_state = step(params, opt_state, inputs[idx], targets[idx], key)
  return params


def cache_path(images: np.ndarray, labels: np.ndarray) -> pathlib.Path:
  digest = hashlib.sha256()
  digest.update(np.ascontiguousarray(images).tobytes())
  digest.update(np.ascontiguousarray(labels).tobytes())
  settings = (VERSION, EPOCHS, BATCH, LEARNING_RATE, SEED, ROUND_TRIP_SIZES, MIN_CONTRAST)
  digest.update(repr(settings).encode())
  return metrics.cache_dir() / f"digits_classifier-{digest.hexdigest()[:16]}.msgpack"


def load_or_train(images: np.ndarray, labels: np.ndarray):
  """The classifier's params for this training set: from the cache, else trained and cached.

  Args:
    images: uint8 [N, 8, 8, 1] training digits (``data_pipelines.embedded``'s train split).
    labels: int [N] in 0..9.
  """
  path = cache_path(images, labels)
  template = DigitsClassifier().init(jax.random.PRNGKey(0), np.zeros((1, 8, 8, 1)))["params"]
  if path.exists():
    return flax.serialization.from_bytes(template, path.read_bytes())
  params = _train(images, labels)
  path.parent.mkdir(parents=True, exist_ok=True)
  # Atomic: concurrent runs never read half a file.
  writers.write_atomically(path, flax.serialization.to_bytes(params))
  return params


def classify(params, inputs: np.ndarray, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
  """Probabilities [N, 11] (digits 0-9, then not-a-digit) and features [N, 128] of classifier
  inputs [N, 8, 8, 1]."""
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


def real_features(params, images: np.ndarray, resolution: int = 8) -> np.ndarray:
  """Features [N, 128] of uint8 [N, 8, 8, 1] real digits as a model at ``resolution`` sees them:
  resized there (bilinear, as the data pipeline does) and reduced back like samples are."""
  inputs = _from_uint8(images)
  if resolution != 8:
    inputs = _round_trip(inputs, resolution)
  return classify(params, inputs)[1]
