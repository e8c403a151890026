"""host_memory: glibc's free heap goes back to the operating system after a compilation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import host_memory


def _resident_mb() -> float:
  with open("/proc/self/status") as status:
    for line in status:
      if line.startswith("VmRSS:"):
        return int(line.split()[1]) / 1024
  raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(host_memory._malloc_trim() is None, reason="a C library without malloc_trim")
def test_freed_heap_blocks_between_live_ones_are_released():
  """64 MB of 4 KB blocks (below glibc's mmap threshold, so on the heap), freed but for every
  64th: glibc keeps the free pages between the live blocks until released."""
  blocks = [bytearray(4096) for _ in range(16384)]
  for block in blocks:
    block[::512] = b"\x01" * 8  # Touch every page.
  kept = blocks[::64]
  del blocks
  before = _resident_mb()
  assert host_memory.release_free_heap()
  assert before - _resident_mb() > 32
  assert len(kept) == 256


def test_compile_then_release_returns_the_compiled_program():
  jitted = jax.jit(lambda x: 2 * x)
  compiled = host_memory.compile_then_release(jitted, jnp.ones(3))
  np.testing.assert_array_equal(np.asarray(compiled(jnp.arange(3.0))), [0.0, 2.0, 4.0])
