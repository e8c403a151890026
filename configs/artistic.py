r"""Bhavsar 2018's "Artistic GAN" ("Unsupervised Artistic Image Generation using GANs"): a DCGAN
whose discriminator is held back against mode collapse by two changes, both on by default here:

  * every D parameter is clipped to [-0.01, 0.01] after each D update (as WGAN's critic,
    Arjovsky et al. 2017, but with the DCGAN loss);
  * Gaussian noise is added to D's inputs, real and generated (instance noise, Sønderby et al.
    2017).

The rest is DCGAN (Radford et al. 2016) as Bhavsar 2018 used it for 128x128 landscapes: 5x5 kernels
with stride 2, a dense projection in G and a dense logit in D, Adam(2e-4, beta1 0.5), batch 64,
k D updates per G update.

  gans-jax train --config configs/artistic.py                       # embedded digits, 32x32
  gans-jax train --config configs/artistic.py:dataset=folder:/data/landscapes,resolution=128,\
channels=3,width=64 --config.num_steps=20000
  # Bhavsar 2018's comparison: the same data and budget with and without clipping + noise.
  gans-jax artistic-comparison --workdir runs/artistic --config configs/artistic.py

Variant arguments: dataset, resolution, channels, width (ngf = ndf), steps, batch, k (D updates
per G update), clip (the bound, 0 turns it off), noise (the std, 0 turns it off).
"""

from gans_jax import config_schema, config_utils


def get_config(arg=None):
  arg = config_utils.parse_arg(
    arg,
    dataset="digits",
    resolution=32,
    channels=1,
    width=16,
    steps=2000,
    batch=64,
    k=2,
    clip=0.01,
    noise=0.1,
  )
  config = config_schema.image_gan_config(arg, "gan")
  config.d_steps = arg.k
  for role in ("generator", "discriminator"):
    config.model[role].kernel_size = 5
  config.d_weight_clip = arg.clip
  config.d_input_noise = arg.noise
  config.loss.name = "non_saturating"
  config.optim.g = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  config.optim.d = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  return config
