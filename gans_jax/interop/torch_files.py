"""PyTorch's ``torch.save`` files of state dicts, read as numpy arrays without PyTorch, and written
with it.

Two layouts are read (PyTorch's ``torch/serialization.py`` writes both):

- the zip archive (``torch.save``'s default since PyTorch 1.6): ``<name>/data.pkl`` pickles the
  object with each tensor storage as a persistent id ``("storage", storage type, key, location,
  numel)``, whose bytes are the archive member ``<name>/data/<key>`` (``<name>/byteorder`` says
  "little" or "big"; files without it are little-endian);
- the legacy stream (``_use_new_zipfile_serialization=False``, and every file saved before 1.6,
  such as the reference pix2pix / CycleGAN checkpoints): the magic number, the protocol version
  (1001) and a system-information dict, each pickled, then the object's pickle with persistent ids
  ``("storage", storage type, root key, location, numel, view)``, a pickled list of root keys,
  and per key an int64 element count followed by the storage's bytes.

Tensors are rebuilt as ``torch._utils._rebuild_tensor_v2`` describes them (storage, offset in
elements, size, stride); the unpickler is ``restricted_pickle``'s with only these names allowed,
so a file that names anything else is refused before any of it runs.
"""

from __future__ import annotations

import collections
import io
import os
import pathlib
import zipfile

import ml_dtypes
import numpy as np

from gans_jax import errors, writers
from gans_jax.interop import restricted_pickle

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch.serialization.MAGIC_NUMBER
LEGACY_PROTOCOL = 1001
STORAGE_DTYPES = {
  "FloatStorage": np.float32,
  "DoubleStorage": np.float64,
  "HalfStorage": np.float16,
  "BFloat16Storage": ml_dtypes.bfloat16,
  "LongStorage": np.int64,
  "IntStorage": np.int32,
  "ShortStorage": np.int16,
  "CharStorage": np.int8,
  "ByteStorage": np.uint8,
  "BoolStorage": np.bool_,
}


class _StorageType:
  """Stand-in for ``torch.FloatStorage`` etc.: only its element type matters."""

  def __init__(self, name: str):
    self.name = name
    self.dtype = np.dtype(STORAGE_DTYPES[name])


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, meta=None):
  """``torch._utils._rebuild_tensor_v2``: the view (offset, size, stride in elements) of a
  storage (a flat numpy array), copied into its own array."""
  del requires_grad, hooks, meta
  size, stride = tuple(size), tuple(stride)
  if not size:
    return np.array(storage[offset])
  if any(s == 0 for s in size):
    return np.zeros(size, storage.dtype)
  last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
  if last >= storage.size:
    raise ValueError(f"a tensor of size {size} runs past its storage of {storage.size}")
  view = np.lib.stride_tricks.as_strided(
    storage[offset:], size, [s * storage.itemsize for s in stride], writeable=False
  )
  return np.array(view)


def _rebuild_parameter(data, requires_grad=False, hooks=None, state=None):
  """``torch._utils._rebuild_parameter``: an ``nn.Parameter`` is its data here."""
  return data


def _allowed(rebuild_tensor=_rebuild_tensor) -> dict:
  allowed = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
  }
  allowed.update({("torch", name): _StorageType(name) for name in STORAGE_DTYPES})
  return allowed


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
  """{key: array} of a ``torch.save``d state dict (either layout), without PyTorch.

  Raises:
    errors.UsageError: naming the file when it is missing, not a PyTorch file, names a callable
      outside the allowlist, or holds something other than a dict of tensors.
  """
  path = pathlib.Path(path)
  if not path.is_file():
    raise errors.UsageError(f"{path}: no such file.")
  if zipfile.is_zipfile(path):
    loaded = _read_zip(path)
  else:
    loaded = _read_legacy(path)
  return _as_state_dict(loaded, path)


def _read_zip(path: pathlib.Path):
  with zipfile.ZipFile(path) as archive:
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pickles) != 1:
      raise errors.UsageError(f"{path}: a zip archive without one data.pkl: not a torch.save file.")
    root = pickles[0][: -len("data.pkl")]
    order = "little"
    if f"{root}byteorder" in archive.namelist():
      order = archive.read(f"{root}byteorder").decode().strip()
    storages = {}

    def storage(pid):
      _, storage_type, key, _location, numel = _storage_id(pid, 5, path)
      if key not in storages:
        dtype = storage_type.dtype.newbyteorder("<" if order == "little" else ">")
        try:
          raw = archive.read(f"{root}data/{key}")
        except KeyError:
          raise errors.UsageError(f"{path}: storage {key!r} is missing from the archive.") from None
        if len(raw) < numel * dtype.itemsize:
          raise errors.UsageError(f"{path}: storage {key!r} is shorter than its {numel} elements.")
        storages[key] = np.frombuffer(raw, dtype, numel).astype(dtype.newbyteorder("="))
      return storages[key]

    data = archive.read(pickles[0])
    return restricted_pickle.loads(data, _allowed(), str(path), storage)


