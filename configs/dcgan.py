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
  # width=64 is the paper's.
  gans-jax train --config configs/dcgan.py:resolution=64,channels=3,width=64
  gans-jax train --config configs/dcgan.py:dataset=tfds:mnist --config.num_steps=20000
  gans-jax train --config configs/dcgan.py:dataset=folder:/data/landscapes,resolution=128,kernel=5
  gans-jax describe --config configs/dcgan.py:resolution=64,channels=3,width=64

Variant arguments: dataset, resolution (32 / 64 / 128), channels (1 / 3), kernel (4, the
PyTorch reference layout, or 5, Bhavsar 2018's landscape variant), width (ngf = ndf), steps, batch.
"""

from gans_jax import config_schema, config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(
    arg, dataset="digits", resolution=32, channels=1, kernel=4, width=16, steps=2000, batch=128
  )
  config = config_schema.image_gan_config(arg, "gan")  # width: ngf = ndf.
  config.model.generator.kernel_size = arg.kernel
  config.model.discriminator.kernel_size = arg.kernel

  config.augment.policy = "translation"  # DiffAugment; see the module docstring.
  config.augment.translation_ratio = 1 / 16  # +-2 pixels at 32x32.
  config.ema_decay = 0.999

  config.loss.name = "non_saturating"  # The paper's (and every DCGAN code's) G loss.
  config.optim.g = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  config.optim.d = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  return config
