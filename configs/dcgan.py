r"""DCGAN (Radford, Metz & Chintala 2016) -- the default config: trains on the embedded digits.

Paper layout: transposed-conv generator with BatchNorm + ReLU and a tanh output, strided-conv
discriminator with LeakyReLU(0.2), no BatchNorm on D's input or G's output, N(0, 0.02) weights,
Adam(2e-4, beta1=0.5), batch 128 (the paper's; the PyTorch example uses 64).

Two additions for the small embedded dataset (1,437 training digits), both switchable:
  * DiffAugment translation (Zhao et al. 2020) of D's inputs by up to 1/16 of the image size,
    so D cannot memorise the few real images: measured over 2,000 steps it lowers the Fréchet
    distance on classifier features from 59 to 38-42 and gives recognisable digits from step 500;
    `--config.augment.policy=` turns it off;
  * samples from an EMA of G's parameters (decay 0.999; `--config.ema_decay=0` turns it off).

  gans-jax train                                   # this file, all defaults (digits, 32x32)
  # The default width 16 (ngf = ndf) keeps the default run to a few minutes on 2 CPU cores;
  # the paper's code uses 128 (64 is the PyTorch example's).
  gans-jax train --config configs/dcgan.py:resolution=64,channels=3,width=64
  gans-jax train --config configs/dcgan.py:paper=true
  gans-jax train --config configs/dcgan.py:dataset=tfds:mnist --config.num_steps=20000
  gans-jax train --config configs/dcgan.py:dataset=folder:/data/landscapes,resolution=128,kernel=5
  gans-jax describe --config configs/dcgan.py:resolution=64,channels=3,width=64

``paper=true`` is the paper as its code (Newmu/dcgan_code) trains it: 64x64 RGB LSUN bedrooms,
ngf = ndf = 128, 5x5 kernels, z ~ U(-1, 1), Adam(2e-4, beta1 0.5) with an L2 penalty of 1e-5,
batch 128, 5 epochs, no augmentation, no EMA. ``gans-jax describe`` lists the default's
departures from it; ``paper=true,dataset=digits,channels=1`` is an offline smoke run.

Variant arguments: paper, dataset, resolution (32 / 64 / 128), channels (1 / 3), kernel (4, the
PyTorch reference layout, or 5, Newmu's and Bhavsar 2018's), width (ngf = ndf), steps, batch.
"""

from gans_jax import config_schema, config_utils, fidelity

DEFAULTS = {"paper": False, "dataset": "digits", "resolution": 32, "channels": 1, "kernel": 4,
            "width": 16, "steps": 2000, "batch": 128}  # fmt: skip
# paper=true: Radford et al. 2016 as Newmu/dcgan_code trains it (64x64 RGB, ngf = ndf = 128,
# 5x5 kernels) on LSUN bedrooms for 5 epochs (3,033,042 images at batch 128: 118,479 updates
# of each network, the paper's Fig. 3); arguments given beside it still win.
PAPER = {"dataset": "tfds:lsun/bedroom", "resolution": 64, "channels": 3, "kernel": 5,
         "width": 128, "steps": 118_479}  # fmt: skip


def get_config(arg=None):
  arg = config_utils.parse_preset_arg(arg, DEFAULTS, PAPER)
  paper = arg.paper
  config = config_schema.image_gan_config(arg, "gan")  # width: ngf = ndf.
  config.model.generator.kernel_size = arg.kernel
  config.model.discriminator.kernel_size = arg.kernel
  # Newmu's code normalises the 5x5 layout's 4x4 projection per unit (no effect at kernel 4).
  config.model.generator.projection_norm = "unit" if paper else "channel"
  config.augment.translation_ratio = 1 / 16  # +-2 pixels at 32x32 (with augment.policy).
  config.loss.name = "non_saturating"  # The paper's (and every DCGAN code's) G loss.
  # Newmu's code: z ~ U(-1, 1) and an L2 penalty of 1e-5 on every weight, in both updates.
  weight_decay = 1e-5 if paper else 0.0
  config.optim.g = config_schema.optimizer_config("adam", 2e-4, b1=0.5, weight_decay=weight_decay)
  config.optim.d = config_schema.optimizer_config("adam", 2e-4, b1=0.5, weight_decay=weight_decay)
  if not paper:
    config.augment.policy = "translation"  # DiffAugment; see the module docstring.
    config.ema_decay = 0.999
  else:
    config.model.latent_prior = "uniform"
  _declare_departures(config)
  return config


def _declare_departures(config) -> None:
  """Where the digits default sets a field away from the paper preset, and why."""
  depart = lambda field, why: fidelity.depart(config, field, _PAPER_VALUES[field], why)  # noqa: E731
  minutes = "to train in minutes on 2 CPU cores (paper=true restores it)"
  depart("dataset", "the embedded digits, offline")
  depart("data.resolution", "the digits are 8x8; 32x32 keeps the run short")
  depart("data.channels", "the digits are grey")
  depart("num_steps", minutes)
  for role in ("generator", "discriminator"):
    depart(f"model.{role}.width", minutes)
    depart(f"model.{role}.kernel_size", "the PyTorch example's 4x4 layout (README Fidelity)")
  depart(
    "augment.policy",
    "DiffAugment translation (Zhao et al. 2020) for 1,437 training digits: Frechet distance "
    "59 -> 38-42 over 2,000 steps",
  )
  depart(
    "ema_decay",
    "samples of G's EMA (standing statistics): on the default run's last checkpoint Frechet "
    "29.98 -> 28.95, 81.4 % recognised either way (one seed)",
  )
  depart(
    "model.generator.projection_norm",
    "per channel, as DCGAN-tensorflow; no effect with 4x4 kernels (no projection)",
  )
  depart("model.latent_prior", "z ~ N(0, I) as the PyTorch example (README Fidelity)")
  for role in ("g", "d"):
    depart(f"optim.{role}.weight_decay", "none in the PyTorch example (README Fidelity)")


_PAPER_VALUES = {
  "dataset": PAPER["dataset"],
  "data.resolution": PAPER["resolution"],
  "data.channels": PAPER["channels"],
  "num_steps": PAPER["steps"],
  "model.generator.width": PAPER["width"],
  "model.discriminator.width": PAPER["width"],
  "model.generator.kernel_size": PAPER["kernel"],
  "model.discriminator.kernel_size": PAPER["kernel"],
  "augment.policy": "",
  "ema_decay": 0.0,
  "model.generator.projection_norm": "unit",
  "model.latent_prior": "uniform",
  "optim.g.weight_decay": 1e-5,
  "optim.d.weight_decay": 1e-5,
}
