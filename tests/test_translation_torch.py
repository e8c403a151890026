"""The pix2pix and CycleGAN networks against PyTorch re-creations of the reference layouts
(junyanz/pytorch-CycleGAN-and-pix2pix): the same weights give the same outputs, which pins the
padding of every (transposed) convolution, the reflection padding, the skip order and the norms.

Weights map as a converter would: Conv2d [O, I, kh, kw] -> HWIO; ConvTranspose2d [I, O, kh, kw]
-> spatially flipped HWIO (lax.conv_transpose does not flip the kernel; PyTorch's transposed
convolution is the gradient of a convolution, which does).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax.models import cyclegan, pix2pix

torch = pytest.importorskip("torch")
tnn = torch.nn


def _conv(flax_params, module):
  weight = module.weight.detach().numpy()
  if isinstance(module, tnn.ConvTranspose2d):
    kernel = weight[:, :, ::-1, ::-1].transpose(2, 3, 0, 1)
  else:
    kernel = weight.transpose(2, 3, 1, 0)
  flax_params["kernel"] = jnp.asarray(np.ascontiguousarray(kernel))
  if module.bias is not None:
    flax_params["bias"] = jnp.asarray(module.bias.detach().numpy())


def _norm(flax_params, module):
  flax_params["scale"] = jnp.asarray(module.weight.detach().numpy())
  flax_params["bias"] = jnp.asarray(module.bias.detach().numpy())


class TorchUNet(tnn.Module):
  """The reference U-Net (UnetSkipConnectionBlock nesting) written level by level, BatchNorm."""

  def __init__(self, num_downs, ngf, cin, cout):
    super().__init__()
    chans = [ngf, 2 * ngf, 4 * ngf] + [8 * ngf] * (num_downs - 3)
    self.n = num_downs
    ins = [cin] + chans[:-1]
    self.down = tnn.ModuleList(
      tnn.Conv2d(ins[i], chans[i], 4, 2, 1, bias=False) for i in range(num_downs)
    )
    self.down_norm = tnn.ModuleList(tnn.BatchNorm2d(c) for c in chans)
    up_in = [2 * c for c in chans[:-1]] + [chans[-1]]
    up_out = [cout] + chans[:-1]
    self.up = tnn.ModuleList(
      tnn.ConvTranspose2d(up_in[i], up_out[i], 4, 2, 1, bias=(i == 0)) for i in range(num_downs)
    )
    self.up_norm = tnn.ModuleList(tnn.BatchNorm2d(c) for c in up_out)
    for norm in [*self.down_norm, *self.up_norm]:
      tnn.init.normal_(norm.weight, 1.0, 0.3)
      tnn.init.normal_(norm.bias, 0.0, 0.3)

  def forward(self, x):
    skips = []
    for i in range(self.n):
      if i:
        x = tnn.functional.leaky_relu(x, 0.2)
      x = self.down[i](x)
      if 0 < i < self.n - 1:
        x = self.down_norm[i](x)
      skips.append(x)
    for level in reversed(range(self.n)):
      if level < self.n - 1:
        x = torch.cat([skips[level], x], 1)
      x = self.up[level](torch.relu(x))
      if level == 0:
        return torch.tanh(x)
      x = self.up_norm[level](x)


def test_unet_matches_the_reference_layout():
  torch.manual_seed(0)
  reference = TorchUNet(5, 4, 3, 2).eval()
  flax_net = pix2pix.UNetGenerator((32, 32, 2), num_downs=5, width=4)
  x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  variables = flax_net.init(jax.random.PRNGKey(0), jnp.asarray(x), train=False)
  params = jax.tree.map(np.asarray, variables["params"])
  stats = jax.tree.map(np.asarray, variables["batch_stats"])
  for i in range(5):
    _conv(params[f"down{i}"], reference.down[i])
    _conv(params[f"up{i}"], reference.up[i])
    if 0 < i < 4:
      _norm(params[f"down{i}_norm"], reference.down_norm[i])
    if i:
      _norm(params[f"up{i}_norm"], reference.up_norm[i])
  ours = flax_net.apply({"params": params, "batch_stats": stats}, jnp.asarray(x), train=False)
  with torch.no_grad():
    theirs = reference(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
  np.testing.assert_allclose(ours, theirs, atol=2e-5)


def test_patchgan_matches_the_reference_layout():
  torch.manual_seed(1)
  layers = [tnn.Conv2d(6, 4, 4, 2, 1), tnn.LeakyReLU(0.2)]
  widths = [4, 8, 16, 32]
  for i in range(1, 4):
    layers += [
      tnn.Conv2d(widths[i - 1], widths[i], 4, 2 if i < 3 else 1, 1, bias=True),
      tnn.InstanceNorm2d(widths[i]),
      tnn.LeakyReLU(0.2),
    ]
  layers.append(tnn.Conv2d(32, 1, 4, 1, 1))
  reference = tnn.Sequential(*layers).eval()
  convs = [m for m in reference if isinstance(m, tnn.Conv2d)]
  flax_net = pix2pix.PatchDiscriminator(width=4, norm="instance")
  x = np.random.default_rng(1).uniform(-1, 1, (2, 40, 40, 6)).astype(np.float32)
  params = jax.tree.map(np.asarray, flax_net.init(jax.random.PRNGKey(0), jnp.asarray(x))["params"])
  for name, conv in zip(["conv0", "conv1", "conv2", "conv3", "logits"], convs, strict=True):
    _conv(params[name], conv)
  ours = flax_net.apply({"params": params}, jnp.asarray(x))
  with torch.no_grad():
    theirs = reference(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()[:, 0]
  assert ours.shape == theirs.shape == (2, 3, 3)
  np.testing.assert_allclose(ours, theirs, atol=2e-5)


def test_resnet_generator_matches_the_reference_layout():
  torch.manual_seed(2)
  norm = lambda c: tnn.InstanceNorm2d(c)
  stem = [tnn.ReflectionPad2d(3), tnn.Conv2d(3, 4, 7), norm(4), tnn.ReLU()]
  stem += [tnn.Conv2d(4, 8, 3, 2, 1), norm(8), tnn.ReLU(), tnn.Conv2d(8, 16, 3, 2, 1), norm(16)]
  stem += [tnn.ReLU()]
  block = [tnn.ReflectionPad2d(1), tnn.Conv2d(16, 16, 3), norm(16), tnn.ReLU()]
  block += [tnn.ReflectionPad2d(1), tnn.Conv2d(16, 16, 3), norm(16)]
  head = [tnn.ConvTranspose2d(16, 8, 3, 2, 1, output_padding=1), norm(8), tnn.ReLU()]
  head += [tnn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1), norm(4), tnn.ReLU()]
  head += [tnn.ReflectionPad2d(3), tnn.Conv2d(4, 3, 7), tnn.Tanh()]
  stem, block, head = (tnn.Sequential(*part).eval() for part in (stem, block, head))

  def reference(x):
    x = stem(x)
    return head(x + block(x))

  flax_net = cyclegan.ResnetGenerator((20, 20, 3), num_blocks=1, width=4)
  x = np.random.default_rng(2).uniform(-1, 1, (2, 20, 20, 3)).astype(np.float32)
  params = jax.tree.map(np.asarray, flax_net.init(jax.random.PRNGKey(0), jnp.asarray(x))["params"])
  ours_convs = ["stem", "Conv_0", "Conv_1", "block0_conv0", "block0_conv1", "ConvTranspose_0",
                "ConvTranspose_1", "head"]  # fmt: skip
  theirs_convs = [m for part in (stem, block, head) for m in part
                  if isinstance(m, (tnn.Conv2d, tnn.ConvTranspose2d))]  # fmt: skip
  for name, conv in zip(ours_convs, theirs_convs, strict=True):
    _conv(params[name], conv)
  ours = flax_net.apply({"params": params}, jnp.asarray(x))
  with torch.no_grad():
    theirs = reference(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
  np.testing.assert_allclose(ours, theirs, atol=2e-5)
