r"""StyleGAN (Karras, Laine & Aila 2019) with progressive growing, as NVlabs' v1 code trains it.

The paper's setup (for every dataset but the embedded digits): 8 FC mapping layers
(512-d z and w, learning-rate multiplier 0.01), channels min(8192 / 2^stage, 512), growing from
8x8 with 600 kimg fade-in + 600 kimg stable per resolution, batch {4: 512, 8: 256, 16: 128,
32: 64, 64+: 32} (NVlabs' 8-GPU minibatch_dict), learning rate 0.001 and {128: 0.0015, 256: 0.002,
512+: 0.003}, Adam(beta1 0, beta2 0.99, eps 1e-8) for G and D, non-saturating logistic loss with
R1 gamma 10, style mixing with probability 0.9, G's EMA with a 10-kimg half-life, mirrored reals,
25,000 kimg in all.

  gans-jax train --config configs/stylegan.py:dataset=digits,resolution=32    # 2 CPU cores
  gans-jax train --config configs/stylegan.py:dataset=folder:/data/ffhq256,resolution=256,channels=3
  gans-jax train --config configs/stylegan.py:dataset=folder:/data/ffhq,resolution=1024,channels=3
  gans-jax train --config configs/stylegan.py:dataset=tfds:celeb_a,resolution=128,channels=3
  gans-jax style-mix --workdir runs/stylegan --out mixing.png     # the paper's Fig. 3 layout
  gans-jax truncation --workdir runs/stylegan --out truncation.png
  gans-jax noise-map --workdir runs/stylegan --out noise.png

The digits preset (1,437 8x8 digits upsampled to 32x32) keeps the recipe (losses, R1 gamma 10,
mixing, optimizer, EMA, no augmentation) and shrinks the sizes so it trains on 2 CPU cores in
minutes: z and w of 128, channels min(256 / 2^stage, 64) (the default DCGAN's widths), 200 kimg
at 8x8 (the digits' own resolution; batch 64), then 30 kimg fade-in + 30 kimg per resolution
(batch 32): 320 kimg in all. Measured on the digits at 8x8 (batch 64): R1 gamma 0.1-1 let G
collapse onto a few digits, and DiffAugment translation made samples worse; gamma 10 without
augmentation gave 81 % recognised digits after 128 kimg.

``paper=true`` is NVlabs' ``train.py`` as released for FFHQ at 1024x1024 (``folder:data/ffhq``, the
dataset's PNGs; its 8-GPU schedule): the setup above with nothing shrunk. Not reproduced: NVlabs
move the fade every 4 minibatches (``minibatch_repeats``), here every step. ``paper=true,
dataset=digits,resolution=32,channels=1`` is an offline smoke run; ``gans-jax describe`` lists
the digits default's departures.

Variant arguments: paper, dataset, resolution, channels, kimg (total thousands of real images
shown, ``progressive.total_kimg``). ``num_steps`` follows the budget and the growing schedule,
whatever ``--config.progressive.*`` overrides change; ``--config.num_steps`` replaces the budget.
"""

from gans_jax import config_schema, fidelity
from gans_jax.trainers import stylegan_schema

DEFAULTS = {"paper": False, "dataset": "digits", "resolution": 32, "channels": 1, "kimg": -1.0}
# paper=true: NVlabs' FFHQ 1024x1024 run; arguments given beside it still win.
PAPER = {"dataset": "folder:data/ffhq", "resolution": 1024, "channels": 3}


def get_config(arg=None):
  return fidelity.preset_config(arg, DEFAULTS, PAPER, _build, _declare_departures)


def _build(arg):
  """The config of the variant arguments ``arg``, without its declared departures."""
  small = arg.dataset == "digits" and not arg.paper
  config = config_schema.base_config("stylegan")  # With the paper's StyleGAN fields.
  config.dataset = arg.dataset
  config.data.resolution = arg.resolution
  config.data.channels = arg.channels
  config.data.mirror = not small  # NVlabs mirror FFHQ and CelebA-HQ; digits are not symmetric.

  config.model.latent_dim = 128 if small else 512  # Size of z.
  g = config.model.generator
  g.w_dim = 128 if small else 512  # Size of w.
  g.mapping_layers = 8
  g.mapping_lr_multiplier = 0.01
  g.fmap_base = 256 if small else 8192  # Channels min(fmap_base / 2^stage, fmap_max).
  g.fmap_max = 64 if small else 512
  d = config.model.discriminator
  d.fmap_base = g.fmap_base
  d.fmap_max = g.fmap_max
  d.mbstd_group_size = 4  # Samples per minibatch-stddev group.

  config.optim.g = config_schema.optimizer_config("adam", 0.001, b1=0.0, b2=0.99)
  config.optim.d = config_schema.optimizer_config("adam", 0.001, b1=0.0, b2=0.99)
  # PPL (e.g. --config.eval.metrics=ppl10k_w_full_lpips; ppl1k_w_digits is the offline proxy).
  config.eval.ppl_face_crop = not small  # PPL on the face centre (aligned face datasets).

  p = config.progressive
  if small:
    p.initial_kimg = 200.0
    p.stable_kimg = p.fade_kimg = 30.0
  p.batch_sizes, p.learning_rates = stylegan_schema.paper_schedule(arg.resolution)
  if small:  # Batch 64 at 4x4 and 8x8, 32 above; rate 0.001 throughout.
    p.batch_sizes = tuple(64 if level <= 1 else 32 for level in range(len(p.batch_sizes)))
    p.learning_rates = (0.001,) * len(p.batch_sizes)
  p.total_kimg = arg.kimg if arg.kimg > 0 else (320.0 if small else 25000.0)
  config.cpu_convolutions = "eigen"  # 5-15 % faster steps here (no effect on accelerators).
  config.checkpoint_every_steps = 1000 if small else 5000
  config.sample_every_steps = 1000 if small else 5000
  config.log_every_steps = 100
  config.num_grid_samples = 64
  return config


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where the digits default sets a field away from the paper preset, and why."""
  small = "the digits preset's size: trains on 2 CPU cores in minutes (module docstring)"
  digits = config.dataset == "digits"
  asked = "the data and size asked for (dataset=, resolution=, channels=)"
  reasons = {
    "dataset": "the embedded digits, offline" if digits else asked,
    "data.resolution": "32x32 (the digits are 8x8, grown from 8x8)" if digits else asked,
    "data.channels": "the digits are grey" if digits else asked,
    "data.mirror": "digits are not left-right symmetric",
    "model.latent_dim": small,
    "model.generator.w_dim": small,
    "model.generator.fmap_base": small,
    "model.generator.fmap_max": small,
    "model.discriminator.fmap_base": small,
    "model.discriminator.fmap_max": small,
    "progressive.initial_kimg": "200 kimg at 8x8: 81 % recognised digits after 128 kimg",
    "progressive.stable_kimg": small,
    "progressive.fade_kimg": small,
    "progressive.total_kimg": small,
    "progressive.batch_sizes": "batch 64 at 8x8, 32 above: the digits preset's size"
    if digits
    else "the paper's per-level schedule, up to the resolution asked for",
    "progressive.learning_rates": "0.001 at every level (the paper's up to 64x64)"
    if digits
    else "the paper's per-level schedule, up to the resolution asked for",
    "num_steps": small,
  }
  fidelity.depart_from(config, paper, reasons, beside_paper)
