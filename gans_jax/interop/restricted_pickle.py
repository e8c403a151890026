"""Unpickling trained weights without running the pickle's code.

A pickle names the callables that rebuild its objects (module and name) and the unpickler calls
them: an untrusted ``.pth`` or ``.pkl`` can name ``os.system``. ``RestrictedUnpickler`` resolves a
name only through an allowlist given by the caller, each entry a harmless stand-in that builds
plain data (numpy arrays, dicts), and refuses every other name before anything is called. Every
opcode that reaches a callable (GLOBAL, STACK_GLOBAL, INST, OBJ, the extension registry's EXT)
goes through ``find_class``, so the allowlist is the whole attack surface.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Mapping

from gans_jax import errors


class UnsafePickleError(errors.UsageError):
  """A pickle that names a callable outside the allowlist (nothing of it was run)."""


class RestrictedUnpickler(pickle.Unpickler):
  """``pickle.Unpickler`` whose globals come from ``allowed`` only.

  Args:
    file: a binary file object.
    allowed: {(module, name): the object to use for it}.
    source: the file's name, for errors.
    persistent_load: the handler of persistent ids (PyTorch's storages), or None to refuse them.
  """

  def __init__(
    self,
    file,
    allowed: Mapping[tuple[str, str], object],
    source: str,
    persistent_load: Callable | None = None,
  ):
    super().__init__(file, encoding="latin1")  # Python 2 pickles' numpy buffers are bytes.
    self._allowed = allowed
    self._source = source
    self._persistent = persistent_load

  def find_class(self, module: str, name: str):
    try:
      return self._allowed[(module, name)]
    except KeyError:
      raise UnsafePickleError(
        f"{self._source}: refused to load {module}.{name}: not one of the "
        f"{len(self._allowed)} names a weights file may use (nothing of the file was run)."
      ) from None

  def persistent_load(self, pid):
    if self._persistent is None:
      raise UnsafePickleError(f"{self._source}: a persistent id {pid!r} where none may be.")
    return self._persistent(pid)


def loads(
  data: bytes,
  allowed: Mapping[tuple[str, str], object],
  source: str,
  persistent_load: Callable | None = None,
):
  """Unpickles ``data`` through ``RestrictedUnpickler``; a damaged stream is a UsageError."""
  return load(io.BytesIO(data), allowed, source, persistent_load)


def load(file, allowed, source: str, persistent_load: Callable | None = None):
  """Unpickles one object from the binary file object ``file`` (see ``loads``)."""
  try:
    return RestrictedUnpickler(file, allowed, source, persistent_load).load()
  except UnsafePickleError:
    raise
  except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as error:
    raise errors.UsageError(f"{source}: not a readable pickle ({error}).") from None
