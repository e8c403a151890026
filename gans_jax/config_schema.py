"""The config schema: the fields every run has, and the presets config files build on.

``base_config(family)`` holds every field the loop, the data pipeline and the evaluation read,
with its default and a comment saying what it does, plus the family's own fields
(``trainers.Family.config_fields``) and without the base fields the family does not read
(``Family.unused_fields``); ``image_gan_config`` and ``translation_config`` fill it in for the
image GAN and image-to-image config files; ``optimizer_config`` is one optimizer section;
``upgrade_saved`` reads a config saved by an earlier version. Loading and overriding configs is
``config_utils``.
"""

from __future__ import annotations

import functools
import math

import ml_collections

from gans_jax import config_utils, errors, models, trainers


def base_config(family: str) -> ml_collections.ConfigDict:
  """Every field a run of ``family`` (a key of ``gans_jax.trainers.FAMILIES``) has, with its
  default; a config file starts from this and sets values (its networks' sections included).

  Raises:
    errors.ConfigError: for an unknown family.
  """
  spec = trainers.get_family(family)
  config = _run_fields(family)
  if spec.config_fields is not None:
    spec.config_fields(config)
  for name in spec.unused_fields:
    node, leaf = config_utils.section_of(config, name)
    if node is not None and leaf in node:
      del node[leaf]
  return config


def _run_fields(family: str) -> ml_collections.ConfigDict:
  """The fields every family shares."""
  config = ml_collections.ConfigDict()
  config.family = family  # Trainer in gans_jax/trainers (see gans_jax.trainers.FAMILIES).
  config.seed = 0  # Root of every PRNG key and of the data order.
  # Bitwise runs on GPU too (XLA's deterministic ops; gans_jax.determinism); false: XLA's defaults.
  config.deterministic = True
  config.num_steps = 1000  # Generator updates (each preceded by `d_steps` D updates).
  config.batch_size = 64  # Global batch per D or G update, split over all devices.
  config.d_steps = 1  # k: discriminator updates per generator update (Goodfellow 2014, Alg. 1).
  config.dataset = "digits"  # Data source name; see data_pipelines.DATASETS.
  _data_and_model_fields(config)
  _loss_fields(config)
  config.optim = ml_collections.ConfigDict()
  config.optim.g = optimizer_config("adam", 2e-4, b1=0.5)
  config.optim.d = optimizer_config("adam", 2e-4, b1=0.5)
  config.ema_decay = 0.0  # EMA of G's params used for sampling; 0 turns it off.
  config.checkpoint_every_steps = 500  # Orbax checkpoint period (and always at the end).
  # Also checkpoint when this many seconds passed since the last save (0: off), so a run killed
  # without warning loses at most that much work; SIGINT / SIGTERM always save first.
  config.checkpoint_every_secs = 600.0
  config.sample_every_steps = 500  # Sample grid PNG on fixed noise.
  config.log_every_steps = 50  # Console / TensorBoard / metrics.jsonl period.
  config.eval_num_samples = 1000  # Samples drawn for the end-of-run evaluation.
  config.num_grid_samples = 64  # Images in each sample grid.
  config.compute_dtype = "float32"  # "bfloat16": bf16 compute; params, optimizer, losses in f32.
  # XLA:CPU's convolution library for the train step: "ynnpack" (jaxlib's default) or "eigen"
  # (XLA's own; see gans_jax.compile_options). No effect on accelerators.
  config.cpu_convolutions = "ynnpack"
  _placement_fields(config)
  _evaluation_fields(config)
  # (field, the paper's value, why) for every field set away from the paper (``depart``).
  config.departures = ()
  return config


