"""Whole runs as functions (what the CLI, tests and notebooks call): train, sample, evaluate.

This is where the library meets ``data_pipelines``: the data source named in the config becomes
the batch iterator and the reference data of the evaluators. ``data_pipelines`` (and with it
TensorFlow) is imported only when data is actually read.
"""

from __future__ import annotations

import json
import pathlib

import jax
import ml_collections
import numpy as np

import data_pipelines
from data_pipelines import embedded
from gans_jax import checkpointing, errors, loop, trainers, writers
from gans_jax.metrics import evaluators, inception, suite


def sample_shape(config) -> tuple[int, ...]:
  return data_pipelines.sample_shape(config.dataset, config.data.resolution, config.data.channels)


def make_evaluator(config):
  """The run's evaluator, (state, key) -> metrics: the dataset's own (below) plus
  ``config.eval.metrics``; for image-to-image families, ``translation_evaluator``; or None."""
  if trainers.get_family(config.family).translates:
    return translation_evaluator(config)
  own = dataset_evaluator(config)
  metrics = config.eval.metrics or ("" if own is not None else default_metrics(config))
  named = named_evaluator(config, metrics) if metrics else None
  if own is None and named is None:
    return None

  def evaluate(state, key):
    result = own(_sampler(config, state), key) if own is not None else {}
    if named is not None:
      # fold_in: the named metrics draw their own samples, on a key of their own.
      result.update(named(state, jax.random.fold_in(key, 1)))
    return result

  return evaluate


def default_metrics(config, inception_weights: str | None = None) -> str:
  """The metrics of an image dataset without an evaluator of its own (folders, TFDS): FID, KID
  and precision/recall on the FID Inception when its weights are at hand, else the same on the
  self-supervised network trained on the data (``metrics.selfsup``), which needs no download."""
  if config.dataset in data_pipelines.POINT_DATASETS:
    return ""
  try:
    inception.resolve_weights_path(inception_weights or config.eval.inception_weights or None)
  except inception.WeightsError:
    return "fd_selfsup,kid_selfsup,pr_selfsup"
  return "fid,kid,pr"


def named_evaluator(config, metrics: str, inception_weights: str | None = None):
  """(state, key) -> metrics for comma-separated metric names: PPL names (``metrics.ppl``) and
  the suite's (``metrics.suite``: fid10k, kid1k_digits, ...)."""
  names = [name.strip() for name in metrics.split(",") if name.strip()]
  path_lengths = [name for name in names if name.startswith("ppl")]
  others = ",".join(name for name in names if not name.startswith("ppl"))
  suite_metrics = make_metric_suite(config, others, inception_weights) if others else None
  ppl_metrics = ppl_evaluator(config, path_lengths) if path_lengths else None

  def evaluate(state, key):
    result = {}
    if suite_metrics is not None:
      result.update(suite_metrics(_sampler(config, state), key))
    if ppl_metrics is not None:
      result.update(ppl_metrics(state, jax.random.fold_in(key, 1)))
    return result

  return evaluate


def ppl_evaluator(config, names: list[str]):
  """(state, key) -> {ppl key: value} for PPL metric names (``metrics.ppl.parse``); StyleGAN runs
  only (PPL reads the mapping and synthesis networks apart).

  Raises:
    ValueError: for another family or a malformed name.
  """
  from gans_jax.metrics import ppl
  from gans_jax.trainers import stylegan

  if config.family != "stylegan":
    raise errors.ConfigError(f"PPL ({', '.join(names)}) needs a stylegan run, not {config.family}.")
  specs = [ppl.parse(name, config.eval_num_samples) for name in names]
  distances = {}

  def evaluate(state, key):
    def map_fn(z):
      return stylegan.map_latents(state, z)

    def synthesize_fn(w, noise_key):
      return stylegan.synthesize(state, stylegan.broadcast_styles(state, w), noise_key)

    result = {}
    for i, spec in enumerate(specs):
      if spec.distance not in distances:
        distances[spec.distance] = ppl_distance(spec.distance, config)
      result[spec.key] = ppl.path_length(
        map_fn,
        synthesize_fn,
        distances[spec.distance],
        jax.random.fold_in(key, i),
        spec,
        config.model.latent_dim,
        crop=config.eval.get("ppl_face_crop", False),
      )
    return result

  return evaluate


