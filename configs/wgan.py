r"""WGAN (Arjovsky, Chintala & Bottou 2017) and WGAN-GP (Gulrajani et al. 2017).

  * gp=false: the critic's weights are clipped to +-0.01, RMSprop(5e-5) as PyTorch computes it
    (the reference code's), n_critic = 5 (Arjovsky et al., Algorithm 1);
  * gp=true (default): a gradient penalty lambda = 10 on random interpolates of real and
    generated samples, Adam(1e-4, beta1 0, beta2 0.9), n_critic = 5, and no BatchNorm in the
    critic (the penalty is per sample; Gulrajani et al., Algorithm 1 and Sec. 4).

``paper=true,gp=false`` is WGAN as martinarjovsky/WassersteinGAN's ``main.py`` trains it with
its defaults on LSUN bedrooms: 64x64 RGB, each image's central square (torchvision's Scale +
CenterCrop), the PyTorch DCGAN with ngf = ndf = 64 and BatchNorm in both networks, z of 100 ~
N(0, I), batch 64, RMSprop(5e-5; PyTorch's alpha 0.99, eps 1e-8 outside the square root) for
both, every critic parameter (BatchNorm's too) clamped to [-0.01, 0.01]. Where the code and the
paper differ the preset follows the code: the critic is clamped *before* each of its updates
(``d_weight_clip_when="before"``, so G's update sees the last one unclamped), and it is trained
100 times per generator update for the first 25 generator updates and at every 500th
(``d_steps_schedule=(100, 25, 500)``; the paper's Algorithm 1 says n_critic = 5 throughout).
Length: the code's 25 epochs of 47,392 critic batches, 227,862 generator updates. Not
reproduced: a critic burst that the code cuts short at an epoch's end (at most 25 of them), the
last, smaller batch of each epoch, and the code's sampling with batch statistics (samples here
use the running averages).

``paper=true`` (gp=true) is WGAN-GP as igul222/improved_wgan_training's ``gan_cifar.py`` trains
the paper's CIFAR-10 DCGAN: 32x32 RGB, DIM = 128 (ngf = ndf), z of 128 ~ N(0, I), G: a dense
projection to 4x4x512 with per-unit BatchNorm, 5x5 transposed convolutions with BatchNorm and
ReLU, tanh; critic: 5x5 stride-2 convolutions without BatchNorm, LeakyReLU(0.2), a dense output;
a bias on every layer and tflib's uniform initialisation (``models/dcgan.py``); TensorFlow's
"SAME" padding; lambda = 10, 5 critic updates per generator update, Adam(1e-4, beta1 0.5, beta2
0.9) for both (the code's beta1 0.5; the paper's Algorithm 1 says 0), batch 64, 200,000
iterations of which the first skips G's update: 199,999 generator updates. Not reproduced: the
code's sampling with batch statistics.

The defaults: for the 2-D datasets (ring8, grid25), the toy models of Gulrajani et al.'s
``gan_toy.py`` (G and critic: three hidden layers of ReLU units, here 256 wide instead of 512 to
fit this CPU; 2-D z, as the other 2-D configs here) with that script's toy settings for WGAN-GP:
lambda = 0.1 and Adam beta1 = 0.5 (with lambda = 10 and beta1 = 0 the generator kept swinging
across the ring, measured over 2,000 steps). Learning rates: ring8 1e-4 (the paper's), halving
every 2,500 G steps, 10,000 steps; grid25 5e-4, halving every 5,000 G steps, 20,000 steps (at
1e-4 it had 21/25 modes and 42.5 % high quality after 12,000 steps). For images, the DCGAN of
``configs/dcgan.py`` as a critic without a sigmoid. ``gans-jax describe`` lists each default's
departures from its paper preset.

Measured here (2-core CPU): ring8, 10,000 steps (759 s): 8/8 modes, 83.7 % high-quality samples
(80.9 % at 6,000 steps). grid25, 20,000 steps (about 16 minutes alone): 25/25 modes, 87.8 % high
quality (25/25 and 80.2 % at 10,000 steps, 24/25 and 73.1 % at 8,000).

  gans-jax train --config configs/wgan.py:dataset=ring8
  gans-jax train --config configs/wgan.py:dataset=grid25
  gans-jax train --config configs/wgan.py:dataset=digits,gp=false
  gans-jax train --config configs/wgan.py:paper=true,gp=false        # tfds:lsun/bedroom
  gans-jax train --config configs/wgan.py:paper=true                 # tfds:cifar10

Variant arguments: paper, dataset, gp, steps, batch, width (images).
"""

