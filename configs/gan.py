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

  gans-jax train --config configs/gan.py:dataset=ring8
  gans-jax train --config configs/gan.py:dataset=grid25
  gans-jax train --config configs/gan.py:dataset=digits          # 8x8 digits, flattened
  gans-jax train --config configs/gan.py:dataset=ring8,loss=minimax,d_steps=4

Variant arguments: dataset, loss (see gans_jax.losses), d_steps (k of Algorithm 1), maxout
(False gives a plain ReLU MLP discriminator), pack (PacGAN packing; 1 is Goodfellow's D), steps,
batch.
"""

from gans_jax import config_schema, config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(
    arg,
    dataset="ring8",
    loss="non_saturating",
    d_steps=1,
    maxout=True,
    pack=0,
    steps=0,
    batch=100,
  )
  points = arg.dataset in ("ring8", "grid25")
  config = config_schema.base_config("gan")
  config.dataset = arg.dataset
  config.num_steps = arg.steps or 5000
  config.batch_size = arg.batch
  config.d_steps = arg.d_steps
  config.data.resolution = 8  # digits only: the scans' own 8x8.
  config.data.channels = 1

  config.model.latent_dim = 2 if points else 64
  config.model.generator.name = "mlp"
  config.model.generator.hidden = (400, 400, 400, 400) if points else (256, 256)
  config.model.generator.output_activation = "linear" if points else "tanh"
  config.model.generator.batch_norm = False  # See the module docstring.
  config.model.discriminator.name = "mlp"
  config.model.discriminator.hidden = (200, 200, 200) if points else (256, 256)
  config.model.discriminator.maxout_pieces = 5 if arg.maxout else 0  # 0: ReLU units.
  config.model.discriminator.dropout = 0.0 if points else 0.5  # Goodfellow's MNIST D had it.
  config.model.discriminator.pack = arg.pack or (2 if points else 1)

  config.loss.name = arg.loss
  learning_rate = 1e-3 if points else 1e-4
  config.optim.g = config_schema.optimizer_config("adam", learning_rate, b1=0.8)
  config.optim.d = config_schema.optimizer_config("adam", learning_rate, b1=0.8)
  config.ema_decay = 0.995 if points else 0.0
  config.checkpoint_every_steps = 1000
  config.sample_every_steps = 1000
  config.log_every_steps = 200
  config.eval_num_samples = 2500  # PacGAN's protocol draws 2,500 points.
  return config