def ppl_distance(name: str, config):
  """PPL's distance (images a, b in [-1, 1] -> [N]): LPIPS from converted weights, or a proxy on
  the digits classifier's or the FID Inception network's features (``metrics.ppl``)."""
  from gans_jax.metrics import digits_classifier, lpips, ppl

  if name == "lpips":
    variables = lpips.load_variables(lpips.resolve_weights_path(config.eval.get("lpips_weights")))
    return lambda a, b: np.asarray(lpips.distance(variables, a, b))
  if name == "digits":
    train_images, train_labels = embedded.load_digits_split("train")
    params = digits_classifier.load_or_train(train_images, train_labels)
    return ppl.feature_distance(
      lambda x: digits_classifier.classify(params, digits_classifier.to_classifier_input(x))[1]
    )
  variables = inception.load_variables(
    inception.resolve_weights_path(config.eval.inception_weights or None)
  )
  return ppl.feature_distance(
    lambda x: inception.extract(variables, (np.asarray(x) + 1.0) / 2.0)["pool3"]
  )


def held_out_pairs(config, count: int):
  """(test-split PairSource, its first ``count`` A images, its first ``count`` B images) at the
  config's resolution and channels, float32 in [-1, 1]."""
  source = data_pipelines.build_source(config.dataset, split="test")
  inputs, targets = data_pipelines.reference_pairs(
    source, count=count, resolution=config.data.resolution,
    channels=(config.data.input_channels, config.data.channels),
  )  # fmt: skip
  return source, inputs, targets


def translation_evaluator(config):
  """Held-out evaluation of an image-to-image model: the first ``eval_num_samples`` test pairs,
  judged against their targets (paired data) or by cycle reconstruction (unpaired data, both
  directions); see ``metrics.translation``."""
  from gans_jax.metrics import translation

  source, inputs, targets = held_out_pairs(config, config.eval_num_samples)
  family = trainers.get_family(config.family)
  if source.paired:  # A paired: folder without test/ is judged on val/, and says so.
    split = source.split or "test"
    return translation.paired_evaluator(jax.jit(family.generate), inputs, targets, split)
  if family.generate_backward is None:
    raise errors.ConfigError(
      f"{config.family} cannot translate back, so it cannot use unpaired data."
    )
  forward, backward = jax.jit(family.generate), jax.jit(family.generate_backward)
  return translation.cycle_evaluator(forward, backward, inputs, targets)


def translation_grid(config):
  """state -> rows of [held-out input | output | target] (paired data) or [input | G(input) |
  F(G(input))] (unpaired), ``num_grid_samples`` of them, for the periodic sample PNGs."""
  from gans_jax.metrics import translation

  source, inputs, targets = held_out_pairs(config, config.num_grid_samples)
  family = trainers.get_family(config.family)
  forward = jax.jit(family.generate)
  backward = None if source.paired else jax.jit(family.generate_backward)
  key = loop.root_keys(config.seed)[1]

  def render(state):
    outputs = np.asarray(forward(state, inputs, key))
    last = targets[: len(outputs)] if backward is None else backward(state, outputs, key)
    return translation.comparison_strip(inputs, outputs, np.asarray(last))

  return render


