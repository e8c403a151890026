"""PyTorch re-creations of the benchmarked train steps (for ``benchmarks/compare_pytorch.py``).

The networks follow the PyTorch DCGAN example and junyanz/pytorch-CycleGAN-and-pix2pix
(``unet_256`` with BatchNorm and dropout, the ``basic`` 70x70 PatchGAN), which gans_jax's
networks reproduce layer for layer (tests/test_translation_torch.py pins the pix2pix layouts).
Each step does the work gans_jax's step does, in the same order:

- DCGAN: D on a real batch and on G(z1) (no gradient to G), BCE with logits, Adam; then G's
  non-saturating loss on D(G(z2)) with fresh z2, gradients for G only (D's weight gradients are
  not computed, as ``jax.grad`` with respect to G's parameters does not compute them);
- pix2pix: G(a) once; D on (a, G(a)) detached and on (a, b); then G's GAN + 100 L1 loss
  through the same G(a) (the reference's ``optimize_parameters``).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
  for parameter in module.parameters():
    parameter.requires_grad_(flag)


class DCGANGenerator(nn.Sequential):
  """z [B, nz, 1, 1] -> [B, nc, R, R]: 4x4 transposed convolutions, BatchNorm, ReLU, tanh."""

  def __init__(self, resolution: int, ngf: int, nc: int, nz: int = 100):
    num_up = int(math.log2(resolution // 4))
    features = ngf * 2 ** (num_up - 1)
    layers = [nn.ConvTranspose2d(nz, features, 4, 1, 0, bias=False)]
    layers += [nn.BatchNorm2d(features), nn.ReLU(True)]
    for _ in range(1, num_up):
      layers += [nn.ConvTranspose2d(features, features // 2, 4, 2, 1, bias=False)]
      features //= 2
      layers += [nn.BatchNorm2d(features), nn.ReLU(True)]
    layers += [nn.ConvTranspose2d(features, nc, 4, 2, 1, bias=False), nn.Tanh()]
    super().__init__(*layers)


class DCGANDiscriminator(nn.Sequential):
  """[B, nc, R, R] -> logits [B]: strided 4x4 convolutions, BatchNorm (not on the input layer),
  LeakyReLU(0.2), a 4x4 valid convolution head."""

  def __init__(self, resolution: int, ndf: int, nc: int):
    num_down = int(math.log2(resolution // 4))
    layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    features = ndf
    for _ in range(1, num_down):
      layers += [nn.Conv2d(features, features * 2, 4, 2, 1, bias=False)]
      features *= 2
      layers += [nn.BatchNorm2d(features), nn.LeakyReLU(0.2, True)]
    layers += [nn.Conv2d(features, 1, 4, 1, 0, bias=False), nn.Flatten(0)]
    super().__init__(*layers)


class UNet(nn.Module):
  """The reference ``unet_256`` (num_downs = 8) written level by level: BatchNorm, dropout 0.5 in
  the three ngf*8 decoder blocks next to the innermost one."""

  def __init__(self, num_downs: int = 8, ngf: int = 64, cin: int = 3, cout: int = 3):
    super().__init__()
    widths = [ngf, 2 * ngf, 4 * ngf] + [8 * ngf] * (num_downs - 3)
    self.levels = num_downs
    ins = [cin] + widths[:-1]
    self.down = nn.ModuleList(
      nn.Conv2d(ins[i], widths[i], 4, 2, 1, bias=False) for i in range(num_downs)
    )
    # No norm on the outermost down path, the innermost down path or the output.
    self.down_norm = nn.ModuleDict(
      {str(i): nn.BatchNorm2d(widths[i]) for i in range(1, num_downs - 1)}
    )
    up_in = [2 * w for w in widths[:-1]] + [widths[-1]]
    up_out = [cout] + widths[:-1]
    self.up = nn.ModuleList(
      nn.ConvTranspose2d(up_in[i], up_out[i], 4, 2, 1, bias=(i == 0)) for i in range(num_downs)
    )
    self.up_norm = nn.ModuleDict({str(i): nn.BatchNorm2d(up_out[i]) for i in range(1, num_downs)})
    self.dropout_levels = set(range(num_downs - 4, num_downs - 1))  # 3 blocks for unet_256.
    self.dropout = nn.Dropout(0.5)

  def forward(self, x):
    skips = []
    for i in range(self.levels):
      if i:
        x = nn.functional.leaky_relu(x, 0.2)
      x = self.down[i](x)
      if 0 < i < self.levels - 1:
        x = self.down_norm[str(i)](x)
      skips.append(x)
    for level in reversed(range(self.levels)):
      if level < self.levels - 1:
        x = torch.cat([skips[level], x], 1)
      x = self.up[level](torch.relu(x))
      if level == 0:
        return torch.tanh(x)
      x = self.up_norm[str(level)](x)
      if level in self.dropout_levels:
        x = self.dropout(x)
    raise AssertionError("unreachable")


class PatchGAN(nn.Sequential):
  """The reference ``basic`` D (n_layers = 3, BatchNorm): 70x70 receptive fields."""

  def __init__(self, cin: int = 6, ndf: int = 64):
    layers = [nn.Conv2d(cin, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    features = ndf
    for i, stride in ((1, 2), (2, 2), (3, 1)):
      out = ndf * min(2**i, 8)
      layers += [nn.Conv2d(features, out, 4, stride, 1, bias=False), nn.BatchNorm2d(out)]
      layers += [nn.LeakyReLU(0.2, True)]
      features = out
    layers += [nn.Conv2d(features, 1, 4, 1, 1)]
    super().__init__(*layers)


def _descend(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
  """One optimizer step on ``loss``'s gradients (freshly computed)."""
  optimizer.zero_grad(set_to_none=True)
  loss.backward()
  optimizer.step()


