r"""Bhavsar 2018's "Artistic GAN" ("Unsupervised Artistic Image Generation using GANs"): a DCGAN
whose discriminator is held back against mode collapse by two changes, both on by default here:

  * every D parameter is clipped to [-0.01, 0.01] after each D update (as WGAN's critic,
    Arjovsky et al. 2017, but with the DCGAN loss);
  * Gaussian noise is added to D's inputs, real and generated (instance noise, Sønderby et al.
    2017).

The rest is DCGAN (Radford et al. 2016) as Bhavsar 2018 used it for 128x128 landscapes: 5x5 kernels
with stride 2, a dense projection in G and a dense logit in D, Adam(2e-4, beta1 0.5), batch 64,
k = 2 D updates per G update.

``paper=true`` is that setting on WikiArt landscapes at 128x128 RGB (``folder:data/wikiart/
landscape``: the landscape paintings, one folder), ngf = ndf = 64, noise std 0.1, 20,000 G
updates. The paper publishes no code, and these numbers are the project's reading of it (its
text is not checked again here); ``gans-jax describe`` lists the digits default's departures.

  gans-jax train --config configs/artistic.py                       # embedded digits, 32x32
  gans-jax train --config configs/artistic.py:paper=true            # WikiArt landscapes
  # Bhavsar 2018's comparison: the same data and budget with and without clipping + noise.
  gans-jax artistic-comparison --workdir runs/artistic --config configs/artistic.py

Variant arguments: paper, dataset, resolution, channels, width (ngf = ndf), steps, batch, k (D
updates per G update), clip (the bound, 0 turns it off), noise (the std, 0 turns it off).
"""

from gans_jax import config_schema, fidelity

DEFAULTS = {"paper": False, "dataset": "digits", "resolution": 32, "channels": 1, "width": 16,
            "steps": 2000, "batch": 64, "k": 2, "clip": 0.01, "noise": 0.1}  # fmt: skip
# paper=true; arguments given beside it still win.
PAPER = {"dataset": "folder:data/wikiart/landscape", "resolution": 128, "channels": 3,
         "width": 64, "steps": 20_000}  # fmt: skip


def get_config(arg=None):
  return fidelity.preset_config(arg, DEFAULTS, PAPER, _build, _declare_departures)


def _build(arg):
  """The config of the variant arguments ``arg``, without its declared departures."""
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


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where the digits default sets a field away from the paper preset, and why."""
  small = fidelity.SHORT_RUN
  reasons = {
    **fidelity.digits_default_reasons(),
    "model.generator.width": small,
    "model.discriminator.width": small,
    "cpu_convolutions": "the width's faster convolutions (no effect on results)",
    "d_steps": "k= asked for",
    "d_weight_clip": "clip= asked for (0: plain DCGAN, the comparison's other arm)",
    "d_input_noise": "noise= asked for (0: plain DCGAN, the comparison's other arm)",
  }
  fidelity.depart_from(config, paper, reasons, beside_paper)
