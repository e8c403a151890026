"""FID between folders of images or stats files, as ``python -m pytorch_fid`` computes it.

Same inputs and defaults as pytorch-fid (``pytorch_fid/fid_score.py``): each path is a folder,
whose files with the extensions below (lower case, top level only) are read in sorted order,
converted to RGB and divided by 255; or an ``.npz`` with ``mu`` and ``sigma``. Features are the
pool_3 tap (``dims=2048``) or one of the earlier taps, batch 50, statistics in float64.
Unlike pytorch-fid, images stream through in batches (any folder size fits in memory), and
images of different sizes are an error naming the first odd file instead of a collate failure.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import numpy as np

from gans_jax import errors
from gans_jax.metrics import frechet, inception

IMAGE_EXTENSIONS = ("bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp")


def list_images(folder: str | os.PathLike) -> list[pathlib.Path]:
  """pytorch-fid's file list: top-level files with IMAGE_EXTENSIONS, sorted by path.

  Raises:
    ValueError: if the folder does not exist or holds no such file.
  """
  folder = pathlib.Path(folder)
  if not folder.is_dir():
    raise errors.UsageError(f"Not a folder of images or an .npz statistics file: {folder}")
  files = sorted(f for ext in IMAGE_EXTENSIONS for f in folder.glob(f"*.{ext}"))
  if not files:
    raise errors.UsageError(
      f"No images in {folder} (looked for *.{', *.'.join(IMAGE_EXTENSIONS)} at its top level)."
    )
  return files


def read_batches(files: list[pathlib.Path], batch_size: int) -> Iterator[np.ndarray]:
  """uint8 RGB batches [<= batch_size, H, W, 3] of the files, in order.

  Raises:
    ValueError: naming a file that cannot be read or whose size differs from the first one's.
  """
  from PIL import Image

  expected = None
  for start in range(0, len(files), batch_size):
    batch = []
    for file in files[start : start + batch_size]:
      try:
        with Image.open(file) as image:
          array = np.asarray(image.convert("RGB"))
      except Exception as error:
        raise errors.UsageError(f"Cannot read image {file}: {error}") from None
      if expected is None:
        expected = (array.shape, files[0])
      elif array.shape != expected[0]:
        raise errors.UsageError(
          f"Images of different sizes: {file} is {array.shape[1]}x{array.shape[0]}, "
          f"{expected[1]} is {expected[0][1]}x{expected[0][0]}; FID needs one size per folder."
        )
      batch.append(array)
    yield np.stack(batch)


def image_statistics(
  batches, variables: dict, dims: int = 2048, batch_size: int = 50
) -> tuple[np.ndarray, np.ndarray]:
  """(mu, sigma) of the ``dims``-feature Inception tap over an iterable of image batches
  (uint8 [n, H, W, C] or float in [0, 1])."""
  if dims not in inception.TAPS_BY_DIMS:
    raise errors.UsageError(f"dims must be one of {sorted(inception.TAPS_BY_DIMS)}, got {dims}.")
  tap = inception.TAPS_BY_DIMS[dims]
  moments = frechet.moments_init(dims)
  for batch in batches:
    features = inception.extract(variables, batch, (tap,), batch_size)[tap]
    moments = frechet.moments_update(moments, features)
  return frechet.moments_statistics(moments)


def statistics_of_path(
  path: str | os.PathLike, variables: dict | None, dims: int = 2048, batch_size: int = 50
) -> tuple[np.ndarray, np.ndarray]:
  """(mu, sigma) of a stats ``.npz`` or of a folder's images (then ``variables`` is needed)."""
  path = pathlib.Path(path)
  if path.suffix == ".npz":
    mu, sigma = frechet.load_statistics(path)
    if len(mu) != dims:
      raise errors.UsageError(
        f"{path} holds {len(mu)}-d statistics, but dims={dims} was asked for."
      )
    return mu, sigma
  files = list_images(path)
  # pytorch-fid shrinks the batch to the number of files; the padding in ``extract`` makes
  # that unnecessary, but the same batch keeps the same compiled shape for both folders.
  return image_statistics(read_batches(files, batch_size), variables, dims, batch_size)


def fid_of_paths(
  path_a, path_b, weights: str | os.PathLike | None = None, dims: int = 2048, batch_size: int = 50
) -> float:
  """FID between two folders / stats files (``python -m pytorch_fid A B``).

  Raises:
    inception.WeightsError: if a folder needs features and the weights file is missing.
    ValueError: for a missing path, an empty folder, mixed sizes or a bad stats file.
  """
  for path in (path_a, path_b):  # The inputs are checked before the weights are looked for.
    if not pathlib.Path(path).exists():
      raise errors.UsageError(f"Not a folder of images or an .npz statistics file: {path}")
  variables = None
  if any(pathlib.Path(p).suffix != ".npz" for p in (path_a, path_b)):
    variables = inception.load_variables(inception.resolve_weights_path(weights))
  mu1, sigma1 = statistics_of_path(path_a, variables, dims, batch_size)
  mu2, sigma2 = statistics_of_path(path_b, variables, dims, batch_size)
  return frechet.frechet_distance(mu1, sigma1, mu2, sigma2)


def save_folder_statistics(
  folder, output, weights: str | os.PathLike | None = None, dims: int = 2048, batch_size: int = 50
) -> None:
  """``python -m pytorch_fid --save-stats FOLDER OUT.npz``: refuses to overwrite ``output``."""
  output = pathlib.Path(output)
  if not pathlib.Path(folder).is_dir():
    raise errors.UsageError(f"Not a folder of images: {folder}")
  if output.exists():
    raise errors.UsageError(f"Statistics file exists already: {output} (not overwritten).")
  variables = inception.load_variables(inception.resolve_weights_path(weights))
  frechet.save_statistics(output, *statistics_of_path(folder, variables, dims, batch_size))
