"""Per-layer timings of the convolution implementations in ``gans_jax.models.layers``.

  python -m benchmarks.layer_timings                  # every layer of the three compared steps
  python -m benchmarks.layer_timings --cases pix2pix256 --repeats 9

For each strided convolution and transposed convolution of DCGAN 64x64 (batch 64), DCGAN 32x32
(batch 128) and pix2pix 256x256 (batch 1), with ngf = ndf = 64, prints milliseconds (best of the
repeats) of the output, the input gradient and the kernel gradient for every implementation, and
what ``implementation="auto"`` picks. This is the evidence for "auto"'s rules; rerun it on a new
machine before changing them.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from gans_jax import compile_options
from gans_jax.models import layers

# (kind, batch, input size, C_in, C_out, stride): every stride-2 4x4 layer, padding 1.
CASES = {
  "dcgan64": [
    ("conv", 64, 64 // 2**i, c, 2 * c if i else 64, 2) for i, c in enumerate((3, 64, 128, 256))
  ]
  + [
    ("transpose", 64, 4 * 2**i, c, o, 2)
    for i, (c, o) in enumerate(((512, 256), (256, 128), (128, 64), (64, 3)))
  ],
  "dcgan32": [
    ("conv", 128, 32 // 2**i, c, o, 2) for i, (c, o) in enumerate(((3, 64), (64, 128), (128, 256)))
  ]
  + [
    ("transpose", 128, 4 * 2**i, c, o, 2)
    for i, (c, o) in enumerate(((256, 128), (128, 64), (64, 3)))
  ],
  "pix2pix256": [
    ("conv", 1, 256 // 2**i, c, o, 2)
    for i, (c, o) in enumerate(((3, 64), (64, 128), (128, 256), (256, 512)) + ((512, 512),) * 4)
  ]
  + [("conv", 1, 256 // 2**i, c, o, 2) for i, (c, o) in enumerate(((6, 64), (64, 128), (128, 256)))]
  + [("conv", 1, 32, 256, 512, 1)]
  + [
    ("transpose", 1, 2**i, c, o, 2)
    for i, (c, o) in enumerate(
      ((512, 512),) + ((1024, 512),) * 3 + ((1024, 256), (512, 128), (256, 64), (128, 3))
    )
  ],
}
IMPLEMENTATIONS = {
  "conv": ("xla", "subpixel", "matmul"),
  "transpose": ("xla", "subpixel", "adjoint", "matmul"),
}


def _module(kind: str, features: int, stride: int, implementation: str):
  """A 4x4 layer of the compared networks: padding 1 (strided conv) or 2 on the dilated input
  (transposed conv, PyTorch's padding=1), no bias."""
  if kind == "conv":
    module_type, padding = layers.Conv, ((1, 1), (1, 1))
  else:
    module_type, padding = layers.ConvTranspose, ((2, 2), (2, 2))
  return module_type(
    features, (4, 4), strides=(stride, stride), padding=padding, use_bias=False,
    implementation=implementation,
  )  # fmt: skip


def _best_ms(function, *args, repeats: int) -> float:
  jax.block_until_ready(function(*args))
  best = float("inf")
  for _ in range(repeats):
    started = time.perf_counter()
    jax.block_until_ready(function(*args))
    best = min(best, time.perf_counter() - started)
  return best * 1e3


def time_layer(
  kind, batch, size, channels, features, stride, implementation, repeats, options=None
) -> dict:
  """{"out", "dx", "dk"} milliseconds of one layer and implementation."""
  module = _module(kind, features, stride, implementation)
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(batch, size, size, channels)), jnp.float32)
  params = module.init(jax.random.PRNGKey(0), x)
  y = module.apply(params, x)
  grad_y = jnp.asarray(rng.normal(size=y.shape), jnp.float32)

  def pulled(argnum):
    def run(p, inputs):
      _, vjp = jax.vjp(module.apply, p, inputs)
      return vjp(grad_y)[argnum]

    return jax.jit(run, compiler_options=options)

  return {
    "out": _best_ms(jax.jit(module.apply, compiler_options=options), params, x, repeats=repeats),
    "dx": _best_ms(pulled(1), params, x, repeats=repeats),
    "dk": _best_ms(pulled(0), params, x, repeats=repeats),
  }


def auto_choice(kind, batch, size, channels, features, stride) -> str:
  """The implementation "auto" resolves to for this layer (read off the traced computation)."""
  module = _module(kind, features, stride, "auto")
  return layers.resolve_implementation(module, jnp.zeros((batch, size, size, channels)))


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {list(CASES)}")
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument(
    "--cpu-convolutions", default="ynnpack", choices=compile_options.CPU_CONVOLUTION_LIBRARIES
  )
  args = parser.parse_args(argv)
  options = compile_options.for_train_step({"cpu_convolutions": args.cpu_convolutions})
  for case in args.cases.split(","):
    print(
      f"\n{case}, {args.cpu_convolutions}: ms of output / input gradient / kernel gradient "
      f"(best of {args.repeats})"
    )
    for layer in CASES[case]:
      kind, batch, size, channels, features, stride = layer
      cells = []
      for implementation in IMPLEMENTATIONS[kind]:
        if implementation == "xla" and kind == "transpose" and batch * size * size > 4096:
          cells.append(f"{implementation} -- (dilated kernel gradient: seconds)")
          continue
        t = time_layer(*layer, implementation, args.repeats, options)
        cells.append(f"{implementation} {t['out']:.1f}/{t['dx']:.1f}/{t['dk']:.1f}")
      print(
        f"{kind:9s} b{batch} {size}x{size} {channels}->{features} s{stride} "
        f"[auto: {auto_choice(*layer)}] " + " | ".join(cells),
        flush=True,
      )


if __name__ == "__main__":
  main()