def make_metric_suite(config, metrics: str, inception_weights: str | None = None):
  """An evaluator of named metrics (``gans_jax.metrics.suite``) against the config's dataset.

  Raises:
    ValueError: for an unknown metric name, image metrics on 2-D data, or the digits detector on
      another dataset; inception.WeightsError if Inception weights are needed and absent.
  """
  specs = suite.parse_metrics(metrics, config.eval_num_samples)
  if not specs:
    raise errors.ConfigError("No metrics named; e.g. --metrics fid10k,kid10k or fd1k_digits.")
  if config.dataset in data_pipelines.POINT_DATASETS:
    raise errors.ConfigError(
      f"Image metrics ({metrics}) do not apply to the 2-D dataset {config.dataset}."
    )
  # Detectors load when first used (the digits classifier may train for a minute first), but a
  # missing weights file is reported now, before any training.
  detectors = {}
  if any(spec.detector == "inception" for spec in specs):
    weights = inception.resolve_weights_path(inception_weights or config.eval.inception_weights)
    detectors["inception"] = lambda: suite.inception_detector(weights, config.eval.batch_size)
  if any(spec.detector == "digits" for spec in specs):
    if config.dataset != "digits":
      raise errors.ConfigError(f"The digits classifier judges digits only, not {config.dataset}.")
    detectors["digits"] = lambda: suite.digits_detector(config.data.resolution)
  if any(spec.detector == "selfsup" for spec in specs):
    from gans_jax.metrics import selfsup

    steps = config.eval.get("selfsup_steps", selfsup.STEPS)  # Older runs' configs lack it.
    detectors["selfsup"] = lambda: suite.selfsup_detector(references["train"], steps)

  def real_images(split):
    return lambda: data_pipelines.reference_images(
      data_pipelines.build_source(config.dataset, split=split),
      count=config.eval.reference_count,
      resolution=config.data.resolution,
      channels=config.data.channels,
    )

  references = {"train": real_images("train"), "test": real_images("test")}
  return suite.metric_suite(
    specs, detectors, references, config.model.latent_dim, num_classes=config.model.num_classes
  )


def dataset_evaluator(config):
  """The built-in evaluator of the embedded datasets (digits classifier, 2-D mode coverage)."""
  if config.dataset == "digits":
    train = embedded.load_digits_split("train")
    test = embedded.load_digits_split("test")
    return evaluators.digits_evaluator(
      train,
      test,
      config.eval_num_samples,
      config.model.latent_dim,
      config.data.resolution,
      num_classes=config.model.num_classes,
    )
  if config.dataset in data_pipelines.POINT_DATASETS:
    centers, sigma = embedded.mode_centers(config.dataset)
    return evaluators.modes_evaluator(
      centers, sigma, config.eval_num_samples, config.model.latent_dim
    )
  return None


def check_classes(config, source) -> None:
  """A class-conditional model must have exactly the data's classes.

  Raises:
    config_utils.ConfigError: naming both counts (a label beyond the model's classes would
      otherwise become an all-zero one-hot vector without a word).
  """
  from gans_jax import config_utils

  classes = config.model.num_classes
  if classes and classes != source.num_classes:
    raise config_utils.ConfigError(
      f"model.num_classes={classes} but {source.name} has {source.num_classes} classes; set "
      f"--config.model.num_classes={source.num_classes} (or the config's classes= argument)."
    )
  names = tuple(config.data.get("class_names", ()))
  if classes and names and source.class_names and names != source.class_names:
    raise config_utils.ConfigError(
      f"data.class_names={list(names)} but {source.name} has classes "
      f"{list(source.class_names)}; the folder changed since the config was made."
    )


