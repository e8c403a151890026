r"""pix2pix (Isola, Zhu, Zhou & Efros 2017): U-Net G + 70x70 PatchGAN D, GAN loss + 100 L1.

The reference code's defaults (junyanz/pytorch-CycleGAN-and-pix2pix, ``--model pix2pix``):
``unet_256`` with BatchNorm and dropout 0.5, ``basic`` PatchGAN (n_layers 3) on the input|output
pair, vanilla GAN loss, lambda_L1 = 100, Adam(2e-4, beta1 0.5), batch 1, resize to 286 and random
crop to 256 with mirroring, 100 epochs at a constant rate then 100 of linear decay to 0.

``paper=true`` is that on facades as the reference trains it (``--dataroot ./datasets/facades
--direction BtoA``: label maps -> photos; ``paired:data/facades`` in the reference's layout,
400 training images, 200 epochs). ``gans-jax describe`` lists the default's departures.

Datasets:
  * scenes (default): the embedded procedural landscapes, semantic maps -> renderings, 64x64
    (load size 72), a U-Net with 6 levels (``unet_64``: 64 -> 1x1) and ngf = ndf = 32, which
    trains in minutes on 2 CPU cores;
  * facades: the paper preset's data, 256x256, BtoA;
  * any ``paired:/path`` of A|B images: the paper's settings (256x256, 200 epochs of the
    folder's training images at batch 1), or your own size with ``resolution=`` (the load size
    and the U-Net's depth follow) and length with ``steps=`` (the learning-rate schedule
    follows: half constant, half decay); ``direction=BtoA`` translates B to A.

  gans-jax train --config configs/pix2pix.py
  gans-jax train --config configs/pix2pix.py:l1_only=true           # the L1-only baseline
  gans-jax ablation --workdir runs/ablation                          # Table 1 on the scenes
  gans-jax train --config configs/pix2pix.py:noise=0.25             # Tucker 2022's noisy maps
  gans-jax describe --config configs/pix2pix.py:paper=true          # G 54,413,955; D 2,768,705
  gans-jax train --config configs/pix2pix.py:paper=true
  gans-jax train --config configs/pix2pix.py:dataset=paired:/data/edges,resolution=64,steps=3000

Variant arguments: paper, dataset, direction (AtoB / BtoA), resolution (a power of 2 from 32; the
U-Net goes down to 1x1), steps, batch, width (ngf = ndf), l1_only (G on L1 alone, no D), noise
(fraction of each training map's pixels replaced by random colours), noise_images (the fraction
of training maps that get noise).
"""

from gans_jax import config_schema, config_utils, fidelity

PAPER_DATASETS = {"facades": ("paired:data/facades", 400)}  # name -> (source, training images)
DEFAULTS = {"paper": False, "dataset": "scenes", "direction": "AtoB", "resolution": 0,
            "steps": 0, "batch": 1, "width": 0, "l1_only": False, "noise": 0.0,
            "noise_images": 1.0}  # fmt: skip
PAPER = {"dataset": "facades", "direction": "BtoA"}  # Arguments given beside it still win.


def get_config(arg=None):
  return fidelity.preset_config(arg, DEFAULTS, PAPER, _build, _declare_departures)


def _build(arg):
  """The config of the variant arguments ``arg``, without its declared departures."""
  embedded = arg.dataset == "scenes"
  resolution = arg.resolution or (64 if embedded else 256)
  num_downs = resolution.bit_length() - 1  # Down to 1x1.
  if resolution != 2**num_downs or resolution < 32:
    raise config_utils.ConfigError(
      f"pix2pix: resolution={resolution} must be a power of 2 from 32 (the U-Net halves it down "
      "to 1x1 and the 70x70 PatchGAN needs 32)."
    )
  steps = arg.steps or (3000 if embedded else 0)  # 0: 200 epochs (num_epochs).
  source = PAPER_DATASETS.get(arg.dataset, (arg.dataset,))[0]
  config = config_schema.translation_config(
    "pix2pix", source, steps, arg.batch, resolution, PAPER_DATASETS
  )
  config.data.direction = arg.direction
  width = arg.width or (32 if embedded else 64)
  config.model.generator.name = "unet"
  config.model.generator.num_downs = num_downs
  config.model.generator.width = width  # ngf.
  config.model.generator.norm = "batch"
  config.model.generator.dropout = 0.5
  config.model.discriminator.name = "patchgan"
  config.model.discriminator.width = width  # ndf.
  config.model.discriminator.n_layers = 3  # 70x70 patches.
  config.model.discriminator.norm = "batch"

  config.loss.name = "non_saturating"  # The reference's "vanilla" GANLoss (BCE with logits).
  config.loss.adversarial_weight = 0.0 if arg.l1_only else 1.0  # 0: the L1-only baseline.
  # Tucker 2022's experiment: corrupt the training maps (never the held-out ones).
  config.data.input_noise_fraction = arg.noise
  config.data.input_noise_images = arg.noise_images
  if embedded:  # The maps' colours (data_pipelines.scenes.MAP_PALETTE): Table 1's protocols.
    config.data.label_palette = "scenes"
    config.eval.metrics = "fcn_score,fcn_fd,real_vs_fake"
  config.checkpoint_every_steps = 1000
  config.sample_every_steps = 500
  config.log_every_steps = 100
  return config


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where the scenes default sets a field away from the paper preset, and why."""
  small = "64x64 scenes in minutes on 2 CPU cores (paper=true restores it)"
  reasons = {
    "dataset": "the embedded scenes (semantic map -> rendering), offline",
    "data.direction": "the scenes' A side is the map",
    "data.resolution": small,
    "data.load_size": "286 / 256 of the resolution, as the reference's 286 for 256",
    "num_steps": "3,000 steps: " + small,
    "model.generator.num_downs": "a U-Net down to 1x1 at 64x64 (unet_64)",
    "model.generator.width": "ngf = 32: " + small,
    "model.discriminator.width": "ndf = 32: " + small,
    "optim.g": "the linear decay over the run's 3,000 steps (half constant, half decay)",
    "optim.d": "the linear decay over the run's 3,000 steps (half constant, half decay)",
    "loss.adversarial_weight": "l1_only=true: the L1-only baseline of Table 1",
    "data.input_noise_fraction": "noise=: Tucker 2022's noisy maps",
    "data.input_noise_images": "noise_images=: Tucker 2022's share of noisy maps",
    "data.label_palette": "the scenes' map colours, for the FCN-score",
    "eval.metrics": "Table 1's FCN-score and a real-vs-fake test for the AMT study, on the "
    "scenes' held-out maps (facades has no FCN-score in the paper)",
  }
  fidelity.depart_from(config, paper, reasons, beside_paper)
