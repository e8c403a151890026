"""NVlabs' StyleGAN variables in the project's StyleGAN (``gans_jax.interop.stylegan1``): random
values under the official names and shapes, imported, give the images of an independent numpy
forward pass of NVlabs' graph (``tests.stylegan1_reference``), at 8x8 (separate up- and
downsampling) and at 128x128 (NVlabs' fused convolutions from 128 up): the generator's images and
the discriminator's scores."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax.interop import stylegan1
from gans_jax.models import stylegan
from tests import stylegan1_reference as reference


def test_the_fused_upsampling_convolution_is_upsampling_then_the_flipped_convolution():
  """NVlabs' fused path (``conv2d_transpose`` of the 4x4 sum) against the separate ops: equal
  with the 3x3 kernel flipped in both spatial axes, not with it as it is."""
  rng = np.random.default_rng(0)
  x, w = rng.normal(size=(2, 3, 5, 6)), rng.normal(size=(3, 3, 3, 4))
  fused = reference.upscale2d_conv2d_fused(x, w, 1.0)
  np.testing.assert_allclose(
    fused, reference.conv2d(reference.upscale2d(x), w[::-1, ::-1], 1.0), atol=1e-12
  )
  assert np.abs(fused - reference.conv2d(reference.upscale2d(x), w, 1.0)).max() > 0.1


def test_the_fused_downsampling_convolution_is_the_convolution_then_pooling():
  """NVlabs' fused path (a stride-2 convolution of the 4x4 average) equals the separate ops with
  the kernel as it is: D's variables need no flip."""
  rng = np.random.default_rng(1)
  x, w = rng.normal(size=(2, 3, 6, 8)), rng.normal(size=(3, 3, 3, 4))
  np.testing.assert_allclose(
    reference.conv2d_downscale2d_fused(x, w, 1.0),
    reference.downscale2d(reference.conv2d(x, w, 1.0)),
    atol=1e-12,
  )


