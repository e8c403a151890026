"""Loading configs from files, variant arguments and command-line overrides.

A config is named as ``FILE[:ARG]`` (``configs/dcgan.py:dataset=digits,resolution=64``): the
file defines ``get_config(arg)``, and ``ARG`` is a comma-separated ``key=value`` list that the
file parses with :func:`parse_arg`. Fields are then overridden one by one with
``--config.a.b=value``. Configs are locked, so a misspelt key fails with the list of valid ones.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
from collections.abc import Iterable
from typing import Any

import ml_collections

from gans_jax import errors

# Fields that may change between a run and its resumption: they set how long and how often,
# never what is computed at a given step.
RUN_LENGTH_FIELDS = (
  "num_steps",
  "checkpoint_every_steps",
  "checkpoint_every_secs",
  "sample_every_steps",
  "log_every_steps",
  "eval_num_samples",
  "eval",
)
# Fields that say where a run computes (devices, hosts), not what: a run may resume on another
# mesh or process count (the data order is a function of the global batch alone).
PLACEMENT_FIELDS = ("parallel", "distributed")

DEFAULT_CONFIG = "dcgan"  # Named configs resolve through config_directories().


ConfigError = errors.ConfigError  # Raised here for configs; defined with the other user errors.


def _parse_value(text: str) -> Any:
  """Reads ``text`` as a Python literal where it is one, else as a plain string."""
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def parse_arg(arg: str | None, **defaults: Any) -> ml_collections.ConfigDict:
  """Parses a variant argument such as ``"dataset=digits,resolution=64"``.

  Args:
    arg: comma-separated ``key=value`` pairs, or None / "" for all defaults.
    **defaults: every accepted key with its default; values are cast to the default's type.

  Returns:
    A ConfigDict with every key of ``defaults``.

  Raises:
    ConfigError: for a key not in ``defaults`` (the message lists the valid ones) or a value
      that cannot be read as the default's type.
  """
  result = dict(defaults)
  for item in filter(None, (arg or "").split(",")):
    key, sep, text = item.partition("=")
    if not sep:
      raise ConfigError(f"Config argument {item!r} is not of the form key=value.")
    if key not in defaults:
      raise ConfigError(
        f"Unknown config argument {key!r}; valid arguments: {', '.join(sorted(defaults))}."
      )
    result[key] = _cast_like(defaults[key], _parse_value(text), key)
  return ml_collections.ConfigDict(result)


def _cast_like(reference: Any, value: Any, key: str) -> Any:
  """Casts ``value`` to the type of ``reference`` (int -> float allowed), or raises."""
  if reference is None or value is None:
    return value
  if isinstance(reference, bool):
    if isinstance(value, bool):
      return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
      return value.lower() == "true"
    raise ConfigError(f"{key}: expected true/false, got {value!r}.")
  if isinstance(reference, float) and isinstance(value, int) and not isinstance(value, bool):
    return float(value)
  if isinstance(reference, str) and not isinstance(value, str):
    return str(value)
  if isinstance(reference, tuple) and isinstance(value, list):
    return tuple(value)
  if not isinstance(value, type(reference)):
    raise ConfigError(
      f"{key}: expected a {type(reference).__name__}, got {value!r} ({type(value).__name__})."
    )
  return value


def config_directories() -> list[pathlib.Path]:
  """Where named configs live: a checkout's ``configs/`` (running from a clone or an editable
  install), then the copy a wheel installs inside the package (``gans_jax/configs``)."""
  package = pathlib.Path(__file__).resolve().parent
  return [d for d in (package.parent / "configs", package / "configs") if d.is_dir()]


def named_configs() -> dict[str, pathlib.Path]:
  """{name: file} of the project's configs ("dcgan" -> .../configs/dcgan.py), first found."""
  found = {}
  for directory in config_directories():
    for file in sorted(directory.glob("*.py")):
      if not file.name.startswith("_"):
        found.setdefault(file.stem, file)
  return found


