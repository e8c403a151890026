"""The FID InceptionV3 in Flax linen: pytorch-fid's network, layer for layer, in NHWC.

FID (Heusel et al. 2017) is defined on the pool_3 features of the TensorFlow Inception graph
``inception-2015-12-05``. pytorch-fid (``pytorch_fid/inception.py``) re-creates that graph from
torchvision's InceptionV3 with four patched blocks, and everyone compares numbers with it, so this
port follows pytorch-fid exactly:

- every convolution has no bias and is followed by BatchNorm (epsilon 1e-3) and ReLU;
- the average pools of the A, C and first E blocks ignore the zero padding
  (``count_include_pad=False``, as TensorFlow's pooling does);
- the last E block (Mixed_7c) pools its fourth branch with a max pool, a quirk of the TF graph;
- input in [0, 1] is resized to 299x299 bilinearly without antialiasing, with half-pixel centres
  (``F.interpolate(mode="bilinear", align_corners=False)``), then scaled to [-1, 1].

Outputs are the spatially averaged taps pytorch-fid offers, by their feature count: 64 (after
the first max pool), 192 (after the second), 768 (Mixed_6e, the input of the auxiliary head) and
2048 (pool_3, the FID features), plus the 1008-way logits of the final layer with and without its
bias. The original Inception Score code (Salimans et al. 2016) and torch-fidelity use the logits
without the bias, so that is what ``inception_score`` receives.

Module and parameter names mirror pytorch-fid's state dict (``Mixed_5b/branch1x1/conv``), which
keeps the weight converter a renaming. Weights are never downloaded here: ``load_variables``
reads the ``.npz`` that ``gans-jax convert-inception-weights`` writes, from an explicit path.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pathlib
from collections.abc import Sequence

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gans_jax import compile_options, errors, metrics, writers

INPUT_SIZE = 299
NUM_CLASSES = 1008
TAPS_BY_DIMS = {64: "pool1", 192: "pool2", 768: "mixed_6e", 2048: "pool3"}
TAP_ORDER = ("pool1", "pool2", "mixed_6e", "pool3", "logits")
OUTPUTS = ("pool1", "pool2", "mixed_6e", "pool3", "logits", "logits_unbiased")

PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
PYTORCH_FID_URL = (
  "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + PYTORCH_FID_FILE
)
WEIGHTS_ENV = "GANS_JAX_INCEPTION_WEIGHTS"
FORMAT_KEY = "__format__"
FORMAT = "gans_jax.fid_inception_v3/1"


class WeightsError(errors.UserError, ValueError):
  """The Inception weights file is missing or does not hold the FID InceptionV3."""


class ConvBN(nn.Module):
  """Convolution without bias, BatchNorm (eps 1e-3, running statistics) and ReLU.

  torchvision's ``BasicConv2d``; ``padding`` is torch's symmetric (rows, columns) padding.
  """

  features: int
  kernel: tuple[int, int]
  strides: int = 1
  padding: tuple[int, int] = (0, 0)

  @nn.compact
  def __call__(self, x):
    pad_h, pad_w = self.padding
    x = nn.Conv(
      self.features,
      self.kernel,
      (self.strides, self.strides),
      padding=((pad_h, pad_h), (pad_w, pad_w)),
      use_bias=False,
      name="conv",
    )(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x)
    return nn.relu(x)


def _average_pool_3x3(x):
  """3x3, stride 1, padding 1, averaging only over pixels inside the image (TF's pooling)."""
  return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_3x3(x, stride: int, pad: int = 0):
  return nn.max_pool(x, (3, 3), (stride, stride), ((pad, pad), (pad, pad)))


class InceptionA(nn.Module):
  """Mixed_5b/c/d: 35x35 block with 1x1, 5x5, double 3x3 and pooled branches."""

  pool_features: int

  @nn.compact
  def __call__(self, x):
    branch1x1 = ConvBN(64, (1, 1), name="branch1x1")(x)
    branch5x5 = ConvBN(48, (1, 1), name="branch5x5_1")(x)
    branch5x5 = ConvBN(64, (5, 5), padding=(2, 2), name="branch5x5_2")(branch5x5)
    double = ConvBN(64, (1, 1), name="branch3x3dbl_1")(x)
    double = ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(double)
    double = ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(double)
    pool = ConvBN(self.pool_features, (1, 1), name="branch_pool")(_average_pool_3x3(x))
    return jnp.concatenate([branch1x1, branch5x5, double, pool], -1)


class InceptionB(nn.Module):
  """Mixed_6a: 35x35 -> 17x17 reduction."""

  @nn.compact
  def __call__(self, x):
    branch3x3 = ConvBN(384, (3, 3), strides=2, name="branch3x3")(x)
    double = ConvBN(64, (1, 1), name="branch3x3dbl_1")(x)
    double = ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(double)
    double = ConvBN(96, (3, 3), strides=2, name="branch3x3dbl_3")(double)
    return jnp.concatenate([branch3x3, double, _max_pool_3x3(x, 2)], -1)


class InceptionC(nn.Module):
  """Mixed_6b/c/d/e: 17x17 block with factorised 7x7 branches."""

  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    branch1x1 = ConvBN(192, (1, 1), name="branch1x1")(x)
    branch7x7 = ConvBN(c7, (1, 1), name="branch7x7_1")(x)
    branch7x7 = ConvBN(c7, (1, 7), padding=(0, 3), name="branch7x7_2")(branch7x7)
    branch7x7 = ConvBN(192, (7, 1), padding=(3, 0), name="branch7x7_3")(branch7x7)
    double = ConvBN(c7, (1, 1), name="branch7x7dbl_1")(x)
    double = ConvBN(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(double)
    double = ConvBN(c7, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(double)
    double = ConvBN(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(double)
    double = ConvBN(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(double)
    pool = ConvBN(192, (1, 1), name="branch_pool")(_average_pool_3x3(x))
    return jnp.concatenate([branch1x1, branch7x7, double, pool], -1)


class InceptionD(nn.Module):
  """Mixed_7a: 17x17 -> 8x8 reduction."""

  @nn.compact
  def __call__(self, x):
    branch3x3 = ConvBN(192, (1, 1), name="branch3x3_1")(x)
    branch3x3 = ConvBN(320, (3, 3), strides=2, name="branch3x3_2")(branch3x3)
    branch7x7 = ConvBN(192, (1, 1), name="branch7x7x3_1")(x)
    branch7x7 = ConvBN(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(branch7x7)
    branch7x7 = ConvBN(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(branch7x7)
    branch7x7 = ConvBN(192, (3, 3), strides=2, name="branch7x7x3_4")(branch7x7)
    return jnp.concatenate([branch3x3, branch7x7, _max_pool_3x3(x, 2)], -1)


class InceptionE(nn.Module):
  """Mixed_7b/c: 8x8 block with split 1x3 / 3x1 branches.

  ``max_pool``: the pooled branch of Mixed_7c max-pools in the FID graph (Mixed_7b averages,
  ignoring the padding).
  """

  max_pool: bool = False

  @nn.compact
  def __call__(self, x):
    branch1x1 = ConvBN(320, (1, 1), name="branch1x1")(x)
    branch3x3 = ConvBN(384, (1, 1), name="branch3x3_1")(x)
    branch3x3 = jnp.concatenate(
      [
        ConvBN(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(branch3x3),
        ConvBN(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(branch3x3),
      ],
      -1,
    )
    double = ConvBN(448, (1, 1), name="branch3x3dbl_1")(x)
    double = ConvBN(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(double)
    double = jnp.concatenate(
      [
        ConvBN(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(double),
        ConvBN(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(double),
      ],
      -1,
    )
    pooled = _max_pool_3x3(x, 1, pad=1) if self.max_pool else _average_pool_3x3(x)
    pool = ConvBN(192, (1, 1), name="branch_pool")(pooled)
    return jnp.concatenate([branch1x1, branch3x3, double, pool], -1)


def _spatial_mean(x):
  return x.mean((1, 2))


class FIDInceptionV3(nn.Module):
  """[B, 299, 299, 3] in [-1, 1] -> {tap name: [B, D]} for the taps up to ``last``.

  Attributes:
    last: the deepest output needed ("pool1", "pool2", "mixed_6e", "pool3" or "logits"); the
      layers after it are not run (pytorch-fid likewise stops at its last requested block).
  """

  last: str = "logits"

  @nn.compact
  def __call__(self, x):
    depth = TAP_ORDER.index(self.last)
    out = {}
    x = ConvBN(32, (3, 3), strides=2, name="Conv2d_1a_3x3")(x)  # [B, 149, 149, 32]
    x = ConvBN(32, (3, 3), name="Conv2d_2a_3x3")(x)  # [B, 147, 147, 32]
    x = ConvBN(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)  # [B, 147, 147, 64]
    x = _max_pool_3x3(x, 2)  # [B, 73, 73, 64]
    out["pool1"] = _spatial_mean(x)
    if depth < 1:
      return out
    x = ConvBN(80, (1, 1), name="Conv2d_3b_1x1")(x)  # [B, 73, 73, 80]
    x = ConvBN(192, (3, 3), name="Conv2d_4a_3x3")(x)  # [B, 71, 71, 192]
    x = _max_pool_3x3(x, 2)  # [B, 35, 35, 192]
    out["pool2"] = _spatial_mean(x)
    if depth < 2:
      return out
    x = InceptionA(32, name="Mixed_5b")(x)  # [B, 35, 35, 256]
    x = InceptionA(64, name="Mixed_5c")(x)  # [B, 35, 35, 288]
    x = InceptionA(64, name="Mixed_5d")(x)  # [B, 35, 35, 288]
    x = InceptionB(name="Mixed_6a")(x)  # [B, 17, 17, 768]
    x = InceptionC(128, name="Mixed_6b")(x)
    x = InceptionC(160, name="Mixed_6c")(x)
    x = InceptionC(160, name="Mixed_6d")(x)
    x = InceptionC(192, name="Mixed_6e")(x)  # [B, 17, 17, 768]
    out["mixed_6e"] = _spatial_mean(x)
    if depth < 3:
      return out
    x = InceptionD(name="Mixed_7a")(x)  # [B, 8, 8, 1280]
    x = InceptionE(name="Mixed_7b")(x)  # [B, 8, 8, 2048]
    x = InceptionE(max_pool=True, name="Mixed_7c")(x)  # [B, 8, 8, 2048]
    out["pool3"] = pool3 = _spatial_mean(x)
    if depth < 4:
      return out
    fc = nn.Dense(NUM_CLASSES, name="fc")
    out["logits"] = fc(pool3)
    # Same kernel, no bias: the logits the Inception Score was defined with.
    out["logits_unbiased"] = pool3 @ fc.variables["params"]["kernel"]
    return out


# --- Input: pytorch-fid's resize and scaling. ---


def interpolation_matrix(in_size: int, out_size: int = INPUT_SIZE) -> np.ndarray:
  """[out_size, in_size] weights of 1-D linear interpolation as torch's bilinear
  ``align_corners=False`` computes it: source = (target + 0.5) * in/out - 0.5, clamped at 0,
  between floor(source) and the next pixel (the last pixel repeats). No antialiasing."""
  scale = in_size / out_size
  source = np.maximum((np.arange(out_size) + 0.5) * scale - 0.5, 0.0)
  low = np.floor(source).astype(int)
  high = np.minimum(low + 1, in_size - 1)
  frac = source - low
  matrix = np.zeros((out_size, in_size))
  np.add.at(matrix, (np.arange(out_size), low), 1.0 - frac)
  np.add.at(matrix, (np.arange(out_size), high), frac)
  return matrix.astype(np.float32)


def preprocess(images: jax.Array) -> jax.Array:
  """[B, H, W, 3] in [0, 1] -> [B, 299, 299, 3] in [-1, 1] (pytorch-fid's resize and scaling)."""
  _, height, width, _ = images.shape
  if (height, width) != (INPUT_SIZE, INPUT_SIZE):
    rows, cols = interpolation_matrix(height), interpolation_matrix(width)
    images = jnp.einsum("ph,bhwc,qw->bpqc", rows, images, cols, precision="highest")
  return 2.0 * images - 1.0


# --- Weights: random (tests), saved and loaded as .npz. ---


def init_variables(seed: int = 0) -> dict:
  """Random {"params", "batch_stats"} of the full network, for tests and benchmarks.

  He-normal convolution kernels and BatchNorm at its initial state (scale 1, offset 0, running
  mean 0, variance 1) keep activations O(1) through the network. Built leaf by leaf in numpy:
  initialising through ``FIDInceptionV3.init`` compiles the whole network (about 20 s here).
  """
  rng = np.random.default_rng(seed)
  flat = {}
  for name, shape in variable_shapes().items():
    leaf = name.rsplit("/", 1)[1]
    if leaf == "kernel":
      fan_in = int(np.prod(shape[:-1]))
      flat[name] = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype(np.float32)
    else:
      flat[name] = np.full(shape, 1.0 if leaf in ("scale", "var") else 0.0, np.float32)
  return flax.traverse_util.unflatten_dict(flat, sep="/")


def _template(key: jax.Array) -> dict:
  # Parameter shapes do not depend on the image size; 75x75 is the smallest the network takes.
  return FIDInceptionV3().init(key, jnp.zeros((1, 75, 75, 3)))


@functools.cache
def variable_shapes() -> dict[str, tuple[int, ...]]:
  """{"params/Mixed_5b/branch1x1/conv/kernel": shape, ...} of the full network."""
  shapes = jax.eval_shape(_template, jax.random.PRNGKey(0))
  flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(shapes), sep="/")
  return {name: tuple(leaf.shape) for name, leaf in flat.items()}


def save_variables(variables: dict, path: str | os.PathLike) -> None:
  """Writes variables as an .npz of "/"-joined names (written to a temporary file first, so a
  failed write never leaves a partial file at ``path``)."""
  flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables), sep="/")
  check_variable_shapes({name: np.shape(value) for name, value in flat.items()}, str(path))
  arrays = {name: np.asarray(value, np.float32) for name, value in flat.items()}
  arrays[FORMAT_KEY] = np.array(FORMAT)
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  writers.write_atomically(path, buffer.getvalue())


def check_variable_shapes(shapes: dict[str, tuple[int, ...]], source: str) -> None:
  """Raises WeightsError naming the first missing, unexpected or misshapen variable."""
  expected = variable_shapes()
  missing = sorted(set(expected) - set(shapes))
  unexpected = sorted(set(shapes) - set(expected))
  if missing or unexpected:
    raise WeightsError(
      f"{source} is not the FID InceptionV3: {len(missing)} missing variable(s)"
      f"{' e.g. ' + missing[0] if missing else ''}, {len(unexpected)} unexpected"
      f"{' e.g. ' + unexpected[0] if unexpected else ''}."
    )
  for name, shape in expected.items():
    if tuple(shapes[name]) != shape:
      raise WeightsError(f"{source}: {name} has shape {tuple(shapes[name])}, expected {shape}.")


def missing_weights_message(path: pathlib.Path) -> str:
  return (
    f"FID Inception weights not found: {path}. Download {PYTORCH_FID_URL} and convert it with "
    f"`gans-jax convert-inception-weights {PYTORCH_FID_FILE} {path}` (needs torch), or point "
    f"--inception-weights / config.eval.inception_weights / ${WEIGHTS_ENV} at a converted file."
  )


def default_weights_path() -> pathlib.Path:
  """$GANS_JAX_INCEPTION_WEIGHTS, else pt_inception-2015-12-05.npz in the project cache."""
  if os.environ.get(WEIGHTS_ENV):
    return pathlib.Path(os.environ[WEIGHTS_ENV])
  return metrics.cache_dir() / "pt_inception-2015-12-05.npz"


def resolve_weights_path(path: str | os.PathLike | None) -> pathlib.Path:
  """The weights file to use: ``path`` if given (flag or config), else ``default_weights_path``.

  Raises:
    WeightsError: if the file does not exist, saying what to download and how to convert it.
  """
  path = pathlib.Path(path) if path else default_weights_path()
  if not path.is_file():
    raise WeightsError(missing_weights_message(path))
  return path


def load_variables(path: str | os.PathLike) -> dict:
  """{"params", "batch_stats"} from a converted .npz, checked name by name and shape by shape.

  Raises:
    WeightsError: if the file is missing, unreadable or not this network's weights.
  """
  path = pathlib.Path(path)
  if not path.is_file():
    raise WeightsError(missing_weights_message(path))
  try:
    with np.load(path, allow_pickle=False) as data:
      arrays = {name: data[name] for name in data.files}
  except Exception as error:
    raise WeightsError(f"Cannot read Inception weights {path}: {error}") from None
  if str(arrays.pop(FORMAT_KEY, "")) != FORMAT:
    raise WeightsError(
      f"{path} is not a converted FID Inception file (no {FORMAT_KEY}={FORMAT!r}); convert "
      f"pytorch-fid's {PYTORCH_FID_FILE} with `gans-jax convert-inception-weights`."
    )
  check_variable_shapes({name: a.shape for name, a in arrays.items()}, str(path))
  return flax.traverse_util.unflatten_dict(
    {name: jnp.asarray(a, jnp.float32) for name, a in arrays.items()}, sep="/"
  )


def file_digest(path: str | os.PathLike) -> str:
  """sha256 hex digest of a file (identifies the detector in cached statistics)."""
  digest = hashlib.sha256()
  with open(path, "rb") as file:
    for block in iter(lambda: file.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


# --- Feature extraction in fixed-size batches. ---


# Resizing compiles per input size; the network compiles once per depth, at 299x299.
_preprocess = jax.jit(preprocess)


@functools.cache
def _network(last: str):
  """The compiled network up to ``last`` (see ``compile_options`` for the CPU option).

  Full float32 products on every backend: TPUs (bfloat16 passes) and recent GPUs (TF32) would
  otherwise round the features at about 1e-3, far outside parity with the reference.
  """

  def apply(variables, inputs):
    with jax.default_matmul_precision("float32"):
      return FIDInceptionV3(last=last).apply(variables, inputs)

  return jax.jit(apply, compiler_options=compile_options.for_cpu_convolutions())


def deepest(outputs: Sequence[str]) -> str:
  """The last layer ``FIDInceptionV3`` must run to produce every name in ``outputs``."""
  unknown = sorted(set(outputs) - set(OUTPUTS))
  if unknown:
    raise ValueError(f"Unknown Inception output(s) {unknown}; available: {', '.join(OUTPUTS)}.")
  names = ["logits" if name == "logits_unbiased" else name for name in outputs]
  return max(names, key=TAP_ORDER.index)


def as_unit_rgb(images: np.ndarray) -> np.ndarray:
  """uint8 (0..255) or float (already in [0, 1]) [N, H, W, 1 or 3] -> float32 RGB in [0, 1]
  (uint8 divided by 255 as torchvision's ``ToTensor``; grey repeated, as PIL's convert("RGB"))."""
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(f"Expected images [N, H, W, 1 or 3], got shape {images.shape}.")
  if images.dtype == np.uint8:
    images = images.astype(np.float32) / 255.0
  images = images.astype(np.float32)
  return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def extract(
  variables: dict,
  images: np.ndarray,
  outputs: Sequence[str] = ("pool3",),
  batch_size: int = 50,
) -> dict[str, np.ndarray]:
  """Inception outputs of images, batch by batch.

  Args:
    variables: from ``load_variables`` (or ``init_variables``).
    images: uint8 [N, H, W, C] or float [N, H, W, C] in [0, 1], C = 1 or 3, any H and W.
    outputs: names from ``OUTPUTS``.
    batch_size: images per compiled call (at most N); the last batch is padded, so one shape
      compiles once.

  Returns:
    {name: float32 [N, D]}.
  """
  last = deepest(outputs)
  images = np.asarray(images)
  if len(images) == 0:
    raise ValueError("No images to extract Inception features from.")
  batch_size = min(batch_size, len(images))  # As pytorch-fid: small sets are one batch.
  chunks = {name: [] for name in outputs}
  for start in range(0, len(images), batch_size):
    batch = as_unit_rgb(images[start : start + batch_size])
    count = len(batch)
    if count < batch_size:
      batch = np.concatenate([batch, np.zeros((batch_size - count, *batch.shape[1:]), batch.dtype)])
    result = _network(last)(variables, _preprocess(batch))
    for name in outputs:
      chunks[name].append(np.asarray(result[name])[:count])
  return {name: np.concatenate(parts) for name, parts in chunks.items()}