from gans_jax import config_schema, fidelity

POINTS = ("ring8", "grid25")
DEFAULTS = {"paper": False, "dataset": "ring8", "gp": True, "steps": 0, "batch": 0, "width": 16}
# paper=true: the reference code of WGAN (gp=false) or WGAN-GP (gp=true); arguments given beside
# it still win.
WGAN_LSUN = {"dataset": "tfds:lsun/bedroom", "steps": 227_862, "batch": 64, "width": 64}
WGAN_GP_CIFAR = {"dataset": "tfds:cifar10", "steps": 199_999, "batch": 64, "width": 128}


def paper_values(args) -> dict:
  return WGAN_GP_CIFAR if args.gp else WGAN_LSUN


def get_config(arg=None):
  return fidelity.preset_config(
    arg, DEFAULTS, paper_values, _build, _declare_departures, selects=("gp",)
  )


def _build(arg):
  """The config of the variant arguments ``arg``, without its declared departures."""
  points = arg.dataset in POINTS
  config = config_schema.base_config("gan")
  config.dataset = arg.dataset
  grid = arg.dataset == "grid25"
  config.num_steps = arg.steps or (20000 if grid else 10000 if points else 2000)
  config.batch_size = arg.batch or (256 if points else 64)
  config.d_steps = 5  # n_critic.
  config.loss.name = "wasserstein"
  if points:
    _toy_networks(config)
  else:
    _dcgan_networks(config, arg)
  if arg.gp:
    _gradient_penalty(config, points, grid, arg.paper)
  else:
    _weight_clipping(config, arg.paper)
  return config


def _toy_networks(config) -> None:
  """gan_toy.py's MLPs (256 units instead of 512), 2-D z, PacGAN's 2,500-point evaluation."""
  config.model.latent_dim = 2
  g, d = config.model.generator, config.model.discriminator
  g.name, g.hidden, g.output_activation = "mlp", (256, 256, 256), "linear"
  d.name, d.hidden, d.maxout_pieces = "mlp", (256, 256, 256), 0  # ReLU units.
  config.eval_num_samples = 2500  # The VEEGAN / PacGAN protocol, as configs/gan.py.
  config.checkpoint_every_steps = 2000
  config.sample_every_steps = 2000
  config.log_every_steps = 500


def _dcgan_networks(config, arg) -> None:
  """The DCGAN as a critic: PyTorch's layout (WGAN's code), or gan_cifar.py's with gp=true and
  paper=true (module docstring)."""
  cifar = arg.paper and arg.gp
  config.data.resolution = 64 if arg.paper and not arg.gp else 32
  config.data.channels = 3 if arg.paper else 1
  config.model.latent_dim = 128 if cifar else 100
  for role in ("generator", "discriminator"):
    section = config.model[role]
    section.name, section.width = "dcgan", arg.width
    section.kernel_size = 5 if cifar else 4
    section.weight_init = "tflib" if cifar else "dcgan"
    section.use_bias = cifar
  config.model.generator.projection_norm = "unit" if cifar else "channel"
  config.model.discriminator.padding = "same" if cifar else "symmetric"
  config.model.discriminator.batch_norm = not arg.gp
  config.data.crop = "center" if arg.paper and not arg.gp else ""
  config.checkpoint_every_steps = 500
  config.sample_every_steps = 250


