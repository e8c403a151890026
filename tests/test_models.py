"""Network shapes and the PyTorch reference parameter counts."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from gans_jax import models
from gans_jax.models import dcgan, mlp


def count(tree):
  return sum(np.size(x) for x in jax.tree.leaves(tree))


def test_dcgan_64_parameter_counts_match_pytorch_reference():
  # PyTorch DCGAN example (nz=100, ngf=ndf=64, nc=3): G 3,576,704 and D 2,765,568 parameters.
  g = dcgan.Generator(output_shape=(64, 64, 3), width=64)
  d = dcgan.Discriminator(width=64)
  key = jax.random.PRNGKey(0)
  g_shapes = jax.eval_shape(lambda: g.init(key, jnp.zeros((1, 100)), train=False))
  d_shapes = jax.eval_shape(lambda: d.init(key, jnp.zeros((1, 64, 64, 3)), train=False))
  assert count(g_shapes["params"]) == 3_576_704
  assert count(d_shapes["params"]) == 2_765_568


@pytest.mark.parametrize("resolution", [32, 64, 128])
@pytest.mark.parametrize("kernel", [4, 5])
def test_dcgan_shapes(resolution, kernel):
  g = dcgan.Generator(output_shape=(resolution, resolution, 3), width=4, kernel_size=kernel)
  d = dcgan.Discriminator(width=4, kernel_size=kernel)
  key = jax.random.PRNGKey(0)

  def forward():
    images = g.init_with_output(key, jnp.zeros((2, 100)), train=False)[0]
    return images, d.init_with_output(key, images, train=False)[0]

  images, logits = jax.eval_shape(forward)
  assert images.shape == (2, resolution, resolution, 3)
  assert logits.shape == (2,)


def test_dcgan_init_follows_paper():
  g = dcgan.Generator(output_shape=(32, 32, 1), width=32)
  params = g.init(jax.random.PRNGKey(0), jnp.zeros((1, 100)), train=False)["params"]
  kernels = np.concatenate([np.ravel(p["kernel"]) for n, p in params.items() if "Conv" in n])
  scales = np.concatenate([np.ravel(p["scale"]) for n, p in params.items() if "Batch" in n])
  assert abs(kernels.std() - 0.02) < 0.001 and abs(kernels.mean()) < 0.001
  assert abs(scales.mean() - 1.0) < 0.005 and 0.01 < scales.std() < 0.03


def test_maxout_takes_max_over_pieces():
  layer = mlp.Maxout(features=3, pieces=4)
  x = jnp.ones((2, 5))
  params = layer.init(jax.random.PRNGKey(0), x)
  dense = params["params"]["Dense_0"]
  pieces = (x @ dense["kernel"] + dense["bias"]).reshape(2, 3, 4)
  np.testing.assert_allclose(layer.apply(params, x), pieces.max(-1), rtol=1e-6)


def test_mlp_discriminator_dropout_only_in_training():
  d = mlp.Discriminator(hidden=(16,), maxout_pieces=2, dropout=0.5)
  x = jnp.ones((4, 8))
  params = d.init(jax.random.PRNGKey(0), x, train=False)
  a = d.apply(params, x, train=False)
  np.testing.assert_array_equal(a, d.apply(params, x, train=False))
  b = d.apply(params, x, train=True, rngs={"dropout": jax.random.PRNGKey(1)})
  assert not np.allclose(a, b)


def test_packing_discriminator_judges_consecutive_samples_jointly():
  """PacGAN: D with pack=m sees m consecutive samples concatenated, one logit per pack."""
  packed = mlp.Discriminator(hidden=(8,), maxout_pieces=0, pack=3)
  plain = mlp.Discriminator(hidden=(8,), maxout_pieces=0)
  x = jax.random.normal(jax.random.PRNGKey(0), (6, 2))
  params = packed.init(jax.random.PRNGKey(1), x)
  assert params["params"]["Dense_0"]["kernel"].shape == (6, 8)  # 3 samples x 2 coordinates.
  logits = packed.apply(params, x)
  assert logits.shape == (2,)
  # The same weights as a plain D on the packs laid out by hand.
  np.testing.assert_allclose(logits, plain.apply(params, x.reshape(2, 6)), rtol=1e-6)
  with pytest.raises(ValueError, match="Batch of 4 does not split into packs of 3"):
    packed.apply(params, x[:4])


def test_unknown_model_field_is_named():
  section = ml_collections.ConfigDict({"name": "dcgan", "widht": 3})
  with pytest.raises(ValueError, match="widht"):
    models.build_generator(section, (32, 32, 1), jnp.float32)


def test_acgan_networks_shapes_dropout_and_activation_noise():
  """The appendix's networks at 32x32: G maps (z, class) to images in [-1, 1]; D returns a
  source logit and K class logits, drops units only in training, and adds activation noise
  (when asked) on top of the same dropout masks."""
  import jax
  import jax.numpy as jnp
  import numpy as np

  from gans_jax.models import acgan

  g = acgan.Generator((32, 32, 3), num_classes=10, width=64)
  z, labels = jnp.ones((4, 100)), jnp.arange(4)
  g_vars = g.init(jax.random.PRNGKey(0), z, labels, train=False)
  images = g.apply(g_vars, z, labels, train=False)
  assert images.shape == (4, 32, 32, 3) and float(jnp.abs(images).max()) <= 1.0
  x = jax.random.normal(jax.random.PRNGKey(1), (4, 32, 32, 3))
  d = acgan.Discriminator(num_classes=10)
  d_vars = d.init(jax.random.PRNGKey(2), x, train=False)
  source, classes = d.apply(d_vars, x, train=False)
  assert source.shape == (4,) and classes.shape == (4, 10)
  np.testing.assert_array_equal(source, d.apply(d_vars, x, train=False)[0])

  def trained(module, key):
    out, _ = module.apply(d_vars, x, train=True, rngs={"dropout": key}, mutable=["batch_stats"])
    return np.asarray(out[0])

  key = jax.random.PRNGKey(3)
  assert not np.allclose(trained(d, key), trained(d, jax.random.PRNGKey(4)))
  noisy = acgan.Discriminator(num_classes=10, activation_noise=0.5)
  assert not np.allclose(trained(d, key), trained(noisy, key))
  np.testing.assert_array_equal(trained(noisy, key), trained(noisy, key))
