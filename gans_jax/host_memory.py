"""Handing the heap memory a compilation freed back to the operating system (glibc).

XLA's compiler allocates and frees a few hundred MB of small blocks (DCGAN 64x64 with
ngf = ndf = 64: about 240 MB). glibc keeps freed blocks in its arenas for reuse, but a train
step's buffers are large enough to be fresh ``mmap``s, which never reuse them, so the step's
memory came on top of the compiler's leftovers: peak resident memory 1,019 MB, 773 MB with the
leftovers released between compiling and running (2-core Intel Xeon, ``benchmarks/
compare_pytorch.py``'s step). ``malloc_trim(0)`` releases them; on a C library without it
(macOS, musl) nothing is done.
"""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def _malloc_trim():
  """glibc's ``malloc_trim``, or None where the process's C library has none."""
  try:
    trim = ctypes.CDLL(None).malloc_trim  # The C library the interpreter itself runs on.
  except (AttributeError, OSError):
    return None
  trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
  return trim


def release_free_heap() -> bool:
  """Returns the C library's free heap pages to the operating system; whether any were."""
  trim = _malloc_trim()
  return bool(trim(0)) if trim is not None else False


def compile_then_release(jitted, *args):
  """``jitted.lower(*args).compile()``, then the compiler's freed heap released, before the
  program's first run allocates its buffers."""
  compiled = jitted.lower(*args).compile()
  release_free_heap()
  return compiled
