"""Convolution layers with the semantics of flax.linen's but faster on XLA:CPU.

XLA:CPU runs convolutions with a dilated operand slowly: the transposed convolution (an
input-dilated convolution), the input gradient of a strided convolution (the same thing) and,
slowest by far, the kernel gradient of a transposed convolution. Exact rewrites avoid the
dilation:

- sub-pixel phases (``subpixel_conv_transpose``): output row ``s * m + r`` of a stride-s transposed
  convolution only meets the kernel taps ``t = t0(r) + s * j``, so the output is ``s x s``
  stride-1 convolutions of the undilated input with sub-kernels, interleaved (Shi et al. 2016's
  sub-pixel convolution, read backwards). Same FLOPs, no multiplications by the dilation's zeros.
  A strided convolution's input gradient is such a transposed convolution
  (``conv_input_gradient``);
- adjoint gradients (``_adjoint_convolution``): a transposed convolution is the adjoint of a
  strided convolution, so its input gradient is that convolution and its kernel gradient that
  convolution's weight gradient, both of which XLA computes fast;
- im2col matmuls (``matmul_conv``, ``matmul_conv_transpose``) for layers with few positions and
  large kernels, where the convolutions' copies of the kernel cost more than the arithmetic;
- tap-block kernel gradients (``tapwise_kernel_gradient``) of convolutions (strided or not) and
  of the adjoint convolutions above, over a single example (pix2pix's and CycleGAN's batch) of
  at least ``MIN_SUBPIXEL_MACS`` multiply-adds: one matmul per s x s block of taps on the padded
  input viewed as blocks, where XLA's weight-gradient convolution contracts over a batch of one
  as if it were a feature.

``Conv`` and ``ConvTranspose`` pick these on CPU (``implementation="auto"``) and XLA's own
convolutions on accelerators. Both keep flax's parameter names, shapes and initialisers, so
checkpoints and parameter counts do not change; results agree with flax's to float rounding.
Per-layer timings: ``benchmarks/layer_timings.py``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from gans_jax import errors

_DIMENSIONS = ("NHWC", "HWIO", "NHWC")
# "auto" on CPU uses sub-pixel phases only where they produce at least this many channels (the
# strided conv's input, the transposed conv's output): for RGB they ran 2-4x slower than XLA's.
MIN_SUBPIXEL_CHANNELS = 8
# "auto" runs layers with kernels of at least MIN_MATMUL_KERNEL entries and fewer than
# MIN_REWRITE_POSITIONS positions (batch x height x width) on the larger side as im2col matmuls:
# there the convolutions' copies of the kernel (flips, transposes, sub-kernels) cost more than the
# arithmetic (pix2pix's inner layers at batch 1: 3-30x faster per layer).
MIN_REWRITE_POSITIONS = 1024
MIN_MATMUL_KERNEL = 2**20
# Sub-pixel phases turn one convolution into s x s smaller ones; below this many multiply-adds a
# layer is bound by per-operation overhead and the extra operations cost more than they save (the
# default 32x32 DCGAN's step ran 25 % slower with its 0.02-0.07 G-MAC layers split).
MIN_SUBPIXEL_MACS = 2**28
# Kernel gradients of convolutions over a batch of at most this many examples (pix2pix's and
# CycleGAN's one) and at least MIN_SUBPIXEL_MACS multiply-adds run tap block by tap block
# (``tapwise_kernel_gradient``): XLA's own, which contracts over the batch as if it were a
# feature, took 1.3-1.9x as long on pix2pix's layers at batch 1; from batch 2 on the tap-wise
# form took 2-3x as long as XLA's (benchmarks/layer_timings.py).
MAX_TAPWISE_BATCH = 1


def transpose_padding(kernel: int, stride: int, padding: str) -> tuple[int, int]:
  """The (low, high) padding of the dilated input that ``lax.conv_transpose`` uses for a string
  padding ("SAME": output = input * stride; "VALID": output = (input - 1) * stride + kernel)."""
  if padding == "SAME":
    total = kernel + stride - 2
    low = kernel - 1 if stride > kernel - 1 else -(-total // 2)
  elif padding == "VALID":
    total = kernel + stride - 2 + max(kernel - stride, 0)
    low = kernel - 1
  else:
    raise ValueError(f"Unknown padding {padding!r}: 'SAME', 'VALID' or explicit pairs.")
  return low, total - low


def _explicit_padding(kernel_shape, strides, padding) -> tuple[tuple[int, int], ...]:
  if isinstance(padding, str):
    return tuple(
      transpose_padding(k, s, padding) for k, s in zip(kernel_shape, strides, strict=True)
    )
  return tuple(tuple(pair) for pair in padding)


def _xla_conv_transpose(x, kernel, strides, padding):
  return lax.conv_transpose(x, kernel, strides, padding, dimension_numbers=_DIMENSIONS)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def conv_transpose(x, kernel, strides: tuple[int, int], padding, subpixel: bool = False):
  """``lax.conv_transpose`` (NHWC, HWIO kernel, no kernel flip) with a fast kernel gradient.

  Args:
    x: [B, H, W, C_in].
    kernel: [kh, kw, C_in, C_out].
    strides: (sh, sw), the input dilation.
    padding: "SAME", "VALID" or ((low, high), (low, high)) on the dilated input.
    subpixel: compute the output by sub-pixel phases instead of XLA's dilated convolution. The
      gradients are strided convolutions either way (``_adjoint_convolution``).

  Returns:
    [B, H', W', C_out], ``lax.conv_transpose``'s output.
  """
  return _conv_transpose_output(x, kernel, strides, padding, subpixel)


def _conv_transpose_output(x, kernel, strides, padding, subpixel):
  if subpixel:
    return subpixel_conv_transpose(x, kernel, strides, padding)
  return _xla_conv_transpose(x, kernel, strides, padding)


def _conv_transpose_forward(x, kernel, strides, padding, subpixel):
  return _conv_transpose_output(x, kernel, strides, padding, subpixel), (x, kernel)


def _conv_transpose_backward(strides, padding, subpixel, residuals, grad_out):
  del subpixel  # The same gradients whichever way the output was computed.
  x, kernel = residuals
  pads = _adjoint_padding(x.shape, grad_out.shape, kernel.shape, strides, padding)
  adjoint = _adjoint_convolution(grad_out, strides, pads)
  flipped = kernel[::-1, ::-1]
  grad_x = adjoint(flipped)
  if _tapwise(grad_out, x, kernel.shape[:2], strides):
    # The adjoint's input is grad_out and its output gradient x; "HWOI" puts x's channels first.
    grad_flipped = tapwise_kernel_gradient(
      grad_out, x.astype(grad_out.dtype), kernel.shape[:2], strides, pads, out_in=True
    )
  else:
    _, kernel_vjp = jax.vjp(adjoint, flipped)
    (grad_flipped,) = kernel_vjp(x.astype(grad_out.dtype))
  return grad_x.astype(x.dtype), grad_flipped[::-1, ::-1].astype(kernel.dtype)


def _adjoint_padding(x_shape, grad_out_shape, kernel_shape, strides, padding):
  """The explicit padding of ``_adjoint_convolution``: the strided convolution that a transposed
  convolution (input ``x_shape``, output ``grad_out_shape``) is the adjoint of."""
  pads = []
  for size, out, k, s, (low, _) in zip(
    x_shape[1:3],
    grad_out_shape[1:3],
    kernel_shape[:2],
    strides,
    _explicit_padding(kernel_shape[:2], strides, padding),
    strict=True,
  ):
    # conv(g, w)[i] reads g[s * i + u - (k - 1 - low)] for taps u; the high side makes exactly
    # `size` outputs (negative padding crops).
    before = k - 1 - low
    pads.append((before, s * (size - 1) + k - out - before))
  return tuple(pads)


def _adjoint_convolution(grad_out, strides, pads):
  """w -> conv(grad_out, w): the strided convolution that a transposed convolution is the
  adjoint of.

  With y = conv_transpose(x, k) and w the kernel flipped in space and read with its
  [C_in, C_out] blocks as [out, in] ("HWOI": no transposed copy), <y, g> = <x, conv(g, w)>.
  So ``conv(grad_out, flip(k))`` is the input gradient, and this convolution's weight gradient
  (input grad_out, output gradient x), flipped back, the kernel gradient: both strided
  convolutions, which XLA:CPU runs without the dilated operands of autodiff's (measured on
  DCGAN's G: kernel gradients 1.6-3x faster than a tap-wise matmul, 60-70x faster than XLA's).

  Args:
    grad_out: [B, H', W', C_out], the gradient of the transposed convolution's output.
    strides: (sh, sw).
    pads: ((low, high), (low, high)) from ``_adjoint_padding``.

  Returns:
    A function of w [kh, kw, C_in, C_out] (the flipped kernel) -> [B, H, W, C_in].
  """

  def adjoint(w):
    return lax.conv_general_dilated(
      grad_out, w, strides, pads, dimension_numbers=("NHWC", "HWOI", "NHWC")
    )

  return adjoint


def _tapwise(inputs, grad_out, kernel_hw, strides) -> bool:
  """Whether the convolution of ``inputs`` with output gradient ``grad_out`` takes
  ``tapwise_kernel_gradient``: on CPU, at most ``MAX_TAPWISE_BATCH`` examples, a kernel that is a
  whole number of strides and at least ``MIN_SUBPIXEL_MACS`` multiply-adds (below that the
  extra operations cost more than they save: CycleGAN's default ngf = 24 step ran 13 % slower)."""
  kernel_entries = math.prod(kernel_hw) * inputs.shape[-1] * grad_out.shape[-1]
  return (
    _on_cpu()
    and inputs.shape[0] <= MAX_TAPWISE_BATCH
    and all(k % s == 0 for k, s in zip(kernel_hw, strides, strict=True))
    and _positions(grad_out) * kernel_entries >= MIN_SUBPIXEL_MACS
  )


def tapwise_kernel_gradient(
  inputs, grad_out, kernel_hw, strides, padding, out_in: bool = False
) -> jax.Array:
  """The kernel gradient of a convolution whose kernel is a whole number of strides (any kernel
  at stride 1), as one matmul per block of s_h x s_w taps.

  Tap (s_h * a + p, s_w * q + r) reads padded input row s_h * (m + a) + p for output row m, so
  with the padded input viewed as [B, rows, s_h, cols, s_w, C] (a reshape, no copy) block (a, q)
  is one window of it, contracted with the output gradient over (batch, row, column).

  Args:
    inputs: [B, H, W, C], the convolution's input.
    grad_out: [B, H', W', O], the gradient of its output.
    kernel_hw: (kh, kw), multiples of the strides.
    strides: (sh, sw).
    padding: ((low, high), (low, high)), explicit.
    out_in: return [kh, kw, O, C] instead of [kh, kw, C, O].

  Returns:
    The gradient with respect to the [kh, kw, C, O] kernel (float rounding aside, XLA's).
  """
  batch, height, width, channels = inputs.shape
  out_h, out_w = grad_out.shape[1:3]
  (kh, kw), (sh, sw), ((top, _), (left, _)) = kernel_hw, strides, padding
  blocks_h, blocks_w = kh // sh, kw // sw
  rows, cols = out_h + blocks_h - 1, out_w + blocks_w - 1
  padded = lax.pad(
    inputs,
    jnp.zeros((), inputs.dtype),
    (
      (0, 0, 0),
      (top, sh * rows - top - height, 0),
      (left, sw * cols - left - width, 0),
      (0, 0, 0),
    ),
  ).reshape(batch, rows, sh, cols, sw, channels)
  products = []
  for a in range(blocks_h):
    for q in range(blocks_w):
      window = lax.slice(
        padded, (0, a, 0, q, 0, 0), (batch, a + out_h, sh, q + out_w, sw, channels)
      )
      if out_in:  # [O, p, r, C]
        products.append(lax.dot_general(grad_out, window, (((0, 1, 2), (0, 1, 3)), ((), ()))))
      else:  # [p, r, C, O]
        products.append(lax.dot_general(window, grad_out, (((0, 1, 3), (0, 1, 2)), ((), ()))))
  blocks = jnp.stack(products).reshape(blocks_h, blocks_w, *products[0].shape)
  if out_in:  # [a, q, O, p, r, C] -> [a, p, q, r, O, C]
    blocks = jnp.transpose(blocks, (0, 3, 1, 4, 2, 5))
    return blocks.reshape(kh, kw, grad_out.shape[-1], channels)
  blocks = jnp.transpose(blocks, (0, 2, 1, 3, 4, 5))  # [a, q, p, r, C, O] -> [a, p, q, r, C, O]
  return blocks.reshape(kh, kw, channels, grad_out.shape[-1])


conv_transpose.defvjp(_conv_transpose_forward, _conv_transpose_backward)


def _phase_taps(kernel: int, stride: int, low: int, phase: int) -> tuple[int, int, int]:
  """Output phase r of a stride-s transposed convolution with low padding ``low`` meets the taps
  t0, t0 + s, ... (``count`` of them) and reads input rows m + offset, m + offset + 1, ... for its
  output row m. Returns (t0, count, offset)."""
  first = (low - phase) % stride
  count = len(range(first, kernel, stride))
  offset = (phase + first - low) // stride
  return first, count, offset


def subpixel_conv_transpose(
  x, kernel, strides: tuple[int, int], padding, kernel_layout: str = "HWIO"
) -> jax.Array:
  """``lax.conv_transpose`` (NHWC, HWIO, no kernel flip) as s_h * s_w stride-1 convolutions of the
  undilated input with sub-kernels, interleaved.

  Args:
    x: [B, H, W, C_in].
    kernel: [kh, kw, C_in, C_out] ("HWIO"), or [kh, kw, C_out, C_in] with ``kernel_layout="HWOI"``
      (read in place: no transposed copy of the kernel).
    strides: (sh, sw).
    padding: "SAME", "VALID" or ((low, high), (low, high)) on the dilated input.
    kernel_layout: "HWIO" or "HWOI".

  Returns:
    [B, H', W', C_out], ``lax.conv_transpose``'s output (to float rounding).
  """
  batch, height, width, _ = x.shape
  kh, kw = kernel.shape[:2]
  features = kernel.shape[kernel_layout.index("O")]
  dimensions = ("NHWC", kernel_layout, "NHWC")
  (sh, sw) = strides
  (low_h, _), (low_w, _) = _explicit_padding((kh, kw), strides, padding)
  out_h, out_w = _conv_transpose_output_hw((height, width), (kh, kw), strides, padding)
  rows_per_phase, cols_per_phase = -(-out_h // sh), -(-out_w // sw)
  zero = jnp.zeros((), x.dtype)
  rows = []
  for r in range(sh):
    first_h, count_h, offset_h = _phase_taps(kh, sh, low_h, r)
    columns = []
    for c in range(sw):
      first_w, count_w, offset_w = _phase_taps(kw, sw, low_w, c)
      if not (count_h and count_w):  # A kernel smaller than the stride leaves gaps.
        columns.append(jnp.zeros((batch, rows_per_phase, cols_per_phase, features), x.dtype))
        continue
      # Crop or pad x so that phase row m starts at input row m + offset (negative pads crop).
      window = lax.pad(
        x,
        zero,
        (
          (0, 0, 0),
          (-offset_h, rows_per_phase + count_h - 1 + offset_h - height, 0),
          (-offset_w, cols_per_phase + count_w - 1 + offset_w - width, 0),
          (0, 0, 0),
        ),
      )
      sub_kernel = kernel[first_h::sh, first_w::sw]  # [count_h, count_w, C_in, C_out]
      columns.append(
        lax.conv_general_dilated(window, sub_kernel, (1, 1), "VALID", dimension_numbers=dimensions)
      )
    rows.append(jnp.stack(columns, axis=3))  # [B, rows, cols, sw, C_out]
  y = jnp.stack(rows, axis=2)  # [B, rows, sh, cols, sw, C_out]
  y = y.reshape(batch, rows_per_phase * sh, cols_per_phase * sw, features)
  return y[:, :out_h, :out_w]


def _conv(x, kernel, strides, padding):
  return lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=_DIMENSIONS)


def conv_input_gradient(grad_out, kernel, input_hw, strides, padding) -> jax.Array:
  """The input gradient of ``_conv`` (explicit padding pairs) by sub-pixel phases: a transposed
  convolution of the output gradient with the flipped kernel, channels swapped."""
  pads = []
  for size, k, s, (low, _), out in zip(
    input_hw, kernel.shape[:2], strides, padding, grad_out.shape[1:3], strict=True
  ):
    before = k - 1 - low
    pads.append((before, size + k - 1 - ((out - 1) * s + 1) - before))
  # The kernel's [C_in, C_out] blocks serve as [O, I] of the transposed convolution, in place.
  return subpixel_conv_transpose(grad_out, kernel[::-1, ::-1], strides, tuple(pads), "HWOI")


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv(x, kernel, strides: tuple[int, int], padding) -> jax.Array:
  """``lax.conv_general_dilated`` (NHWC, HWIO, explicit padding pairs) whose input gradient runs
  by sub-pixel phases (``conv_input_gradient``) instead of XLA's input-dilated convolution; the
  weight gradient is XLA's, or ``tapwise_kernel_gradient`` for one example (``_tapwise``)."""
  return _conv(x, kernel, strides, padding)


def _conv_forward(x, kernel, strides, padding):
  return _conv(x, kernel, strides, padding), (x, kernel)


def _conv_backward(strides, padding, residuals, grad_out):
  x, kernel = residuals
  grad_x = conv_input_gradient(grad_out, kernel, x.shape[1:3], strides, padding)
  if _tapwise(x, grad_out, kernel.shape[:2], strides):
    grad_kernel = tapwise_kernel_gradient(x, grad_out, kernel.shape[:2], strides, padding)
    return grad_x.astype(x.dtype), grad_kernel.astype(kernel.dtype)
  _, kernel_vjp = jax.vjp(lambda k: _conv(x, k, strides, padding), kernel)
  (grad_kernel,) = kernel_vjp(grad_out)
  return grad_x.astype(x.dtype), grad_kernel


conv.defvjp(_conv_forward, _conv_backward)


# ----------------------------------------------------------------------------- im2col matmuls


def unfold(x, kernel_hw, strides, pad_low, out_hw) -> jax.Array:
  """im2col: [B, H, W, C] -> [B, H_o, W_o, kh * kw, C] with cols[i, t] = x_padded[s * i + t].

  Args:
    x: [B, H, W, C].
    kernel_hw: (kh, kw).
    strides: (sh, sw).
    pad_low: (top, left) zero padding; the bottom and right are padded as far as reads need.
    out_hw: (H_o, W_o), the number of windows.
  """
  batch, height, width, channels = x.shape
  (kh, kw), (sh, sw), (top, left), (out_h, out_w) = kernel_hw, strides, pad_low, out_hw
  bottom = sh * (out_h - 1) + kh - top - height
  right = sw * (out_w - 1) + kw - left - width
  # lax.pad, as the pads can be negative (crops) for transposed convolutions padded past the kernel.
  padded = lax.pad(
    x, jnp.zeros((), x.dtype), ((0, 0, 0), (top, bottom, 0), (left, right, 0), (0, 0, 0))
  )
  windows = [
    lax.slice(
      padded,
      (0, a, b, 0),
      (batch, a + sh * (out_h - 1) + 1, b + sw * (out_w - 1) + 1, channels),
      (1, sh, sw, 1),
    )
    for a in range(kh)
    for b in range(kw)
  ]
  return jnp.stack(windows, axis=3)


def fold(cols, kernel_hw, strides, pad_low, out_hw) -> jax.Array:
  """col2im, the adjoint of ``unfold``: [B, H_o, W_o, kh * kw, C] -> [B, H, W, C] (``out_hw``),
  y[p] = sum of cols[i, t] over s * i + t - pad_low = p. Output phase (r, c) sums the taps that
  land on it, each a shifted copy of its slice: no scatter, no dilation."""
  batch, out_h, out_w, _, channels = cols.shape
  (kh, kw), (sh, sw), (top, left), (height, width) = kernel_hw, strides, pad_low, out_hw
  cols = cols.reshape(batch, out_h, out_w, kh, kw, channels)
  rows_per_phase, cols_per_phase = -(-height // sh), -(-width // sw)
  zero = jnp.zeros((), cols.dtype)
  phase_rows = []
  for r in range(sh):
    phase_columns = []
    for c in range(sw):
      total = jnp.zeros((batch, rows_per_phase, cols_per_phase, channels), cols.dtype)
      for a in [a for a in range(kh) if (r + top - a) % sh == 0]:
        shift_h = (r + top - a) // sh  # Phase row q takes window row q + shift_h.
        for b in [b for b in range(kw) if (c + left - b) % sw == 0]:
          shift_w = (c + left - b) // sw
          total = total + lax.pad(
            cols[:, :, :, a, b],
            zero,
            (
              (0, 0, 0),
              (-shift_h, rows_per_phase - out_h + shift_h, 0),
              (-shift_w, cols_per_phase - out_w + shift_w, 0),
              (0, 0, 0),
            ),
          )
      phase_columns.append(total)
    phase_rows.append(jnp.stack(phase_columns, axis=3))  # [B, rows, cols, sw, C]
  y = jnp.stack(phase_rows, axis=2)  # [B, rows, sh, cols, sw, C]
  y = y.reshape(batch, rows_per_phase * sh, cols_per_phase * sw, channels)
  return y[:, :height, :width]


def _with_adjoint_gradient(operation, adjoint):
  """``operation`` (``unfold`` or ``fold``, both linear) with the other as its gradient, the
  phase-wise col2im / strided im2col instead of autodiff's scatter of pads and slices."""

  @functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4))
  def linear(a, kernel_hw, strides, pad_low, out_hw):
    return operation(a, kernel_hw, strides, pad_low, out_hw)

  def forward(a, kernel_hw, strides, pad_low, out_hw):
    return operation(a, kernel_hw, strides, pad_low, out_hw), a.shape[1:3]

  def backward(kernel_hw, strides, pad_low, out_hw, input_hw, grad):
    return (adjoint(grad, kernel_hw, strides, pad_low, input_hw),)

  linear.defvjp(forward, backward)
  return linear