def _gradient_penalty(config, points: bool, grid: bool, paper: bool) -> None:
  """WGAN-GP: lambda 10 and Adam(1e-4, 0.5, 0.9) as gan_cifar.py (beta1 0 without paper on
  images, the paper's; the toy settings of gan_toy.py on the 2-D points, module docstring)."""
  config.loss.gradient_penalty = 0.1 if points else 10.0
  b1 = 0.5 if points or paper else 0.0
  lr = 5e-4 if grid else 1e-4
  # 2-D data: halving every `period` G steps = every 5 * period critic updates (n_critic = 5).
  decay = 0.5 if points else 1.0
  period = (5000 if grid else 2500) * points
  config.optim.g = config_schema.optimizer_config(
    "adam", lr, b1=b1, b2=0.9, lr_decay_rate=decay, lr_decay_steps=period
  )
  config.optim.d = config_schema.optimizer_config(
    "adam", lr, b1=b1, b2=0.9, lr_decay_rate=decay, lr_decay_steps=5 * period
  )


def _weight_clipping(config, paper: bool) -> None:
  """WGAN: clipping to +-0.01 and the reference code's torch.optim.RMSprop: squared-gradient
  average decay 0.99, epsilon 1e-8 added outside the square root (inside it, as optax's default,
  the epsilon would put a 1e-4 floor under the root and shrink the clipped critic's tiny
  steps); with ``paper``, the code's clamping order and critic schedule (module docstring)."""
  config.d_weight_clip = 0.01
  for role in ("g", "d"):
    config.optim[role] = config_schema.optimizer_config(
      "rmsprop", 5e-5, decay=0.99, eps=1e-8, eps_in_sqrt=False
    )
  if paper:
    config.d_weight_clip_when = "before"
    config.d_steps_schedule = (100, 25, 500)


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where a default sets a field away from its paper preset (WGAN's or WGAN-GP's), and why."""
  small = "to train in minutes on 2 CPU cores (paper=true restores it)"
  toy = "gan_toy.py's 2-D experiment (Gulrajani et al. 2017), the mode-coverage benchmark"
  images = "the embedded digits at 32x32, offline, as configs/dcgan.py"
  points = config.model.generator.name == "mlp"
  reasons = {
    "dataset": toy if points else images,
    "num_steps": small,
    "batch_size": "256 points per batch (gan_toy.py)" if points else small,
    "data.resolution": "unused by the 2-D points" if points else images,
    "data.channels": "unused by the 2-D points" if points else "the digits are grey",
    "data.crop": "the digits are square",
    "model.latent_dim": "2-D z for 2-D data" if points else "100, as configs/dcgan.py",
    "model.generator": toy if points else "configs/dcgan.py's DCGAN, width 16: " + small,
    "model.discriminator": toy if points else "configs/dcgan.py's critic, width 16: " + small,
    "eval_num_samples": "PacGAN's protocol draws 2,500 points",
    "d_weight_clip_when": "after each update (the paper's Algorithm 1); not measured",
    "d_steps_schedule": "n_critic = 5 throughout (the paper's Algorithm 1); not measured",
    "loss.gradient_penalty": "lambda = 0.1, gan_toy.py's: with 10 the generator kept swinging "
    "across the ring (2,000 steps)",
    "optim.g": "Adam beta1 0 (the paper's Algorithm 1); not measured",
    "optim.d": "Adam beta1 0 (the paper's Algorithm 1); not measured",
  }
  if points:  # gan_toy.py's Adam(beta1 0.5) with a measured rate and halving (docstring).
    rates = "gan_toy.py's Adam(beta1 0.5); rate and halving measured (module docstring)"
    reasons["optim.g"] = reasons["optim.d"] = rates
  fidelity.depart_from(config, paper, reasons, beside_paper)
