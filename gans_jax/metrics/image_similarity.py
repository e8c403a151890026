"""Full-reference image similarity: SSIM (Wang, Bovik, Sheikh & Simoncelli 2004), PSNR, L1.

For paired models (pix2pix-style): compare a generated image with its target. SSIM, PSNR and L1
take batches [B, H, W, C] of the same shape and return one value per image [B];
``rgb_distance_report`` summarises a whole set as Tucker 2022 reports it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def gaussian_window(size: int = 11, sigma: float = 1.5) -> jax.Array:
  """Normalised 1-D Gaussian [size], the separable factor of SSIM's 2-D window."""
  offsets = jnp.arange(size, dtype=jnp.float32) - (size - 1) / 2
  weights = jnp.exp(-0.5 * (offsets / sigma) ** 2)
  return weights / weights.sum()


def _filter_valid(images: jax.Array, window: jax.Array) -> jax.Array:
  """Separable 'valid' filtering of [B, H, W, C] per channel -> [B, H - k + 1, W - k + 1, C]."""
  channels = images.shape[-1]
  size = window.shape[0]
  rows = jnp.tile(window.reshape(size, 1, 1, 1), (1, 1, 1, channels))  # HWIO, depthwise.
  cols = jnp.tile(window.reshape(1, size, 1, 1), (1, 1, 1, channels))
  dims = ("NHWC", "HWIO", "NHWC")
  for kernel in (rows, cols):
    images = jax.lax.conv_general_dilated(
      images,
      kernel,
      (1, 1),
      "VALID",
      dimension_numbers=dims,
      feature_group_count=channels,
      precision=jax.lax.Precision.HIGHEST,
    )
  return images


def ssim(
  images: jax.Array,
  targets: jax.Array,
  *,
  data_range: float = 2.0,
  window_size: int = 11,
  sigma: float = 1.5,
  k1: float = 0.01,
  k2: float = 0.03,
) -> jax.Array:
  """Mean structural similarity per image, Wang et al. 2004 (Eq. 13, Gaussian window).

  Local means, variances and covariance use an 11x11 Gaussian window (sigma 1.5) over the
  positions where it fits entirely (no padding), with population (not sample) moments; the SSIM
  map is averaged over positions and channels. This equals scikit-image's
  ``structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
  data_range=..., channel_axis=-1)``.

  Args:
    images, targets: [B, H, W, C], H and W >= ``window_size``.
    data_range: max - min of the pixel scale (2 for [-1, 1], 1 for [0, 1], 255 for uint8).

  Returns:
    SSIM [B], 1 for identical images.
  """
  if images.shape != targets.shape or images.ndim != 4:
    raise ValueError(
      f"SSIM needs two [B, H, W, C] batches of one shape, got {images.shape} and {targets.shape}."
    )
  if min(images.shape[1:3]) < window_size:
    raise ValueError(
      f"Images of {images.shape[1]}x{images.shape[2]} are smaller than the "
      f"{window_size}x{window_size} SSIM window."
    )
  luminance, contrast_structure = _ssim_maps(
    images, targets, data_range, window_size, sigma, k1, k2
  )
  return (luminance * contrast_structure).mean(axis=(1, 2, 3))


def _ssim_maps(images, targets, data_range, window_size, sigma, k1, k2):
  """SSIM's luminance and contrast-structure maps [B, H - k + 1, W - k + 1, C] (Wang et al.
  2004, Eq. 6 and 10-13 with C3 = C2 / 2), population moments over a Gaussian window."""
  x, y = jnp.asarray(images, jnp.float32), jnp.asarray(targets, jnp.float32)
  window = gaussian_window(window_size, sigma)
  mean_x, mean_y = _filter_valid(x, window), _filter_valid(y, window)
  var_x = _filter_valid(x * x, window) - mean_x**2
  var_y = _filter_valid(y * y, window) - mean_y**2
  cov = _filter_valid(x * y, window) - mean_x * mean_y
  c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
  luminance = (2 * mean_x * mean_y + c1) / (mean_x**2 + mean_y**2 + c1)
  return luminance, (2 * cov + c2) / (var_x + var_y + c2)


