r"""CycleGAN (Zhu, Park, Isola & Efros 2017): two ResNet generators, two PatchGANs, cycle loss.

The reference code's defaults (junyanz/pytorch-CycleGAN-and-pix2pix, ``--model cycle_gan``):
``resnet_9blocks`` generators with InstanceNorm and no dropout, ``basic`` PatchGAN
discriminators with InstanceNorm, least-squares GAN loss, lambda_A = lambda_B = 10, identity
weight 0.5, a 50-image history per discriminator, Adam(2e-4, beta1 0.5), batch 1, resize to 286
and random crop to 256 with mirroring, 100 epochs at a constant rate then 100 of linear decay.

Datasets:
  * scenes_unpaired (default): the embedded landscapes, summer renderings (A) <-> winter
    renderings of other scenes (B), 64x64 (load size 72), 6 residual blocks, ngf = ndf = 24,
    2,500 steps (about 8 minutes on a 2-core CPU);
  * horse2zebra (``tfds:cycle_gan/horse2zebra``), the paper's 256x256 setting; any
    ``tfds:cycle_gan/<pair>`` or ``unpaired:/root`` (trainA/ trainB/ testA/ testB/) works too:
    256x256 and 200 epochs (an epoch is the larger domain's training images at batch 1) unless
    ``resolution=`` (residual blocks follow: 9 from 256, else 6) and ``steps=`` (the
    learning-rate schedule follows) say otherwise.

``paper=true`` is that on horse2zebra (``tfds:cycle_gan/horse2zebra``), the reference's own
example; ``gans-jax describe`` lists the default's departures.

  gans-jax train --config configs/cyclegan.py
  gans-jax describe --config configs/cyclegan.py:paper=true     # G 11,378,179; D 2,764,737
  gans-jax train --config configs/cyclegan.py:paper=true
  gans-jax train --config configs/cyclegan.py:dataset=unpaired:/data/photos,resolution=64,steps=2000

Variant arguments: paper, dataset, resolution (a multiple of 4 from 32), steps, batch, width
(ngf = ndf), blocks (residual blocks).
"""

from gans_jax import config_schema, config_utils, fidelity

# name -> (source, steps per epoch = the larger domain's training images, as the reference).
PAPER_DATASETS = {"horse2zebra": ("tfds:cycle_gan/horse2zebra", 1334)}
DEFAULTS = {"paper": False, "dataset": "scenes_unpaired", "resolution": 0, "steps": 0, "batch": 1,
            "width": 0, "blocks": 0}  # fmt: skip
PAPER = {"dataset": "horse2zebra"}  # Arguments given beside it still win.


def get_config(arg=None):
  return fidelity.preset_config(arg, DEFAULTS, PAPER, _build, _declare_departures)


def _build(arg):
  """The config of the variant arguments ``arg``, without its declared departures."""
  embedded = arg.dataset == "scenes_unpaired"
  resolution = arg.resolution or (64 if embedded else 256)
  if resolution % 4 or resolution < 32:
    raise config_utils.ConfigError(
      f"cyclegan: resolution={resolution} must be a multiple of 4 from 32 (the generator "
      "downsamples twice; the 70x70 PatchGAN needs 32)."
    )
  steps = arg.steps or (2500 if embedded else 0)  # 0: 200 epochs (num_epochs).
  source = PAPER_DATASETS.get(arg.dataset, (arg.dataset,))[0]
  config = config_schema.translation_config(
    "cyclegan", source, steps, arg.batch, resolution, PAPER_DATASETS
  )
  width = arg.width or (24 if embedded else 64)
  config.model.generator.name = "resnet"
  # 9 blocks at 256x256, 6 at 128x128 and below (paper, Sec. 7.2).
  config.model.generator.num_blocks = arg.blocks or (9 if resolution >= 256 else 6)
  config.model.generator.width = width  # ngf.
  config.model.generator.norm = "instance"
  config.model.discriminator.name = "patchgan"
  config.model.discriminator.width = width  # ndf.
  config.model.discriminator.n_layers = 3  # 70x70 patches.
  config.model.discriminator.norm = "instance"

  config.loss.name = "least_squares"  # LSGAN (paper, Sec. 4); weights and pools: the family's.
  config.checkpoint_every_steps = 500
  config.sample_every_steps = 500
  config.log_every_steps = 100
  return config


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where the scenes default sets a field away from the paper preset, and why."""
  small = "64x64 scenes in minutes on 2 CPU cores (paper=true restores it)"
  reasons = {
    "dataset": "the embedded summer <-> winter scenes, offline",
    "data.resolution": small,
    "data.load_size": "286 / 256 of the resolution, as the reference's 286 for 256",
    "num_steps": "2,500 steps: " + small,
    "model.generator.num_blocks": "6 residual blocks below 256x256 (the paper's Sec. 7.2)",
    "model.generator.width": "ngf = 24: " + small,
    "model.discriminator.width": "ndf = 24: " + small,
    "optim.g": "the linear decay over the run's 2,500 steps (half constant, half decay)",
    "optim.d": "the linear decay over the run's 2,500 steps (half constant, half decay)",
  }
  fidelity.depart_from(config, paper, reasons, beside_paper)
