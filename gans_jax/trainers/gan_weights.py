"""The gan family's ``WeightFormat``: the PyTorch examples' DCGAN ``netG`` / ``netD`` files
(``interop.pytorch_dcgan`` maps the tensors).

An import takes nz, ngf and ndf from the files (z's size and the widths of the config are set to
them) and turns the EMA of G off: the example keeps none, and a sampling EMA would renormalise
the imported G with statistics of its own (``gan.prepare_sampling``) instead of the file's
running averages. An export writes the G the run samples with (its EMA and standing statistics
when it keeps one) and the live D.
"""

from __future__ import annotations

from collections.abc import Callable

from gans_jax import errors
from gans_jax.interop import pytorch_dcgan
from gans_jax.models import dcgan
from gans_jax.train_state import GANState
from gans_jax.trainers import gan, network_weights
from gans_jax.trainers.types import WeightFormat

# Fields of the config that the example's networks fix, and the value they must have (a field a
# section leaves out has the network's default, which is that value).
_FIXED = {
  "model.generator.name": "dcgan",
  "model.generator.kernel_size": 4,
  "model.generator.use_bias": False,
  "model.discriminator.name": "dcgan",
  "model.discriminator.kernel_size": 4,
  "model.discriminator.use_bias": False,
  "model.discriminator.batch_norm": True,
  "model.discriminator.padding": "symmetric",
  "model.num_classes": 0,
  "model.latent_prior": "normal",
}


def _field(config, dotted: str, default):
  for part in dotted.split("."):
    if part not in config:
      return default
    config = config[part]
  return config


def _configure(config, files: dict, log: Callable):
  """The config with the files' nz, ngf and ndf, and no EMA; its data must be the files' size.

  Raises:
    errors.UsageError: naming the field when the config is not the example's architecture, or
      both sizes when the config's images are not the generator's.
  """
  for dotted, needed in _FIXED.items():
    value = _field(config, dotted, needed)
    if value != needed:
      raise errors.UsageError(
        f"The PyTorch DCGAN example's networks need {dotted}={needed!r}; the config has {value!r}."
      )
  source, state = files["G"]
  sizes = pytorch_dcgan.generator_sizes(state, source)
  ours = (config.data.resolution, config.data.resolution, config.data.channels)
  theirs = (sizes.resolution, sizes.resolution, sizes.nc)
  if ours != theirs:
    raise errors.UsageError(
      f"{source} makes {theirs} images; the config's data are {ours}: use a config of that "
      f"size, e.g. --config dcgan:resolution={sizes.resolution},channels={sizes.nc},dataset=..."
    )
  config.model.latent_dim = sizes.nz
  config.model.generator.width = sizes.ngf
  if "D" in files:
    d_source, d_state = files["D"]
    ndf, nc = pytorch_dcgan.discriminator_width(d_state, d_source)
    if nc != sizes.nc:
      raise errors.UsageError(f"{d_source} judges {nc}-channel images; {source} makes {sizes.nc}.")
    config.model.discriminator.width = ndf
  config.ema_decay = 0.0
  log(
    f"From {source}: nz={sizes.nz}, ngf={sizes.ngf}"
    + (f", ndf={config.model.discriminator.width}" if "D" in files else "")
    + f", {sizes.resolution}x{sizes.resolution}x{sizes.nc}; no EMA of G (the example keeps none)."
  )
  return config


def _load(config, state: GANState, files: dict, log: Callable) -> GANState:
  del log
  doublings = dcgan.num_upsamplings(config.data.resolution)
  if "G" in files:
    entries = pytorch_dcgan.generator_entries(doublings)
    state = state.replace(g=network_weights.load(state.g, entries, files["G"][1], files["G"][0]))
  if "D" in files:
    entries = pytorch_dcgan.discriminator_entries(doublings)
    state = state.replace(d=network_weights.load(state.d, entries, files["D"][1], files["D"][0]))
  return state


def _dump(config, state: GANState) -> dict:
  doublings = dcgan.num_upsamplings(config.data.resolution)
  sampling = gan.prepare_sampling(state, config)
  g = sampling.g.replace(params=sampling.sampling_params())  # What the run samples with.
  return {
    "G": network_weights.dump(g, pytorch_dcgan.generator_entries(doublings)),
    "D": network_weights.dump(state.d, pytorch_dcgan.discriminator_entries(doublings)),
  }


WEIGHT_FORMATS = {
  "pytorch-dcgan": WeightFormat(
    help="the PyTorch examples' DCGAN (dcgan/main.py): netG.pth [netD.pth]",
    files=(("G", "netG.pth"), ("D", "netD.pth")),
    required=1,
    load=_load,
    dump=_dump,
    configure=_configure,
  )
}
