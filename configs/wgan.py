r"""WGAN (Arjovsky, Chintala & Bottou 2017) and WGAN-GP (Gulrajani et al. 2017).

  * gp=false: the critic's weights are clipped to +-0.01 after every update, RMSprop(5e-5) as
    PyTorch computes it (the reference code's), n_critic = 5 (Arjovsky et al., Algorithm 1);
  * gp=true (default): a gradient penalty lambda = 10 on random interpolates of real and
    generated samples, Adam(1e-4, beta1 0, beta2 0.9), n_critic = 5, and no BatchNorm in the
    critic (the penalty is per sample; Gulrajani et al., Algorithm 1 and Sec. 4).

Networks: for the 2-D datasets (ring8, grid25), the toy models of Gulrajani et al.'s gan_toy.py
(G and critic: three hidden layers of ReLU units, here 256 wide instead of 512 to fit this CPU;
2-D z, as the other 2-D configs here) with that script's toy settings for WGAN-GP: lambda = 0.1
and Adam beta1 = 0.5 (with the paper's lambda = 10 and beta1 = 0 the generator kept swinging
across the ring, measured over 2,000 steps). Learning rates: ring8 1e-4 (the paper's), halving
every 2,500 G steps, 10,000 steps; grid25 5e-4, halving every 5,000 G steps, 20,000 steps (at
1e-4 it had 21/25 modes and 42.5 % high quality after 12,000 steps). For images, the DCGAN of
``configs/dcgan.py`` as a critic without a sigmoid.

Measured here (2-core CPU): ring8, 10,000 steps (759 s): 8/8 modes, 83.7 % high-quality samples
(80.9 % at 6,000 steps). grid25, 20,000 steps (about 16 minutes alone): 25/25 modes, 87.8 % high
quality (25/25 and 80.2 % at 10,000 steps, 24/25 and 73.1 % at 8,000).

  gans-jax train --config configs/wgan.py:dataset=ring8
  gans-jax train --config configs/wgan.py:dataset=grid25
  gans-jax train --config configs/wgan.py:dataset=digits,gp=false

Variant arguments: dataset, gp, steps, batch, width (images).
"""

from gans_jax import config_schema, config_utils

POINTS = ("ring8", "grid25")


def get_config(arg=None):
  arg = config_utils.parse_arg(arg, dataset="ring8", gp=True, steps=0, batch=0, width=16)
  points = arg.dataset in POINTS
  config = config_schema.base_config("gan")
  config.dataset = arg.dataset
  grid = arg.dataset == "grid25"
  config.num_steps = arg.steps or (20000 if grid else 10000 if points else 2000)
  config.batch_size = arg.batch or (256 if points else 64)
  config.d_steps = 5  # n_critic.
  config.loss.name = "wasserstein"
  if points:
    config.model.latent_dim = 2
    config.model.generator.name = "mlp"
    config.model.generator.hidden = (256, 256, 256)
    config.model.generator.output_activation = "linear"
    config.model.discriminator.name = "mlp"
    config.model.discriminator.hidden = (256, 256, 256)
    config.model.discriminator.maxout_pieces = 0  # ReLU units.
    config.eval_num_samples = 2500  # The VEEGAN / PacGAN protocol, as configs/gan.py.
    config.checkpoint_every_steps = 2000
    config.sample_every_steps = 2000
    config.log_every_steps = 500
  else:
    config.data.resolution = 32
    config.model.generator.name = "dcgan"
    config.model.generator.width = arg.width
    config.model.discriminator.name = "dcgan"
    config.model.discriminator.width = arg.width
    config.model.discriminator.batch_norm = not arg.gp
    config.checkpoint_every_steps = 500
    config.sample_every_steps = 250
  if arg.gp:
    config.loss.gradient_penalty = 0.1 if points else 10.0
    b1 = 0.5 if points else 0.0
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
  else:
    config.d_weight_clip = 0.01
    # The reference code's torch.optim.RMSprop: squared-gradient average decay 0.99, epsilon
    # 1e-8 added outside the square root (inside it, as optax's default, the epsilon would put
    # a 1e-4 floor under the root and shrink the clipped critic's tiny steps).
    for role in ("g", "d"):
      config.optim[role] = config_schema.optimizer_config(
        "rmsprop", 5e-5, decay=0.99, eps=1e-8, eps_in_sqrt=False
      )
  return config
