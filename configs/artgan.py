r"""ArtGAN (Tan, Chan, Aguirre & Tanaka, ICIP 2017): a categorical D with K + 1 sigmoid outputs,
G = zNet + a decoder that mirrors D's encoder, and an L2 reconstruction Dec(Enc(x)) in G's loss.

Paper settings: z of 100 with the one-hot class, LeakyReLU(0.2), 4x4 stride-2 (transposed)
convolutions with BatchNorm, RMSprop with learning rate 1e-3 and decay 0.9, the learning rate
decayed exponentially; 64x64 images for CIFAR-10 and the WikiArt genre / artist / style splits
(class subfolders in a folder). Label flipping and instance noise on the real images are options
(``artgan.label_flip``, ``artgan.real_noise``), on by default: label flipping 0.05 and noise
std 0.1 on real images.

Measured here (2-core CPU, embedded digits, 2,000 steps at batch 64): every one of 1,000
samples (100 per digit) classified as the digit asked for, with or without the two options;
Fréchet distance 66.0 with them (409 s of training) and 82.8 without (288 s); samples vary
less within a class than cGAN's (Fréchet distance 25.0).

  gans-jax train --config configs/artgan.py                         # embedded digits, 32x32
  gans-jax train --config configs/artgan.py:dataset=tfds:cifar10,resolution=64,channels=3,width=128
  gans-jax train --config configs/artgan.py:dataset=folder:/data/wikiart/genre,resolution=64,\
channels=3,width=128    # one class per subfolder

Variant arguments: dataset, resolution, channels, width (Enc's first layer, 128 in the paper),
steps, batch, classes, decay_steps (learning-rate decay period in G updates), tricks (label
flipping 0.05 and instance noise 0.1 on real images; tricks=false turns both off).
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
    classes=0,
    decay_steps=1000,
    tricks=True,
  )
  config = config_schema.image_gan_config(arg, "artgan", network="artgan")
  config_schema.set_classes(config, arg.classes)  # 0: the dataset's (a folder's subfolders).
  config.augment.policy = "translation"  # As configs/dcgan.py, for the small digits set.
  config.augment.translation_ratio = 1 / 16
  config.ema_decay = 0.999
  config.artgan.label_flip = 0.05 if arg.tricks else 0.0  # Probability of swapping a target.
  config.artgan.real_noise = 0.1 if arg.tricks else 0.0  # Std of noise on real images.
  for role in ("g", "d"):
    config.optim[role] = config_schema.optimizer_config(
      "rmsprop", 1e-3, decay=0.9, lr_decay_rate=0.9, lr_decay_steps=arg.decay_steps
    )
  return config
