"""The fast layers equal flax.linen's: outputs, gradients, parameter names and shapes."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax.models import layers

CASES = [  # (input shape, features, kernel, strides, padding)
  ((4, 8, 8, 6), 5, (4, 4), (2, 2), "SAME"),  # DCGAN's hidden layers (k=4).
  ((3, 5, 7, 4), 6, (5, 5), (2, 2), "SAME"),  # k=5, odd and non-square sizes.
  ((2, 1, 1, 8), 4, (4, 4), (1, 1), "VALID"),  # DCGAN's 1x1 -> 4x4 first layer.
  ((2, 4, 4, 3), 5, (3, 3), (2, 2), "VALID"),
  ((2, 4, 6, 3), 2, (3, 4), (3, 2), ((1, 2), (2, 1))),  # Explicit, asymmetric padding.
  ((2, 6, 6, 3), 4, (3, 3), (1, 1), "SAME"),
  ((2, 3, 4, 3), 4, (2, 2), (3, 3), "VALID"),  # Kernel smaller than the stride: gaps.
  ((2, 5, 4, 8), 9, (3, 3), (2, 2), ((4, 1), (0, 3))),  # Padding past the kernel; "auto" phases.
  # One example: kernel gradients tap block by tap block (kernels a whole number of strides).
  ((1, 4, 5, 6), 5, (4, 4), (2, 2), "SAME"),
  ((1, 3, 4, 3), 4, (6, 4), (3, 2), ((1, 2), (2, 1))),
  ((1, 2, 3, 8), 9, (4, 2), (2, 2), ((4, 1), (0, 3))),
]


@pytest.mark.parametrize("implementation", ["subpixel", "adjoint", "matmul", "xla", "auto"])
@pytest.mark.parametrize(("shape", "features", "kernel", "strides", "padding"), CASES)
def test_conv_transpose_matches_flax(shape, features, kernel, strides, padding, implementation):
  options = dict(features=features, kernel_size=kernel, strides=strides, padding=padding)
  _assert_same_layer(
    layers.ConvTranspose(**options, implementation=implementation),
    nn.ConvTranspose(**options),
    shape,
  )


CONV_CASES = [  # (input shape, features, kernel, strides, padding)
  ((4, 8, 8, 3), 5, (4, 4), (2, 2), ((1, 1), (1, 1))),  # DCGAN / pix2pix / PatchGAN.
  ((3, 9, 7, 4), 6, (5, 5), (2, 2), ((2, 2), (2, 2))),  # k=5, odd sizes.
  ((2, 8, 8, 3), 4, (3, 3), (2, 2), ((1, 1), (1, 1))),  # CycleGAN's down-sampling.
  ((2, 7, 6, 3), 2, (3, 4), (3, 2), ((0, 2), (1, 0))),  # Asymmetric, uneven.
  ((2, 8, 8, 3), 4, (4, 4), (2, 2), "SAME"),
  ((2, 6, 6, 3), 4, (3, 3), (1, 1), "VALID"),
  ((2, 9, 9, 8), 3, (4, 4), (2, 2), ((2, 0), (1, 1))),  # 8 channels: "auto" is sub-pixel.
  # One example: kernel gradients tap block by tap block (kernels a whole number of strides).
  ((1, 8, 8, 8), 5, (4, 4), (2, 2), ((1, 1), (1, 1))),  # pix2pix's layers.
  ((1, 9, 7, 4), 6, (6, 4), (3, 2), ((2, 1), (0, 2))),
  ((1, 7, 9, 3), 2, (4, 4), (2, 2), ((0, 3), (2, 2))),  # Odd sizes, padding past the kernel.
  ((1, 6, 7, 4), 9, (3, 3), (1, 1), "SAME"),  # Stride 1: "auto" takes the custom gradient.
]


@pytest.mark.parametrize("implementation", ["subpixel", "matmul", "xla", "auto"])
@pytest.mark.parametrize(("shape", "features", "kernel", "strides", "padding"), CONV_CASES)
def test_conv_matches_flax(shape, features, kernel, strides, padding, implementation):
  options = dict(features=features, kernel_size=kernel, strides=strides, padding=padding)
  _assert_same_layer(
    layers.Conv(**options, implementation=implementation), nn.Conv(**options), shape
  )


@pytest.mark.parametrize("out_in", [False, True])
@pytest.mark.parametrize(
  ("shape", "features", "kernel", "strides", "padding"),
  [
    ((1, 8, 8, 3), 5, (4, 4), (2, 2), ((1, 1), (1, 1))),
    ((2, 9, 7, 4), 6, (6, 4), (3, 2), ((2, 1), (0, 2))),  # Two examples, uneven sizes.
    ((1, 7, 9, 3), 2, (4, 6), (2, 3), ((0, 3), (4, 0))),  # Padding past the kernel.
    ((1, 6, 7, 4), 3, (3, 3), (1, 1), ((1, 1), (1, 1))),  # Stride 1: one tap per block.
  ],
)
def test_tapwise_kernel_gradient_is_xla_s(shape, features, kernel, strides, padding, out_in):
  x = jax.random.normal(jax.random.PRNGKey(0), shape)
  weights = jax.random.normal(jax.random.PRNGKey(1), (*kernel, shape[-1], features))

  def conv(w):
    return jax.lax.conv_general_dilated(
      x, w, strides, padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )

  out, vjp = jax.vjp(conv, weights)
  grad_out = jax.random.normal(jax.random.PRNGKey(2), out.shape)
  (want,) = vjp(grad_out)
  got = layers.tapwise_kernel_gradient(x, grad_out, kernel, strides, padding, out_in=out_in)
  if out_in:
    got = jnp.swapaxes(got, 2, 3)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * float(jnp.abs(want).max()))


# (ours, flax's, implementation, input shape, features, kernel, strides, padding)
ONE_EXAMPLE_CASES = [
  (layers.Conv, nn.Conv, "subpixel", (1, 8, 8, 8), 5, (4, 4), (2, 2), ((1, 1), (1, 1))),
  (layers.Conv, nn.Conv, "subpixel", (1, 9, 7, 4), 6, (6, 4), (3, 2), ((2, 1), (0, 2))),
  (layers.Conv, nn.Conv, "auto", (1, 6, 7, 4), 9, (3, 3), (1, 1), "SAME"),  # Stride 1.
  (layers.ConvTranspose, nn.ConvTranspose, "subpixel", (1, 4, 5, 6), 5, (4, 4), (2, 2), "SAME"),
  (layers.ConvTranspose, nn.ConvTranspose, "adjoint", (1, 3, 4, 3), 4, (6, 4), (3, 2), "VALID"),
]


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the CPU's kernel gradients")
@pytest.mark.parametrize(
  ("ours", "theirs", "implementation", "shape", "features", "kernel", "strides", "padding"),
  ONE_EXAMPLE_CASES,
)
def test_one_example_takes_the_tapwise_kernel_gradient_and_matches_flax(
  monkeypatch, ours, theirs, implementation, shape, features, kernel, strides, padding
):
  monkeypatch.setattr(layers, "MIN_SUBPIXEL_MACS", 0)  # These small layers too.
  calls = []
  tapwise = layers.tapwise_kernel_gradient
  monkeypatch.setattr(
    layers, "tapwise_kernel_gradient", lambda *a, **k: calls.append(1) or tapwise(*a, **k)
  )
  options = dict(features=features, kernel_size=kernel, strides=strides, padding=padding)
  _assert_same_layer(ours(**options, implementation=implementation), theirs(**options), shape)
  assert calls  # The custom gradient took the tap-wise kernel gradient.


def _assert_same_layer(ours, reference, shape):
  """Same parameter tree and initial draw; outputs and gradients (inputs and params) equal."""
  x = jax.random.normal(jax.random.PRNGKey(0), shape)
  params = reference.init(jax.random.PRNGKey(1), x)
  assert jax.tree.map(jnp.shape, ours.init(jax.random.PRNGKey(1), x)) == jax.tree.map(
    jnp.shape, params
  )
  np.testing.assert_array_equal(
    ours.init(jax.random.PRNGKey(1), x)["params"]["kernel"], params["params"]["kernel"]
  )  # Same initialiser, same draw.

  target = jax.random.normal(jax.random.PRNGKey(2), reference.apply(params, x).shape)

  def loss(module):
    return lambda p, inputs: jnp.sum((module.apply(p, inputs) - target) ** 2)

  want = reference.apply(params, x)
  np.testing.assert_allclose(
    ours.apply(params, x), want, rtol=1e-5, atol=1e-6 * float(jnp.abs(want).max())
  )
  ours_grads = jax.jit(jax.grad(loss(ours), argnums=(0, 1)))(params, x)
  reference_grads = jax.jit(jax.grad(loss(reference), argnums=(0, 1)))(params, x)
  for got, want in zip(jax.tree.leaves(ours_grads), jax.tree.leaves(reference_grads), strict=True):
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5 * float(jnp.abs(want).max()))


def test_transpose_padding_matches_lax_output_sizes():
  for kernel, stride in [(4, 2), (5, 2), (3, 1), (2, 3)]:
    for padding in ("SAME", "VALID"):
      low, high = layers.transpose_padding(kernel, stride, padding)
      dilated = (6 - 1) * stride + 1
      expected = 6 * stride if padding == "SAME" else (6 - 1) * stride + max(kernel, stride)
      assert dilated + low + high - kernel + 1 == expected, (kernel, stride, padding)


def test_bad_implementation_is_named():
  with pytest.raises(ValueError, match="'fast'"):
    layers.Conv(3, (2, 2), implementation="fast").init(
      jax.random.PRNGKey(0), jnp.zeros((1, 2, 2, 1))
    )
  with pytest.raises(ValueError, match="'fast'"):
    layers.ConvTranspose(3, (2, 2), implementation="fast").init(
      jax.random.PRNGKey(0), jnp.zeros((1, 2, 2, 1))
    )


AUTO_CASES = [  # (module, input shape, what "auto" picks on CPU)
  # DCGAN 64x64 at batch 64: 2.1 G multiply-adds per hidden layer -> sub-pixel phases.
  (layers.Conv(128, (4, 4), (2, 2), ((1, 1), (1, 1))), (64, 32, 32, 64), "subpixel"),
  (layers.ConvTranspose(128, (4, 4), (2, 2), ((2, 2), (2, 2))), (64, 8, 8, 256), "subpixel"),
  # RGB: phases would make 3 channels.
  (layers.Conv(64, (4, 4), (2, 2), ((1, 1), (1, 1))), (64, 64, 64, 3), "xla"),
  (layers.ConvTranspose(3, (4, 4), (2, 2), ((2, 2), (2, 2))), (64, 32, 32, 64), "adjoint"),
  # The default DCGAN (ngf = 16): small layers stay whole.
  (layers.Conv(32, (4, 4), (2, 2), ((1, 1), (1, 1))), (128, 16, 16, 16), "xla"),
  (layers.ConvTranspose(32, (4, 4), (2, 2), ((2, 2), (2, 2))), (128, 4, 4, 64), "adjoint"),
  # pix2pix's inner layers at batch 1: 4-8 M kernel entries, few positions -> matmuls.
  (layers.Conv(512, (4, 4), (2, 2), ((1, 1), (1, 1))), (1, 8, 8, 512), "matmul"),
  (layers.ConvTranspose(512, (4, 4), (2, 2), ((2, 2), (2, 2))), (1, 4, 4, 1024), "matmul"),
  (layers.Conv(64, (3, 3), (1, 1), "SAME"), (64, 32, 32, 64), "xla"),  # Stride 1.
  # Stride 1, one example: the custom gradient, for its tap-by-tap kernel gradient.
  (layers.Conv(256, (3, 3), (1, 1), "VALID"), (1, 66, 66, 256), "subpixel"),
  (layers.Conv(3, (7, 7), (1, 1), "VALID"), (1, 70, 70, 64), "xla"),  # 3 features.
  (layers.Conv(8, (4, 4), (2, 2), "SAME", implementation="matmul"), (1, 8, 8, 8), "matmul"),
]


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the CPU choices")
@pytest.mark.parametrize(("module", "input_shape", "expected"), AUTO_CASES)
def test_auto_picks_the_documented_implementation_on_cpu(module, input_shape, expected):
  assert layers.resolve_implementation(module, jnp.zeros(input_shape)) == expected


def test_auto_is_xla_s_own_convolution_off_cpu(monkeypatch):
  """On accelerators "auto" leaves every layer to XLA; an explicit choice stays."""
  monkeypatch.setattr(layers, "_on_cpu", lambda: False)
  for module, input_shape, expected in AUTO_CASES:
    explicit = module.implementation != "auto"
    got = layers.resolve_implementation(module, jnp.zeros(input_shape))
    assert got == (expected if explicit else "xla"), module


def test_unknown_cpu_convolution_library_is_named():
  from gans_jax import compile_options

  with pytest.raises(ValueError, match="cpu_convolutions.*'mkl'"):
    compile_options.for_train_step({"cpu_convolutions": "mkl"})
  assert compile_options.for_train_step({"cpu_convolutions": "ynnpack"}) is None
  on_cpu = jax.default_backend() == "cpu"  # Accelerators get no CPU options.
  assert compile_options.for_train_step({"cpu_convolutions": "eigen"}) == (
    compile_options.CPU_CONVOLUTIONS_IN_XLA if on_cpu else None
  )