def _data_and_model_fields(config) -> None:
  """What the data is and the model's shared sizes (the networks' sections are the families')."""
  config.data = ml_collections.ConfigDict()
  config.data.resolution = 32  # Images are resized to resolution x resolution.
  config.data.channels = 1  # 1 (grey) or 3 (RGB).
  config.data.skip_corrupt = False  # Skip unreadable files (counted, logged) instead of failing.
  # "center": each image's central square before resizing (torchvision's Scale + CenterCrop, as
  # the reference codes read LSUN); "": the whole image resized to resolution x resolution.
  config.data.crop = ""
  config.data.class_names = ()  # Conditional models: the classes' names ("" entries unnamed).
  config.model = ml_collections.ConfigDict()
  config.model.latent_dim = 100  # Size of z ~ N(0, I).
  # What G sees of z: "normal" (z itself) or a uniform prior mapped from z exactly in
  # distribution ("uniform": U(-1, 1); others in models.LATENT_PRIORS). Samplers and metrics
  # always draw z ~ N(0, I).
  config.model.latent_prior = "normal"
  config.model.num_classes = 0  # K > 0: class-conditional G (and D), labels from the data.
  config.model.generator = ml_collections.ConfigDict()
  config.model.discriminator = ml_collections.ConfigDict()


def _loss_fields(config) -> None:
  """D's input augmentation and the adversarial loss with its regularisers."""
  config.augment = ml_collections.ConfigDict()
  config.augment.policy = ""  # DiffAugment on D's inputs, e.g. "translation,cutout"; "" is off.
  config.augment.translation_ratio = 0.125  # Largest shift, as a fraction of the image size.
  config.augment.cutout_ratio = 0.5  # Side of the cut-out square, as a fraction of the size.
  config.loss = ml_collections.ConfigDict()
  config.loss.name = "non_saturating"  # See gans_jax.losses.ADVERSARIAL_LOSSES.
  config.loss.class_weight = 1.0  # AC-GAN: weight of the class (L_C) terms.
  config.loss.gradient_penalty = 0.0  # WGAN-GP's lambda (10 in the paper); 0 is off.
  config.d_weight_clip = 0.0  # WGAN: clip D's weights to +-this after each D update; 0 is off.
  config.d_input_noise = 0.0  # Std of Gaussian noise added to D's inputs in training; 0 is off.


def _placement_fields(config) -> None:
  """Where a run computes: the device mesh and the hosts (never what it computes)."""
  config.parallel = ml_collections.ConfigDict()  # See gans_jax.parallel.
  config.parallel.mesh_shape = (-1, 1)  # (data, fsdp) devices; (1, -1) shards the whole state.
  config.parallel.fsdp_min_size = 2**14  # Smaller state arrays stay replicated under fsdp.
  config.distributed = ml_collections.ConfigDict()  # jax.distributed (multi-host) settings.
  config.distributed.mode = "auto"  # auto: on when a coordinator or a Slurm/MPI/TPU job says so.
  config.distributed.coordinator_address = ""  # host:port of process 0 ("": detected).
  config.distributed.num_processes = 0  # 0: detected.
  config.distributed.process_id = -1  # -1: detected.
  # Seconds, generous for loaded hosts (JAX's: 300, 100, 300); see gans_jax.parallel.
  config.distributed.initialization_timeout_s = 900  # Every process must have joined by then.
  config.distributed.heartbeat_timeout_s = 300  # A process silent this long is taken for dead.
  config.distributed.shutdown_timeout_s = 3600  # Finished processes wait for the last one.


def _evaluation_fields(config) -> None:
  """What a run evaluates and with what (``gans_jax.evaluation``)."""
  config.eval = ml_collections.ConfigDict()
  # The evaluation protocol (metrics.registry.PROTOCOLS): "default" is the family's (held-out
  # translation, or the dataset's own: digits classifier, 2-D mode coverage), or "none".
  config.eval.protocol = "default"
  # Named metrics besides it (metrics.registry), e.g. "fid10k,kid10k" or "fd1k_digits". With no
  # protocol of the dataset's own and none named, "default" evaluates FID / KID / PR.
  config.eval.metrics = ""
  config.eval.every_steps = 0  # Also evaluate every this many steps (0: only at the end).
  config.eval.inception_weights = ""  # Converted FID Inception .npz; "" uses the env var.
  config.eval.reference_count = 50_000  # Real images behind the reference statistics (cap).
  config.eval.batch_size = 50  # Images per Inception call.
  # Batches the offline feature network (metrics.selfsup) trains for, once per dataset.
  config.eval.selfsup_steps = 400
  config.eval.lpips_weights = ""  # PPL's converted LPIPS .npz; "" uses $GANS_JAX_LPIPS_WEIGHTS.
  config.eval.ppl_face_crop = False  # PPL on the face centre (aligned face datasets).