_unfold = _with_adjoint_gradient(unfold, fold)
_fold = _with_adjoint_gradient(fold, unfold)


@jax.custom_vjp
def _rows_times_kernel(rows, kernel):
  """rows [P, K] @ kernel [K, O] whose kernel gradient is rows^T @ g, made in the kernel's own
  [K, O] layout (autodiff's came out transposed, and the optimizer update then read it across
  rows: measured 1.6-3x slower on pix2pix's inner layers)."""
  return rows @ kernel


def _rows_times_kernel_forward(rows, kernel):
  return rows @ kernel, (rows, kernel)


def _rows_times_kernel_backward(residuals, grad):
  rows, kernel = residuals
  grad_rows = lax.dot_general(grad, kernel, (((1,), (1,)), ((), ())))  # g @ kernel^T
  return grad_rows, rows.T @ grad


_rows_times_kernel.defvjp(_rows_times_kernel_forward, _rows_times_kernel_backward)


def matmul_conv(x, kernel, strides, padding) -> jax.Array:
  """``_conv`` (explicit padding pairs) as im2col and one matmul with the kernel in place; its
  gradients are matmuls and col2im (``fold``). For small layers with large kernels (pix2pix's
  inner layers at batch 1), where the convolutions' kernel copies dominate."""
  kh, kw, channels, features = kernel.shape
  out_hw = tuple(
    (size + low + high - k) // s + 1
    for size, (low, high), k, s in zip(x.shape[1:3], padding, (kh, kw), strides, strict=True)
  )
  cols = _unfold(x, (kh, kw), tuple(strides), (padding[0][0], padding[1][0]), out_hw)
  rows = cols.reshape(-1, kh * kw * channels)  # [B * H_o * W_o, kh * kw * C_in]
  y = _rows_times_kernel(rows, kernel.reshape(kh * kw * channels, features))
  return y.reshape(*cols.shape[:3], features)


