r"""Vanilla GAN (Goodfellow et al. 2014): MLP generator, MLP or maxout discriminator.

The 2-D datasets are the mode-coverage benchmarks of VEEGAN (Srivastava 2017) and PacGAN (Lin
2018): `ring8` (8 Gaussians on a circle of radius 2, sigma 0.02), `ring8_pacgan` (the same ring
at half the scale, as PacGAN's code has it) and `grid25` (5x5 grid, spacing 2, sigma 0.05).

``paper=true,dataset=ring8|grid25`` is PacGAN's Table 1 as its code (fjxmlzn/PacGAN,
synthetic_data_experiments) trains it: PacGAN's ring (``ring8`` becomes ``ring8_pacgan``) or
grid, 100,000 training points; G with four ReLU layers of 400 units, each after BatchNorm
(running statistics updated at rate 0.05, epsilon 1e-4; the samples use them), a linear output,
2-D z ~ N(0, I); D with three maxout layers of 200 units x 5 pieces and a linear output unit,
no dropout; every weight N(0, 0.02^2), biases 0; D judges ``pack`` samples at once (``pack=1``
is the table's "GAN" row, 2-4 its PacGAN rows; 2 when not given) in minibatches of 100 packs
(100 x pack samples); Adam(1e-4, beta1 0.8) for both networks, updated simultaneously from one
gradient evaluation (ALI's ``ali_algorithm``); the non-saturating G loss; 400 epochs of 1,000
updates; modes covered, high quality and reverse KL of 2,500 samples (``metrics.modes2d``)
after every epoch. Not reproduced: the code's G runs once per pack slot, so BatchNorm's batch
statistics are over 100 samples each, where here G runs once on all 100 x pack; D's and G's
updates here draw their own z (the code's share one draw); the code's dataset holds 100,000
packs, here 100,000 points that the packs are drawn from.

The default on the 2-D points keeps PacGAN's networks, packing 2 and Adam(beta1 0.8), and departs
where a CPU budget needs it (each departure declared; ``gans-jax describe``), measured on the grid
(seed 0, 2,500 samples; README "Results" for 5 seeds):
  * the learning rate starts at 1e-3 and falls linearly to 0 over the run (25,000 updates on the
    grid, 5,000 on the ring): 25/25 modes and 89 % high quality after 25,000 updates (seed 0;
    over 5 seeds 24.6 modes, 85.9 %, reverse KL 0.06), where a
    constant 1e-3 stays at 9/25 and 4 % (10,000 updates), PacGAN's constant 1e-4 (its preset)
    reaches 25/25 but 36 % after 20,000, and a constant first 5,000 then the fall 83 %;
  * no BatchNorm in G: with the same falling rate from 5e-4, BatchNorm gave 21/25 and 51 % after
    20,000 updates against 25/25 and 65 % without it (falling from 1e-3 over the second half);
    on the ring BatchNorm's rays persisted for thousands of steps (3/8 modes after 4,000);
  * minibatches of 100 samples (50 packs) instead of 100 packs: half the step time. With 25
    packs (``pack=4`` at the same batch) the grid stays at 13/25.
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
  gans-jax train --config configs/gan.py:paper=true,dataset=grid25,pack=4   # PacGAN4's grid
  gans-jax coverage --workdir runs/coverage --trials 5   # PacGAN's Table 1, ring8 and grid25

Variant arguments: paper, dataset ("" is ring8, or MNIST under paper=true), loss (see
gans_jax.losses), d_steps (k of Algorithm 1), maxout (False gives a plain ReLU MLP
discriminator), pack (PacGAN packing; 1 is Goodfellow's D; 0 is 2 on the 2-D points), steps,
batch (samples per minibatch; PacGAN's preset: 100 packs).
"""

from gans_jax import config_schema, config_utils, fidelity

# dataset "": the 2-D ring (``ring8``), or under paper=true Goodfellow's MNIST; a 2-D dataset
# named beside paper=true selects PacGAN's preset instead.
DEFAULTS = {"paper": False, "dataset": "", "loss": "non_saturating", "d_steps": 1,
            "maxout": True, "pack": 0, "steps": 0, "batch": 100}  # fmt: skip