def _official_variables(net, rng, resolution, mapping_layers):
  """Random values for every variable the official graph reads, with its names and shapes
  (derived from the project's shapes through the documented layouts)."""
  shapes = jax.eval_shape(
    lambda: net.init(
      {"params": jax.random.key(0), "noise": jax.random.key(1)},
      jnp.zeros((1, net.latent_dim)),
      method=net.every_level,
    )  # fmt: skip
  )["params"]
  table = stylegan1.mapping_variables(mapping_layers) + stylegan1.synthesis_variables(resolution)
  variables = _random_values(shapes, table, rng)
  for layer in range(2 * int(np.log2(resolution)) - 2):
    size = 2 ** (layer // 2 + 2)
    variables[f"noise{layer}"] = rng.normal(size=(1, 1, size, size)).astype(np.float32)
  return shapes, table, variables


def _random_values(shapes, table, rng) -> dict:
  """{NVlabs name: random array of its shape} for the variables of ``table``."""
  variables = {}
  for variable in table:
    node = shapes
    for part in variable.ours:
      node = node[part]
    shape = stylegan1.to_theirs(np.zeros(node.shape), variable.kind).shape
    scale = 0.3 if variable.theirs.endswith(("bias", "Noise/weight")) else 1.0
    variables[variable.theirs] = (scale * rng.normal(size=shape)).astype(np.float32)
  return variables


@pytest.mark.parametrize("resolution", [8, 128])
def test_imported_variables_give_the_official_graph_s_images(resolution):
  net = stylegan.Generator(resolution=resolution, channels=3, latent_dim=8, w_dim=8,
                           mapping_layers=2, fmap_base=256, fmap_max=4)  # fmt: skip
  rng = np.random.default_rng(resolution)
  shapes, table, variables = _official_variables(net, rng, resolution, 2)
  template = jax.tree.map(lambda leaf: np.zeros(leaf.shape, np.float32), shapes)
  params = stylegan1.import_params(template, table, variables, "G.pkl")
  z = rng.normal(size=(2, 8)).astype(np.float32)
  num_layers = 2 * int(np.log2(resolution)) - 2
  noise = [np.broadcast_to(variables[f"noise{i}"][0, 0, :, :, None], (2, 4 * 2 ** (i // 2),
           4 * 2 ** (i // 2), 1)) for i in range(num_layers)]  # fmt: skip

  @jax.jit
  def ours(params, z, noise):
    w = net.apply({"params": params}, z, method=net.map)
    ws = jnp.broadcast_to(w[:, None], (2, num_layers, w.shape[-1]))
    return net.apply({"params": params}, ws, net.num_levels - 1, 1.0, noise, method=net.synthesize)

  images = np.asarray(ours(params, z, noise))
  w = reference.mapping(z.astype(np.float64), variables, 2)
  theirs = reference.synthesis(np.repeat(w[:, None], num_layers, axis=1), variables, resolution)
  np.testing.assert_allclose(images, theirs.transpose(0, 2, 3, 1), atol=1e-4)


@pytest.mark.parametrize("resolution", [8, 128])
def test_imported_discriminator_variables_give_the_official_graph_s_scores(resolution):
  net = stylegan.Discriminator(resolution=resolution, fmap_base=256, fmap_max=4)
  rng = np.random.default_rng(resolution + 1)
  # Smooth images (4x4 patterns, enlarged, and a little noise): white noise is blurred and pooled
  # away over the levels, which would leave 128x128 scores almost constant.
  coarse = 2 * rng.normal(size=(8, 4, 4, 3)).repeat(resolution // 4, 1).repeat(resolution // 4, 2)
  images = (coarse + 0.1 * rng.normal(size=coarse.shape)).astype(np.float32)
  shapes = jax.eval_shape(
    lambda: net.init(jax.random.key(0), jnp.asarray(images), method=net.every_level)
  )["params"]
  table = stylegan1.discriminator_variables(resolution)
  assert len(table) == len(jax.tree.leaves(shapes))
  variables = _random_values(shapes, table, rng)
  template = jax.tree.map(lambda leaf: np.zeros(leaf.shape, np.float32), shapes)
  params = stylegan1.import_params(template, table, variables, "D.pkl")
  scores = np.asarray(jax.jit(lambda p, x: net.apply({"params": p}, x))(params, images))
  theirs = reference.discriminator(images.transpose(0, 3, 1, 2).astype(np.float64), variables,
                                   resolution)  # fmt: skip
  assert np.ptp(theirs) > 0.05  # The scores depend on the images.
  np.testing.assert_allclose(scores, theirs[:, 0], rtol=1e-4, atol=1e-5)


def test_the_official_1024x1024_generator_s_variables_fill_the_network_exactly():
  """The FFHQ 1024x1024 Gs (latent 512, 8 mapping layers, nf(stage) = min(8192 / 2^stage, 512)),
  its variables from ``networks_stylegan.py``'s formulas, not from the project's modules."""
  mapping, synthesis, _ = reference.official_shapes(1024)
  official = mapping | synthesis | reference.noise_shapes(1024) | {"lod": ()}
  net = stylegan.Generator(resolution=1024, channels=3, latent_dim=512, w_dim=512)
  shapes = jax.eval_shape(
    lambda: net.init(
      {"params": jax.random.key(0), "noise": jax.random.key(1)},
      jnp.zeros((1, 512)),
      method=net.every_level,
    )  # fmt: skip
  )["params"]
  template = jax.tree.map(lambda leaf: np.zeros(leaf.shape, np.float32), shapes)
  table = stylegan1.mapping_variables(8) + stylegan1.synthesis_variables(1024)
  names = {variable.theirs for variable in table}
  assert names == {n for n in official if n != "lod" and not n.startswith("noise")}
  assert len(table) == len(jax.tree.leaves(shapes))  # Every parameter comes from the pickle.
  values = {name: np.full(shape, 0.5, np.float32) for name, shape in official.items()}
  params = stylegan1.import_params(template, table, values, "ffhq.pkl")
  assert all(np.all(leaf == 0.5) for leaf in jax.tree.leaves(params))
  assert sum(np.prod(s) for n, s in official.items() if n in names) == 26_219_627