def check_enough_data(config, source) -> None:
  """The training data must fill one batch (a batch of repeats trains on a handful of images).

  Raises:
    config_utils.ConfigError: naming the dataset, its size and the batch.
  """
  from gans_jax import config_utils

  count = min(source.num_a, source.num_b) if source.kind == "pairs" else source.num_examples
  stages = trainers.get_family(config.family).schedule(config, sample_shape(config))
  batch = max(stage.batch_size // config.d_steps for stage in stages)
  if count < batch:
    raise config_utils.ConfigError(
      f"{source.name} has {count} training examples, fewer than one batch of {batch}; lower "
      "--config.batch_size (or the config's batch sizes) or add data."
    )


def train_and_evaluate(config, workdir, *, stop_after: int | None = None, log=print):
  """Trains ``config`` in ``workdir`` (resuming if it holds a run) and evaluates at the end."""
  from gans_jax import config_utils, run_directory

  config_utils.validate(config)  # Before the data is read: that can take a while.
  run_directory.check_usable(workdir)  # Creates nothing: the loop does, once the data is known.
  source = data_pipelines.build_source(config.dataset, skip_corrupt=config.data.skip_corrupt)
  check_enough_data(config, source)
  translates = trainers.get_family(config.family).translates
  if translates != (source.kind == "pairs"):
    raise errors.ConfigError(
      f"{config.family} translates images and needs two-domain data (e.g. scenes, "
      f"paired:/path, unpaired:/path), not {config.dataset!r}."
      if translates
      else f"{config.dataset!r} holds two image domains, for image-to-image families "
      f"(pix2pix, cyclegan), not {config.family!r}."
    )
  extras = {}
  if translates:
    batches_from = _pair_batches_from(config, source)
    extras["render_grid"] = translation_grid(config)
  else:
    check_classes(config, source)
    batches_from = _batches_from(config, source)
    if config.dataset in data_pipelines.POINT_DATASETS:
      extras["plot_centers"] = embedded.mode_centers(config.dataset)[0]
  return loop.train(
    config,
    workdir,
    batches_from=batches_from,
    sample_shape=sample_shape(config),
    evaluate=make_evaluator(config),
    stop_after=stop_after,
    log=log,
    **extras,
  )


def _batches_from(config, source):
  """(start_step, stage) -> this process's batches of a one-domain source."""
  return lambda start_step, stage: data_pipelines.batches(
    source,
    global_batch=stage.batch_size,
    seed=config.seed,
    start_step=start_step,
    origin=(stage.first_step, stage.first_image),
    resolution=config.data.resolution,
    channels=config.data.channels,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )


def _pair_batches_from(config, source):
  """(start_step, stage) -> this process's batches of a two-domain source, at the load size,
  with Tucker 2022's input noise when the config asks for it (image-to-image families train in one
  stage)."""
  noise = (config.data.get("input_noise_fraction", 0.0), config.data.get("input_noise_images", 1.0))
  return lambda start_step, stage: data_pipelines.pair_batches(
    source,
    global_batch=config.batch_size,
    seed=config.seed,
    start_step=start_step,
    resolution=config.data.load_size,
    channels=(config.data.input_channels, config.data.channels),
    input_noise=noise,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )


def translates(workdir) -> bool:
  """Whether a run directory holds an image-to-image model (from its config.json alone)."""
  return trainers.get_family(run_config(workdir).family).translates


def run_config(workdir) -> ml_collections.ConfigDict:
  """The config a run directory was trained with (its config.json).

  Raises:
    checkpointing.CheckpointError: if the directory holds no config.json.
  """
  config_path = pathlib.Path(workdir) / loop.CONFIG_FILE
  if not config_path.exists():
    raise checkpointing.CheckpointError(f"No {loop.CONFIG_FILE} in {workdir}: not a run directory.")
  return ml_collections.ConfigDict(json.loads(config_path.read_text()))


def load_run(workdir, config=None) -> tuple[ml_collections.ConfigDict, object]:
  """The config and latest checkpointed state of a run directory.

  The state's structure comes from ``jax.eval_shape`` of the initial state: nothing is
  initialised or compiled that the restore would overwrite.

  Raises:
    checkpointing.CheckpointError: if the directory holds no config or checkpoint.
  """
  config = config or run_config(workdir)
  checkpointer = checkpointing.Checkpointer(pathlib.Path(workdir))
  try:
    if checkpointer.latest_step() is None:
      raise checkpointing.CheckpointError(f"No checkpoint under {checkpointer.directory}.")
    # On this process's first device, whatever mesh or process count saved it.
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    structure = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=device),
      jax.eval_shape(lambda: loop.initial_state(config, sample_shape(config))),
    )
    state = checkpointer.restore(structure)
  finally:
    checkpointer.close()
  return config, state


STYLE_FIGURES = ("style-mix", "truncation", "noise-map")


def style_figure(workdir, figure: str, out, *, seed: int = 0, rows: int | None = None,
                 psis=None, cutoff: int | None = None) -> pathlib.Path:  # fmt: skip
  """Writes one of StyleGAN's figures of a run's latest checkpoint as a PNG (``style_tools``):
  "style-mix" (Fig. 3), "truncation" (Fig. 8; ``psis`` and ``cutoff``), "noise-map" (Fig. 4).
  Latents and noise come from ``seed``. Returns the path written.

  Raises:
    ValueError: for an unknown figure or a run of another family.
  """
  from gans_jax import style_tools, visualize

  if figure not in STYLE_FIGURES:
    raise errors.UsageError(f"Unknown figure {figure!r}; known: {', '.join(STYLE_FIGURES)}.")
  config, state = load_run(workdir)
  if config.family != "stylegan":
    raise errors.UsageError(
      f"{workdir} holds a {config.family} run; {figure} needs a stylegan run."
    )
  key = jax.random.PRNGKey(seed)
  sized = {"num_rows": rows} if rows else {}
  if figure == "style-mix":
    images = style_tools.style_mixing_grid(state, key, **sized)
  elif figure == "truncation":
    psis = psis or style_tools.PAPER_PSIS
    images = style_tools.truncation_sweep(state, key, psis=psis, cutoff=cutoff, **sized)
  else:
    images = style_tools.noise_variation(state, key, **sized)
  grid = visualize.image_grid(images.reshape(-1, *images.shape[2:]), num_columns=images.shape[1])
  out = pathlib.Path(out)
  out.parent.mkdir(parents=True, exist_ok=True)
  visualize.save_image(out, grid)
  return out


