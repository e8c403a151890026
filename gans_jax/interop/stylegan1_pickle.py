"""NVlabs' StyleGAN (v1) network pickles read as numpy arrays, without TensorFlow 1 or dnnlib.

A snapshot such as ``karras2019stylegan-ffhq-1024x1024.pkl`` pickles the tuple (G, D, Gs) of
``dnnlib.tflib.network.Network`` objects. ``Network.__getstate__`` (``dnnlib/tflib/network.py``)
stores a dict: ``version`` (2 or 3), ``name`` ("G_style", "D_basic", ...), ``static_kwargs`` (the
build function's keyword arguments: resolution, num_channels, fmap_base, ...), ``components``
({"mapping": Network, "synthesis": Network} for G), ``build_module_src`` (the Python source of
``networks_stylegan.py``, which the official ``__setstate__`` executes) and ``build_func_name``,
and ``variables``: a list of (name, numpy array) pairs, e.g. ("4x4/Conv/weight", [3, 3, C, C]).

Here the unpickler (``restricted_pickle``) maps ``Network`` onto ``PickledNetwork``, a plain record
that keeps the source as text and never runs it, ``dnnlib.util.EasyDict`` onto dict, and numpy's
array reconstruction onto numpy's own; every other name is refused before anything runs.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import pathlib

import numpy as np

try:  # numpy >= 2 keeps it here; pickles name either module.
  from numpy._core import multiarray
except ImportError:  # pragma: no cover (numpy 1)
  from numpy.core import multiarray

from gans_jax import errors
from gans_jax.interop import restricted_pickle


@dataclasses.dataclass
class PickledNetwork:
  """A ``dnnlib.tflib.network.Network`` as plain data (its state; no graph, nothing executed)."""

  name: str = ""
  static_kwargs: dict = dataclasses.field(default_factory=dict)
  components: dict = dataclasses.field(default_factory=dict)
  build_func_name: str = ""
  build_module_src: str = ""
  variables: dict = dataclasses.field(default_factory=dict)  # name -> numpy array.

  def __setstate__(self, state: dict) -> None:
    if not isinstance(state, dict) or state.get("version") not in (2, 3):
      raise ValueError(f"a Network state of an unknown version ({type(state).__name__})")
    self.name = str(state["name"])
    self.static_kwargs = dict(state["static_kwargs"])
    self.components = dict(state.get("components", {}))
    self.build_func_name = str(state["build_func_name"])
    self.build_module_src = str(state["build_module_src"])  # Kept as text: never executed.
    self.variables = {}
    for name, value in state["variables"]:
      if not isinstance(value, np.ndarray | np.generic):
        raise ValueError(f"variable {name!r} is a {type(value).__name__}, not an array")
      self.variables[str(name)] = np.asarray(value)


class _EasyDict(dict):
  """``dnnlib.util.EasyDict`` (a dict with attribute access): a plain dict here."""


def _allowed() -> dict:
  allowed = {
    ("dnnlib.tflib.network", "Network"): PickledNetwork,
    ("dnnlib.util", "EasyDict"): _EasyDict,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,  # How protocol-2 pickles write bytes.
    ("collections", "OrderedDict"): dict,
  }
  for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    allowed[(module, "_reconstruct")] = multiarray._reconstruct
    allowed[(module, "scalar")] = multiarray.scalar
  return allowed


def read(path: str | os.PathLike) -> dict[str, PickledNetwork]:
  """{"G": ..., "D": ..., "Gs": ...} of a StyleGAN snapshot pickle ((G, D, Gs), as the official
  training loop writes it), or {"Gs": ...} of a pickle holding one generator.

  Raises:
    errors.UsageError: naming the file when it is missing, unreadable, names a class outside the
      allowlist (``restricted_pickle.UnsafePickleError``), or holds something else.
  """
  path = pathlib.Path(path)
  if not path.is_file():
    raise errors.UsageError(f"{path}: no such file.")
  with open(path, "rb") as file:
    loaded = restricted_pickle.load(file, _allowed(), str(path))
  if isinstance(loaded, PickledNetwork):
    return {"Gs": loaded}
  if (
    isinstance(loaded, tuple)
    and len(loaded) == 3
    and all(isinstance(n, PickledNetwork) for n in loaded)
  ):
    return dict(zip(("G", "D", "Gs"), loaded, strict=True))
  raise errors.UsageError(
    f"{path}: holds a {type(loaded).__name__}, not StyleGAN's (G, D, Gs) networks."
  )