def image_gan_config(arg, family: str, network: str | None = "dcgan"):
  """``base_config()`` filled in from an image config's variant arguments.

  Sets the family, dataset, steps, batch size, resolution and channels from ``arg`` (fields
  dataset, steps, batch, resolution, channels), z of 100 as in every image paper here, the
  network ``network`` for G and D with ``arg.width``, and a checkpoint every 500 steps with a
  sample grid every 250.
  """
  config = base_config(family)
  config.dataset = arg.dataset
  config.num_steps = arg.steps
  config.batch_size = arg.batch
  config.data.resolution = arg.resolution
  config.data.channels = arg.channels
  config.model.latent_dim = 100
  if network:
    for role in ("generator", "discriminator"):
      config.model[role].name = network
      config.model[role].width = arg.width
  config.checkpoint_every_steps = 500
  config.sample_every_steps = 250
  # Measured on the development CPU: ngf = ndf = 64 DCGAN steps ran 13-19 % faster with Eigen's
  # convolutions (benchmarks/compare_pytorch), the default ngf = 16 step 20-50 % slower (small
  # convolutions suit YNNPACK); pix2pix ran 2 % slower, so translation configs keep YNNPACK.
  config.cpu_convolutions = "eigen" if arg.width >= 64 else "ynnpack"
  return config


def set_classes(config: ml_collections.ConfigDict, classes: int) -> None:
  """A conditional model's classes: ``classes`` when given (> 0), else the dataset's own count,
  read from a folder's class subfolders (or digits' 10) with their names; 10 otherwise (the
  check at start-up names the dataset's count if that is wrong).

  Raises:
    errors.ConfigError: when ``classes`` contradicts the folder's class subfolders, or a folder has
      fewer than two.
  """
  import data_pipelines

  names = data_pipelines.class_names(config.dataset)
  if names is not None and len(names) < 2:
    raise errors.ConfigError(
      f"{config.dataset} has {len(names)} class subfolders; a conditional model needs at least "
      "two (one folder per class)."
    )
  if names is not None and classes and classes != len(names):
    raise errors.ConfigError(
      f"classes={classes} but {config.dataset} has {len(names)} classes ({', '.join(names)})."
    )
  config.model.num_classes = classes or (len(names) if names else 10)
  config.data.class_names = names or ()


@functools.lru_cache(maxsize=64)
def _counted_epoch(dataset: str) -> int | None:
  import data_pipelines

  return data_pipelines.training_epoch(dataset)


def epoch_steps(family: str, dataset: str, paper_datasets: dict[str, tuple[str, int]]) -> int:
  """Steps of one epoch at batch 1: a paper dataset's size (``paper_datasets``: name -> (source,
  size), matched by name or source), else a ``paired:`` / ``unpaired:`` folder's training images,
  counted from file names (``data_pipelines.training_epoch``).

  Raises:
    errors.ConfigError: for data whose size is known neither way (set steps=).
  """
  for name, (source, size) in paper_datasets.items():
    if dataset in (name, source):
      return size
  counted = _counted_epoch(dataset)  # Once per folder: num_steps is computed whenever read.
  if counted is None:
    raise errors.ConfigError(
      f"{family}: cannot count the training images of {dataset!r}; set steps=."
    )
  return counted


