"""Named evaluation metrics of a generator against real data: ``fid10k``, ``is10k``, ``kid10k``,
``pr10k`` on the FID InceptionV3, and the same on the digits classifier (``fd1k_digits``, ...).

A name is ``KIND COUNT [_DETECTOR]``: KIND is ``fid`` / ``fd`` (Fréchet distance), ``is``
(Inception Score), ``kid`` (Kernel Inception Distance) or ``pr`` (precision and recall, k = 3);
COUNT is the number of generated samples (``500``, ``10k``, ``50k``; when left out, the run's
``eval_num_samples``, so ``fd_digits`` is ``fd1k_digits`` by default); DETECTOR is ``inception``
(default) or ``digits`` (the project's digits classifier, offline). Result keys state the
protocol: ``fid10k_train`` (10,000 samples against the training set's statistics),
``kid1k_digits_test`` (against the held-out digits), ``is10k`` and ``is10k_std``.

Samples are drawn once per evaluation (as many as the largest count), rounded to uint8 as if saved
to PNG files, and every metric uses a prefix of them. Reference features of the real data are
cached under ``$GANS_JAX_CACHE/reference_features`` by a hash of the exact reference pixels and of
the detector (weights file hash, layer, preprocessing), so they are computed once per dataset.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pathlib
import re
from collections.abc import Callable

import jax
import numpy as np

from gans_jax import errors, metrics, writers
from gans_jax.metrics import evaluators, feature_scores, frechet

NAME_PATTERN = re.compile(r"^(fid|fd|is|kid|pr)(?:(\d+)(k?))?(?:_(inception|digits|selfsup))?$")
# What each part of a metric name means (``gans-jax list metrics``).
KINDS = {
  "fid / fd": "Frechet distance of feature statistics (Heusel et al. 2017); fid on Inception",
  "is": "Inception Score (Salimans et al. 2016), with its std over 10 splits",
  "kid": "Kernel Inception Distance (Binkowski et al. 2018), 100 subsets of 1,000",
  "pr": "improved precision and recall (Kynkaanniemi et al. 2019), k = 3",
}
DETECTORS = {
  "inception": "the FID InceptionV3 (default; needs pytorch-fid's weights, converted)",
  "digits": "the project's digits classifier (offline, trained once and cached)",
  "selfsup": "a rotation-prediction CNN trained once on the run's own training images (offline, "
  "cached; any image data; not comparable with FID or across datasets)",
}
KID_SUBSETS = 100  # torch-fidelity's defaults (Binkowski et al. use 100 subsets of 1,000).
KID_SUBSET_SIZE = 1000
CACHE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class MetricSpec:
  kind: str  # "fd", "is", "kid" or "pr".
  count: int  # Generated samples.
  detector: str  # "inception" or "digits".

  @property
  def tag(self) -> str:
    return evaluators.count_tag(self.count)


def parse_metrics(text: str, default_count: int = 1000) -> list[MetricSpec]:
  """``"fid10k,is10k,kid1k_digits"`` -> specs (``default_count`` samples where no COUNT is given).

  Raises:
    ValueError: naming a metric that does not follow the grammar.
  """
  specs = []
  for name in filter(None, (part.strip() for part in text.split(","))):
    match = NAME_PATTERN.match(name)
    if not match or match.group(2) == "0":
      raise errors.ConfigError(
        f"Unknown metric {name!r}: expected KIND COUNT[_DETECTOR], KIND one of fid, fd, is, kid, "
        "pr; COUNT like 500 or 10k; DETECTOR inception (default), digits or selfsup, e.g. "
        "fid10k, kid1k_digits, fd1k_selfsup."
      )
    kind, number, thousands, detector = match.groups()
    if kind == "is" and detector == "selfsup":
      raise errors.ConfigError(
        f"{name}: the Inception Score needs class logits; selfsup predicts rotations."
      )
    count = int(number) * (1000 if thousands else 1) if number else default_count
    specs.append(MetricSpec("fd" if kind == "fid" else kind, count, detector or "inception"))
  return specs


@dataclasses.dataclass(frozen=True)
class Detector:
  """A feature extractor for evaluation.

  Attributes:
    name: "inception" or "digits".
    digest: identifies the weights and every setting that changes the features (cache key).
    embed: uint8 images [N, H, W, C] -> (features float [N, D], class logits float [N, K]).
    reference_split: the split reference statistics come from ("train", "test").
  """

  name: str
  digest: str
  embed: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
  reference_split: str


def inception_detector(weights: str | os.PathLike | None, batch_size: int = 50) -> Detector:
  """The FID InceptionV3 (pool_3 features, bias-free logits); weights as ``inception`` resolves
  them (raises ``inception.WeightsError`` when absent)."""
  from gans_jax.metrics import inception

  path = inception.resolve_weights_path(weights)
  variables = inception.load_variables(path)
  outputs = ("pool3", "logits_unbiased")

  def embed(images):
    result = inception.extract(variables, images, outputs, batch_size)
    return result["pool3"], result["logits_unbiased"]

  digest = f"inception:{inception.file_digest(path)}:pool3:torch-bilinear-299"
  return Detector("inception", digest, embed, "train")


def digits_detector(resolution: int) -> Detector:
  """The digits classifier (128-d features, 11 logits: ten digits and "not a digit")."""
  from data_pipelines import embedded
  from gans_jax.metrics import digits_classifier

  train_images, train_labels = embedded.load_digits_split("train")
  params = digits_classifier.load_or_train(train_images, train_labels)

  def embed(images):
    inputs = digits_classifier.to_classifier_input(np.asarray(images, np.float32) / 127.5 - 1.0)
    probs, features = digits_classifier.classify(params, inputs)
    return features, np.log(np.maximum(probs, 1e-30))

  cache_name = digits_classifier.cache_path(train_images, train_labels).stem
  return Detector("digits", f"{cache_name}:r{resolution}", embed, "test")


def selfsup_detector(train_images: Callable[[], np.ndarray], steps: int) -> Detector:
  """The self-supervised network of ``metrics.selfsup``, trained for ``steps`` batches on
  ``train_images()`` (uint8 [N, H, W, C], the run's training split at its resolution) unless
  cached."""
  from gans_jax.metrics import selfsup

  images = selfsup.training_subset(train_images())
  params = selfsup.load_or_train(images, steps)
  digest = selfsup.cache_path(images, steps).stem
  return Detector("selfsup", digest, lambda x: selfsup.embed(params, x), "train")


def cache_root() -> pathlib.Path:
  return metrics.cache_dir() / "reference_features"


def reference_features(detector: Detector, images: np.ndarray):
  """(features [N, D], (mu [D], sigma [D, D])) of real uint8 images, cached by (pixels,
  detector)."""
  images = np.ascontiguousarray(images)
  digest = hashlib.sha256()
  digest.update(repr((CACHE_VERSION, images.shape, detector.digest)).encode())
  digest.update(images.tobytes())
  path = cache_root() / f"{detector.name}-{digest.hexdigest()[:20]}.npz"
  if path.is_file():
    with np.load(path) as data:
      return data["features"], (data["mu"], data["sigma"])
  features, _ = detector.embed(images)
  features = np.asarray(features, np.float32)
  mu, sigma = frechet.feature_statistics(features)
  path.parent.mkdir(parents=True, exist_ok=True)
  buffer = io.BytesIO()  # mu / sigma too: the file doubles as pytorch-fid stats.
  np.savez(buffer, features=features, mu=mu, sigma=sigma)
  writers.write_atomically(path, buffer.getvalue())
  return features, (mu, sigma)


def metric_suite(
  specs: list[MetricSpec],
  detectors: dict[str, Detector],
  reference_images: dict[str, Callable[[], np.ndarray]],
  latent_dim: int,
  batch: int = 500,
  num_classes: int = 0,
):
  """An evaluator ``evaluate(sampler, key) -> {result key: value}`` for ``specs``.

  Args:
    specs: from ``parse_metrics``.
    detectors: {detector name: () -> Detector} for every detector the specs use; each is built
      at its first use and kept.
    reference_images: {split: () -> uint8 real images [N, H, W, C]}; called once per
      evaluation (the pixels key the feature cache).
    latent_dim: size of z.
    batch: latents per generator call.
    num_classes: K of a class-conditional model (samples are drawn class-balanced), else 0.
  """
  from gans_jax import visualize
  from gans_jax.metrics import evaluators

  num_samples = max(spec.count for spec in specs)
  built = {}

  def evaluate(sampler, key: jax.Array) -> dict:
    samples = visualize.to_uint8(
      evaluators.draw(sampler, key, num_samples, latent_dim, batch, num_classes)
    )
    result = {}
    for name in sorted({spec.detector for spec in specs}):
      if name not in built:
        built[name] = detectors[name]()
      detector = built[name]
      fake, logits = detector.embed(samples)
      real, real_stats = reference_features(detector, reference_images[detector.reference_split]())
      for spec in (s for s in specs if s.detector == name):
        scores = _score(spec, detector, fake[: spec.count], logits[: spec.count], real, real_stats)
        result.update(scores)
    return result

  return evaluate


def _score(spec: MetricSpec, detector: Detector, fake, logits, real, real_stats) -> dict:
  suffix = "" if detector.name == "inception" else f"_{detector.name}"
  against = f"{suffix}_{detector.reference_split}"
  kind = "fid" if spec.kind == "fd" and detector.name == "inception" else spec.kind
  prefix = f"{kind}{spec.tag}"
  if spec.kind == "fd":
    return {
      prefix + against: frechet.frechet_distance(*frechet.feature_statistics(fake), *real_stats)
    }
  if spec.kind == "is":
    mean, std = feature_scores.inception_score(logits)
    return {prefix + suffix: mean, f"{prefix}{suffix}_std": std}
  if spec.kind == "kid":
    size = min(KID_SUBSET_SIZE, len(fake), len(real))
    mean, std = feature_scores.kernel_distance(
      real, fake, subsets=KID_SUBSETS, subset_size=size, seed=0
    )
    return {prefix + against: mean, f"{prefix}{against}_std": std}
  precision, recall = feature_scores.precision_recall(real[: len(fake)], fake)
  return {f"precision{spec.tag}{against}": precision, f"recall{spec.tag}{against}": recall}
