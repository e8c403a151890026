"""Images into the model's range in numpy, bit for bit what the tf.data pipeline computes.

``to_model_range`` is ``pipeline.to_model_range`` without TensorFlow: a cast to float32, bilinear
resizing antialiased when shrinking, grey repeated to RGB or RGB reduced to grey with ITU-R 601
luma weights, then ``x / 127.5 - 1`` clipped to [-1, 1]. TensorFlow resizes with its
``ScaleAndTranslate`` kernel (``tf.image.resize(..., "bilinear", antialias=True)``, the triangle
kernel; ``tensorflow/core/kernels/image/scale_and_translate_op.cc``): per axis, each output
pixel's span of input pixels and normalised weights are computed in float32, then rows and
columns are gathered as float32 sums in span order. ``_spans`` and ``_gather`` repeat that
arithmetic step for step (same operations, same order, float32 throughout; the one double is
TensorFlow's ``1.0 / scale``), so the results are equal to the last bit (tested against
TensorFlow on upsampling, downsampling and odd sizes).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from data_pipelines.sources import DatasetError

_F = np.float32
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as TensorFlow's tensor.
INPUT_NOISE_SEED = 20170000  # Fixes which pixels of which inputs are noise: part of the data.


@functools.cache  # Per (out, in) size: every batch of a run resizes alike.
def _spans(output_size: int, input_size: int) -> tuple[np.ndarray, np.ndarray]:
  """(starts int [out], weights float32 [out, span]) of the triangle kernel, antialiased, for an
  axis of ``input_size`` pixels resized to ``output_size`` (scale = out / in, no translation);
  read-only, as they are shared."""
  scale = _F(_F(output_size) / _F(input_size))  # TensorFlow divides the float32 sizes.
  inv_scale = _F(1.0 / float(scale))  # A double division rounded to float32, as the kernel's.
  kernel_scale = max(inv_scale, _F(1.0))  # Antialiasing widens the kernel when shrinking.
  span_size = min(2 * math.ceil(float(kernel_scale)) + 1, input_size)  # Radius 1.
  one_over_kernel_scale = _F(_F(1.0) / kernel_scale)
  starts = np.zeros(output_size, np.int64)
  weights = np.zeros((output_size, span_size), np.float32)
  for x in range(output_size):
    sample = _F(_F(_F(x) + _F(0.5)) * inv_scale) + _F(-0.0)  # + the translation, -0.0.
    if sample < 0 or sample > input_size:
      continue
    start = math.ceil(_F(_F(sample - kernel_scale) - _F(0.5)))
    end = math.floor(_F(_F(sample + kernel_scale) - _F(0.5)))
    start = min(max(start, 0), input_size - 1)
    end = min(max(end, 0), input_size - 1) + 1
    taps, total = [], _F(0.0)
    for source in range(start, end):
      position = _F(_F(_F(source) + _F(0.5)) - sample)
      distance = _F(abs(_F(position * one_over_kernel_scale)))
      weight = _F(_F(1.0) - distance) if distance < 1 else _F(0.0)
      total = _F(total + weight)
      taps.append(weight)
    if abs(total) >= 1000 * np.finfo(np.float32).tiny:
      weights[x, : len(taps)] = np.array(taps, np.float32) * _F(_F(1.0) / total)
    starts[x] = start
  starts.flags.writeable = weights.flags.writeable = False
  return starts, weights


def _gather(images: np.ndarray, axis: int, starts: np.ndarray, weights: np.ndarray) -> np.ndarray:
  """Float32 [n, ..., out, ...]: each output line along ``axis`` (1: rows, 2: columns) the sum of
  its span's input lines times their weights, added in span order from zero."""
  size = images.shape[axis]
  out_shape = list(images.shape)
  out_shape[axis] = len(starts)
  out = np.zeros(out_shape, np.float32)
  for x, start in enumerate(starts):
    target = out[:, x] if axis == 1 else out[:, :, x]
    for tap in range(min(int(start) + weights.shape[1], size) - int(start)):
      line = images[:, start + tap] if axis == 1 else images[:, :, start + tap]
      target += weights[x, tap] * line  # float32 product, then float32 sum: no fused rounding.
  return out


def resize_bilinear(images: np.ndarray, resolution: int) -> np.ndarray:
  """float32 [n, h, w, c] -> float32 [n, resolution, resolution, c], as
  ``tf.image.resize(images, (resolution, resolution), "bilinear", antialias=True)``."""
  images = np.asarray(images, np.float32)
  rows = _gather(images, 1, *_spans(resolution, images.shape[1]))
  return _gather(rows, 2, *_spans(resolution, images.shape[2]))


def to_model_range(images: np.ndarray, resolution: int, channels: int) -> np.ndarray:
  """uint8 [n, h, w, c] -> float32 [n, resolution, resolution, channels] in [-1, 1].

  Raises:
    DatasetError: for a channel count neither 1 nor 3 that differs from ``channels``.
  """
  images = np.asarray(images).astype(np.float32)
  if images.shape[1] != resolution or images.shape[2] != resolution:
    images = resize_bilinear(images, resolution)
  if images.shape[-1] == 1 and channels == 3:
    images = np.repeat(images, 3, axis=-1)
  elif images.shape[-1] == 3 and channels == 1:
    weighted = images * LUMA_WEIGHTS
    images = ((weighted[..., 0] + weighted[..., 1]) + weighted[..., 2])[..., None]
  elif images.shape[-1] != channels:
    raise DatasetError(f"Cannot convert {images.shape[-1]}-channel images to {channels}.")
  return np.clip(images / _F(127.5) - _F(1.0), _F(-1.0), _F(1.0)).astype(np.float32)


def replace_with_noise(
  images: np.ndarray, indices: np.ndarray, pixel_fraction: float, image_fraction: float = 1.0
) -> np.ndarray:
  """Tucker 2022's corrupted semantic maps: in a fixed ``image_fraction`` of the examples, a fixed
  ``pixel_fraction`` of the pixels replaced by uniform random colours.

  Which examples, which pixels and which colours are pure functions of each example's index, so
  every epoch (and every run) sees the same corrupted dataset.

  Args:
    images: uint8 [n, H, W, C].
    indices: int [n], the examples' dataset indices.
    pixel_fraction, image_fraction: in [0, 1].

  Returns:
    uint8 [n, H, W, C], a corrupted copy.
  """
  images = np.array(images)
  for row, index in enumerate(indices):
    rng = np.random.default_rng([INPUT_NOISE_SEED, int(index)])
    if rng.uniform() >= image_fraction:
      continue
    mask = rng.uniform(size=images.shape[1:3]) < pixel_fraction
    noise = rng.integers(0, 256, images.shape[1:], dtype=np.uint8)
    images[row][mask] = noise[mask]
  return images
