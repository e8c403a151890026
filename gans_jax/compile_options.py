"""Per-computation XLA compiler options (passed to ``jax.jit(compiler_options=...)``).

Options go to the one computation that benefits, never into the process-wide ``XLA_FLAGS``.

XLA:CPU (jaxlib 0.10) hands convolutions to YNNPACK by default. On the 2-core x86 machine this
project is developed on, XLA's own (Eigen) convolution ran the FID InceptionV3 forward pass about
twice as fast (batch 16: 5.1 -> 11.7 img/s, features equal within 1e-6). ``CPU_CONVOLUTIONS_IN_XLA``
restricts YNNPACK to matrix products and reductions (without reductions XLA splits BatchNorm's
statistics into slow reduce-windows). Train steps choose by ``config.cpu_convolutions``
(``for_train_step``): on a 2-core AMD EPYC the DCGAN 64x64 and 32x32 steps (ngf = ndf = 64) ran
13 % and 19 % faster with it, the pix2pix step 2 % slower and the default DCGAN (ngf = 16) 20-50 %
slower: large convolutions suit Eigen, small ones YNNPACK.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from gans_jax import errors

CPU_CONVOLUTIONS_IN_XLA = {
  "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_DOT,LIBRARY_FUSION_TYPE_REDUCE"
}


@functools.cache
def _supported(options_items: tuple) -> bool:
  """Whether this jaxlib accepts the options (older ones reject unknown names at compile time)."""
  options = dict(options_items)
  try:
    jax.jit(lambda x: x + 1, compiler_options=options).lower(jnp.zeros(2)).compile()
  except Exception:  # An unknown option or enum value: INVALID_ARGUMENT from XLA.
    return False
  return True


def for_cpu_convolutions() -> dict | None:
  """``CPU_CONVOLUTIONS_IN_XLA`` on a CPU backend whose jaxlib knows it, else None."""
  if jax.default_backend() != "cpu":
    return None
  items = tuple(sorted(CPU_CONVOLUTIONS_IN_XLA.items()))
  return dict(items) if _supported(items) else None


# The initial state's program without XLA's algebraic simplifier, which re-associates products of
# constants: flax's N(0, s) draw, s * (sqrt(2) * erfinv(u)), became (s * sqrt(2)) * erfinv(u),
# one ulp away from the op-by-op value in about a quarter of DCGAN's kernel entries. LLVM at
# level 1 gives the same bits as the default level 3 (every preset compared) and compiles 3x
# faster (the default DCGAN: 1.4 s instead of 4.8 s); level 0 changed the MLP presets' bits.
INITIALISATION = {"xla_disable_hlo_passes": "algsimp", "xla_backend_optimization_level": 1}


def for_initialisation() -> dict | None:
  """Options of the program that draws a run's initial state (``loop.initial_state``): on CPU,
  ``INITIALISATION``, so that the values equal those drawn op by op wherever no fused
  multiply-add intervenes (the default DCGAN, the MLP, StyleGAN, CycleGAN, AC-GAN and
  conditional presets: every bit; DCGAN 64x64 and pix2pix: a few BatchNorm scales, 1 + 0.02 z,
  one ulp off). None on accelerators, whose compilers keep their defaults."""
  if jax.default_backend() != "cpu":
    return None
  items = tuple(sorted(INITIALISATION.items()))
  return dict(items) if _supported(items) else None


CPU_CONVOLUTION_LIBRARIES = ("ynnpack", "eigen")


def for_train_step(config) -> dict | None:
  """Compiler options of a config's train step: ``config.cpu_convolutions`` ("ynnpack", XLA's
  default, or "eigen", ``CPU_CONVOLUTIONS_IN_XLA``); None on accelerators."""
  library = config["cpu_convolutions"]
  if library not in CPU_CONVOLUTION_LIBRARIES:
    raise errors.ConfigError(
      f"config.cpu_convolutions must be one of {CPU_CONVOLUTION_LIBRARIES}, got {library!r}."
    )
  return for_cpu_convolutions() if library == "eigen" else None