def matmul_conv_transpose(x, kernel, strides, padding) -> jax.Array:
  """``lax.conv_transpose`` as one matmul per kernel tap and col2im (``fold``); the gradients are
  im2col and matmuls. For small layers with large kernels, like ``matmul_conv``.

  The matmuls are batched over the taps with x broadcast to every tap, so that each reads its
  [C_in, C_out] block of the kernel in place (a contraction over the kernel's middle axis would
  transpose the whole kernel, which is the cost this implementation exists to avoid).
  """
  kh, kw, channels, features = kernel.shape
  (low_h, _), (low_w, _) = _explicit_padding((kh, kw), strides, padding)
  batch, height, width, _ = x.shape
  out_h, out_w = _conv_transpose_output_hw((height, width), (kh, kw), strides, padding)
  taps = kh * kw
  inputs = jnp.broadcast_to(x.reshape(1, -1, channels), (taps, batch * height * width, channels))
  products = jnp.einsum("tpc,tco->tpo", inputs, kernel.reshape(taps, channels, features))
  # y[o] = sum over o = s * i + t' - (k - 1 - low) of x[i] kernel[k - 1 - t']: col2im of the
  # products in reversed tap order.
  cols = jnp.moveaxis(products[::-1], 0, 1).reshape(batch, height, width, taps, features)
  pad_low = (kh - 1 - low_h, kw - 1 - low_w)
  return _fold(cols, (kh, kw), tuple(strides), pad_low, (out_h, out_w))


