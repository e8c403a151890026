"""The FCN-score of pix2pix (Isola et al. 2017, Sec. 4.2, Tables 1-2) and CycleGAN (Zhu et al.
2017, Tables 1-2): a segmentation network trained on real photos labels the generated photos, and
its labels are compared with the label maps the photos were generated from.

The papers' judge is FCN-8s trained on Cityscapes; the project trains its own "judge" once per
dataset: a small fully-convolutional network (``SegmentationJudge``) fitted to the training
split's real photos (B) and the classes of their colour-coded label maps (A, read through a
palette: ``labels_from_maps``). Like the digits classifier it is deterministic (fixed seed,
float32 CPU arithmetic) and cached under ``$GANS_JAX_CACHE``, keyed by a hash of the data, the
palette and every training setting.

The scores are those of the Cityscapes evaluation script the papers used (junyanz's
``scripts/eval_cityscapes``): one confusion matrix over every labelled pixel of the held-out set,
then per-pixel accuracy, per-class accuracy (mean over classes present in the labels) and class
IoU (mean over classes present in the labels or the predictions). Pixels whose map colour is
farther than ``MAX_COLOUR_DISTANCE`` from every palette colour (Cityscapes' void, JPEG fringes
between two classes) are ignored, as the script ignores label 255.
"""

from __future__ import annotations

import functools
import hashlib
import pathlib
from typing import NamedTuple

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gans_jax import errors, metrics, writers

VERSION = 1
IGNORE = -1  # The label of a pixel no palette colour explains.
MAX_COLOUR_DISTANCE = 60.0  # Euclidean, in uint8 RGB units.
STEPS = 600
BATCH = 8
LEARNING_RATE = 2e-3
WIDTH = 16
SEED = 0

