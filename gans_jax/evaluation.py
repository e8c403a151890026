"""What a run evaluates: its protocol (``config.eval.protocol``) and its named metrics
(``config.eval.metrics``), both declared in the config (docs/design.md section 6).

A protocol is an evaluation a paper or a dataset brings with it: the digits classifier's scores,
2-D mode coverage, held-out translation. ``"default"`` is the family's: held-out translation for
an image-to-image family; for a sampling family the dataset's own protocol (``DATASET_PROTOCOLS``),
or, on image data without one, FID / KID / precision-recall (``default_metrics``) when
``eval.metrics`` names nothing. Every evaluator here is ``(state, key) -> {metric key: value}``,
built once per run from its config; ``make_evaluator`` is the run's periodic and final one.
"""

from __future__ import annotations

import jax
import numpy as np

import data_pipelines
from data_pipelines import embedded
from gans_jax import errors, run_data, trainers
from gans_jax.metrics import evaluators, inception, registry, suite

# The protocols a dataset brings with it, for a sampling family's "default".
DATASET_PROTOCOLS = {
  "digits": "digits_classifier",
  **{name: "mode_coverage" for name in data_pipelines.POINT_DATASETS},
}


def make_evaluator(config):
  """The run's evaluator, (state, key) -> metrics: its protocol on ``key`` and its named
  metrics on ``fold_in(key, 1)`` (their own samples, on a key of their own); None when it
  evaluates nothing.

  Raises:
    errors.ConfigError: for a protocol or metric that does not fit the run (see ``protocol_of``).
  """
  protocol, metrics = resolve_evaluation(config)
  own = protocol_evaluator(config, protocol) if protocol != "none" else None
  named = named_evaluator(config, metrics) if metrics else None
  if own is None and named is None:
    return None

  def evaluate(state, key):
    result = own(state, key) if own is not None else {}
    if named is not None:
      result.update(named(state, jax.random.fold_in(key, 1)))
    return result

  return evaluate


def resolve_evaluation(config) -> tuple[str, str]:
  """(protocol, named metrics) that ``config`` evaluates, "default" resolved.

  Raises:
    errors.ConfigError: for an unknown protocol, one that does not fit the family or dataset,
      or named metrics on an image-to-image family (they judge samples of z).
  """
  family = trainers.get_family(config.family)
  protocol, metrics = config.eval.protocol, config.eval.metrics
  if protocol == "default":
    if family.translates:
      protocol = "held_out_translation"
    else:
      protocol = DATASET_PROTOCOLS.get(config.dataset, "none")
      if protocol == "none" and not metrics:
        metrics = default_metrics(config)
  _check_protocol(config, family, protocol)
  if metrics:
    _check_metrics_fit(config, family, metrics)
  return protocol, metrics


def _check_metrics_fit(config, family, metrics: str) -> None:
  """Named metrics of samples of z on a sampling family, of held-out translations on a
  translating one.

  Raises:
    errors.ConfigError: naming the first metric that does not fit.
  """
  for grammar, named in registry.parse(metrics, config.eval_num_samples).items():
    judges_translations = grammar in registry.TRANSLATION_GRAMMARS
    if judges_translations == family.translates:
      continue
    name = named[0][0]
    if judges_translations:
      raise errors.ConfigError(
        f"eval.metrics: {name} judges translations of held-out inputs, and {config.family} "
        "samples from z."
      )
    raise errors.ConfigError(
      f"eval.metrics: {name} judges samples of z, and {config.family} translates; its named "
      f"metrics are {', '.join(translation_metric_names())}."
    )


def translation_metric_names() -> list[str]:
  from gans_jax.metrics import translation

  return list(translation.JUDGED_METRICS)


def _check_protocol(config, family, protocol: str) -> None:
  fits = {
    "none": True,
    "digits_classifier": config.dataset == "digits" and not family.translates,
    "mode_coverage": config.dataset in data_pipelines.POINT_DATASETS,
    "held_out_translation": family.translates,
  }
  if protocol not in fits:
    known = ", ".join(["default", *registry.PROTOCOLS, "none"])
    raise errors.ConfigError(f"Unknown eval.protocol {protocol!r}; known protocols: {known}.")
  if not fits[protocol]:
    raise errors.ConfigError(
      f"eval.protocol={protocol!r} ({registry.PROTOCOLS[protocol]}) does not fit a "
      f"{config.family} run on {config.dataset}; use eval.protocol=default or none."
    )


