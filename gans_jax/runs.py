"""A trained run directory put to use: load it, sample or translate, draw figures, re-evaluate,
describe a config's networks."""

from __future__ import annotations

import json
import pathlib

import jax
import ml_collections
import numpy as np

import data_pipelines
from gans_jax import (
  checkpointing,
  config_schema,
  determinism,
  errors,
  evaluation,
  loop,
  run_data,
  run_keys,
  trainers,
  writers,
)
from gans_jax.metrics import evaluators


def run_config(workdir) -> ml_collections.ConfigDict:
  """The config a run directory was trained with (its config.json, in today's schema:
  ``config_schema.upgrade_saved``).

  Raises:
    checkpointing.CheckpointError: if the directory holds no config.json.
  """
  config_path = pathlib.Path(workdir) / loop.CONFIG_FILE
  if not config_path.exists():
    raise checkpointing.CheckpointError(f"No {loop.CONFIG_FILE} in {workdir}: not a run directory.")
  saved = json.loads(config_path.read_text())
  return ml_collections.ConfigDict(config_schema.upgrade_saved(saved))


def translates(workdir) -> bool:
  """Whether a run directory holds an image-to-image model (from its config.json alone)."""
  return trainers.get_family(run_config(workdir).family).translates


def load_run(workdir, config=None) -> tuple[ml_collections.ConfigDict, object]:
  """The config and latest checkpointed state of a run directory.

  The state's structure comes from ``jax.eval_shape`` of the initial state: nothing is
  initialised or compiled that the restore would overwrite.

  Raises:
    checkpointing.CheckpointError: if the directory holds no config or checkpoint.
  """
  config = config or run_config(workdir)
  determinism.configure(config)  # Before the first computation (a notebook may start here).
  checkpointer = checkpointing.Checkpointer(pathlib.Path(workdir))
  try:
    if checkpointer.latest_step() is None:
      raise checkpointing.CheckpointError(f"No checkpoint under {checkpointer.directory}.")
    # On this process's first device, whatever mesh or process count saved it.
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    structure = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=device),
      loop.initial_state_shapes(config, run_data.sample_shape(config)),
    )
    state = checkpointer.restore(structure)
  finally:
    checkpointer.close()
  return config, state


def figure(workdir, name: str, out, *, seed: int = 0, rows: int | None = None, **options):
  """Writes one of a family's figures (``trainers.Family.figures``) of a run's latest checkpoint
  as a PNG, e.g. StyleGAN's "style-mix", "truncation" (``psi``, ``cutoff``) or "noise-map".
  Latents and noise come from ``seed``. Returns the path written.

  Raises:
    errors.UsageError: for an unknown figure or a run of a family that does not draw it.
  """
  from gans_jax import visualize

  known = trainers.figures()
  if name not in known:
    raise errors.UsageError(f"Unknown figure {name!r}; known: {', '.join(known)}.")
  config = run_config(workdir)
  drawn = trainers.get_family(config.family).figures.get(name)
  if drawn is None:
    having = ", ".join(trainers.families_with(lambda f: name in f.figures))
    raise errors.UsageError(f"{workdir} holds a {config.family} run; {name} needs a {having} run.")
  config, state = load_run(workdir, config)
  images = drawn.draw(state, jax.random.PRNGKey(seed), rows=rows, **options)
  grid = visualize.image_grid(images.reshape(-1, *images.shape[2:]), num_columns=images.shape[1])
  out = pathlib.Path(out)
  out.parent.mkdir(parents=True, exist_ok=True)
  visualize.save_image(out, grid)
  return out


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
    names = [str(n) for n in config.data.class_names]
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
  """Samples of a run's latest checkpoint, latents (and any other randomness of the family's
  sampling, e.g. StyleGAN's noise inputs) from ``PRNGKey(seed)``.

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
  key = jax.random.PRNGKey(seed)
  z = jax.random.normal(key, (len(labels), config.model.latent_dim))
  samples = evaluation.sampler(config, state)(z, labels, jax.random.fold_in(key, 1))
  result = {}
  if config.model.num_classes:
    result["labels"] = labels
    if config.data.class_names:
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
  if backward and family.translate_back is None:
    raise errors.UsageError(f"{config.family} translates A -> B only; it has no B -> A generator.")
  if inputs is not None and not pathlib.Path(inputs).exists():
    raise errors.UsageError(f"--inputs {inputs} does not exist (a folder of images or an .npz).")
  config, state = load_run(workdir, config)
  resolution = config.data.resolution
  channels = (config.data.input_channels, config.data.channels)
  if backward:
    channels = channels[::-1]
  if inputs is None:
    source, images, targets = run_data.held_out_pairs(
      config, num or 10**9
    )  # All of them by default.
    if backward:
      images, targets = targets, images
    targets = targets if source.paired else None
    names = source.names[1 if backward else 0][: len(images)]
  else:
    images, targets, names = _read_inputs(inputs, resolution, channels)
  from gans_jax.metrics import translation as translation_metrics

  generate = jax.jit(family.translate_back if backward else family.translate)
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
  from data_pipelines import images as image_conversion

  to_model = lambda images, c: np.concatenate(
    [image_conversion.to_model_range(image[None], resolution, c) for image in images]
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
    evaluator = evaluation.named_evaluator(
      config, metrics, inception_weights
    )  # Names checked first.
  else:
    evaluator = evaluation.make_evaluator(config)
  if evaluator is None:
    raise errors.UsageError(
      f"No built-in evaluator for dataset {config.dataset!r}; name metrics, e.g. --metrics fid10k."
    )
  config, state = load_run(workdir, config)
  result = evaluator(state, run_keys.root_keys(config.seed).eval)
  writer = writers.MetricWriter(workdir)
  writer.write(int(state.step), "eval", result)
  writer.close()
  return result


def describe(config) -> dict:
  """Parameter counts and G's output shape for a config, without data or training."""
  shape = run_data.sample_shape(config)
  family = trainers.get_family(config.family)
  state = loop.initial_state_shapes(config, shape)  # No memory, no FLOPs.
  if family.translates:
    inputs = jax.ShapeDtypeStruct((1, *shape[:2], config.data.input_channels), np.float32)
    output = jax.eval_shape(family.translate, state, inputs, jax.random.PRNGKey(0))
  else:
    z = np.zeros((1, config.model.latent_dim), np.float32)
    output = jax.eval_shape(family.sample, state, z, np.zeros((1,), np.int32))
  return {
    **_parameter_counts("generator", family.networks(state.g.params)),
    **_parameter_counts("discriminator", family.networks(state.d.params)),
    "generator_output_shape": list(output.shape[1:]),
  }


def _parameter_counts(role: str, networks: dict) -> dict:
  """{"<role>_params": n} for one network; for several (``Family.networks``: CycleGAN's two),
  "<role>_params<suffix>" for each and "<role>_params_total"."""
  counts = {
    f"{role}_params{suffix}": int(sum(np.prod(x.shape) for x in jax.tree.leaves(params)))
    for suffix, params in networks.items()
  }
  if len(counts) > 1:
    counts[f"{role}_params_total"] = sum(counts.values())
  return counts