# paper=true: mnist.yaml's data (MNIST training images 0-49,999) and a length; arguments given
# beside it still win.
PAPER = {"dataset": "tfds:mnist[:50000]", "steps": 125_000}
UPDATES_PER_EPOCH = 500  # 50,000 images at batch 100.
POINTS = ("ring8", "ring8_pacgan", "grid25")
PACGAN_EPOCHS, PACGAN_UPDATES_PER_EPOCH, PACGAN_PACKS_PER_BATCH = 400, 1000, 100
GRID_STEPS = 25_000  # The grid default's length: about 4 minutes on 2 CPU cores.


def get_config(arg=None):
  """The config of the variant arguments ``arg`` with its departures from the paper preset of
  its data (PacGAN's for the 2-D points, Goodfellow's MNIST model otherwise) declared."""
  args = config_utils.parse_preset_arg(arg, DEFAULTS, _paper_values)
  args.dataset = args.dataset or "ring8"  # paper=true's values always name a dataset.
  config = _build(args)
  reference = "paper=true"
  if args.dataset in POINTS:  # PacGAN's row of the same data and packing.
    reference += f",dataset={args.dataset},pack={args.pack}"
  paper = _build(config_utils.parse_preset_arg(reference, DEFAULTS, _paper_values))
  _declare_departures(config, paper, args.paper)
  return config


def _paper_values(chosen) -> dict:
  """paper=true's values: PacGAN's length and batch of 100 packs on 2-D points, else PAPER."""
  if chosen.dataset in POINTS:
    packs = PACGAN_PACKS_PER_BATCH * (chosen.pack or 2)
    return {"steps": PACGAN_EPOCHS * PACGAN_UPDATES_PER_EPOCH, "batch": packs}
  return PAPER


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
  if arg.paper and arg.dataset in POINTS:
    _pacgan(config, arg)
  elif arg.paper:
    _goodfellow_mnist(config, arg)
  else:
    _points_or_digits(config, arg)
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


def _pacgan(config, arg) -> None:
  """PacGAN's 2-D experiments as its code runs them (see the module docstring)."""
  config.dataset = "ring8_pacgan" if arg.dataset == "ring8" else arg.dataset
  config.num_steps = arg.steps
  config.model.latent_dim = 2
  g, d = config.model.generator, config.model.discriminator
  g.name, g.hidden, g.output_activation = "mlp", (400, 400, 400, 400), "linear"
  g.batch_norm, g.batch_norm_momentum, g.batch_norm_epsilon = True, 0.95, 1e-4
  g.init_range, g.init_std, g.dropout = 0.0, 0.02, 0.0
  d.name, d.hidden, d.maxout_pieces, d.pack = "mlp", (200, 200, 200), 5, arg.pack or 2
  d.init_range, d.init_std, d.dropout = 0.0, 0.02, 0.0
  d.input_dropout, d.output_dropout = None, False
  config.optim.g = config_schema.optimizer_config("adam", 1e-4, b1=0.8)
  config.optim.d = config_schema.optimizer_config("adam", 1e-4, b1=0.8)
  config.simultaneous_updates = True
  config.ema_decay = 0.0
  config.eval_num_samples = 2500  # PacGAN's GraphLogger draws 2,500 points.
  config.eval.every_steps = PACGAN_UPDATES_PER_EPOCH  # Its MetricLogger runs every epoch.
  config.sample_every_steps = 10 * PACGAN_UPDATES_PER_EPOCH