# Palettes by name (uint8 RGB, one colour per class), for ``data.label_palette``.
PALETTES = {
  # data_pipelines.scenes.MAP_PALETTE: sky, mountain, water, ground, tree.
  "scenes": ((70, 130, 180), (140, 90, 60), (0, 0, 140), (150, 230, 120), (0, 100, 0)),
  # The 19 evaluated Cityscapes classes in trainId order, in their colours of cityscapesScripts'
  # labels.py: road, sidewalk, building, wall, fence, pole, traffic light, traffic sign,
  # vegetation, terrain, sky, person, rider, car, truck, bus, train, motorcycle, bicycle.
  "cityscapes": (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
    (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
    (0, 80, 100), (0, 0, 230), (119, 11, 32),
  ),
}  # fmt: skip


def parse_palette(spec: str, field: str = "data.label_palette") -> np.ndarray:
  """A palette from its config value: a name of ``PALETTES`` or "R,G,B R,G,B ..." (0-255).

  Returns:
    uint8 [K, 3], K >= 2.

  Raises:
    errors.ConfigError: naming ``field`` when the value is empty or malformed.
  """
  if not spec:
    raise errors.ConfigError(
      f"{field} is empty: FCN-scores need the colours of the label maps' classes (a name: "
      f"{', '.join(PALETTES)}; or 'R,G,B R,G,B ...')."
    )
  if spec in PALETTES:
    return np.array(PALETTES[spec], np.uint8)
  try:
    colours = [tuple(int(v) for v in part.split(",")) for part in spec.split()]
  except ValueError:
    colours = []
  if len(colours) < 2 or any(len(c) != 3 or not all(0 <= v <= 255 for v in c) for c in colours):
    raise errors.ConfigError(
      f"{field}={spec!r}: expected a palette name ({', '.join(PALETTES)}) or at least two "
      "'R,G,B' colours (0-255) separated by spaces."
    )
  return np.array(colours, np.uint8)


def labels_from_maps(
  maps: np.ndarray, palette: np.ndarray, max_distance: float = MAX_COLOUR_DISTANCE
) -> np.ndarray:
  """Class indices of colour-coded label maps: each pixel's nearest palette colour, ``IGNORE``
  where none is within ``max_distance`` (np.inf: always the nearest, for generated maps, whose
  every pixel is a prediction).

  Args:
    maps: [N, H, W, 3] in [-1, 1] (the model's range).
    palette: uint8 [K, 3].
    max_distance: in uint8 RGB units.

  Returns:
    int32 [N, H, W] in 0..K-1 or ``IGNORE``.
  """
  rgb = (np.asarray(maps, np.float32) + 1.0) * 127.5
  distances = np.stack(
    [np.linalg.norm(rgb - colour.astype(np.float32), axis=-1) for colour in palette], -1
  )
  labels = distances.argmin(-1).astype(np.int32)
  return np.where(distances.min(-1) <= max_distance, labels, IGNORE)


def maps_from_labels(labels: np.ndarray, palette: np.ndarray) -> np.ndarray:
  """The inverse: int [N, H, W] -> colour-coded maps [N, H, W, 3] in [-1, 1]."""
  return palette[np.asarray(labels)].astype(np.float32) / 127.5 - 1.0


class SegmentationJudge(nn.Module):
  """[B, R, R, 3] in [-1, 1], R a multiple of 4 -> (logits [B, R, R, K], features [B, R/4,
  R/4, 4 * width]).

  A small U-shaped FCN: two stride-2 convolutions to R/4, two dilated 3x3 convolutions there
  (a receptive field of about 60 pixels: enough to tell snow on a mountain from a cloud), then
  the context, reduced and upsampled, fused with a full-resolution layer for sharp boundaries.
  The context features are the ones the Fréchet distance compares.
  """

  num_classes: int
  width: int = WIDTH

  @nn.compact
  def __call__(self, x):
    w = self.width
    full = nn.relu(nn.Conv(w, (3, 3))(x))
    half = nn.relu(nn.Conv(2 * w, (3, 3), strides=2)(full))
    context = nn.relu(nn.Conv(4 * w, (3, 3), strides=2)(half))
    context = nn.relu(nn.Conv(4 * w, (3, 3), kernel_dilation=2)(context))
    context = nn.relu(nn.Conv(4 * w, (3, 3), kernel_dilation=4)(context))
    reduced = nn.Conv(w, (1, 1))(context)
    up = jax.image.resize(reduced, (*full.shape[:3], w), "bilinear")
    fused = nn.relu(nn.Conv(w, (3, 3))(jnp.concatenate([up, full], -1)))
    return nn.Conv(self.num_classes, (1, 1))(fused), context


class Judge(NamedTuple):
  """A trained judge: its params and its number of classes K."""

  params: dict
  num_classes: int


def _masked_cross_entropy(logits, labels):
  valid = labels != IGNORE
  losses = optax.softmax_cross_entropy_with_integer_labels(logits, jnp.maximum(labels, 0))
  return jnp.sum(losses * valid) / jnp.maximum(jnp.sum(valid), 1)


def train(photos: np.ndarray, labels: np.ndarray, num_classes: int):
  """Fits a ``SegmentationJudge``: ``STEPS`` Adam steps on batches of ``BATCH`` photos, each
  mirrored at random, from a fixed seed.

  Args:
    photos: float32 [N, R, R, 3] in [-1, 1].
    labels: int32 [N, R, R] (``labels_from_maps``).
    num_classes: K.

  Returns:
    The judge's params.
  """
  model = SegmentationJudge(num_classes)
  init_key, order_key, flip_key = jax.random.split(jax.random.PRNGKey(SEED), 3)
  params = model.init(init_key, photos[:1])["params"]
  tx = optax.adam(LEARNING_RATE)
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, x, y, key):
    mirrored = jax.random.bernoulli(key, 0.5, (len(x),))
    x = jnp.where(mirrored[:, None, None, None], x[:, :, ::-1], x)
    y = jnp.where(mirrored[:, None, None], y[:, :, ::-1], y)
    loss_fn = lambda p: _masked_cross_entropy(model.apply({"params": p}, x)[0], y)
    grads = jax.grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state

  per_epoch = max(len(photos) // BATCH, 1)
  for i in range(STEPS):
    epoch, position = divmod(i, per_epoch)
    order = np.asarray(jax.random.permutation(jax.random.fold_in(order_key, epoch), len(photos)))
    idx = order[position * BATCH : (position + 1) * BATCH]
    key = jax.random.fold_in(flip_key, i)
    params, opt_state = step(params, opt_state, photos[idx], labels[idx], key)
  return params


def cache_path(photos: np.ndarray, labels: np.ndarray, num_classes: int) -> pathlib.Path:
  digest = hashlib.sha256()
  digest.update(np.ascontiguousarray(photos, np.float32).tobytes())
  digest.update(np.ascontiguousarray(labels, np.int32).tobytes())
  settings = (VERSION, num_classes, STEPS, BATCH, LEARNING_RATE, WIDTH, SEED, photos.shape)
  digest.update(repr(settings).encode())
  return metrics.cache_dir() / f"segmentation_judge-{digest.hexdigest()[:16]}.msgpack"


def load_or_train(photos: np.ndarray, labels: np.ndarray, num_classes: int) -> Judge:
  """The judge of this training set: from the cache, else trained and cached (atomically:
  concurrent runs never read half a file).

  Raises:
    errors.ConfigError: for sides that are not multiples of 4.
  """
  if photos.shape[1] % 4 or photos.shape[2] % 4:
    raise errors.ConfigError(
      f"The segmentation judge needs sides that are multiples of 4, got {photos.shape[1:3]}."
    )
  path = cache_path(photos, labels, num_classes)
  template = SegmentationJudge(num_classes).init(jax.random.PRNGKey(0), photos[:1])["params"]
  if path.exists():
    return Judge(flax.serialization.from_bytes(template, path.read_bytes()), num_classes)
  params = train(photos, labels, num_classes)
  path.parent.mkdir(parents=True, exist_ok=True)
  writers.write_atomically(path, flax.serialization.to_bytes(params))
  return Judge(params, num_classes)


@functools.partial(jax.jit, static_argnums=0)
def _apply(num_classes: int, params, images):
  return SegmentationJudge(num_classes).apply({"params": params}, images)


def predict(judge: Judge, images: np.ndarray, batch: int = 50) -> tuple[np.ndarray, np.ndarray]:
  """(class indices int32 [N, R, R], context features float32 [N, R/4, R/4, 4 * width]) of
  images [N, R, R, 3] in [-1, 1]."""
  labels, features = [], []
  for start in range(0, len(images), batch):
    chunk = jnp.asarray(images[start : start + batch], jnp.float32)
    logits, feats = _apply(judge.num_classes, judge.params, chunk)
    labels.append(np.asarray(jnp.argmax(logits, -1), np.int32))
    features.append(np.asarray(feats))
  return np.concatenate(labels), np.concatenate(features)


def confusion(predicted: np.ndarray, truth: np.ndarray, num_classes: int) -> np.ndarray:
  """int64 [K, K]: entry (t, p) counts pixels of true class t predicted as p (``IGNORE`` truths
  left out)."""
  valid = truth != IGNORE
  flat = truth[valid].astype(np.int64) * num_classes + predicted[valid]
  return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def scores(matrix: np.ndarray) -> dict:
  """{"pixel_acc", "class_acc", "class_iou"} of a confusion matrix, as the Cityscapes script
  computes them (means over the classes where they are defined)."""
  diagonal = np.diag(matrix).astype(np.float64)
  truth, predicted = matrix.sum(1), matrix.sum(0)
  with np.errstate(invalid="ignore", divide="ignore"):
    per_class = diagonal / truth
    iou = diagonal / (truth + predicted - diagonal)
  return {
    "pixel_acc": float(diagonal.sum() / max(matrix.sum(), 1)),
    "class_acc": float(np.nanmean(per_class)),
    "class_iou": float(np.nanmean(iou)),
  }