# Wang, Simoncelli & Bovik 2003, Sec. 3.2: the exponents of the five scales, finest first.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim(
  images: jax.Array,
  targets: jax.Array,
  *,
  data_range: float = 2.0,
  weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
  window_size: int = 11,
  sigma: float = 1.5,
  k1: float = 0.01,
  k2: float = 0.03,
) -> jax.Array:
  """Multi-scale SSIM per image (Wang, Simoncelli & Bovik 2003), as ``tf.image.ssim_multiscale``.

  Scale j (finest first) halves the previous one by 2x2 average pooling (an odd side is first
  padded by mirroring its last row / column). MS-SSIM = prod_{j < M} cs_j^{w_j} * ssim_M^{w_M}
  per channel, cs and ssim being spatial means clipped at 0, then averaged over channels.

  Args:
    images, targets: [B, H, W, C]; the coarsest scale must still fit the window, so the
      standard five weights need H, W >= 16 * (window_size - 1) + 1 = 161.
    weights: one exponent per scale; fewer scales (e.g. the first two, renormalised) suit
      small images.

  Returns:
    MS-SSIM [B], 1 for identical images.
  """
  smallest = min(images.shape[1:3])
  for _ in weights[1:]:
    smallest = -(-smallest // 2)  # Each halving rounds up (odd sides are padded).
  if images.shape != targets.shape or images.ndim != 4 or smallest < window_size:
    raise ValueError(
      f"MS-SSIM over {len(weights)} scales needs two [B, H, W, C] batches of one shape with H "
      f"and W >= {(window_size - 1) * 2 ** (len(weights) - 1) + 1}, got {images.shape} and "
      f"{targets.shape}."
    )
  x, y = jnp.asarray(images, jnp.float32), jnp.asarray(targets, jnp.float32)
  terms = []
  for scale in range(len(weights)):
    if scale:
      x, y = _halve(x), _halve(y)
    luminance, contrast_structure = _ssim_maps(x, y, data_range, window_size, sigma, k1, k2)
    last = scale == len(weights) - 1
    term = (luminance * contrast_structure) if last else contrast_structure
    terms.append(jax.nn.relu(term.mean(axis=(1, 2))))  # [B, C]
  per_channel = jnp.prod(jnp.stack(terms, -1) ** jnp.asarray(weights, jnp.float32), axis=-1)
  return per_channel.mean(-1)


def _halve(images: jax.Array) -> jax.Array:
  """2x2 average pooling of [B, H, W, C]; an odd side is first extended by its mirror."""
  pad = [(0, 0), (0, images.shape[1] % 2), (0, images.shape[2] % 2), (0, 0)]
  images = jnp.pad(images, pad, mode="symmetric")
  b, h, w, c = images.shape
  return images.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def psnr(images: jax.Array, targets: jax.Array, *, data_range: float = 2.0) -> jax.Array:
  """Peak signal-to-noise ratio in dB per image [B]: 10 log10(range^2 / MSE); inf if equal."""
  mse = jnp.mean((jnp.asarray(images, jnp.float32) - targets) ** 2, axis=(1, 2, 3))
  return 10 * jnp.log10(data_range**2 / mse)


def l1(images: jax.Array, targets: jax.Array) -> jax.Array:
  """Mean absolute pixel difference per image [B], in the images' own scale."""
  return jnp.mean(jnp.abs(jnp.asarray(images, jnp.float32) - targets), axis=(1, 2, 3))


def laplacian_energy(images: np.ndarray) -> np.ndarray:
  """Mean absolute 4-neighbour Laplacian per image [B] of [B, H, W, C] (interior pixels): how
  much fine detail an image has. Blurry outputs score well below their targets."""
  images = np.asarray(images, np.float64)
  centre = images[:, 1:-1, 1:-1]
  laplacian = (
    images[:, :-2, 1:-1] + images[:, 2:, 1:-1] + images[:, 1:-1, :-2] + images[:, 1:-1, 2:]
  ) - 4 * centre
  return np.abs(laplacian).mean(axis=(1, 2, 3))


def rgb_distance_report(generated: np.ndarray, targets: np.ndarray) -> dict:
  """Tucker 2022's per-pixel colour report for paired models, each pixel's RGB a 3-vector.

  Args:
    generated, targets: [B, H, W, 3] in one scale (e.g. uint8 or [-1, 1]).

  Returns:
    {"target_mean", "target_var", "generated_mean", "generated_var", "abs_diff_mean",
    "abs_diff_var"}: per-channel lists [R, G, B] over all pixels of all images (population
    variance), and "diff_norm_mean": the mean Euclidean norm of the per-pixel RGB difference.
  """
  generated = np.asarray(generated, np.float64)
  targets = np.asarray(targets, np.float64)
  if generated.shape != targets.shape or generated.ndim != 4 or generated.shape[-1] != 3:
    raise ValueError(
      f"Need two [B, H, W, 3] batches of one shape, got {generated.shape} and {targets.shape}."
    )
  pixels = lambda a: a.reshape(-1, 3)  # noqa: E731  [B * H * W, 3]
  difference = pixels(generated) - pixels(targets)
  report = {}
  for name, values in (
    ("target", pixels(targets)),
    ("generated", pixels(generated)),
    ("abs_diff", np.abs(difference)),
  ):
    report[f"{name}_mean"] = values.mean(0).tolist()
    report[f"{name}_var"] = values.var(0).tolist()
  report["diff_norm_mean"] = float(np.linalg.norm(difference, axis=1).mean())
  return report
