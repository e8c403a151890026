r"""Conditional GAN (Mirza & Osindero 2014): G(z, y) and D(x, y), labels from the data.

Two networks:
  * net=conv (default): the DCGAN of ``configs/dcgan.py`` with the one-hot label concatenated
    to z in G and given to D as ten constant input planes;
  * net=mlp: the paper's MNIST model: G: z -> 200 and y -> 1000 ReLU units, joined -> 1200 ->
    image; D: x -> 240 maxout units (5 pieces) and y -> 50 (5 pieces), joined -> 240 (4 pieces)
    -> logit; dropout 0.5 on D's inputs. Departures: z ~ N(0, I) instead of U[0, 1]^100, a tanh
    output for data in [-1, 1] instead of a sigmoid for [0, 1], Adam instead of SGD with
    momentum (the paper's decaying-SGD schedule is tuned for 28x28 MNIST over hundreds of epochs).

Both use the non-saturating BCE loss. The evaluation judges 1,000 samples, 100 asked for each
digit, with the digits classifier: `digits_requested_class_frac1k` is the fraction classified as
the digit asked for; sample grids have one row per digit. Measured here (2-core CPU, net=conv,
2,000 steps at batch 64, 308 s of training): 98.5 % classified as the digit asked for (the worst
digit 93 %), Fréchet distance 25.0 on classifier features; at batch 128 (624 s) 98.6 %.

  gans-jax train --config configs/cgan.py
  gans-jax train --config configs/cgan.py:net=mlp,resolution=8
  gans-jax train --config configs/cgan.py:dataset=tfds:mnist,resolution=32 --config.num_steps=20000

Variant arguments: dataset, net (conv / mlp), resolution, channels, width, steps, batch, classes.
"""

from gans_jax import config_schema, config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(
    arg,
    dataset="digits",
    net="conv",
    resolution=32,
    channels=1,
    width=16,
    steps=2000,
    batch=64,
    classes=0,
  )
  config = config_schema.image_gan_config(
    arg, "gan", network="dcgan" if arg.net == "conv" else None
  )
  config_schema.set_classes(config, arg.classes)  # 0: the dataset's (a folder's subfolders).
  if arg.net == "conv":
    config.model.discriminator.conditioning = "input"
    config.augment.policy = "translation"  # As configs/dcgan.py, for the small digits set.
    config.augment.translation_ratio = 1 / 16
  elif arg.net == "mlp":
    config.model.generator.name = "mlp"
    config.model.generator.hidden = (200, 1200)
    config.model.generator.label_hidden = 1000
    config.model.discriminator.name = "mlp"
    config.model.discriminator.hidden = (240, 240)
    config.model.discriminator.maxout_pieces = (5, 4)
    config.model.discriminator.label_hidden = 50
    config.model.discriminator.label_pieces = 5
    config.model.discriminator.dropout = 0.5
  else:
    raise config_utils.ConfigError(f"net must be conv or mlp, got {arg.net!r}.")
  config.ema_decay = 0.999
  config.loss.name = "non_saturating"
  config.optim.g = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  config.optim.d = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  return config
