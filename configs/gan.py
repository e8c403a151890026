r"""Vanilla GAN (Goodfellow et al. 2014): MLP generator, MLP or maxout discriminator.

The 2-D datasets are the mode-coverage benchmarks of VEEGAN (Srivastava 2017) and PacGAN (Lin
2018): `ring8` (8 Gaussians on a circle of radius 2, sigma 0.02) and `grid25` (5x5 grid, spacing
2, sigma 0.05). Their networks follow PacGAN's: G with four ReLU layers of 400 units, D with three
maxout layers of 200 units and 5 pieces, Adam(1e-4, beta1=0.8), batch 100; z is 2-D.
G's hidden layers carry BatchNorm, as PacGAN's do.

  gans-jax train --config configs/gan.py:dataset=ring8
  gans-jax train --config configs/gan.py:dataset=grid25
  gans-jax train --config configs/gan.py:dataset=digits          # 8x8 digits, flattened
  gans-jax train --config configs/gan.py:dataset=ring8,loss=minimax,d_steps=4

Variant arguments: dataset, loss (see gans_jax.losses), d_steps (k of Algorithm 1), maxout
(False gives a plain ReLU MLP discriminator), steps, batch.
"""

from gans_jax import config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(
    arg, dataset="ring8", loss="non_saturating", d_steps=1, maxout=True, steps=0, batch=100
  )
  points = arg.dataset in ("ring8", "grid25")
  config = config_utils.base_config()
  config.family = "gan"
  config.dataset = arg.dataset
  config.num_steps = arg.steps or (4000 if points else 5000)
  config.batch_size = arg.batch
  config.d_steps = arg.d_steps
  config.data.resolution = 8  # digits only: the scans' own 8x8.
  config.data.channels = 1

  config.model.latent_dim = 2 if points else 64
  config.model.generator.name = "mlp"
  config.model.generator.hidden = (400, 400, 400, 400) if points else (256, 256)
  config.model.generator.output_activation = "linear" if points else "tanh"
  config.model.generator.batch_norm = points  # PacGAN's 2-D generator normalises its layers.
  config.model.discriminator.name = "mlp"
  config.model.discriminator.hidden = (200, 200, 200) if points else (256, 256)
  config.model.discriminator.maxout_pieces = 5 if arg.maxout else 0  # 0: ReLU units.
  config.model.discriminator.dropout = 0.0 if points else 0.5  # Goodfellow's MNIST D had it.

  config.loss.name = arg.loss
  config.optim.g = config_utils.optimizer_config("adam", 1e-4, b1=0.8)
  config.optim.d = config_utils.optimizer_config("adam", 1e-4, b1=0.8)
  config.checkpoint_every_steps = 1000
  config.sample_every_steps = 1000
  config.log_every_steps = 200
  config.eval_num_samples = 2500  # PacGAN's protocol draws 2,500 points.
  return config