def _sampler(config, state) -> evaluators.Sampler:
  """(z [n, latent], labels [n]) -> numpy samples of ``state``'s generator, compiled once."""
  generate = jax.jit(trainers.get_family(config.family).generate)
  return lambda z, labels: np.asarray(generate(state, z, labels))


def sample_labels(config, num=None, *, per_class: int = 0, labels=None) -> np.ndarray:
  """The labels ``sample`` asks for, checked against the run's config before anything loads.

  Args:
    config: the run's config.
    num, per_class: as ``sample``.
    labels: class names (``config.data.class_names``) or indices, e.g. ["cats", "2"].

  Returns:
    int32 [N] (zeros for an unconditional model).

  Raises:
    UsageError: for class options on an unconditional model, a class that is not the run's, or
      no count at all.
  """
  classes = config.model.num_classes
  if (per_class or labels is not None) and not classes:
    raise errors.UsageError("This run's model is unconditional; --per-class/--labels need classes.")
  if per_class:
    return np.repeat(np.arange(classes), per_class).astype(np.int32)
  if labels is not None:
    names = [str(n) for n in config.data.get("class_names", ())]
    known = ", ".join(names) if names else f"0..{classes - 1}"
    indices = []
    for label in labels:
      label = str(label).strip()
      if label in names:
        indices.append(names.index(label))
      elif label.lstrip("-").isdigit() and 0 <= int(label) < classes:
        indices.append(int(label))
      else:
        raise errors.UsageError(f"Unknown class {label!r}; this run's classes: {known}.")
    if not indices:
      raise errors.UsageError(f"--labels names no class; this run's classes: {known}.")
    return np.asarray(indices, np.int32)
  if not num:
    raise errors.UsageError("Say how many samples: --num N (or --per-class N / --labels L,...).")
  return evaluators.balanced_labels(num, classes)


def sample(
  workdir, num: int | None = None, seed: int = 0, *, per_class: int = 0, labels=None
) -> dict[str, np.ndarray]:
  """Samples of a run's latest checkpoint, latents from ``PRNGKey(seed)``.

  Args:
    workdir: the run directory.
    num: how many (class-balanced for a conditional model: sample i of class i mod K).
    seed: the latents' seed.
    per_class: instead of ``num``, this many samples of every class (conditional models).
    labels: instead of ``num``, one sample per listed class, by name or index.

  Returns:
    {"images": uint8 [N, H, W, C]} for image data, {"points": float32 [N, 2]} for 2-D data,
    plus {"labels": int32 [N]} for a conditional model and {"class_names": str [K]} where the
    classes have names.

  Raises:
    UsageError: for class options on an unconditional model or labels not of the run.
  """
  from gans_jax import visualize

  config = run_config(workdir)
  labels = sample_labels(config, num, per_class=per_class, labels=labels)  # Before the restore.
  config, state = load_run(workdir, config)
  z = jax.random.normal(jax.random.PRNGKey(seed), (len(labels), config.model.latent_dim))
  samples = _sampler(config, state)(z, labels)
  result = {}
  if config.model.num_classes:
    result["labels"] = labels
    if config.data.get("class_names"):
      result["class_names"] = np.asarray(config.data.class_names, dtype=str)
  if samples.ndim == 4:
    return {"images": visualize.to_uint8(samples), **result}
  return {"points": samples.astype(np.float32), **result}


