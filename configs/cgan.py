r"""Conditional GAN (Mirza & Osindero 2014): G(z, y) and D(x, y), labels from the data.

Two networks:
  * net=conv (default): the DCGAN of ``configs/dcgan.py`` with the one-hot label concatenated
    to z in G and given to D as ten constant input planes;
  * net=mlp: the paper's MNIST model: G: z -> 200 and y -> 1000 ReLU units, joined -> 1200 ->
    image; D: x -> 240 maxout units (5 pieces) and y -> 50 (5 pieces), joined -> 240 (4 pieces)
    -> logit.

``paper=true`` (implies net=mlp) is the paper's MNIST run (Sec. 4.1): 28x28 MNIST, z of 100 ~
U(0, 1) ("the unit hypercube"), a sigmoid output, dropout 0.5 in G and D, SGD on batches of 100
with lr 0.1 divided by 1.00004 per update down to 1e-6, momentum 0.5 rising to 0.7. The paper
publishes no code; where it is silent the preset follows goodfeli/adversarial's ``mnist.yaml``,
the code it builds on (``configs/gan.py:paper=true``), and says so here: D and G updated
simultaneously with D's loss halved (written as D's lr halved), weights U(-.05, .05) in G and
U(-.005, .005) in D, D's dropout on every layer's input (the image's included), G's on its
hidden layers, the momentum ramp over epochs 1-250. The paper stops at the best validation
log-likelihood; the preset stops after 250 epochs of the 60,000 training images (150,000
updates). As in ``configs/gan.py``, data are in [-1, 1] (the sigmoid is 2 sigmoid - 1).
``paper=true,dataset=digits`` is an offline smoke run.

Both use the non-saturating BCE loss. The evaluation judges 1,000 samples, 100 asked for each
digit, with the digits classifier: `digits_requested_class_frac1k` is the fraction classified as
the digit asked for; sample grids have one row per digit. Measured here (2-core CPU, net=conv,
2,000 steps at batch 64, 308 s of training): 98.5 % classified as the digit asked for (the worst
digit 93 %), Fréchet distance 25.0 on classifier features; at batch 128 (624 s) 98.6 %.

  gans-jax train --config configs/cgan.py
  gans-jax train --config configs/cgan.py:net=mlp,resolution=8
  gans-jax train --config configs/cgan.py:paper=true                  # tfds:mnist
  gans-jax train --config configs/cgan.py:dataset=tfds:mnist,resolution=32 --config.num_steps=20000

Variant arguments: paper, dataset, net (conv / mlp), resolution, channels, width, steps, batch,
classes.
"""

from gans_jax import config_schema, config_utils, fidelity

DEFAULTS = {"paper": False, "dataset": "digits", "net": "conv", "resolution": 32, "channels": 1,
            "width": 16, "steps": 2000, "batch": 64, "classes": 0}  # fmt: skip
UPDATES_PER_EPOCH = 600  # 60,000 MNIST training images at batch 100.
# paper=true; arguments given beside it still win.
PAPER = {"dataset": "tfds:mnist", "net": "mlp", "resolution": 28, "steps": 250 * UPDATES_PER_EPOCH,
         "batch": 100}  # fmt: skip


def get_config(arg=None):
  return fidelity.preset_config(arg, DEFAULTS, PAPER, _build, _declare_departures)


def _build(arg):
  """The config of the variant arguments ``arg``, without its declared departures."""
  if arg.net not in ("conv", "mlp"):
    raise config_utils.ConfigError(f"net must be conv or mlp, got {arg.net!r}.")
  config = config_schema.image_gan_config(
    arg, "gan", network="dcgan" if arg.net == "conv" else None
  )
  config_schema.set_classes(config, arg.classes)  # 0: the dataset's (a folder's subfolders).
  config.loss.name = "non_saturating"
  if arg.net == "conv":
    config.model.discriminator.conditioning = "input"
    config.augment.policy = "translation"  # As configs/dcgan.py, for the small digits set.
    config.augment.translation_ratio = 1 / 16
  else:
    _mirza_networks(config, paper=arg.paper)
  if arg.paper:  # Sec. 4.1's SGD; the rest as goodfeli/adversarial (module docstring).
    config_schema.pylearn2_sgd(config, 1.00004, UPDATES_PER_EPOCH)
  else:
    config.ema_decay = 0.999
    config.optim.g = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
    config.optim.d = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  return config


def _mirza_networks(config, paper: bool) -> None:
  """The paper's MNIST networks; without ``paper``, flax's initialisation, N(0, I) z, a tanh
  output and dropout in D only."""
  g, d = config.model.generator, config.model.discriminator
  g.name, g.hidden, g.label_hidden = "mlp", (200, 1200), 1000
  g.output_activation = "sigmoid" if paper else "tanh"
  g.dropout = 0.5 if paper else 0.0
  g.init_range = 0.05 if paper else 0.0
  d.name, d.hidden, d.maxout_pieces = "mlp", (240, 240), (5, 4)
  d.label_hidden, d.label_pieces = 50, 5
  d.dropout, d.output_dropout = 0.5, paper
  d.init_range = 0.005 if paper else 0.0
  config.model.latent_prior = "uniform_unit_cube" if paper else "normal"


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where the default (or net=mlp without paper) sets a field away from the paper preset."""
  small = "to train in minutes on 2 CPU cores (paper=true restores it)"
  adam = "Adam(2e-4, beta1 0.5) as DCGAN: trains on the digits in 2,000 steps; not measured vs SGD"
  conv = "the DCGAN of configs/dcgan.py made conditional: 98.5 % of samples classified as asked"
  reasons = {
    "dataset": "the embedded digits, offline",
    "data.resolution": "32x32 (the digits are 8x8), as configs/dcgan.py",
    "num_steps": small,
    "batch_size": "64, as configs/dcgan.py; not measured vs 100",
    "model.latent_prior": "z ~ N(0, I) as DCGAN codes; not measured vs U(0, 1)",
    "ema_decay": "samples of G's EMA (standing statistics), as configs/dcgan.py",
    "simultaneous_updates": "Algorithm 1's alternation; not measured",
    "augment.policy": "DiffAugment translation (Zhao et al. 2020), as configs/dcgan.py",
    "augment.translation_ratio": "1/16 of the image, as configs/dcgan.py",
    "cpu_convolutions": "the default width's faster convolutions (no effect on results)",
  }
  for role in ("generator", "discriminator"):
    reasons[f"model.{role}"] = conv
  if config.model.generator.name == "mlp":  # net=mlp without paper: field by field.
    del reasons["model.generator"], reasons["model.discriminator"]
    reasons["model.generator.output_activation"] = "tanh for the data's [-1, 1]; not measured"
    reasons["model.generator.dropout"] = "none in G; not measured"
    for role in ("generator", "discriminator"):
      reasons[f"model.{role}.init_range"] = "flax's LeCun-normal initialisation; not measured"
    reasons["model.discriminator.output_dropout"] = "none before the output unit; not measured"
  reasons["optim.g"] = reasons["optim.d"] = adam
  fidelity.depart_from(config, paper, reasons, beside_paper)