def _on_cpu() -> bool:
  return jax.default_backend() == "cpu"


def _positions(x) -> int:
  """Batch x height x width of an NHWC array."""
  return x.shape[0] * x.shape[1] * x.shape[2]


def resolve_implementation(layer: nn.Module, x) -> str:
  """The implementation a ``Conv`` or ``ConvTranspose`` runs for input x [B, H, W, C_in]: its own
  ``implementation`` unless that is "auto"; then XLA's own off CPU, and on CPU:

  - "matmul" for kernel-heavy layers: at least ``MIN_MATMUL_KERNEL`` kernel entries and fewer
    than ``MIN_REWRITE_POSITIONS`` positions on the larger side (pix2pix's inner layers);
  - "subpixel" for layers of at least ``MIN_SUBPIXEL_MACS`` multiply-adds whose phases make at
    least ``MIN_SUBPIXEL_CHANNELS`` channels (DCGAN's and pix2pix's outer layers);
  - otherwise the fewest operations, as small layers are bound by per-operation overhead: "xla"
    for Conv, "adjoint" for ConvTranspose (XLA's own kernel gradient of a transposed
    convolution is 10-60x slower at every size measured).
  A stride-1 Conv is "xla", or "subpixel" (for its tap-by-tap kernel gradient, ``_tapwise``) over
  ``MAX_TAPWISE_BATCH`` examples with at least ``MIN_SUBPIXEL_CHANNELS`` features and
  ``MIN_SUBPIXEL_MACS`` multiply-adds (CycleGAN's residual blocks at ngf = 64, batch 1: kernel
  gradient 86 -> 59 ms; with 3 features, 2.9 -> 19 ms, hence the bounds).
  """
  if layer.implementation != "auto":
    return layer.implementation
  if not _on_cpu():
    return "xla"
  strides = tuple(layer.strides)
  transposed = isinstance(layer, ConvTranspose)
  kernel_entries = math.prod(layer.kernel_size) * x.shape[-1] * layer.features
  batch, height, width, _ = x.shape
  if not transposed and max(strides) == 1:
    tapwise = (
      batch <= MAX_TAPWISE_BATCH
      and layer.features >= MIN_SUBPIXEL_CHANNELS
      and _positions(x) * kernel_entries >= MIN_SUBPIXEL_MACS  # About: one window per input.
    )
    return "subpixel" if tapwise else "xla"
  if transposed:
    out_h, out_w = _conv_transpose_output_hw(
      (height, width), layer.kernel_size, strides, layer.padding
    )
    positions, phase_channels = batch * out_h * out_w, layer.features
    multiply_adds = batch * height * width * kernel_entries  # Each input meets every tap.
  else:
    positions, phase_channels = _positions(x), x.shape[-1]
    out_h, out_w = (-(-size // s) for size, s in zip((height, width), strides, strict=True))
    multiply_adds = batch * out_h * out_w * kernel_entries  # About: one window per output.
  if kernel_entries >= MIN_MATMUL_KERNEL and positions < MIN_REWRITE_POSITIONS:
    return "matmul"
  if multiply_adds >= MIN_SUBPIXEL_MACS and phase_channels >= MIN_SUBPIXEL_CHANNELS:
    return "subpixel"
  return "adjoint" if transposed else "xla"


def _conv_transpose_output_hw(input_hw, kernel_size, strides, padding) -> tuple[int, int]:
  """(H', W') of ``lax.conv_transpose`` for an input of ``input_hw``."""
  pads = _explicit_padding(tuple(kernel_size), strides, padding)
  return tuple(
    (size - 1) * s + 1 + low + high - k + 1
    for size, k, s, (low, high) in zip(input_hw, kernel_size, strides, pads, strict=True)
  )


def _inputs_and_kernel(layer: nn.Module, x):
  """(x, the layer's [kh, kw, C_in, features] kernel), both in its compute dtype; the kernel
  parameter itself is float32, with flax's name and initialiser."""
  kernel_shape = (*layer.kernel_size, x.shape[-1], layer.features)
  kernel = layer.param("kernel", layer.kernel_init, kernel_shape, jnp.float32)
  return x.astype(layer.dtype), kernel.astype(layer.dtype)


def _add_bias(layer: nn.Module, y):
  if not layer.use_bias:
    return y
  return y + layer.param("bias", layer.bias_init, (layer.features,), jnp.float32).astype(
    layer.dtype
  )


def _implementation(layer: nn.Module, name: str, implementations: dict):
  if name not in implementations:
    raise errors.ConfigError(
      f"{type(layer).__name__} implementation must be 'auto' or one of "
      f"{', '.join(implementations)}, got {layer.implementation!r}."
    )
  return implementations[name]


class _Convolution(nn.Module):
  """The attributes flax's Conv and ConvTranspose share, plus ``implementation``."""

  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] = (1, 1)
  padding: Any = "SAME"
  use_bias: bool = True
  kernel_init: Any = nn.initializers.lecun_normal()
  bias_init: Any = nn.initializers.zeros
  implementation: str = "auto"
  dtype: Any = jnp.float32


class Conv(_Convolution):
  """Drop-in for ``flax.linen.Conv`` (NHWC, no dilation or groups) with faster gradients on CPU
  for strided convolutions.

  ``implementation``: "subpixel" (the input gradient by sub-pixel phases, see ``conv``),
  "matmul" (im2col, ``matmul_conv``), "xla" (plain ``lax.conv_general_dilated``) or "auto"
  (``resolve_implementation``). Measured on this 2-core CPU (``benchmarks/layer_timings.py``):
  sub-pixel input gradients 1.2-3.7x faster than XLA's on DCGAN's 64x64 D at batch 64; matmuls
  up to 20x faster on pix2pix's inner layers at batch 1.
  """

  @nn.compact
  def __call__(self, x):
    """[B, H, W, C_in] -> [B, H', W', features]."""
    x, kernel = _inputs_and_kernel(self, x)
    strides = tuple(self.strides)
    if isinstance(self.padding, str):
      padding = lax.padtype_to_pads(x.shape[1:3], self.kernel_size, strides, self.padding)
    else:
      padding = tuple(map(tuple, self.padding))
    padding = tuple((int(low), int(high)) for low, high in padding)
    name = resolve_implementation(self, x)
    implementations = {
      "subpixel": conv,
      "matmul": matmul_conv,
      "xla": _conv,
    }
    operation = _implementation(self, name, implementations)
    return _add_bias(self, operation(x, kernel, strides, padding))


class ConvTranspose(_Convolution):
  """Drop-in for ``flax.linen.ConvTranspose`` (transpose_kernel=False, no dilation, NHWC).

  The same parameter names, shapes and initialisers, so checkpoints and parameter counts do not
  change. ``implementation``: "subpixel" (output by sub-pixel phases; gradients by the adjoint
  strided convolution), "adjoint" (XLA's output, adjoint gradients), "matmul" (per-tap matmuls
  and col2im, ``matmul_conv_transpose``), "xla" (plain ``lax.conv_transpose``) or "auto"
  (``resolve_implementation``). Measured on this 2-core CPU (``benchmarks/layer_timings.py``):
  on DCGAN's 64x64 G at batch 64, sub-pixel outputs 1.1-3.4x faster than XLA's and adjoint kernel
  gradients 60-70x faster (XLA's takes 0.7-0.8 s a layer); matmuls 3-30x faster on pix2pix's inner
  layers at batch 1.
  """

  @nn.compact
  def __call__(self, x):
    """[B, H, W, C_in] -> [B, H', W', features]."""
    x, kernel = _inputs_and_kernel(self, x)
    strides = tuple(self.strides)
    padding = self.padding if isinstance(self.padding, str) else tuple(map(tuple, self.padding))
    implementations = {
      "subpixel": functools.partial(conv_transpose, subpixel=True),
      "adjoint": conv_transpose,
      "matmul": matmul_conv_transpose,
      "xla": _xla_conv_transpose,
    }
    name = resolve_implementation(self, x)
    operation = _implementation(self, name, implementations)
    return _add_bias(self, operation(x, kernel, strides, padding))