def _storage_id(pid, length: int, path) -> tuple:
  if not isinstance(pid, tuple) or len(pid) != length or pid[0] not in ("storage", b"storage"):
    raise errors.UsageError(f"{path}: an unexpected persistent id {pid!r}.")
  if not isinstance(pid[1], _StorageType):
    raise errors.UsageError(f"{path}: storage of an unknown type {pid[1]!r}.")
  return pid


def _read_legacy(path: pathlib.Path):
  with open(path, "rb") as file:
    try:
      header = [_load_plain(file, path) for _ in range(3)]
    except restricted_pickle.UnsafePickleError:
      raise
    except errors.UsageError:
      header = [None, None]
    if header[0] != LEGACY_MAGIC or header[1] != LEGACY_PROTOCOL:
      raise errors.UsageError(
        f"{path}: neither a zip archive nor a legacy torch.save stream (no PyTorch magic number)."
      )
    dtypes = {}

    def storage(pid):
      _, storage_type, key, _location, numel, view = _storage_id(pid, 6, path)
      dtypes.setdefault(key, storage_type.dtype)
      # A view (view key, offset, size) of a root storage; the elements [offset, offset + size).
      return _LegacyStorage(key, 0, numel) if view is None else _LegacyStorage(key, *view[1:])

    loaded = restricted_pickle.load(file, _allowed(_DeferredTensor), str(path), storage)
    arrays = {}
    for key in _load_plain(file, path):
      if key not in dtypes:
        raise errors.UsageError(f"{path}: data for storage {key!r}, which no tensor uses.")
      count = int(np.frombuffer(_read_exactly(file, 8, path), "<i8")[0])
      raw = _read_exactly(file, count * dtypes[key].itemsize, path)
      arrays[key] = np.frombuffer(raw, dtypes[key].newbyteorder("<")).astype(dtypes[key])
  return _resolve(loaded, arrays, path)


class _LegacyStorage:
  """A legacy storage (elements [offset, offset + size) of a root's) whose bytes follow the
  pickle."""

  def __init__(self, key, offset, size):
    self.key, self.offset, self.size = key, offset, size


class _DeferredTensor:
  """A legacy tensor, rebuilt once its storage's bytes are read (``_resolve``)."""

  def __init__(self, storage, *arguments):
    self.storage, self.arguments = storage, arguments


def _resolve(tree, arrays, path):
  """``tree`` with each ``_DeferredTensor`` rebuilt from the storages read (``arrays``)."""
  if isinstance(tree, _DeferredTensor):
    where = tree.storage
    if where.key not in arrays:
      raise errors.UsageError(f"{path}: storage {where.key!r} has no data (truncated file).")
    storage = arrays[where.key][where.offset : where.offset + where.size]
    return _rebuild_tensor(storage, *tree.arguments)
  if isinstance(tree, dict):
    return type(tree)((k, _resolve(v, arrays, path)) for k, v in tree.items())
  return tree


def _load_plain(file, path):
  """One of the legacy stream's header pickles (plain ints, dicts and lists only)."""
  return restricted_pickle.load(file, {}, str(path))


def _read_exactly(file, count: int, path) -> bytes:
  data = file.read(count)
  if len(data) != count:
    raise errors.UsageError(f"{path}: ends inside a tensor's data (truncated file).")
  return data


def _as_state_dict(loaded, path) -> dict[str, np.ndarray]:
  if not isinstance(loaded, dict):
    raise errors.UsageError(
      f"{path}: holds a {type(loaded).__name__}, not a state dict (save net.state_dict())."
    )
  for key, value in loaded.items():
    if not isinstance(value, np.ndarray):
      raise errors.UsageError(
        f"{path}: {key!r} is a {type(value).__name__}, not a tensor: not a state dict (save "
        "net.state_dict())."
      )
  return dict(loaded)


def write_state_dict(path: str | os.PathLike, state: dict[str, np.ndarray]) -> pathlib.Path:
  """Writes ``state`` with ``torch.save`` (PyTorch's own writer, so the reference projects read it
  as they read their own), atomically: the file appears complete or not at all.

  Raises:
    errors.UsageError: when PyTorch is not installed.
  """
  try:
    import torch
  except ImportError:
    raise errors.UsageError(
      "Writing PyTorch weights needs PyTorch: pip install torch (the CPU build is enough)."
    ) from None
  tensors = collections.OrderedDict((k, torch.from_numpy(np.array(v))) for k, v in state.items())
  buffer = io.BytesIO()
  torch.save(tensors, buffer)
  writers.write_atomically(path, buffer.getvalue())
  return pathlib.Path(path)