def translate(
  workdir, inputs: str | None = None, num: int | None = None, *, backward=False, seed: int = 0
) -> dict[str, np.ndarray]:
  """Translations by an image-to-image run's latest checkpoint.

  Args:
    workdir: the run directory.
    inputs: a folder of images, or an .npz with "inputs" (or "images") uint8 [N, H, W, C] and
      optionally "targets"; None translates the first ``num`` held-out inputs of the run's
      dataset (with their targets when it is paired).
    num: how many held-out inputs (all 100 of the embedded scenes' test split by default).
    backward: translate B -> A (CycleGAN's F) instead of A -> B.
    seed: key of the dropout noise (pix2pix).

  Returns:
    {"inputs", "outputs"[, "targets"]}: uint8 [N, R, R, C] at the run's resolution, and
    "names": str [N], each input's file path without suffix, where the inputs are files.

  Raises:
    ValueError: for a run that does not translate, or backward on a paired model.
  """
  from gans_jax import visualize

  config = run_config(workdir)
  family = trainers.get_family(config.family)
  if not family.translates:
    raise errors.UsageError(
      f"{workdir} holds a {config.family} run, which samples; it does not translate."
    )
  if backward and family.generate_backward is None:
    raise errors.UsageError(f"{config.family} translates A -> B only; it has no B -> A generator.")
  if inputs is not None and not pathlib.Path(inputs).exists():
    raise errors.UsageError(f"--inputs {inputs} does not exist (a folder of images or an .npz).")
  config, state = load_run(workdir, config)
  resolution = config.data.resolution
  channels = (config.data.input_channels, config.data.channels)
  if backward:
    channels = channels[::-1]
  if inputs is None:
    source, images, targets = held_out_pairs(config, num or 10**9)  # All of them by default.
    if backward:
      images, targets = targets, images
    targets = targets if source.paired else None
    names = source.names[1 if backward else 0][: len(images)]
  else:
    images, targets, names = _read_inputs(inputs, resolution, channels)
  from gans_jax.metrics import translation as translation_metrics

  generate = jax.jit(family.generate_backward if backward else family.generate)
  outputs = translation_metrics.translate_all(
    lambda x, k: generate(state, x, k), images, jax.random.PRNGKey(seed)
  )
  result = {"inputs": visualize.to_uint8(images), "outputs": visualize.to_uint8(outputs)}
  if targets is not None:
    result["targets"] = visualize.to_uint8(targets)
  if names:
    result["names"] = np.asarray(names, dtype=str)
  return result


def _read_inputs(path: str, resolution: int, channels: tuple[int, int]):
  """(inputs, targets or None) in [-1, 1] and the inputs' names (possibly empty) from a folder
  of images or an .npz (see translate)."""
  from data_pipelines import pipeline

  to_model = lambda images, c: np.concatenate(
    [pipeline.to_model_range(image[None], resolution, c).numpy() for image in images]
  )
  if str(path).endswith(".npz"):
    with np.load(path) as arrays:
      key = next((k for k in ("inputs", "images") if k in arrays), None)
      if key is None:
        raise errors.UsageError(
          f"{path} holds {sorted(arrays)}; translation needs 'inputs' or 'images'."
        )
      images = [_as_hwc(x) for x in arrays[key]]
      targets = [_as_hwc(x) for x in arrays["targets"]] if "targets" in arrays else None
      names = tuple(str(n) for n in arrays["names"]) if "names" in arrays else ()
    return (
      to_model(images, channels[0]),
      to_model(targets, channels[1]) if targets is not None else None,
      names,
    )
  source = data_pipelines.build_source(f"folder:{path}")
  images = [_as_hwc(source.get(i)[0]) for i in range(source.num_examples)]
  return to_model(images, channels[0]), None, source.names


def _as_hwc(image) -> np.ndarray:
  image = np.asarray(image, np.uint8)
  return image[..., None] if image.ndim == 2 else image