def translation_config(
  family: str,
  dataset: str,
  steps: int,
  batch: int,
  resolution: int,
  paper_datasets: dict[str, tuple[str, int]] | None = None,
):
  """``base_config()`` with the fields of the image-to-image families (pix2pix, CycleGAN).

  Adam(2e-4, beta1 0.5) for G and D, constant for the first half of the steps and then falling
  linearly to 0 (Isola et al. 2017 and Zhu et al. 2017: 100 + 100 epochs); RGB in and out; load
  size = resolution * 286 / 256 (the papers' random-jitter ratio); mirroring on.

  The run's length: ``steps`` when given (> 0), else ``num_epochs`` (200) epochs of the
  dataset's training images (``epoch_steps``; ``paper_datasets`` names the papers' datasets and
  their sizes) at ``batch_size``, a reference that follows ``--config.num_epochs``,
  ``--config.batch_size`` and ``--config.dataset``.

  The schedule's lengths are references to ``num_steps``: ``--config.num_steps=N`` gives N / 2
  constant steps and N / 2 of decay, and ``--config.optim.g.lr_constant_steps=K`` leaves the
  other N - K steps to the decay (``validate`` refuses a schedule that does not end at N).
  """
  config = base_config(family)
  config.dataset = dataset
  config.batch_size = batch
  if steps:
    config.num_steps = steps
  else:
    _steps_follow_epochs(config, family, paper_datasets or {})
  config.data.resolution = resolution  # The training crop and the evaluation size.
  config.data.load_size = round(resolution * 286 / 256)  # Resize to this, then crop.
  config.data.channels = 3  # Output (domain B) channels.
  num_steps = config.get_ref("num_steps")
  for role in ("g", "d"):
    constant = num_steps // 2  # One reference per optimizer: each may be overridden alone.
    config.optim[role] = optimizer_config(
      "adam", 2e-4, b1=0.5, lr_constant_steps=constant, lr_linear_decay_steps=num_steps - constant
    )
  config.eval_num_samples = 100  # Held-out inputs translated by the end-of-run evaluation.
  config.num_grid_samples = 8  # Rows of the input | output | target grids.
  return config


def _steps_follow_epochs(config, family: str, paper_datasets) -> None:
  """``num_steps`` as ceil(num_epochs x training images / batch_size), computed whenever read
  (ml_collections' reference ops); an explicit ``num_steps`` replaces it.

  Raises:
    errors.ConfigError: when the dataset's size is known neither from ``paper_datasets`` nor
      from its files (``epoch_steps``).
  """

  def steps(epochs: float, dataset: str, batch: int) -> int:
    return math.ceil(epochs * epoch_steps(family, dataset, paper_datasets) / batch)

  budget = config.get_ref("num_epochs")._apply_op(
    steps, config.get_ref("dataset"), config.get_ref("batch_size")
  )
  del config["num_steps"]  # Replaced by the reference (assigning would set a value).
  config.num_steps = budget.to_int()


def optimizer_config(name: str, learning_rate: float, **kwargs: float) -> ml_collections.ConfigDict:
  """An optimizer section: optax name, learning rate, and the optimizer's own arguments."""
  section = ml_collections.ConfigDict()
  section.name = name  # See gans_jax.optimizers.OPTIMIZERS.
  section.learning_rate = learning_rate
  section.b1 = kwargs.pop("b1", 0.9)  # Adam beta1 (ignored by optimizers without it).
  section.b2 = kwargs.pop("b2", 0.999)  # Adam beta2.
  section.decay = kwargs.pop("decay", 0.9)  # RMSprop decay.
  section.eps = kwargs.pop("eps", 1e-8)  # RMSprop epsilon.
  # RMSprop's epsilon inside the square root (optax) or outside it (PyTorch, Tieleman & Hinton).
  section.eps_in_sqrt = kwargs.pop("eps_in_sqrt", True)
  # SGD momentum (0: none); with a ramp, (final momentum, first epoch, last epoch, updates per
  # epoch): linear between the two epochs, set once per epoch (pylearn2's MomentumAdjustor).
  section.momentum = kwargs.pop("momentum", 0.0)
  section.momentum_ramp = kwargs.pop("momentum_ramp", ())
  # Exponential learning-rate decay: times lr_decay_rate every lr_decay_steps updates (1: off).
  section.lr_decay_rate = kwargs.pop("lr_decay_rate", 1.0)
  section.lr_decay_steps = kwargs.pop("lr_decay_steps", 0)
  section.lr_min = kwargs.pop("lr_min", 0.0)  # Floor of the exponential decay (0: none).
  # L2 penalty: weight_decay * params added to the gradient before the optimizer (coupled, as
  # Newmu's DCGAN code regularises; 0: off).
  section.weight_decay = kwargs.pop("weight_decay", 0.0)
  # Linear decay (pix2pix / CycleGAN): constant for lr_constant_steps updates, then linearly to
  # 0 over lr_linear_decay_steps more (0: off).
  section.lr_constant_steps = kwargs.pop("lr_constant_steps", 0)
  section.lr_linear_decay_steps = kwargs.pop("lr_linear_decay_steps", 0)
  if kwargs:
    raise errors.ConfigError(f"Unknown optimizer arguments: {sorted(kwargs)}")
  return section


