r"""Vanilla GAN (Goodfellow et al. 2014): MLP generator, MLP or maxout discriminator.

The 2-D datasets are the mode-coverage benchmarks of VEEGAN (Srivastava 2017) and PacGAN (Lin
2018): `ring8` (8 Gaussians on a circle of radius 2, sigma 0.02) and `grid25` (5x5 grid, spacing
2, sigma 0.05). Their networks follow PacGAN's: G with four ReLU layers of 400 units, D with three
maxout layers of 200 units and 5 pieces, Adam(beta1=0.8), batch 100, 2-D z, and D packing two
samples (PacGAN2). PacGAN trains for 400 epochs of 100k points (400k steps); to cover the ring in
the few minutes this config gets on a CPU it departs from PacGAN in three measured ways:
  * learning rate 1e-3 instead of 1e-4;
  * no BatchNorm in G: BatchNorm cancels each layer's bias, so at initialisation G is positively
    homogeneous in z about the batch mean and its samples spread along rays; the rays persisted
    for thousands of steps (3/8 modes after 4,000 steps with BatchNorm, 8/8 without);
  * samples come from an EMA of G's parameters (decay 0.995), which damps the oscillation between
    mode sets that plain GAN training shows on these mixtures.
Without packing (`pack=1`), the same settings collapse onto one or two modes of the ring.

``paper=true`` is the paper's MNIST model as goodfeli/adversarial's ``mnist.yaml`` trains it:
the first 50,000 MNIST training images at 28x28; z of 100 ~ U(-sqrt 3, sqrt 3) (the code's
"uniform" noise); G 1200-1200 ReLU units and a sigmoid output, weights U(-.05, .05); D two
maxout layers of 240 units x 5 pieces and a sigmoid unit, weights U(-.005, .005), dropout on
every layer's input (0.2 on the image, 0.5 elsewhere); batch 100; SGD with lr 0.1 divided by
1.000004 after every update down to 1e-6, momentum 0.5 rising to 0.7 over epochs 1-250 of 500
updates. Where the code differs from the paper's Algorithm 1, the preset follows the code:
  * D and G are updated simultaneously from one gradient evaluation (``simultaneous_updates``);
  * D's loss is halved (0.5 (BCE real + BCE fake)); under SGD with momentum that is D's learning
    rate and floor halved, which is how the preset writes it (0.05, 5e-7);
  * G minimises -log D(G(z)) (the code's ``AdversaryCost2``), through D with dropout.
What the preset does not reproduce: the data is in [-1, 1] here, so G's sigmoid is written
2 sigmoid - 1 and D sees the image scaled by 2 and shifted (an affine change of D's first
layer); G's output bias starts at 0 instead of the logits of the pixel marginals (the networks
are initialised before any data is read); the code's G and D share one draw of z and of D's
dropout masks per update, the preset draws them per update of each network. The yaml has no
termination criterion; the preset stops after 250 epochs (125,000 updates), where the momentum
ramp ends. ``paper=true,dataset=digits`` is an offline smoke run.

  gans-jax train --config configs/gan.py:dataset=ring8
  gans-jax train --config configs/gan.py:dataset=grid25
  gans-jax train --config configs/gan.py:dataset=digits          # 8x8 digits, flattened
  gans-jax train --config configs/gan.py:dataset=ring8,loss=minimax,d_steps=4
  gans-jax train --config configs/gan.py:paper=true               # tfds:mnist

Variant arguments: paper, dataset, loss (see gans_jax.losses), d_steps (k of Algorithm 1), maxout
(False gives a plain ReLU MLP discriminator), pack (PacGAN packing; 1 is Goodfellow's D), steps,
batch.
"""

from gans_jax import config_schema, fidelity

DEFAULTS = {"paper": False, "dataset": "ring8", "loss": "non_saturating", "d_steps": 1,
            "maxout": True, "pack": 0, "steps": 0, "batch": 100}  # fmt: skip
# paper=true: mnist.yaml's data (MNIST training images 0-49,999) and a length; arguments given
# beside it still win.
PAPER = {"dataset": "tfds:mnist[:50000]", "steps": 125_000}
UPDATES_PER_EPOCH = 500  # 50,000 images at batch 100.


def get_config(arg=None):
  return fidelity.preset_config(arg, DEFAULTS, PAPER, _build, _declare_departures)


def _build(arg):
  """The config of the variant arguments ``arg``, without its declared departures."""
  config = config_schema.base_config("gan")
  config.dataset = arg.dataset
  config.batch_size = arg.batch
  config.d_steps = arg.d_steps
  config.loss.name = arg.loss
  config.data.channels = 1
  config.checkpoint_every_steps = 1000
  config.sample_every_steps = 1000
  config.log_every_steps = 200
  if arg.paper:
    _goodfellow_mnist(config, arg)
  else:
    _pacgan_or_digits(config, arg)
  return config