def evaluate(workdir, metrics: str | None = None, inception_weights: str | None = None) -> dict:
  """Evaluates a run's latest checkpoint and appends the result to its metrics.jsonl.

  Args:
    workdir: the run directory.
    metrics: named metrics (``gans_jax.metrics.suite``, ``gans_jax.metrics.ppl``), e.g.
      "fid10k,is10k" or "ppl1k_w_digits"; None runs the
      run's own evaluator (the dataset's, plus ``config.eval.metrics``).
    inception_weights: converted Inception weights, overriding the config and env var.
  """
  config = run_config(workdir)
  if metrics:
    evaluator = named_evaluator(config, metrics, inception_weights)  # Names checked first.
  else:
    evaluator = make_evaluator(config)
  if evaluator is None:
    raise errors.UsageError(
      f"No built-in evaluator for dataset {config.dataset!r}; name metrics, e.g. --metrics fid10k."
    )
  config, state = load_run(workdir, config)
  result = evaluator(state, loop.root_keys(config.seed)[2])
  writer = writers.MetricWriter(workdir)
  writer.write(int(state.step), "eval", result)
  writer.close()
  return result


def train_variants(config, workdir, variants: dict, common: list, log=print) -> dict:
  """Trains ``config`` once per variant, in ``workdir/<name>`` with the variant's overrides and
  then the ``common`` ones applied (an existing variant directory resumes).

  Returns:
    {name: loop.RunResult}, in the order of ``variants``.
  """
  from gans_jax import config_utils

  results = {}
  for name, overrides in variants.items():
    variant = ml_collections.ConfigDict(config.to_dict())
    config_utils.apply_overrides(variant, [*overrides, *common])
    log(f"== {name}: {' '.join(overrides) or 'the config as given'}")
    results[name] = train_and_evaluate(variant, pathlib.Path(workdir) / name, log=log)
  return results


def noise_experiment(config, workdir, *, noise: float, noise_images: float = 1.0, log=print):
  """Tucker 2022's experiment: pix2pix trained twice on the same paired data, on clean inputs and
  with ``noise`` of the pixels of a fraction ``noise_images`` of the training inputs replaced by
  random colours, then both applied to the same clean held-out inputs.

  Returns:
    One row per run: {"run", "overrides", **its held-out evaluation} (RGB table, L1, SSIM,
    PSNR, detail ratio; ``metrics.translation.paired_metrics``); also written to
    ``workdir/noise_experiment.json``.
  """
  if not trainers.get_family(config.family).translates:
    raise errors.ConfigError(
      f"The noise experiment needs an image-to-image config, not {config.family}."
    )
  variants = {
    "clean_inputs": ["data.input_noise_fraction=0.0"],
    "noisy_inputs": [
      f"data.input_noise_fraction={noise}",
      f"data.input_noise_images={noise_images}",
    ],
  }
  results = train_variants(config, workdir, variants, [], log)
  rows = [
    {"run": name, "overrides": " ".join(variants[name]), **result.eval_metrics}
    for name, result in results.items()
  ]
  path = pathlib.Path(workdir) / "noise_experiment.json"
  writers.write_atomically(path, json.dumps(rows, indent=1).encode())
  return rows


def format_noise_table(rows: list[dict]) -> str:
  """The noise experiment's rows as Tucker 2022's table: per run, the mean and variance per RGB
  channel (0..255) of the targets, the generated images and |target - generated|, the mean norm
  of the per-pixel RGB difference, then L1 / SSIM / PSNR / detail ratio."""
  lines = [f"{'':28}{'R':>10}{'G':>10}{'B':>10}"]
  labels = {"target": "target", "generated": "generated", "abs_diff": "|difference|"}
  for row in rows:
    lines.append(f"{row['run']} ({row['overrides']})")
    rgb = next(v for k, v in row.items() if k.startswith("rgb_"))
    for key, label in labels.items():
      for stat in ("mean", "var"):
        values = "".join(f"{v:>10.2f}" for v in rgb[f"{key}_{stat}"])
        lines.append(f"  {label + ' ' + stat:26}{values}")
    lines.append(f"  {'mean |difference| norm':26}{rgb['diff_norm_mean']:>10.2f}")
    scores = {k.split("_")[0] if "detail" not in k else "detail": v for k, v in row.items()
              if isinstance(v, float)}  # fmt: skip
    lines.append("  " + "  ".join(f"{k} {v:.4f}" for k, v in scores.items()))
  return "\n".join(lines)


ARTISTIC_VARIANTS = {
  "clip_and_noise": [],
  "plain_dcgan": ["d_weight_clip=0.0", "d_input_noise=0.0"],
}