def pylearn2_sgd(config, decay_factor: float, updates_per_epoch: int) -> None:
  """goodfeli/adversarial's training (Goodfellow et al. 2014; Mirza & Osindero 2014 build on
  it), set on ``config``: D and G updated simultaneously from one gradient evaluation; SGD with
  lr 0.1 divided by ``decay_factor`` after every update down to 1e-6 (pylearn2's
  ``ExponentialDecay``); momentum 0.5 rising linearly to 0.7 over epochs 1-250 of
  ``updates_per_epoch`` updates (``MomentumAdjustor(start=1, saturate=250)``, which counts
  monitor calls from 1 with one before training: epochs 0-249 counted from 0). D's loss is
  halved in the code (0.5 (BCE real + BCE fake)); under momentum SGD that is D's rate and floor
  halved, which is how it is written here."""
  config.simultaneous_updates = True
  for role, scale in (("g", 1.0), ("d", 0.5)):
    config.optim[role] = optimizer_config(
      "sgd",
      0.1 * scale,
      momentum=0.5,
      momentum_ramp=(0.7, 0, 249, updates_per_epoch),
      lr_decay_rate=1 / decay_factor,
      lr_decay_steps=1,
      lr_min=1e-6 * scale,
    )


def upgrade_saved(saved: dict, like: dict | None = None) -> dict:
  """A run's saved config (config.json) in today's schema: fields added since it was written
  get their defaults (each added field defaults to the value that reproduces the runs saved
  before it, docs/design.md section 3), and base fields its family does not read are dropped.
  Nothing it holds is changed. With ``like`` (the config it is compared with, as a dict), a
  network field ``like`` sets and ``saved`` lacks takes the network's own default
  (``models.network_defaults``), which is what the saved run used.

  Raises:
    errors.ConfigError: when it names no known family.
  """
  family = saved.get("family")
  if family not in trainers.FAMILIES:
    raise errors.ConfigError(
      f"The saved config names family {family!r}; known families: {', '.join(trainers.FAMILIES)}."
    )
  upgraded = _with_missing(saved, base_config(family))
  for name in trainers.get_family(family).unused_fields:
    node, leaf = config_utils.section_of(upgraded, name)
    if node is not None:
      node.pop(leaf, None)
  if like is not None:
    _with_network_defaults(upgraded, like)
  return upgraded


def _with_network_defaults(saved: dict, like: dict) -> None:
  for role in ("generator", "discriminator"):
    section = saved.get("model", {}).get(role)
    wanted = like.get("model", {}).get(role, {})
    if not isinstance(section, dict):
      continue
    defaults = models.network_defaults(role, section.get("name"))
    for key in wanted:
      if key not in section and key in defaults:
        section[key] = _plain(defaults[key])


def _with_missing(saved: dict, template: ml_collections.ConfigDict) -> dict:
  """``saved`` with the keys of ``template`` it lacks (sections recursively, and every saved
  optimizer section from the template's ``g``), values read only where missing."""
  result = dict(saved)
  for key in template.keys():
    if key not in result:
      result[key] = _plain(template[key])
    elif isinstance(result[key], dict) and isinstance(template[key], ml_collections.ConfigDict):
      if key == "optim":  # Roles are the config's; each gets every optimizer field.
        result[key] = {
          role: _with_missing(section, template.optim.g) for role, section in result[key].items()
        }
      else:
        result[key] = _with_missing(result[key], template[key])
  return result


def _plain(value):
  if isinstance(value, ml_collections.ConfigDict):
    return {key: _plain(value[key]) for key in value.keys()}
  return list(value) if isinstance(value, tuple) else value