def _adam(module: nn.Module):
  return torch.optim.Adam(module.parameters(), lr=2e-4, betas=(0.5, 0.999))


def dcgan_step(resolution: int, batch: int, width: int = 64, channels: int = 3, nz: int = 100):
  """A callable doing one DCGAN train step (k = 1) on a fixed random real batch."""
  g, d = (
    DCGANGenerator(resolution, width, channels, nz),
    DCGANDiscriminator(resolution, width, channels),
  )
  g_opt, d_opt = _adam(g), _adam(d)
  bce = nn.BCEWithLogitsLoss()
  real = torch.rand(batch, channels, resolution, resolution) * 2 - 1
  ones, zeros = torch.ones(batch), torch.zeros(batch)

  def step():
    with torch.no_grad():
      fake = g(torch.randn(batch, nz, 1, 1))
    d_loss = bce(d(real), ones) + bce(d(fake), zeros)
    _descend(d_opt, d_loss)
    _set_requires_grad(d, False)
    g_loss = bce(d(g(torch.randn(batch, nz, 1, 1))), ones)
    _descend(g_opt, g_loss)
    _set_requires_grad(d, True)
    return d_loss.item() + g_loss.item()

  return step


def pix2pix_step(resolution: int = 256, batch: int = 1, width: int = 64):
  """A callable doing one pix2pix train step (unet_256, PatchGAN, GAN + 100 L1)."""
  g, d = UNet(int(math.log2(resolution)), width), PatchGAN(6, width)
  g_opt, d_opt = _adam(g), _adam(d)
  bce, l1 = nn.BCEWithLogitsLoss(), nn.L1Loss()
  a = torch.rand(batch, 3, resolution, resolution) * 2 - 1
  b = torch.rand(batch, 3, resolution, resolution) * 2 - 1

  def step():
    fake = g(a)
    pred_fake = d(torch.cat([a, fake.detach()], 1))
    pred_real = d(torch.cat([a, b], 1))
    d_loss = 0.5 * (
      bce(pred_fake, torch.zeros_like(pred_fake)) + bce(pred_real, torch.ones_like(pred_real))
    )
    _descend(d_opt, d_loss)
    _set_requires_grad(d, False)
    pred = d(torch.cat([a, fake], 1))
    g_loss = bce(pred, torch.ones_like(pred)) + 100.0 * l1(fake, b)
    _descend(g_opt, g_loss)
    _set_requires_grad(d, True)
    return d_loss.item() + g_loss.item()

  return step