def protocol_evaluator(config, protocol: str):
  """(state, key) -> metrics of one of ``registry.PROTOCOLS``."""
  if protocol == "held_out_translation":
    return translation_evaluator(config)
  if protocol == "digits_classifier":
    own = evaluators.digits_evaluator(
      embedded.load_digits_split("train"),
      embedded.load_digits_split("test"),
      config.eval_num_samples,
      config.model.latent_dim,
      config.data.resolution,
      num_classes=config.model.num_classes,
    )
  else:
    centers, sigma = embedded.mode_centers(config.dataset)
    own = evaluators.modes_evaluator(
      centers, sigma, config.eval_num_samples, config.model.latent_dim
    )
  return lambda state, key: own(sampler(config, state), key)


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
  """(state, key) -> metrics for comma-separated metric names of any grammar in
  ``metrics.registry`` (fid10k, kid1k_digits, ppl1k_w_digits, ...), all checked first.

  Grammar i of ``registry.GRAMMARS`` draws on ``fold_in(key, i)`` (the first on ``key`` itself),
  so adding a metric of one grammar leaves the others' samples alone.
  """
  builders = {
    "suite": lambda named: suite_evaluator(config, named, inception_weights),
    "ppl": lambda named: ppl_evaluator(config, named),
    "translation": lambda named: judged_translation_evaluator(config, named),
    "separability": lambda named: separability_evaluator(config, named),
  }
  order = [grammar.name for grammar in registry.GRAMMARS]
  built = [
    (order.index(grammar), builders[grammar](named))
    for grammar, named in registry.parse(metrics, config.eval_num_samples).items()
  ]

  def evaluate(state, key):
    result = {}
    for index, evaluator in built:
      result.update(evaluator(state, jax.random.fold_in(key, index) if index else key))
    return result

  return evaluate


def ppl_evaluator(config, named: list):
  """(state, key) -> {ppl key: value} for (name, ``metrics.ppl.PPLSpec``) pairs; runs of a
  family with a ``latent_space`` only (PPL reads the mapping and synthesis networks apart).

  Raises:
    errors.ConfigError: for another family or a malformed name.
  """
  from gans_jax.metrics import ppl

  names = [name for name, _ in named]
  latent_space = trainers.get_family(config.family).latent_space
  if latent_space is None:
    having = ", ".join(trainers.families_with(lambda f: f.latent_space))
    raise errors.ConfigError(
      f"PPL ({', '.join(names)}) needs a run of a family with a mapping network ({having}), "
      f"not {config.family}."
    )
  specs = [spec for _, spec in named]
  distances = {}

  def evaluate(state, key):
    def map_fn(z):
      return latent_space.map(state, z)

    def synthesize_fn(w, noise_key):
      return latent_space.synthesize(state, w, noise_key)

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
        crop=config.eval.ppl_face_crop,
      )
    return result

  return evaluate


def ppl_distance(name: str, config):
  """PPL's distance (images a, b in [-1, 1] -> [N]): LPIPS from converted weights, or a proxy on
  the digits classifier's or the FID Inception network's features (``metrics.ppl``)."""
  from gans_jax.metrics import digits_classifier, lpips, ppl

  if name == "lpips":
    variables = lpips.load_variables(lpips.resolve_weights_path(config.eval.lpips_weights or None))
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


def translation_evaluator(config):
  """Held-out evaluation of an image-to-image model: the first ``eval_num_samples`` test pairs,
  judged against their targets (paired data) or by cycle reconstruction (unpaired data, both
  directions); see ``metrics.translation``."""
  from gans_jax.metrics import translation

  source, inputs, targets = run_data.held_out_pairs(config, config.eval_num_samples)
  family = trainers.get_family(config.family)
  if source.paired:  # A paired: folder without test/ is judged on val/, and says so.
    split = source.split or "test"
    return translation.paired_evaluator(jax.jit(family.translate), inputs, targets, split)
  if family.translate_back is None:
    raise errors.ConfigError(
      f"{config.family} cannot translate back, so it cannot use unpaired data."
    )
  forward, backward = jax.jit(family.translate), jax.jit(family.translate_back)
  return translation.cycle_evaluator(forward, backward, inputs, targets)


