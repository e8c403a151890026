"""Stand-ins for ``dnnlib`` (NVlabs' StyleGAN utilities) under its module names, so ``pickle``
writes StyleGAN network pickles with the official class paths: ``Network`` pickles the dict of
``dnnlib.tflib.network.Network.__getstate__`` (version, name, static_kwargs, components, the build
module's source, build_func_name, variables). The build source written is a command that would
leave a file behind if a reader ever ran it."""

import pickle
import sys
import types

BUILD_SOURCE = "import os\nos.system('touch ran_build_source')\n"


def install(monkeypatch):
  """Registers the stand-in modules (undone with ``monkeypatch``); returns ``Network``:
  Network(name, {variable: array}, static_kwargs, components=None)."""
  util = types.ModuleType("dnnlib.util")

  class EasyDict(dict):
    pass

  EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
  util.EasyDict = EasyDict
  network = types.ModuleType("dnnlib.tflib.network")

  class Network:
    def __init__(self, name, variables, static_kwargs, components=None):
      self.state = {
        "version": 3,
        "name": name,
        "static_kwargs": EasyDict(static_kwargs),
        "components": EasyDict(components or {}),
        "build_module_src": BUILD_SOURCE,
        "build_func_name": name,
        "variables": list(variables.items()),
      }

    def __getstate__(self):
      return self.state

  Network.__module__, Network.__qualname__ = "dnnlib.tflib.network", "Network"
  network.Network = Network
  for name, module in {"dnnlib": types.ModuleType("dnnlib"), "dnnlib.util": util,
                       "dnnlib.tflib": types.ModuleType("dnnlib.tflib"),
                       "dnnlib.tflib.network": network}.items():  # fmt: skip
    monkeypatch.setitem(sys.modules, name, module)
  return Network


def write_snapshot(path, monkeypatch, generator, discriminator, average, kwargs):
  """A (G, D, Gs) snapshot as NVlabs' training loop pickles it. ``generator`` and ``average``:
  (mapping variables, synthesis variables, own variables) of G and Gs; ``discriminator``: D's
  variables, or None for a pickle of Gs alone; ``kwargs``: the build arguments (train.py's
  resolution, num_channels, label_size and any others)."""
  with monkeypatch.context() as patch:
    Network = install(patch)

    def g_style(name, parts):
      mapping, synthesis, own = parts
      return Network(name, own, kwargs, {
        "mapping": Network("G_mapping", mapping, {**kwargs, "dlatent_broadcast": 2}),
        "synthesis": Network("G_synthesis", synthesis, kwargs),
      })  # fmt: skip

    gs = g_style("Gs", average)
    if discriminator is None:
      pickled = gs
    else:
      pickled = (g_style("G", generator), Network("D", discriminator, kwargs), gs)
    with open(path, "wb") as file:
      pickle.dump(pickled, file, protocol=2)  # What NVlabs' Python 3.6 wrote (protocol 3 too).
  return str(path)
