"""Data sources: random-access collections of examples, named by a string.

See docs/design.md section 5.

Every source can fetch example ``i`` directly, so the pipeline can read exactly the examples the
data order (``order.py``) asks for. Image sources yield uint8 [H, W, C] arrays of their native
size; ``pipeline.py`` resizes and rescales them.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import os
import pathlib
from collections.abc import Callable

import numpy as np

from data_pipelines import embedded, scenes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class DatasetError(ValueError):
  """A dataset that cannot be read: unknown name, missing folder, corrupt file."""


@dataclasses.dataclass(frozen=True)
class Source:
  """A random-access dataset.

  Attributes:
    name: the name it was built from.
    kind: "image" (examples are uint8 [H, W, C]) or "points" (float32 [2]).
    num_examples: N; examples are indexed 0..N-1.
    num_classes: label count, 0 for unlabelled data (labels are then 0).
    get: index -> (example, label) with numpy values; raises DatasetError naming the file.
    arrays: (examples, labels) when the whole source sits in memory, else None.
    names: per example, its file's path under the folder without suffix ("cats/0007"); empty
      for sources that are not files.
    class_names: per label, its name (a folder's class subfolders); empty when unnamed.
  """

  name: str
  kind: str
  num_examples: int
  num_classes: int
  get: Callable[[int], tuple[np.ndarray, int]]
  arrays: tuple[np.ndarray, np.ndarray] | None = None
  names: tuple[str, ...] = ()
  class_names: tuple[str, ...] = ()


def in_memory(name: str, kind: str, examples: np.ndarray, labels: np.ndarray, num_classes: int):
  return Source(
    name=name,
    kind=kind,
    num_examples=len(examples),
    num_classes=num_classes,
    get=lambda i: (examples[i], int(labels[i])),
    arrays=(examples, labels),
  )


def digits(split: str = "train") -> Source:
  images, labels = embedded.load_digits_split(split)
  return in_memory("digits", "image", images, labels, num_classes=10)


def points(name: str) -> Source:
  examples, labels = embedded.sample_points(name)
  return in_memory(name, "points", examples, labels, num_classes=0)


def _decode_error(file: pathlib.Path) -> str | None:
  """Why ``file`` does not decode as an image, or None. A full decode, not PIL's ``verify()``,
  which passes a JPEG cut short: such a file would otherwise fail only when first read in
  training."""
  from PIL import Image

  try:
    with Image.open(file) as image:
      image.load()
  except Exception as error:  # PIL raises many types for broken files.
    return str(error) or type(error).__name__
  return None


def _decode_errors(files: list[pathlib.Path]) -> list[str | None]:
  """``_decode_error`` of every file, decoded on a few threads (PIL releases the GIL)."""
  with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
    return list(pool.map(_decode_error, files, chunksize=64))


def folder(path: str, skip_corrupt: bool = False) -> Source:
  """Images under ``path``; class subfolders (sorted by name) give labels, else all label 0.

  Every file is decoded at build time, so a corrupt one is reported (or, with ``skip_corrupt``,
  dropped with a warning and a count) before training starts.
  """
  from PIL import Image

  root = pathlib.Path(path)
  if not root.is_dir():
    raise DatasetError(f"Image folder not found: {root}")
  files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
  if not files:
    raise DatasetError(f"No images ({', '.join(IMAGE_SUFFIXES)}) found under {root}")
  class_names = sorted({p.relative_to(root).parts[0] for p in files if p.parent != root})
  if class_names and any(p.parent == root for p in files):
    raise DatasetError(f"{root} mixes images at top level with class subfolders {class_names}")
  good, bad = [], []
  for file, error in zip(files, _decode_errors(files), strict=True):
    if error is None:
      good.append(file)
    elif not skip_corrupt:
      raise DatasetError(f"Corrupt or unreadable image {file}: {error}")
    else:
      bad.append(file)
  if bad:
    logging.warning("Skipped %d corrupt image(s) under %s, e.g. %s", len(bad), root, bad[0])
  if not good:
    raise DatasetError(f"No readable images under {root}")
  label_of = {name: index for index, name in enumerate(class_names)}
  labels = [label_of[f.relative_to(root).parts[0]] if class_names else 0 for f in good]

  def get(index: int) -> tuple[np.ndarray, int]:
    file = good[index]
    try:
      with Image.open(file) as image:
        array = np.asarray(image.convert("RGB"))
    except Exception as error:
      raise DatasetError(f"Corrupt or unreadable image {file}: {error}") from None
    return array, labels[index]

  names = tuple(str(f.relative_to(root).with_suffix("")) for f in good)
  return Source(
    f"folder:{root}", "image", len(good), len(class_names), get,
    names=names, class_names=tuple(class_names),
  )  # fmt: skip


def tfds_source(
  name: str, split: str = "train", data_dir: str | None = None, shown: str = ""
) -> Source:
  """A TFDS dataset read by random access (``tfds.data_source``, ArrayRecord files).

  ``name`` may carry a config, as in ``cycle_gan/horse2zebra``, and ``split`` a slice, as in
  ``train[:50000]``; ``shown`` is the source's name when not ``tfds:<name>``. The first use
  prepares the dataset (a download); tests use ``tfds.testing.mock_data``, which goes through
  the same code.
  """
  from data_pipelines import quiet_tensorflow

  tfds = quiet_tensorflow.import_module("tensorflow_datasets")

  try:
    data = tfds.data_source(
      name, split=split, data_dir=data_dir, builder_kwargs={"file_format": "array_record"}
    )
    features = tfds.builder(name, data_dir=data_dir).info.features
  except Exception as error:
    raise DatasetError(f"Cannot load TFDS dataset {name!r} split {split!r}: {error}") from None
  image_key = next((k for k in ("image", "image_a", "imageA") if k in features), None)
  if image_key is None:
    raise DatasetError(f"TFDS dataset {name!r} has no image feature; features: {list(features)}")
  num_classes = features["label"].num_classes if "label" in features else 0

  def get(index: int) -> tuple[np.ndarray, int]:
    example = data[index]
    return np.asarray(example[image_key]), int(example.get("label", 0))

  return Source(shown or f"tfds:{name}", "image", len(data), num_classes, get)


@dataclasses.dataclass(frozen=True)
class PairSource:
  """Two image domains, A (a translation's inputs) and B (its outputs).

  Attributes:
    name: the name it was built from.
    paired: True when A[i] and B[i] belong together (pix2pix); False for unpaired domains
      (CycleGAN), whose sizes may differ.
    num_a, num_b: example counts of the two domains (equal when paired).
    get: (index_a, index_b) -> (image_a, image_b), uint8 [H, W, C] each; raises DatasetError
      naming the file.
    arrays: (images_a, images_b) when both sit in memory, else None.
    names: (A names, B names), each example's file path under its folder without suffix;
      empty tuples for sources that are not files.
    split: the split actually read when it is not the one asked for ("val" for a ``paired:``
      folder without test/), else "".
  """

  name: str
  paired: bool
  num_a: int
  num_b: int
  get: Callable[[int, int], tuple[np.ndarray, np.ndarray]]
  arrays: tuple[np.ndarray, np.ndarray] | None = None
  kind: str = "pairs"
  names: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
  split: str = ""  # The split read where it differs from the one asked for (pix2pix's val).


def pairs_in_memory(name: str, images_a: np.ndarray, images_b: np.ndarray, paired: bool):
  if paired and len(images_a) != len(images_b):
    raise DatasetError(f"{name}: {len(images_a)} A images but {len(images_b)} B images.")
  return PairSource(
    name, paired, len(images_a), len(images_b), lambda i, j: (images_a[i], images_b[j]),
    (images_a, images_b),
  )  # fmt: skip


SCENES_SIZE = 64  # Native size of the embedded scenes (pipelines resize to the model's).


def scene_pairs(split: str) -> PairSource:
  """The embedded scenes: semantic maps (A) and their summer renderings (B), paired."""
  maps, renderings = scenes.scenes_split(split, SCENES_SIZE)
  return pairs_in_memory("scenes", maps, renderings, paired=True)


def landscapes(split: str) -> Source:
  """The embedded scenes' renderings as unlabelled images: every scene of the split in summer,
  then in winter (800 training, 200 test images, uint8 [64, 64, 3])."""
  _, summer = scenes.scenes_split(split, SCENES_SIZE, "summer")
  _, winter = scenes.scenes_split(split, SCENES_SIZE, "winter")
  images = np.concatenate([summer, winter])
  return in_memory("landscapes", "image", images, np.zeros(len(images), np.int32), num_classes=0)


def scene_styles(split: str) -> PairSource:
  """Unpaired: summer renderings of one half of the split's scenes (A), winter renderings of the
  other half (B); no scene appears in both domains."""
  _, summer = scenes.scenes_split(split, SCENES_SIZE, "summer")
  _, winter = scenes.scenes_split(split, SCENES_SIZE, "winter")
  half = len(summer) // 2
  return pairs_in_memory("scenes_unpaired", summer[:half], winter[half:], paired=False)


def _split_folder(root: pathlib.Path, split: str, skip_corrupt: bool) -> Source:
  """The images of ``root/split`` (pix2pix's layout), or a clear error listing what is there."""
  folder_path = root / split
  if not folder_path.is_dir():
    present = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    raise DatasetError(
      f"No {split!r} split folder {folder_path}"
      + (f"; {root} holds {present}" if root.is_dir() else f" ({root} does not exist)")
    )
  return folder(str(folder_path), skip_corrupt=skip_corrupt)


def paired_folder(path: str, split: str = "train", skip_corrupt: bool = False) -> PairSource:
  """pix2pix's aligned layout: ``path/{train,val,test}/*.jpg``, each file A|B side by side (A on
  the left half, B on the right). The "test" split falls back to "val" when there is none."""
  root = pathlib.Path(path)
  asked = split
  if split == "test" and not (root / "test").is_dir() and (root / "val").is_dir():
    split = "val"
  images = _split_folder(root, split, skip_corrupt)

  def halves(index: int) -> tuple[np.ndarray, np.ndarray]:
    image = images.get(index)[0]
    if image.shape[1] % 2:
      raise DatasetError(
        f"Paired image #{index} of {root / split} is {image.shape[1]} pixels wide; A|B halves "
        "need an even width."
      )
    half = image.shape[1] // 2
    return image[:, :half], image[:, half:]

  def get(index_a: int, index_b: int) -> tuple[np.ndarray, np.ndarray]:
    # A comes from file index_a and B from file index_b, as for every PairSource; a paired
    # caller passes one index twice and one file is read.
    image_a, image_b = halves(index_a)
    return image_a, (image_b if index_b == index_a else halves(index_b)[1])

  return PairSource(
    f"paired:{root}", True, images.num_examples, images.num_examples, get,
    names=(images.names, images.names), split="" if split == asked else split,
  )  # fmt: skip


def unpaired_folders(spec: str, split: str = "train", skip_corrupt: bool = False) -> PairSource:
  """CycleGAN's layout: ``root`` with ``trainA/ trainB/ testA/ testB/``; or two folders
  ``dirA,dirB``, used as they are for every split."""
  parts = spec.split(",")
  if len(parts) == 2:
    a, b = (folder(p, skip_corrupt=skip_corrupt) for p in parts)
  elif len(parts) == 1:
    root = pathlib.Path(parts[0])
    a, b = (_split_folder(root, f"{split}{domain}", skip_corrupt) for domain in "AB")
  else:
    raise DatasetError(f"unpaired: takes one root or two folders (A,B), got {spec!r}.")
  return PairSource(
    f"unpaired:{spec}", False, a.num_examples, b.num_examples,
    lambda i, j: (a.get(i)[0], b.get(j)[0]), names=(a.names, b.names),
  )  # fmt: skip


def tfds_unpaired(name: str, split: str = "train") -> PairSource:
  """A TFDS dataset with ``<split>A`` and ``<split>B`` splits, e.g. ``cycle_gan/horse2zebra``."""
  a, b = (tfds_source(name, split=f"{split}{domain}") for domain in "AB")
  return PairSource(
    f"tfds:{name}", False, a.num_examples, b.num_examples, lambda i, j: (a.get(i)[0], b.get(j)[0])
  )


def _image_count(folder_path: pathlib.Path) -> int:
  if not folder_path.is_dir():
    raise DatasetError(f"No folder {folder_path}")
  count = sum(1 for p in folder_path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
  if not count:
    raise DatasetError(f"No images ({', '.join(IMAGE_SUFFIXES)}) found under {folder_path}")
  return count


def training_epoch(name: str) -> int | None:
  """Steps of one epoch at batch 1 on a folder dataset's training split, counted from the file
  names alone (nothing is decoded): the pairs of ``paired:``, the larger domain of ``unpaired:``
  (the reference code's epoch, ``max(len(A), len(B))``); None for other datasets.

  Raises:
    DatasetError: naming the folder when it is missing or holds no images.
  """
  prefix, _, rest = name.partition(":")
  if prefix == "paired" and rest:
    return _image_count(pathlib.Path(rest) / "train")
  if prefix == "unpaired" and rest:
    parts = rest.split(",")
    folders = parts if len(parts) == 2 else [f"{parts[0]}/train{d}" for d in "AB"]
    return max(_image_count(pathlib.Path(f)) for f in folders)
  return None


def class_names(name: str) -> tuple[str, ...] | None:
  """The class names of a dataset known without decoding it: digits' "0".."9", a folder's class
  subfolders (as ``folder`` orders them; () for a folder without any); None when only reading
  the data would tell (TFDS).

  Raises:
    DatasetError: naming a folder that is missing or holds no images.
  """
  if name == "digits":
    return tuple(str(d) for d in range(10))
  prefix, _, rest = name.partition(":")
  if prefix != "folder" or not rest:
    return None
  root = pathlib.Path(rest)
  _image_count(root)
  files = (p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
  return tuple(sorted({p.relative_to(root).parts[0] for p in files if p.parent != root}))


POINT_DATASETS = ("ring8", "ring8_pacgan", "grid25")
PAIR_DATASETS = ("scenes", "scenes_unpaired")


def is_pairs(dataset: str) -> bool:
  """Whether a dataset name gives two image domains (image-to-image translation)."""
  return (
    dataset in PAIR_DATASETS
    or dataset.split(":")[0] in ("paired", "unpaired")
    or (dataset.startswith("tfds:cycle_gan"))
  )


def sample_shape(dataset: str, resolution: int, channels: int) -> tuple[int, ...]:
  """Shape of one sample as the model sees it, known without reading any data."""
  return (2,) if dataset in POINT_DATASETS else (resolution, resolution, channels)


DATASETS = {
  "digits": "scikit-learn's 1,797 real 8x8 digit scans (embedded, 10 classes)",
  "ring8": "8 Gaussians on a circle of radius 2, sigma 0.02 (2-D points)",
  "ring8_pacgan": "PacGAN's ring: 8 Gaussians on a circle of radius 1, sigma 0.01 (2-D points)",
  "grid25": "25 Gaussians on a 5x5 grid, spacing 2, sigma 0.05 (2-D points)",
  "tfds:<name>[/<config>]": "a TensorFlow Datasets dataset, e.g. tfds:mnist, tfds:cifar10; "
  "tfds:mnist[:50000] trains on a slice of the training split (held-out splits stay whole); "
  "tfds:cycle_gan/<pair> gives its two unpaired domains",
  "folder:<path>": "image files under path; class subfolders give labels",
  "scenes": "400 + 100 procedural landscapes: semantic maps (A) paired with renderings (B)",
  "scenes_unpaired": "summer (A) and winter (B) renderings of disjoint procedural landscapes",
  "landscapes": "the scenes' summer and winter renderings as images (800 + 200, 64x64 RGB)",
  "paired:<path>": "pix2pix layout: path/{train,val,test}/ files holding A|B side by side",
  "unpaired:<root>|<dirA>,<dirB>": "CycleGAN layout: root/{train,test}{A,B}/, or two folders",
}


def build_source(
  name: str,
  *,
  split: str = "train",
  skip_corrupt: bool = False,
  crop: str = "",
  direction: str = "AtoB",
) -> Source | PairSource:
  """Builds the source named ``name`` (see ``DATASETS``): a PairSource for two-domain data.
  ``crop="center"`` gives an image source's centre squares (``center_squares``);
  ``direction="BtoA"`` a two-domain source's B images as inputs (``reversed_pairs``).

  Raises:
    DatasetError: for an unknown name (listing the known ones), unreadable data, an unknown
      crop or direction, or a direction asked of one-domain data.
  """
  if crop not in ("", "center"):
    raise DatasetError(f"Unknown crop {crop!r}: '' (whole images) or 'center'.")
  if direction not in ("AtoB", "BtoA"):
    raise DatasetError(f"Unknown direction {direction!r}: 'AtoB' or 'BtoA'.")
  source = _named_source(name, split, skip_corrupt)
  if crop == "center":
    source = center_squares(source)
  return reversed_pairs(source) if direction == "BtoA" else source


def reversed_pairs(source: PairSource) -> PairSource:
  """``source`` with its two domains swapped: B becomes the inputs and A the outputs
  (junyanz/pytorch-CycleGAN-and-pix2pix's ``--direction BtoA``, e.g. facades' labels -> photos).

  Raises:
    DatasetError: for a one-domain source.
  """
  if not isinstance(source, PairSource):
    raise DatasetError(f"direction='BtoA' needs two-domain data; {source.name} has one.")
  arrays = None if source.arrays is None else source.arrays[::-1]

  def get(index_a: int, index_b: int):
    image_b, image_a = source.get(index_b, index_a)
    return image_a, image_b

  return dataclasses.replace(
    source, num_a=source.num_b, num_b=source.num_a, get=get, arrays=arrays,
    names=source.names[::-1],
  )  # fmt: skip


def center_squares(source: Source) -> Source:
  """``source`` with each image cut to its central square, min(H, W) on a side (offsets
  rounded as torchvision's ``CenterCrop``), before the pipeline resizes it: torchvision's
  ``Scale(R)`` + ``CenterCrop(R)``, the reference codes' preprocessing of LSUN (DCGAN's and
  WGAN's), up to the order of resizing and cropping.

  Raises:
    DatasetError: for a source of points or pairs.
  """
  if not isinstance(source, Source) or source.kind != "image":
    raise DatasetError(f"crop='center' needs images; {source.name} holds other data.")

  def square(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = int(round((height - side) / 2.0)), int(round((width - side) / 2.0))
    return image[top : top + side, left : left + side]

  def get(index: int):
    image, label = source.get(index)
    return square(image), label

  arrays = source.arrays
  if arrays is not None:
    arrays = (np.stack([square(image) for image in arrays[0]]), arrays[1])
  return dataclasses.replace(source, get=get, arrays=arrays)


def _named_source(name: str, split: str, skip_corrupt: bool) -> Source | PairSource:
  if name == "digits":
    return digits(split)
  if name in POINT_DATASETS:
    return points(name)
  if name == "scenes":
    return scene_pairs(split)
  if name == "scenes_unpaired":
    return scene_styles(split)
  if name == "landscapes":
    return landscapes(split)
  prefix, sep, rest = name.partition(":")
  if sep and prefix == "tfds" and rest:
    if rest.startswith("cycle_gan"):
      return tfds_unpaired(rest, split=split)
    dataset, bracket, train_slice = rest.partition("[")
    if bracket and split == "train":  # A slice of the training split (TFDS's syntax).
      return tfds_source(dataset, split=f"train[{train_slice}", shown=name)
    return tfds_source(dataset, split=split)
  if sep and prefix == "folder" and rest:
    return folder(rest, skip_corrupt=skip_corrupt)
  if sep and prefix == "paired" and rest:
    return paired_folder(rest, split=split, skip_corrupt=skip_corrupt)
  if sep and prefix == "unpaired" and rest:
    return unpaired_folders(rest, split=split, skip_corrupt=skip_corrupt)
  known = "; ".join(f"{key} ({text})" for key, text in DATASETS.items())
  raise DatasetError(f"Unknown dataset {name!r}. Known datasets: {known}")