def separability_evaluator(config, named: list):
  """(state, key) -> {ls key: value} for (name, ``metrics.separability.SeparabilitySpec``)
  pairs: unconditional digits runs; W only for a family with a mapping network.

  Raises:
    errors.ConfigError: for another dataset, a class-conditional model, or W without one.
  """
  from gans_jax.metrics import digits_classifier, separability

  names, specs = [name for name, _ in named], [spec for _, spec in named]
  latent_space = trainers.get_family(config.family).latent_space
  if config.dataset != "digits" or config.model.num_classes:
    raise errors.ConfigError(
      f"{', '.join(names)}: linear separability labels unconditional digits samples with the "
      f"digits classifier, not a {config.family} run on {config.dataset} with "
      f"{config.model.num_classes} classes."
    )
  if latent_space is None and any(spec.space == "w" for spec in specs):
    having = ", ".join(trainers.families_with(lambda f: f.latent_space))
    raise errors.ConfigError(f"{', '.join(names)}: W needs a mapping network ({having}).")

  def classify(images):
    params = digits_classifier.load_or_train(*embedded.load_digits_split("train"))
    inputs = digits_classifier.to_classifier_input(images)
    return separability.digits_attributes(digits_classifier.classify(params, inputs)[0])

  def evaluate(state, key):
    mapping = jax.jit(latent_space.map) if latent_space is not None else None
    map_fn = (lambda z: mapping(state, z)) if mapping is not None else None
    return separability.evaluate_specs(
      specs, sampler(config, state), map_fn, classify, key, config.model.latent_dim
    )

  return evaluate


def judged_translation_evaluator(config, named: list):
  """(state, key) -> the papers' protocols on held-out pairs (``metrics.translation``'s
  ``JUDGED_METRICS``: FCN-score, Fréchet on the judge's features, real-vs-fake) for (name,
  name) pairs.

  Raises:
    errors.ConfigError: for unpaired data, or an FCN metric without ``data.label_palette``
      (checked now, before any training).
  """
  from gans_jax.metrics import segmentation, translation

  names = [name for name, _ in named]
  source, inputs, targets = run_data.held_out_pairs(config, config.eval_num_samples)
  if not source.paired:
    raise errors.ConfigError(
      f"{', '.join(names)} compare outputs with held-out targets, and {config.dataset} is unpaired."
    )
  palette, judge = None, None
  if any(name in translation.NEEDS_JUDGE for name in names):
    palette = segmentation.parse_palette(config.data.label_palette)
    judge = lambda: segmentation_judge(config, palette)
  family = trainers.get_family(config.family)
  back = family.translate_back
  return translation.judged_evaluator(
    names, jax.jit(family.translate), inputs, targets, source.split or "test", judge=judge,
    palette=palette, back_fn=jax.jit(back) if back is not None else None,
  )  # fmt: skip


# Training pairs the segmentation judge learns from, at most (the first ones of the split).
JUDGE_TRAINING_PAIRS = 2000


def segmentation_judge(config, palette):
  """The segmentation judge of ``config``'s paired data (``metrics.segmentation``): trained on
  the training split's outputs-side photos and the classes of their input-side label maps, at
  the config's resolution; cached."""
  channels = (config.data.input_channels, config.data.channels)
  source = run_data.dataset_source(config, "train")
  return judge_of_pairs(source, config.data.resolution, channels, palette)


def judge_of_pairs(source, resolution: int, channels: tuple[int, int], palette):
  """The (cached) segmentation judge of a paired training source's photos and map classes."""
  from gans_jax.metrics import segmentation

  maps, photos = data_pipelines.reference_pairs(
    source, count=JUDGE_TRAINING_PAIRS, resolution=resolution, channels=channels
  )
  labels = segmentation.labels_from_maps(maps, palette)
  return segmentation.load_or_train(photos, labels, len(palette))


def suite_evaluator(config, named: list, inception_weights: str | None = None):
  """(state, key) -> metrics for (name, ``metrics.suite.MetricSpec``) pairs, against the
  config's dataset.

  Raises:
    ValueError: for an unknown metric name, image metrics on 2-D data, or the digits detector on
      another dataset; inception.WeightsError if Inception weights are needed and absent.
  """
  specs = [spec for _, spec in named]
  metrics = ",".join(name for name, _ in named)
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
    steps = config.eval.selfsup_steps
    detectors["selfsup"] = lambda: suite.selfsup_detector(references["train"], steps)

  references = {split: run_data.real_images(config, split) for split in ("train", "test")}
  evaluate = suite.metric_suite(
    specs, detectors, references, config.model.latent_dim, num_classes=config.model.num_classes
  )
  return lambda state, key: evaluate(sampler(config, state), key)


def sampler(config, state) -> evaluators.Sampler:
  """(z [n, latent], labels [n], key) -> numpy samples of ``state``'s generator, compiled once,
  from the state prepared for sampling once (``trainers.Family.prepare_sampling``); ``key`` is
  the randomness the family draws besides z (StyleGAN's noise inputs)."""
  family = trainers.get_family(config.family)
  generate = jax.jit(family.sample)
  state = family.sampling_state(state, config)
  return lambda z, labels, key: np.asarray(generate(state, z, labels, key))
