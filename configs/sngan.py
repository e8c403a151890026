r"""SN-GAN (Miyato, Kataoka, Koyama & Yoshida 2018): spectral normalisation of every D weight,
the hinge loss, the standard CNN of Table 3 at 32x32 (``gans_jax/models/sngan.py``), Adam(2e-4,
beta1 0, beta2 0.9), n_dis = 5 D updates per G update, batch 64, z of 128 ~ N(0, I), 100,000
G updates (the authors' chainer-gan-lib SN-GAN settings; the paper's Table 1 lists more).

  gans-jax train --config configs/sngan.py                      # embedded digits, 32x32
  gans-jax train --config configs/sngan.py:paper=true           # the paper's CIFAR-10 run
  gans-jax train --config configs/sngan.py:dataset=folder:/data/photos,channels=3,width=512

The digits default departs from the paper in size only, to train in minutes on 2 CPU cores:
width 128 (ch; the paper's 512) and 2,000 G updates. ``paper=true`` restores the paper's data
(``tfds:cifar10``, RGB), width and length.

Variant arguments: paper, dataset, channels, width (ch), steps, batch.
"""

from gans_jax import config_schema, config_utils, fidelity

DEFAULTS = {"paper": False, "dataset": "digits", "channels": 1, "width": 128, "steps": 2000,
            "batch": 64}  # fmt: skip
# paper=true: the paper's defaults; arguments given beside it still win.
PAPER = {"dataset": "tfds:cifar10", "channels": 3, "width": 512, "steps": 100_000}


def get_config(arg=None):
  arg = config_utils.parse_preset_arg(arg, DEFAULTS, PAPER)
  config = config_schema.base_config("sngan")
  config.dataset = arg.dataset
  config.num_steps = arg.steps
  config.batch_size = arg.batch
  config.d_steps = 5  # n_dis.
  config.data.resolution = 32
  config.data.channels = arg.channels
  config.model.latent_dim = 128
  config.model.generator.width = arg.width
  config.model.discriminator.width = arg.width
  config.loss.name = "hinge"  # Miyato et al. 2018, Eq. 16-17 (Lim & Ye 2017).
  config.optim.g = config_schema.optimizer_config("adam", 2e-4, b1=0.0, b2=0.9)
  config.optim.d = config_schema.optimizer_config("adam", 2e-4, b1=0.0, b2=0.9)
  config.checkpoint_every_steps = 500
  config.sample_every_steps = 250
  small = "to train in minutes on 2 CPU cores (paper=true restores it)"
  fidelity.depart(config, "dataset", PAPER["dataset"], "the embedded digits, offline")
  fidelity.depart(config, "data.channels", PAPER["channels"], "the digits are grey")
  for role in ("generator", "discriminator"):
    fidelity.depart(config, f"model.{role}.width", PAPER["width"], f"ch, {small}")
  fidelity.depart(config, "num_steps", PAPER["steps"], small)
  return config
