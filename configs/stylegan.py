r"""StyleGAN (Karras, Laine & Aila 2019) with progressive growing, as NVlabs' v1 code trains it.

The paper's setup (the presets for every dataset but the embedded digits): 8 FC mapping layers
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

Variant arguments: dataset, resolution, channels, kimg (total thousands of real images shown).
num_steps is computed here from kimg and the schedule: after changing the schedule with
--config.progressive.* overrides, set --config.num_steps to match (or use kimg=).
"""

import math

import ml_collections

from gans_jax import config_schema, config_utils
from gans_jax.trainers import stages


def get_config(arg=None):
  arg = config_utils.parse_arg(arg, dataset="digits", resolution=32, channels=1, kimg=-1)
  small = arg.dataset == "digits"
  config = config_schema.base_config("stylegan")
  config.dataset = arg.dataset
  config.data.resolution = arg.resolution
  config.data.channels = arg.channels
  config.data.mirror = not small  # Random left-right mirroring of reals (NVlabs: FFHQ, CelebA-HQ).

  config.model.latent_dim = 128 if small else 512  # Size of z.
  config.model.style_mixing_prob = 0.9  # Style-mixing regularization (Sec. 3.1).
  config.model.truncation_psi = 0.7  # Truncation used by the tools (not in training or metrics).
  config.model.truncation_cutoff = 8  # Layers truncated (the coarse ones: 4x4 .. 32x32).
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

  config.loss.name = "non_saturating"  # Logistic; the StyleGAN trainer implements it itself.
  config.loss.r1_gamma = 10.0  # R1 weight gamma (the penalty is gamma / 2 * ||grad D(x)||^2).
  config.ema_kimg = 10.0  # Half-life of G's EMA in thousands of images.
  config.optim.g = config_schema.optimizer_config("adam", 0.001, b1=0.0, b2=0.99)
  config.optim.d = config_schema.optimizer_config("adam", 0.001, b1=0.0, b2=0.99)

  # PPL (e.g. --config.eval.metrics=ppl10k_w_full_lpips; ppl1k_w_digits is the offline proxy).
  config.eval.lpips_weights = ""  # Converted LPIPS .npz; "" uses $GANS_JAX_LPIPS_WEIGHTS.
  config.eval.ppl_face_crop = not small  # PPL on the face centre (aligned face datasets).

  levels = int(math.log2(arg.resolution)) - 1
  p = config.progressive = ml_collections.ConfigDict()
  p.initial_resolution = 8  # Growing starts here (NVlabs' lod_initial_resolution).
  p.initial_kimg = 200.0 if small else 600.0  # Training at the initial resolution.
  p.stable_kimg = 30.0 if small else 600.0  # Per resolution, after its fade-in.
  p.fade_kimg = 30.0 if small else 600.0  # Fade-in of each new resolution.
  paper_batch = {4: 512, 8: 256, 16: 128, 32: 64}
  p.batch_sizes = tuple(
    (64 if level <= 1 else 32) if small else paper_batch.get(4 * 2**level, 32)
    for level in range(levels)
  )  # Global batch per level (4x4 first).
  paper_rate = {128: 0.0015, 256: 0.002}
  p.learning_rates = tuple(
    0.001 if small or 4 * 2**level < 128 else paper_rate.get(4 * 2**level, 0.003)
    for level in range(levels)
  )  # G and D learning rate per level.

  total_kimg = arg.kimg if arg.kimg > 0 else (320.0 if small else 25000.0)
  config.num_steps = steps_for_kimg(config, total_kimg)
  config.batch_size = p.batch_sizes[-1]  # The final resolution's (sets the evaluation batch).
  config.cpu_convolutions = "eigen"  # 5-15 % faster steps here (no effect on accelerators).
  config.checkpoint_every_steps = 1000 if small else 5000
  config.sample_every_steps = 1000 if small else 5000
  config.log_every_steps = 100
  config.num_grid_samples = 64
  return config


def steps_for_kimg(config, total_kimg: float) -> int:
  """Steps until ``total_kimg`` thousand images have been shown under the growing schedule."""
  levels = len(config.progressive.batch_sizes)
  schedule = stages.progressive_stages(config, levels)
  images = total_kimg * 1000
  for stage, following in zip(schedule, schedule[1:] + (None,), strict=True):
    if following is None or following.first_image >= images:
      return stage.first_step + math.ceil((images - stage.first_image) / stage.batch_size)
  raise AssertionError("unreachable")