def _points_or_digits(config, arg) -> None:
  """The 2-D default (PacGAN's networks within a CPU budget) or a small MLP pair for the 8x8
  digits (module docstring)."""
  points = arg.dataset in POINTS
  config.num_steps = arg.steps or (GRID_STEPS if arg.dataset == "grid25" else 5000)
  if not points:
    config.data.resolution = 8  # The scans' own 8x8.
  config.model.latent_dim = 2 if points else 64
  g, d = config.model.generator, config.model.discriminator
  g.name = "mlp"
  g.hidden = (400, 400, 400, 400) if points else (256, 256)
  g.output_activation = "linear" if points else "tanh"
  g.batch_norm = False  # See the module docstring.
  g.init_range, g.dropout = 0.0, 0.0
  if points:  # The fields PacGAN's preset sets, at the networks' defaults.
    g.batch_norm_momentum, g.batch_norm_epsilon, g.init_std = 0.9, 1e-5, 0.0
    config.model.discriminator.init_std = 0.0
  d.name = "mlp"
  d.hidden = (200, 200, 200) if points else (256, 256)
  d.maxout_pieces = 5 if arg.maxout else 0  # 0: ReLU units.
  d.dropout = 0.0 if points else 0.5  # Goodfellow's MNIST D had it.
  d.input_dropout, d.output_dropout, d.init_range = None, False, 0.0
  d.pack = arg.pack or (2 if points else 1)
  # On the points: 1e-3 falling linearly to 0 over the run (module docstring); the reference
  # follows --config.num_steps.
  learning_rate, decay = (1e-3, config.get_ref("num_steps")) if points else (1e-4, 0)
  for role in ("g", "d"):
    config.optim[role] = config_schema.optimizer_config(
      "adam", learning_rate, b1=0.8, lr_linear_decay_steps=decay
    )
  config.ema_decay = 0.0
  config.eval_num_samples = 2500  # PacGAN's protocol draws 2,500 points.
  if points:  # Modes against steps (2,500 points: a fraction of a second).
    config.eval.every_steps = 1000


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where the default sets a field away from the paper preset ``paper`` (PacGAN's on the 2-D
  points, Goodfellow's MNIST model on the digits), and why; under ``paper=true`` a field is away
  only where a variant argument beside it says so."""
  points = config.dataset in POINTS
  reasons = _pacgan_departures() if points else _digits_departures()
  fidelity.depart_from(config, paper, reasons, beside_paper)


def _pacgan_departures() -> dict[str, str]:
  """Why the 2-D default departs from PacGAN's preset (module docstring)."""
  optimizer = (
    "1e-3 falling linearly to 0 over the run: 25/25 modes, 89 % high quality on the grid after "
    "25,000 updates, where PacGAN's constant 1e-4 has 25/25 and 36 % after 20,000"
  )
  return {
    "dataset": "VEEGAN's ring (radius 2, sigma 0.02): PacGAN's ring scaled by 2",
    "num_steps": "25,000 updates on the grid, 5,000 on the ring: minutes on 2 CPU cores",
    "batch_size": "100 samples (50 packs): half the step time of 100 packs",
    "model.generator.batch_norm": "without it 25/25 modes and 65 % high quality on the grid "
    "after 20,000 updates, 21/25 and 51 % with it; on the ring its rays persisted (3/8 modes "
    "after 4,000 updates)",
    "model.generator.batch_norm_momentum": "unused without BatchNorm",
    "model.generator.batch_norm_epsilon": "unused without BatchNorm",
    "model.generator.init_std": "flax's LeCun-normal initialisation; not measured",
    "model.discriminator.init_std": "flax's LeCun-normal initialisation; not measured",
    "optim.g": optimizer,
    "optim.d": optimizer,
    "simultaneous_updates": "Algorithm 1's alternation (Goodfellow 2014); not measured",
  }


def _digits_departures() -> dict[str, str]:
  """Why the digits default departs from Goodfellow's MNIST preset."""
  digits = "a small MLP pair for the 8x8 digits"
  optimizer = "Adam(1e-4, beta1 0.8), as the 2-D default but at PacGAN's rate"
  return {
    "dataset": "the embedded digits, offline",
    "num_steps": "5,000 updates: a few minutes on 2 CPU cores",
    "data.resolution": "the digits' own 8x8",
    "model.latent_dim": digits,
    "model.latent_prior": "z ~ N(0, I), as PacGAN; not measured against U(-sqrt 3, sqrt 3)",
    "model.generator.hidden": digits,
    "model.generator.output_activation": "tanh for [-1, 1] pixels; not measured",
    "model.generator.init_range": "flax's LeCun-normal initialisation; not measured",
    "model.discriminator.hidden": digits,
    "model.discriminator.input_dropout": "the hidden rate on the input too; not measured",
    "model.discriminator.output_dropout": "none before the output unit; not measured",
    "model.discriminator.init_range": "flax's LeCun-normal initialisation; not measured",
    "optim.g": optimizer,
    "optim.d": optimizer,
    "simultaneous_updates": "Algorithm 1's alternation (Goodfellow 2014); not measured",
  }