def compare_variants(config, workdir, variants: dict, *, num_samples: int = 1000, log=print):
  """Trains ``config`` once per variant and measures how diverse each one's samples are.

  Every variant runs in ``workdir/<name>`` on the same data, seed and number of steps, with its
  overrides (``["d_weight_clip=0.0", ...]``) applied; an existing variant directory resumes.
  Each run's ``num_samples`` samples (latents of seed 0) are then measured with
  ``metrics.diversity`` and, on digits, by the run's own evaluation on as many samples (the
  class histogram of the digits classifier). A last row measures the real images the same way.
  The rows are also written to ``workdir/comparison.json``.

  Returns:
    One dict per variant, then one for the real data: {"variant", "pairwise_distance",
    "ms_ssim_diversity", "ms_ssim_scales"}, plus on digits "class_entropy_bits",
    "min_class_frac" and "fd_test" (the real row: entropy of the true labels).
  """
  from gans_jax import config_utils
  from gans_jax.metrics import diversity

  if config.data.resolution < 11:
    raise config_utils.ConfigError(
      f"The comparison's MS-SSIM needs images of at least 11x11, got data.resolution="
      f"{config.data.resolution}."
    )
  workdir = pathlib.Path(workdir)
  rows = []
  results = train_variants(config, workdir, variants, [f"eval_num_samples={num_samples}"], log)
  for name, result in results.items():
    images = sample(workdir / name, num_samples)["images"]
    row = {"variant": name, **diversity.diversity_report(images)}
    tag = evaluators.count_tag(num_samples)
    if f"digits_class_entropy{tag}" in result.eval_metrics:
      row["class_entropy_bits"] = result.eval_metrics[f"digits_class_entropy{tag}"]
      row["min_class_frac"] = result.eval_metrics[f"digits_min_class_frac{tag}"]
      row["fd_test"] = result.eval_metrics[f"digits_fd{tag}_test"]
    rows.append(row)
  source = data_pipelines.build_source(config.dataset)
  real = data_pipelines.reference_images(
    source, count=num_samples, resolution=config.data.resolution, channels=config.data.channels
  )
  row = {"variant": "real_data", **diversity.diversity_report(real)}
  if config.dataset == "digits":
    labels = source.arrays[1]
    row["class_entropy_bits"] = diversity.class_entropy(np.bincount(labels, minlength=10))
  rows.append(row)
  writers.write_atomically(workdir / "comparison.json", json.dumps(rows, indent=1).encode())
  return rows


def format_comparison(rows: list[dict]) -> str:
  """The rows of ``compare_variants`` as an aligned text table."""
  columns = ["variant"] + [k for k in rows[0] if k != "variant"]
  cells = [[_cell(row.get(c, "-")) for c in columns] for row in rows]
  widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
  lines = [
    "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
    for r in [columns, *cells]
  ]
  return "\n".join(lines)


def _cell(value) -> str:
  return f"{value:.4f}" if isinstance(value, float) else str(value)


def describe(config) -> dict:
  """Parameter counts and G's output shape for a config, without data or training."""
  shape = sample_shape(config)
  family = trainers.get_family(config.family)
  state = jax.eval_shape(lambda: loop.initial_state(config, shape))  # No memory, no FLOPs.
  if family.translates:
    inputs = jax.ShapeDtypeStruct((1, *shape[:2], config.data.input_channels), np.float32)
    output = jax.eval_shape(family.generate, state, inputs, jax.random.PRNGKey(0))
  else:
    z = np.zeros((1, config.model.latent_dim), np.float32)
    output = jax.eval_shape(family.generate, state, z, np.zeros((1,), np.int32))
  return {
    **_parameter_counts("generator", state.g.params),
    **_parameter_counts("discriminator", state.d.params),
    "generator_output_shape": list(output.shape[1:]),
  }


def _parameter_counts(role: str, params) -> dict:
  """{"<role>_params": n}; for a pair of networks (CycleGAN's ``TwoWay``), the count of each,
  {"<role>_params": n_a, "<role>_params_b": n_b} (n_a for the A network), and the total."""
  count = lambda tree: int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))
  if set(params) == {"a_net", "b_net"}:
    n_a, n_b = count(params["a_net"]), count(params["b_net"])
    return {f"{role}_params": n_a, f"{role}_params_b": n_b, f"{role}_params_total": n_a + n_b}
  return {f"{role}_params": count(params)}
