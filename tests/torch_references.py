"""PyTorch re-creations of the reference codebases' networks, written with their attribute names
so that every state-dict key is theirs: junyanz/pytorch-CycleGAN-and-pix2pix's ``models/
networks.py`` (U-Net, PatchGAN, ResNet generator) and the PyTorch examples' ``dcgan/main.py``
(``Generator``, ``Discriminator``). Tests import this module after ``pytest.importorskip``."""

import torch

tnn = torch.nn


def norm_layer(norm: str, tracked: bool = False):
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
    make_norm = norm_layer(norm, tracked)
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
  def __init__(self, cin, cout, num_downs, ngf, norm="batch", tracked=False, use_dropout=True):
    super().__init__()
    kw = dict(norm=norm, tracked=tracked)
    block = UnetBlock(ngf * 8, ngf * 8, innermost=True, **kw)
    for _ in range(num_downs - 5):
      block = UnetBlock(ngf * 8, ngf * 8, sub=block, dropout=use_dropout, **kw)
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
    layers += [tnn.Conv2d(prev, now, 4, stride, 1, bias=bias), norm_layer(norm)(now),
               tnn.LeakyReLU(0.2, True)]  # fmt: skip
  layers.append(tnn.Conv2d(ndf * min(2**n_layers, 8), 1, 4, 1, 1))
  net = tnn.Module()
  net.model = tnn.Sequential(*layers)
  net.forward = lambda x: net.model(x)
  return net


class ResnetBlock(tnn.Module):
  def __init__(self, dim, norm, tracked):
    super().__init__()
    make_norm, bias = norm_layer(norm, tracked), norm == "instance"
    self.conv_block = tnn.Sequential(
      tnn.ReflectionPad2d(1), tnn.Conv2d(dim, dim, 3, bias=bias), make_norm(dim), tnn.ReLU(True),
      tnn.ReflectionPad2d(1), tnn.Conv2d(dim, dim, 3, bias=bias), make_norm(dim),
    )  # fmt: skip

  def forward(self, x):
    return x + self.conv_block(x)


def resnet_generator(cin, cout, ngf, blocks, norm="instance", tracked=False):
  make_norm, bias = norm_layer(norm, tracked), norm == "instance"
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


def dcgan_generator(nz, ngf, nc, num_up=4):
  """The example's ``Generator`` (64x64 at ``num_up`` = 4) as ``main`` Sequential."""
  widths = [ngf * 2 ** (num_up - 1 - i) for i in range(num_up)]
  layers = [tnn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False), tnn.BatchNorm2d(widths[0]),
            tnn.ReLU(True)]  # fmt: skip
  for now, nxt in zip(widths, widths[1:], strict=False):
    layers += [tnn.ConvTranspose2d(now, nxt, 4, 2, 1, bias=False), tnn.BatchNorm2d(nxt),
               tnn.ReLU(True)]  # fmt: skip
  layers += [tnn.ConvTranspose2d(widths[-1], nc, 4, 2, 1, bias=False), tnn.Tanh()]
  net = tnn.Module()
  net.main = tnn.Sequential(*layers)
  net.forward = lambda z: net.main(z)
  return net


def dcgan_discriminator(nc, ndf, num_down=4, sigmoid=True):
  """The example's ``Discriminator`` as ``main`` Sequential (``sigmoid=False``: its logit)."""
  layers = [tnn.Conv2d(nc, ndf, 4, 2, 1, bias=False), tnn.LeakyReLU(0.2, True)]
  for level in range(1, num_down):
    now = ndf * 2**level
    layers += [tnn.Conv2d(now // 2, now, 4, 2, 1, bias=False), tnn.BatchNorm2d(now),
               tnn.LeakyReLU(0.2, True)]  # fmt: skip
  layers += [tnn.Conv2d(ndf * 2 ** (num_down - 1), 1, 4, 1, 0, bias=False)]
  layers += [tnn.Sigmoid()] if sigmoid else []
  net = tnn.Module()
  net.main = tnn.Sequential(*layers)
  net.forward = lambda x: net.main(x)
  return net


def randomise(net, seed=0):
  """Random BatchNorm affine parameters and running statistics (PyTorch starts them at 1 / 0),
  then eval mode."""
  generator = torch.Generator().manual_seed(seed)
  for module in net.modules():
    if isinstance(module, (tnn.BatchNorm2d, tnn.InstanceNorm2d)):
      if module.weight is not None:
        module.weight.data = 1 + 0.3 * torch.randn(module.weight.shape, generator=generator)
        module.bias.data = 0.3 * torch.randn(module.bias.shape, generator=generator)
      if module.running_mean is not None:
        module.running_mean.data = 0.2 * torch.randn(module.running_mean.shape, generator=generator)
        module.running_var.data = 0.5 + torch.rand(module.running_var.shape, generator=generator)
  return net.eval()