def _goodfellow_mnist(config, arg) -> None:
  """goodfeli/adversarial's mnist.yaml (see the module docstring)."""
  config.num_steps = arg.steps
  config.data.resolution = 28
  config.model.latent_dim = 100
  config.model.latent_prior = "uniform_unit_variance"
  g, d = config.model.generator, config.model.discriminator
  g.name, g.hidden, g.output_activation, g.batch_norm = "mlp", (1200, 1200), "sigmoid", False
  g.init_range, g.dropout = 0.05, 0.0
  d.name, d.hidden, d.maxout_pieces, d.pack = (
    "mlp",
    (240, 240),
    5 if arg.maxout else 0,
    arg.pack or 1,
  )
  d.init_range, d.dropout, d.input_dropout, d.output_dropout = 0.005, 0.5, 0.2, True
  config_schema.pylearn2_sgd(config, 1.000004, UPDATES_PER_EPOCH)
  config.ema_decay = 0.0


def _pacgan_or_digits(config, arg) -> None:
  """PacGAN's 2-D networks, or a small MLP pair for the 8x8 digits (module docstring)."""
  points = arg.dataset in ("ring8", "grid25")
  config.num_steps = arg.steps or 5000
  config.data.resolution = 8  # digits only: the scans' own 8x8.
  config.model.latent_dim = 2 if points else 64
  g, d = config.model.generator, config.model.discriminator
  g.name = "mlp"
  g.hidden = (400, 400, 400, 400) if points else (256, 256)
  g.output_activation = "linear" if points else "tanh"
  g.batch_norm = False  # See the module docstring.
  g.init_range, g.dropout = 0.0, 0.0
  d.name = "mlp"
  d.hidden = (200, 200, 200) if points else (256, 256)
  d.maxout_pieces = 5 if arg.maxout else 0  # 0: ReLU units.
  d.dropout = 0.0 if points else 0.5  # Goodfellow's MNIST D had it.
  d.input_dropout, d.output_dropout, d.init_range = None, False, 0.0
  d.pack = arg.pack or (2 if points else 1)
  learning_rate = 1e-3 if points else 1e-4
  config.optim.g = config_schema.optimizer_config("adam", learning_rate, b1=0.8)
  config.optim.d = config_schema.optimizer_config("adam", learning_rate, b1=0.8)
  config.ema_decay = 0.995 if points else 0.0
  config.eval_num_samples = 2500  # PacGAN's protocol draws 2,500 points.


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where the default (PacGAN's 2-D benchmark, or the 8x8 digits) sets a field away from the
  paper preset ``paper``, and why; under ``paper=true`` a field is away only where a variant
  argument beside it says so."""
  pacgan = "PacGAN's 2-D mode-coverage setting (Lin et al. 2018), or a small digits MLP"
  reasons = {
    "dataset": "the 2-D mode-coverage benchmark (VEEGAN, PacGAN), offline",
    "num_steps": "5,000 updates: a few minutes on 2 CPU cores",
    "data.resolution": "the digits' own 8x8 (unused by the 2-D points)",
    "model.latent_dim": pacgan,
    "model.latent_prior": "z ~ N(0, I), as PacGAN; not measured against U(-sqrt 3, sqrt 3)",
    "model.generator.hidden": pacgan,
    "model.generator.output_activation": "unbounded points (tanh for the digits)",
    "model.generator.init_range": "flax's LeCun-normal initialisation; not measured",
    "model.discriminator.hidden": pacgan,
    "model.discriminator.dropout": "none on the 2-D points (PacGAN's D has none)",
    "model.discriminator.input_dropout": "the hidden rate on the input too; not measured",
    "model.discriminator.output_dropout": "none before the output unit; not measured",
    "model.discriminator.init_range": "flax's LeCun-normal initialisation; not measured",
    "model.discriminator.pack": "PacGAN2 on the 2-D points: without packing the same settings "
    "cover 1-2 of ring8's 8 modes",
    "simultaneous_updates": "Algorithm 1's alternation, as PacGAN; not measured",
    "ema_decay": "samples of G's EMA (decay 0.995) damp the oscillation between mode sets",
    "eval_num_samples": "PacGAN's protocol draws 2,500 points",
  }
  optimizer = "Adam(beta1 0.8) as PacGAN, lr 1e-3 (PacGAN's 1e-4 covers the ring too slowly for "
  optimizer += "a CPU run; 1e-4 on the digits)"
  reasons["optim.g"] = reasons["optim.d"] = optimizer
  fidelity.depart_from(config, paper, reasons, beside_paper)
