r"""AC-GAN (Odena, Olah & Shlens 2017): a class-conditional G and a D with two heads.

D predicts the source (real / generated) and the class of every image; it maximises L_S + L_C
and G maximises L_C - L_S (Odena et al., Sec. 3), with generated images asked for uniformly
random classes.

``paper=true`` is the paper's ImageNet model (Appendix A, "Model hyperparameters";
``models/acgan.py``): 128x128 RGB, 10 classes per model (the paper trains 100 models, each on
10 ImageNet classes; the preset takes one such set, Imagenette's, ``tfds:imagenette/
full-size-v2``, each image's central square as ImageNet GAN codes read it), z of 100 ~ N(0, I)
with the one-hot class, the table's G (dense 768 maps, 5x5 transposed convolutions
384-256-192-3) and D (3x3 convolutions 16 ... 512 with dropout 0.5, one dense layer of 1 + K
outputs), N(0, 0.02) weights and zero biases,
Adam(2e-4, beta1 0.5, beta2 0.999; the table's "beta2 = 10-3" read as 1 - 1e-3), batch 100,
50,000 iterations, and G's objective as the paper writes it: maximise L_C - L_S, the minimax
form of the source term (``loss.name="minimax"``). The table's "activation noise in the
discriminator" has no size and is left out (``activation_noise=0``). No code was published.

The digits default: the DCGAN of ``configs/dcgan.py`` with the one-hot class concatenated to z,
the class head a second output of D's last layer, G's non-saturating -L_S, DiffAugment
translation and G's EMA; ``gans-jax describe`` lists every departure.

Measured here (2-core CPU, 2,000 steps at batch 64, 240 s of training): 99.4 % of 1,000 samples
classified as the digit asked for (the worst digit 97 %), Fréchet distance 34.3.

  gans-jax train --config configs/acgan.py
  gans-jax train --config configs/acgan.py:paper=true               # 10 ImageNet classes
  gans-jax train --config configs/acgan.py:paper=true,dataset=folder:/data/imagenet_10_classes
  gans-jax train --config configs/acgan.py:dataset=tfds:cifar10,channels=3,width=64 \
      --config.num_steps=50000

Variant arguments: paper, dataset, resolution, channels, width, steps, batch, classes.
"""

from gans_jax import config_schema, fidelity

DEFAULTS = {"paper": False, "dataset": "digits", "resolution": 32, "channels": 1, "width": 16,
            "steps": 2000, "batch": 64, "classes": 0}  # fmt: skip
# paper=true: the ImageNet model of the appendix; arguments given beside it still win.
PAPER = {"dataset": "tfds:imagenette/full-size-v2", "resolution": 128, "channels": 3,
         "steps": 50_000, "batch": 100, "classes": 10}  # fmt: skip


def get_config(arg=None):
  return fidelity.preset_config(arg, DEFAULTS, PAPER, _build, _declare_departures)


def _build(arg):
  """The config of the variant arguments ``arg``, without its declared departures."""
  config = config_schema.image_gan_config(arg, "gan", network=None if arg.paper else "dcgan")
  config_schema.set_classes(config, arg.classes)  # 0: the dataset's (a folder's subfolders).
  g, d = config.model.generator, config.model.discriminator
  d.conditioning = "auxiliary"
  if arg.paper:
    g.name, d.name = "acgan", "acgan"
    g.width, d.width = 768, 16  # The table's dense maps and first convolution.
    d.dropout, d.activation_noise = 0.5, 0.0  # The noise's size is not given (docstring).
    config.loss.name = "minimax"  # G maximises L_C - L_S (Sec. 3).
    config.data.crop = "center"  # Photos of any shape; the paper is silent.
  else:
    config.augment.policy = "translation"  # As configs/dcgan.py, for the small digits set.
    config.augment.translation_ratio = 1 / 16
    config.ema_decay = 0.999
    config.loss.name = "non_saturating"
  config.loss.class_weight = 1.0
  config.optim.g = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  config.optim.d = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  return config


def _declare_departures(config, paper, beside_paper: bool) -> None:
  """Where the digits default sets a field away from the paper preset, and why."""
  dcgan = "configs/dcgan.py's DCGAN made conditional (99.4 % classified as asked; README)"
  reasons = {
    **fidelity.digits_default_reasons(),
    "model.num_classes": "the dataset's classes",
    "batch_size": "64, as configs/dcgan.py; not measured vs 100",
    "model.generator": dcgan,
    "model.discriminator": dcgan,
    "loss.name": "G's non-saturating -L_S (Goodfellow 2014's practical form); README Fidelity",
    "augment.policy": "DiffAugment translation (Zhao et al. 2020), as configs/dcgan.py",
    "augment.translation_ratio": "1/16 of the image, as configs/dcgan.py",
    "ema_decay": "samples of G's EMA (standing statistics), as configs/dcgan.py",
    "cpu_convolutions": "the default width's faster convolutions (no effect on results)",
    "data.crop": "the digits are square",
  }
  fidelity.depart_from(config, paper, reasons, beside_paper)
