"""StyleGAN's config fields: the family's own section, with the paper's values as defaults
(Karras et al. 2019 and NVlabs' v1 code), and the base fields it does not read.

The run's length is a budget of images, ``progressive.total_kimg`` (NVlabs' ``total_kimg``):
``num_steps`` is a reference computed from it and the growing schedule whenever it is read, so
overriding any ``progressive.*`` field keeps the two in step; setting ``num_steps`` itself
replaces the budget.
"""

from __future__ import annotations

import math

import ml_collections

from gans_jax.trainers import stages

# Fields StyleGAN does not read: its loss is the non-saturating logistic one with R1
# (``loss.r1_gamma``), its EMA is given as a half-life (``ema_kimg``), its batch sizes are per
# level (``progressive.batch_sizes``), and it has no gradient penalty, class weight or clipping.
# Truncation is an option of the figures (--psi, --cutoff), not of the run; earlier versions
# wrote these two into their configs.
UNUSED_FIELDS = (
  "batch_size",
  "model.latent_prior",  # z ~ N(0, I), as NVlabs'.
  "ema_decay",
  "loss.name",
  "loss.gradient_penalty",
  "loss.class_weight",
  "d_weight_clip",
  "model.truncation_psi",
  "model.truncation_cutoff",
)

# The fields the step budget depends on, in ``steps_for_kimg``'s argument order.
_SCHEDULE_FIELDS = ("initial_resolution", "initial_kimg", "stable_kimg", "fade_kimg", "batch_sizes")


# NVlabs' 8-GPU minibatch_dict and G / D learning rates by resolution (others: 32 and 0.001 up
# to 64x64, 0.003 from 512x512).
PAPER_BATCH_SIZES = {4: 512, 8: 256, 16: 128, 32: 64}
PAPER_LEARNING_RATES = {128: 0.0015, 256: 0.002}


def paper_schedule(resolution: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
  """(batch sizes, learning rates) per level 4x4 .. resolution, the paper's."""
  sizes = [4 * 2**level for level in range(int(math.log2(resolution)) - 1)]
  batches = tuple(PAPER_BATCH_SIZES.get(size, 32) for size in sizes)
  rates = tuple(0.001 if size < 128 else PAPER_LEARNING_RATES.get(size, 0.003) for size in sizes)
  return batches, rates


def config_fields(config) -> None:
  """Adds StyleGAN's fields, the per-level schedule for the base resolution (a config file sets
  ``progressive.batch_sizes`` and ``learning_rates`` for its own, one entry per level 4x4 first:
  ``paper_schedule``)."""
  config.data.mirror = True  # Random left-right mirroring of reals (NVlabs: FFHQ, CelebA-HQ).
  config.model.style_mixing_prob = 0.9  # Style-mixing regularization (Sec. 3.1).
  config.loss.r1_gamma = 10.0  # R1 weight gamma (the penalty is gamma / 2 * ||grad D(x)||^2).
  config.ema_kimg = 10.0  # Half-life of G's EMA in thousands of images.
  p = config.progressive = ml_collections.ConfigDict()
  p.initial_resolution = 8  # Growing starts here (NVlabs' lod_initial_resolution).
  p.initial_kimg = 600.0  # Training at the initial resolution (NVlabs: lod_training_kimg).
  p.stable_kimg = 600.0  # Per resolution, after its fade-in.
  p.fade_kimg = 600.0  # Fade-in of each new resolution (lod_transition_kimg).
  p.total_kimg = 25000.0  # The run's length in thousands of real images shown.
  # Global batch, and G and D learning rate, per level (4x4 first).
  p.batch_sizes, p.learning_rates = paper_schedule(config.data.resolution)
  del config["num_steps"]  # Replaced, not assigned: assigning would evaluate it now.
  config.num_steps = (
    p.get_ref("total_kimg")
    ._apply_op(steps_for_kimg, *(p.get_ref(name) for name in _SCHEDULE_FIELDS))
    .to_int()
  )  # ml_collections' reference ops: recomputed from the fields above whenever it is read.


def steps_for_kimg(
  total_kimg: float,
  initial_resolution: int,
  initial_kimg: float,
  stable_kimg: float,
  fade_kimg: float,
  batch_sizes: tuple[int, ...],
) -> int:
  """Steps until ``total_kimg`` thousand images have been shown under the growing schedule of
  the other arguments (``progressive.*``; see ``stages.progressive_stages``)."""
  schedule_only = ml_collections.ConfigDict(
    {
      "progressive": {
        "initial_resolution": initial_resolution,
        "initial_kimg": initial_kimg,
        "stable_kimg": stable_kimg,
        "fade_kimg": fade_kimg,
        "batch_sizes": batch_sizes,
        "learning_rates": (1.0,) * len(batch_sizes),  # Rates do not change the lengths.
      },
      "optim": {"g": {"learning_rate": 1.0}},
    }
  )
  schedule = stages.progressive_stages(schedule_only, len(batch_sizes))
  images = total_kimg * 1000
  for stage, following in zip(schedule, schedule[1:] + (None,), strict=True):
    if following is None or following.first_image >= images:
      return stage.first_step + math.ceil((images - stage.first_image) / stage.batch_size)
  raise AssertionError("unreachable")