def config_summary(file: pathlib.Path) -> tuple[str, dict[str, Any]]:
  """(first line of its docstring, {variant argument: default}) of a config file, read from its
  source (nothing is executed): the keywords of its ``parse_arg`` call."""
  tree = ast.parse(file.read_text())
  title = (ast.get_docstring(tree) or "").strip().split("\n")[0]
  arguments = {}
  for node in ast.walk(tree):
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "parse_arg":
      for keyword in node.keywords:
        try:
          arguments[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
          arguments[keyword.arg] = ast.unparse(keyword.value)
  return title, arguments


def resolve_config_path(text: str) -> pathlib.Path:
  """A config file from ``text``: a path to a file, or a project config's name, given as
  ``dcgan``, ``dcgan.py`` or ``configs/dcgan.py`` from any directory.

  Raises:
    ConfigError: naming ``text`` and listing the named configs.
  """
  path = pathlib.Path(text)
  if path.is_file():
    return path
  parts = path.parts
  if len(parts) == 1 or (len(parts) == 2 and parts[0] == "configs"):
    named = named_configs().get(path.stem if path.suffix == ".py" else path.name)
    if named is not None:
      return named
  raise ConfigError(f"Config file not found: {text}; named configs: {', '.join(named_configs())}.")


def load_config(spec: str | None = None) -> ml_collections.ConfigDict:
  """Loads ``FILE[:ARG]`` (default: ``dcgan``) and returns the locked config; FILE is a path
  or a project config's name (``resolve_config_path``).

  Raises:
    ConfigError: if the file is missing or has no ``get_config``.
  """
  spec = spec or DEFAULT_CONFIG
  path_text, _, arg = spec.partition(":")
  path = resolve_config_path(path_text)
  module_spec = importlib.util.spec_from_file_location(f"_gans_jax_config_{path.stem}", path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  if not hasattr(module, "get_config"):
    raise ConfigError(f"Config file {path} defines no get_config(arg).")
  config = module.get_config(arg or None)
  config.lock()
  return config


def _field_names(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
  names = []
  for key, value in config.items():
    names.append(prefix + key)
    if isinstance(value, ml_collections.ConfigDict):
      names.extend(_field_names(value, prefix + key + "."))
  return names


def apply_overrides(config: ml_collections.ConfigDict, overrides: Iterable[str]) -> None:
  """Applies ``a.b=value`` overrides in place, with the type of the existing field.

  Raises:
    ConfigError: naming the key when it does not exist (with the valid keys) or the value
      has the wrong type.
  """
  for item in overrides:
    key, sep, text = item.partition("=")
    if not sep:
      raise ConfigError(f"Override {item!r} is not of the form --config.key=value.")
    *parents, leaf = key.split(".")
    node = config
    for parent in parents:
      child = node.get(parent) if isinstance(node, ml_collections.ConfigDict) else None
      if not isinstance(child, ml_collections.ConfigDict):
        raise ConfigError(_unknown_key_message(config, key))
      node = child
    if leaf not in node:
      raise ConfigError(_unknown_key_message(config, key))
    with node.unlocked():
      node[leaf] = _cast_like(node[leaf], _parse_value(text), key)


def _unknown_key_message(config: ml_collections.ConfigDict, key: str) -> str:
  return f"Unknown config key {key!r}; valid keys: {', '.join(_field_names(config))}."


def to_dict(config: ml_collections.ConfigDict) -> dict:
  """The config as plain JSON-compatible data (tuples become lists)."""
  return json.loads(config.to_json())


def differing_keys(saved: dict, current: dict, prefix: str = "") -> list[str]:
  """Dotted keys whose values differ between two config dicts (run-length and placement fields
  ignored)."""
  keys = []
  for key in sorted(set(saved) | set(current)):
    name = prefix + key
    if not prefix and key in RUN_LENGTH_FIELDS + PLACEMENT_FIELDS:
      continue
    a, b = saved.get(key), current.get(key)
    if isinstance(a, dict) and isinstance(b, dict):
      keys.extend(differing_keys(a, b, name + "."))
    elif a != b:
      keys.append(name)
  return keys


# Run fields that must be whole numbers of at least 1, and ones that may also be 0 (off).
POSITIVE_INT_FIELDS = (
  "num_steps",
  "batch_size",
  "d_steps",
  "checkpoint_every_steps",
  "sample_every_steps",
  "log_every_steps",
  "eval_num_samples",
  "num_grid_samples",
)
NON_NEGATIVE_FIELDS = ("checkpoint_every_secs", "eval.every_steps")


def validate(config: ml_collections.ConfigDict) -> None:
  """Checks the run fields every family reads, before any start-up work.

  Raises:
    ConfigError: naming the first field whose value cannot work (a count below 1, a negative
      period) and the override that sets it.
  """
  for name in POSITIVE_INT_FIELDS + NON_NEGATIVE_FIELDS:
    node, *rest = name.split(".")
    value = config[node][rest[0]] if rest else config.get(node)
    if value is None:
      continue
    lowest = 1 if name in POSITIVE_INT_FIELDS else 0
    whole = name not in POSITIVE_INT_FIELDS or (
      isinstance(value, int) and not isinstance(value, bool)
    )
    if not whole or value < lowest:
      kind = "a whole number >= 1" if lowest else "a number >= 0 (0 turns it off)"
      raise ConfigError(f"{name}={value!r} must be {kind}; set --config.{name}=...")
  _check_linear_schedules(config)


def _check_linear_schedules(config: ml_collections.ConfigDict) -> None:
  """A linear learning-rate decay (one update per step, as pix2pix and CycleGAN) must end at
  ``num_steps``: shorter leaves the rate at 0 for the rest, longer never reaches its end."""
  for role, section in config.get("optim", {}).items():
    decay = section.get("lr_linear_decay_steps", 0)
    if not decay:
      continue
    constant = section.get("lr_constant_steps", 0)
    if constant < 0 or decay < 0 or constant + decay != config.num_steps:
      prefix = f"optim.{role}."
      raise ConfigError(
        f"The learning-rate schedule {prefix}lr_constant_steps={constant} + "
        f"{prefix}lr_linear_decay_steps={decay} = {constant + decay} steps does not fit "
        f"num_steps={config.num_steps}; set them to add up to num_steps (or leave them unset "
        "to follow num_steps)."
      )


def base_config(family: str) -> ml_collections.ConfigDict:
  """Fields every family shares, for ``family`` (a key of ``gans_jax.trainers.FAMILIES``); a
  config file starts from this and fills in its sections."""
  config = ml_collections.ConfigDict()
  config.family = family  # Trainer in gans_jax/trainers (see gans_jax.trainers.FAMILIES).
  config.seed = 0  # Root of every PRNG key and of the data order.
  config.num_steps = 1000  # Generator updates (each preceded by `d_steps` D updates).
  config.batch_size = 64  # Global batch per D or G update, split over all devices.
  config.d_steps = 1  # k: discriminator updates per generator update (Goodfellow 2014, Alg. 1).
  config.dataset = "digits"  # Data source name; see data_pipelines.DATASETS.
  config.data = ml_collections.ConfigDict()
  config.data.resolution = 32  # Images are resized to resolution x resolution.
  config.data.channels = 1  # 1 (grey) or 3 (RGB).
  config.data.skip_corrupt = False  # Skip unreadable files (counted, logged) instead of failing.
  config.data.class_names = ()  # Conditional models: the classes' names ("" entries unnamed).
  config.model = ml_collections.ConfigDict()
  config.model.latent_dim = 100  # Size of z ~ N(0, I).
  config.model.num_classes = 0  # K > 0: class-conditional G (and D), labels from the data.
  config.model.generator = ml_collections.ConfigDict()
  config.model.discriminator = ml_collections.ConfigDict()
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
  config.parallel = ml_collections.ConfigDict()  # See gans_jax.parallel.
  config.parallel.mesh_shape = (-1, 1)  # (data, fsdp) devices; (1, -1) shards the whole state.
  config.parallel.fsdp_min_size = 2**14  # Smaller state arrays stay replicated under fsdp.
  config.distributed = ml_collections.ConfigDict()  # jax.distributed (multi-host) settings.
  config.distributed.mode = "auto"  # auto: on when a coordinator or a Slurm/MPI/TPU job says so.
  config.distributed.coordinator_address = ""  # host:port of process 0 ("": detected).
  config.distributed.num_processes = 0  # 0: detected.
  config.distributed.process_id = -1  # -1: detected.
  config.eval = ml_collections.ConfigDict()
  # Named metrics (gans_jax.metrics.suite), e.g. "fid10k,kid10k" or "fd1k_digits,is1k_digits".
  config.eval.metrics = ""
  config.eval.every_steps = 0  # Also evaluate every this many steps (0: only at the end).
  config.eval.inception_weights = ""  # Converted FID Inception .npz; "" uses the env var.
  config.eval.reference_count = 50_000  # Real images behind the reference statistics (cap).
  config.eval.batch_size = 50  # Images per Inception call.
  # Batches the offline feature network (metrics.selfsup) trains for, once per dataset.
  config.eval.selfsup_steps = 400
  return config


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
    ConfigError: when ``classes`` contradicts the folder's class subfolders, or a folder has
      fewer than two.
  """
  import data_pipelines

  names = data_pipelines.class_names(config.dataset)
  if names is not None and len(names) < 2:
    raise ConfigError(
      f"{config.dataset} has {len(names)} class subfolders; a conditional model needs at least "
      "two (one folder per class)."
    )
  if names is not None and classes and classes != len(names):
    raise ConfigError(
      f"classes={classes} but {config.dataset} has {len(names)} classes ({', '.join(names)})."
    )
  config.model.num_classes = classes or (len(names) if names else 10)
  config.data.class_names = names or ()


def epoch_steps(family: str, dataset: str, paper_datasets: dict[str, tuple[str, int]]) -> int:
  """Steps of one epoch at batch 1: a paper dataset's size (``paper_datasets``: name -> (source,
  size), matched by name or source), else a ``paired:`` / ``unpaired:`` folder's training images,
  counted from file names (``data_pipelines.training_epoch``).

  Raises:
    ConfigError: for data whose size is known neither way (set steps=).
  """
  import data_pipelines

  for name, (source, size) in paper_datasets.items():
    if dataset in (name, source):
      return size
  counted = data_pipelines.training_epoch(dataset)
  if counted is None:
    raise ConfigError(f"{family}: cannot count the training images of {dataset!r}; set steps=.")
  return counted


def translation_config(family: str, dataset: str, steps: int, batch: int, resolution: int):
  """``base_config()`` with the fields of the image-to-image families (pix2pix, CycleGAN).

  Adam(2e-4, beta1 0.5) for G and D, constant for the first half of the steps and then falling
  linearly to 0 (Isola et al. 2017 and Zhu et al. 2017: 100 + 100 epochs); RGB in and out; load
  size = resolution * 286 / 256 (the papers' random-jitter ratio); mirroring on.

  The schedule's lengths are references to ``num_steps``: ``--config.num_steps=N`` gives N / 2
  constant steps and N / 2 of decay, and ``--config.optim.g.lr_constant_steps=K`` leaves the
  other N - K steps to the decay (``validate`` refuses a schedule that does not end at N).
  """
  config = base_config(family)
  config.dataset = dataset
  config.num_steps = steps
  config.batch_size = batch
  config.data.resolution = resolution  # The training crop and the evaluation size.
  config.data.load_size = round(resolution * 286 / 256)  # Resize to this, then crop.
  config.data.flip = True  # Random left-right mirroring in training.
  config.data.channels = 3  # Output (domain B) channels.
  config.data.input_channels = 3  # Input (domain A) channels.
  config.model.latent_dim = 0  # No z: the inputs (and dropout) are the only sources.
  num_steps = config.get_ref("num_steps")
  for role in ("g", "d"):
    constant = num_steps // 2  # One reference per optimizer: each may be overridden alone.
    config.optim[role] = optimizer_config(
      "adam", 2e-4, b1=0.5, lr_constant_steps=constant, lr_linear_decay_steps=num_steps - constant
    )
  config.eval_num_samples = 100  # Held-out inputs translated by the end-of-run evaluation.
  config.num_grid_samples = 8  # Rows of the input | output | target grids.
  return config


def optimizer_config(name: str, learning_rate: float, **kwargs: float) -> ml_collections.ConfigDict:
  """An optimizer section: optax name, learning rate, and the optimizer's own arguments."""
  section = ml_collections.ConfigDict()
  section.name = name  # See gans_jax.optimizers.OPTIMIZERS.
  section.learning_rate = learning_rate
  section.b1 = kwargs.pop("b1", 0.9)  # Adam beta1 (ignored by optimizers without it).
  section.b2 = kwargs.pop("b2", 0.999)  # Adam beta2.
  section.decay = kwargs.pop("decay", 0.9)  # RMSprop decay.
  # Exponential learning-rate decay: times lr_decay_rate every lr_decay_steps updates (1: off).
  section.lr_decay_rate = kwargs.pop("lr_decay_rate", 1.0)
  section.lr_decay_steps = kwargs.pop("lr_decay_steps", 0)
  # Linear decay (pix2pix / CycleGAN): constant for lr_constant_steps updates, then linearly to
  # 0 over lr_linear_decay_steps more (0: off).
  section.lr_constant_steps = kwargs.pop("lr_constant_steps", 0)
  section.lr_linear_decay_steps = kwargs.pop("lr_linear_decay_steps", 0)
  if kwargs:
    raise ConfigError(f"Unknown optimizer arguments: {sorted(kwargs)}")
  return section
