"""junyanz/pytorch-CycleGAN-and-pix2pix state dicts into the project's networks and back
(``gans_jax.interop.junyanz``), against PyTorch re-creations of the reference's modules written
with its attribute names, so that every state-dict key is the reference's."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import errors
from gans_jax.interop import junyanz
from gans_jax.models import cyclegan, pix2pix

torch = pytest.importorskip("torch")
tnn = torch.nn


def _norm_layer(norm: str, tracked: bool = False):
  if norm == "batch":
    return lambda c: tnn.BatchNorm2d(c)
  return lambda c: tnn.InstanceNorm2d(c, affine=False, track_running_stats=tracked)


class UnetBlock(tnn.Module):
  """One U-Net level as the reference nests them (``self.model`` a Sequential)."""

  def __init__(self, outer, inner, input_nc=None, sub=None, outermost=False, innermost=False,
               norm="batch", dropout=False, tracked=False):  # fmt: skip
    super().__init__()
    self.outermost = outermost
    bias = norm == "instance"
    make_norm = _norm_layer(norm, tracked)
    down = tnn.Conv2d(input_nc or outer, inner, 4, 2, 1, bias=bias)
    if outermost:
      up = tnn.ConvTranspose2d(inner * 2, outer, 4, 2, 1)
      layers = [down, sub, tnn.ReLU(True), up, tnn.Tanh()]
    elif innermost:
      up = tnn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias)
      layers = [tnn.LeakyReLU(0.2, True), down, tnn.ReLU(True), up, make_norm(outer)]
    else:
      up = tnn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=bias)
      layers = [tnn.LeakyReLU(0.2, True), down, make_norm(inner), sub, tnn.ReLU(True), up,
                make_norm(outer)] + ([tnn.Dropout(0.5)] if dropout else [])  # fmt: skip
    self.model = tnn.Sequential(*layers)

  def forward(self, x):
    return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class UnetGenerator(tnn.Module):
  def __init__(self, cin, cout, num_downs, ngf, norm="batch", tracked=False):
    super().__init__()
    kw = dict(norm=norm, tracked=tracked)
    block = UnetBlock(ngf * 8, ngf * 8, innermost=True, **kw)
    for _ in range(num_downs - 5):
      block = UnetBlock(ngf * 8, ngf * 8, sub=block, dropout=True, **kw)
    for outer in (4, 2, 1):
      block = UnetBlock(ngf * outer, ngf * outer * 2, sub=block, **kw)
    self.model = UnetBlock(cout, ngf, input_nc=cin, sub=block, outermost=True, **kw)

  def forward(self, x):
    return self.model(x)


def nlayer_discriminator(cin, ndf, n_layers, norm):
  bias = norm == "instance"
  layers = [tnn.Conv2d(cin, ndf, 4, 2, 1), tnn.LeakyReLU(0.2, True)]
  for level in range(1, n_layers + 1):
    stride = 2 if level < n_layers else 1
    prev, now = ndf * min(2 ** (level - 1), 8), ndf * min(2**level, 8)
    layers += [tnn.Conv2d(prev, now, 4, stride, 1, bias=bias), _norm_layer(norm)(now),
               tnn.LeakyReLU(0.2, True)]  # fmt: skip
  layers.append(tnn.Conv2d(ndf * min(2**n_layers, 8), 1, 4, 1, 1))
  net = tnn.Module()
  net.model = tnn.Sequential(*layers)
  net.forward = lambda x: net.model(x)
  return net


class ResnetBlock(tnn.Module):
  def __init__(self, dim, norm, tracked):
    super().__init__()
    make_norm, bias = _norm_layer(norm, tracked), norm == "instance"
    self.conv_block = tnn.Sequential(
      tnn.ReflectionPad2d(1), tnn.Conv2d(dim, dim, 3, bias=bias), make_norm(dim), tnn.ReLU(True),
      tnn.ReflectionPad2d(1), tnn.Conv2d(dim, dim, 3, bias=bias), make_norm(dim),
    )  # fmt: skip

  def forward(self, x):
    return x + self.conv_block(x)


def resnet_generator(cin, cout, ngf, blocks, norm="instance", tracked=False):
  make_norm, bias = _norm_layer(norm, tracked), norm == "instance"
  layers = [tnn.ReflectionPad2d(3), tnn.Conv2d(cin, ngf, 7, bias=bias), make_norm(ngf),
            tnn.ReLU(True)]  # fmt: skip
  for mult in (1, 2):
    layers += [tnn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 1, bias=bias),
               make_norm(ngf * mult * 2), tnn.ReLU(True)]  # fmt: skip
  layers += [ResnetBlock(ngf * 4, norm, tracked) for _ in range(blocks)]
  for mult in (4, 2):
    up = tnn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, 2, 1, output_padding=1, bias=bias)
    layers += [up, make_norm(ngf * mult // 2), tnn.ReLU(True)]
  layers += [tnn.ReflectionPad2d(3), tnn.Conv2d(ngf, cout, 7), tnn.Tanh()]
  net = tnn.Module()
  net.model = tnn.Sequential(*layers)
  net.forward = lambda x: net.model(x)
  return net


def _randomise(net):
  """Random BatchNorm affine parameters and running statistics (PyTorch starts them at 1 / 0)."""
  generator = torch.Generator().manual_seed(0)
  for module in net.modules():
    if isinstance(module, (tnn.BatchNorm2d, tnn.InstanceNorm2d)):
      if module.weight is not None:
        module.weight.data = 1 + 0.3 * torch.randn(module.weight.shape, generator=generator)
        module.bias.data = 0.3 * torch.randn(module.bias.shape, generator=generator)
      if module.running_mean is not None:
        module.running_mean.data = 0.2 * torch.randn(module.running_mean.shape, generator=generator)
        module.running_var.data = 0.5 + torch.rand(module.running_var.shape, generator=generator)
  return net.eval()


def _state(net, prefix=""):
  return {prefix + k: v.detach().numpy() for k, v in net.state_dict().items()}


def _compare(flax_net, variables, torch_net, x, atol=2e-5):
  ours = flax_net.apply(variables, jnp.asarray(x), train=False)
  with torch.no_grad():
    theirs = torch_net(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
  theirs = theirs[:, 0] if theirs.shape[1] == 1 else theirs.transpose(0, 2, 3, 1)
  np.testing.assert_allclose(np.asarray(ours), theirs, atol=atol)


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_a_unet_state_dict_gives_the_references_outputs(norm):
  torch.manual_seed(0)
  reference = _randomise(UnetGenerator(3, 2, 6, 4, norm))
  net = pix2pix.UNetGenerator((64, 64, 2), num_downs=6, width=4, norm=norm)
  x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
  template = jax.tree.map(np.asarray, net.init(jax.random.key(0), jnp.asarray(x), train=False))
  state, dropped = junyanz.clean(_state(reference, "module."), norm)  # DataParallel's prefix.
  assert all(k.endswith("num_batches_tracked") for k in dropped)
  entries = junyanz.unet_entries(6, norm)
  variables = junyanz.import_variables(template, entries, state, "G.pth")
  _compare(net, variables, reference, x)
  exported = junyanz.export_state(variables, entries)
  assert set(exported) == set(state)
  again = junyanz.import_variables(template, entries, exported, "G.pth")
  jax.tree.map(np.testing.assert_array_equal, again, variables)  # Bit-exact round trip.


def test_instance_norm_running_statistics_are_dropped_as_the_reference_loader_does():
  """An older checkpoint (InstanceNorm with running statistics) imports with them dropped, and
  the outputs are the reference's with per-image statistics: what its test script computes after
  its loader pops the same keys. Using them instead changes the outputs."""
  torch.manual_seed(1)
  tracked = _randomise(resnet_generator(3, 3, 4, 2, "instance", tracked=True))
  per_image = resnet_generator(3, 3, 4, 2, "instance", tracked=False).eval()
  per_image.load_state_dict(
    {k: v for k, v in tracked.state_dict().items() if "running" not in k and "batches" not in k}
  )
  state, dropped = junyanz.clean(_state(tracked), "instance")
  assert len([k for k in dropped if k.endswith("running_mean")]) == 1 + 2 + 2 * 2 + 2
  net = cyclegan.ResnetGenerator((32, 32, 3), num_blocks=2, width=4)
  x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  template = jax.tree.map(np.asarray, net.init(jax.random.key(0), jnp.asarray(x), train=False))
  variables = junyanz.import_variables(template, junyanz.resnet_entries(2, "instance"), state, "G")
  _compare(net, variables, per_image, x)
  with torch.no_grad():
    inputs = torch.from_numpy(x.transpose(0, 3, 1, 2))
    assert (tracked(inputs) - per_image(inputs)).abs().max() > 1e-2  # They would matter.


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_patchgan_and_resnet_state_dicts_give_the_references_outputs(norm):
  torch.manual_seed(2)
  reference = _randomise(nlayer_discriminator(6, 4, 3, norm))
  net = pix2pix.PatchDiscriminator(width=4, norm=norm)
  x = np.random.default_rng(2).uniform(-1, 1, (2, 40, 40, 6)).astype(np.float32)
  template = jax.tree.map(np.asarray, net.init(jax.random.key(0), jnp.asarray(x), train=False))
  state, _ = junyanz.clean(_state(reference), norm)
  variables = junyanz.import_variables(template, junyanz.patchgan_entries(3, norm), state, "D")
  _compare(net, variables, reference, x)
  resnet = _randomise(resnet_generator(3, 3, 4, 3, norm))
  net = cyclegan.ResnetGenerator((32, 32, 3), num_blocks=3, width=4, norm=norm)
  x = np.random.default_rng(3).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  template = jax.tree.map(np.asarray, net.init(jax.random.key(0), jnp.asarray(x), train=False))
  state, _ = junyanz.clean(_state(resnet), norm)
  variables = junyanz.import_variables(template, junyanz.resnet_entries(3, norm), state, "G")
  _compare(net, variables, resnet, x)


def test_a_missing_key_a_wrong_shape_or_a_stray_key_is_named():
  reference = UnetGenerator(3, 3, 5, 4, "batch")
  net = pix2pix.UNetGenerator((32, 32, 3), num_downs=5, width=4)
  template = jax.tree.map(
    np.asarray, net.init(jax.random.key(0), jnp.zeros((1, 32, 32, 3)), train=False)
  )
  entries = junyanz.unet_entries(5, "batch")
  state, _ = junyanz.clean(_state(reference), "batch")
  missing = {k: v for k, v in state.items() if k != "model.model.3.bias"}
  with pytest.raises(errors.UsageError, match=r"G.pth: no 'model.model.3.bias'"):
    junyanz.import_variables(template, entries, missing, "G.pth")
  wrong = dict(state, **{"model.model.0.weight": np.zeros((8, 3, 4, 4), np.float32)})
  with pytest.raises(errors.UsageError, match=r"\(8, 3, 4, 4\), the network's is \(4, 3, 4, 4\)"):
    junyanz.import_variables(template, entries, wrong, "G.pth")
  stray = dict(state, **{"model.extra.weight": np.zeros(3, np.float32)})
  with pytest.raises(errors.UsageError, match="'model.extra.weight' .* has no place"):
    junyanz.import_variables(template, entries, stray, "G.pth")
