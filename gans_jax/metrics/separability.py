"""Linear separability (Karras, Laine & Aila 2019, Sec. 4.2), on any attribute classifier.

Generated samples are labelled by binary attribute classifiers; for each attribute the half of
the samples it is most confident about is kept, a linear SVM is fitted to predict its label
from the latent codes (Z, or W of a mapping network), and the conditional entropy H(Y|X) of the
classifier's label Y given the SVM's side X is measured in bits. The score is 2 ** (sum of the
attributes' entropies): 1 when every attribute is linearly separable in that space, 2 ** A when
the SVM tells nothing about any of A balanced attributes. The paper writes exp(sum H); NVlabs'
``metrics/linear_separability.py``, whose conventions this follows (bits, ``2 **``, the SVM
scored on the samples it was fitted to, sklearn's ``LinearSVC()`` with its defaults, a perfect
prediction assumed where the fit fails because one label is missing), is the reference.

On the embedded digits the attributes are the digits classifier's ten classes, each "is this
digit i" with probability p_i (``digits_attributes``); any classifier returning per-attribute
probabilities [N, A] can stand in (``linear_separability``).
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np

from gans_jax import errors

NAME_PATTERN = re.compile(r"^ls(?:(\d+)(k?))?_(z|w)_(digits)$")
KEEP_FRACTION = 0.5  # NVlabs: 100,000 of 200,000 samples kept per attribute.


@dataclasses.dataclass(frozen=True)
class SeparabilitySpec:
  count: int  # Generated samples; half are kept per attribute.
  space: str  # "z" or "w".
  classifier: str  # "digits".

  @property
  def key(self) -> str:
    tag = f"{self.count // 1000}k" if self.count % 1000 == 0 else str(self.count)
    return f"ls{tag}_{self.space}_{self.classifier}"


def parse(name: str, default_count: int = 1000) -> SeparabilitySpec:
  """``"ls10k_w_digits"`` -> SeparabilitySpec.

  Raises:
    errors.ConfigError: for a name outside ``ls[COUNT]_{z|w}_digits``.
  """
  match = NAME_PATTERN.match(name)
  if not match or match.group(1) == "0":
    raise errors.ConfigError(
      f"Unknown linear separability metric {name!r}: expected ls[COUNT]_{{z|w}}_digits, e.g. "
      "ls10k_w_digits."
    )
  number, thousands, space, classifier = match.groups()
  count = int(number) * (1000 if thousands else 1) if number else default_count
  return SeparabilitySpec(count, space, classifier)


def conditional_entropy(joint: np.ndarray) -> float:
  """H(Y|X) in bits of a joint histogram [X, Y] (any non-negative counts)."""
  p = np.asarray(joint, np.float64)
  p = p / p.sum()
  px = p.sum(1, keepdims=True)
  with np.errstate(divide="ignore", invalid="ignore"):
    terms = np.where(p > 0, p * np.log2(px / p), 0.0)
  return max(0.0, float(terms.sum()))  # Rounding can dip just below 0.


def attribute_entropy(latents: np.ndarray, probability: np.ndarray) -> float:
  """H(Y|X) of one binary attribute: Y = (probability >= 1/2) on the most confident
  ``KEEP_FRACTION`` of the samples, X = a linear SVM's prediction of Y from their latents.

  Args:
    latents: [N, D].
    probability: [N], the classifier's probability that the attribute holds.
  """
  from sklearn.exceptions import ConvergenceWarning
  from sklearn.svm import LinearSVC

  confidence = np.maximum(probability, 1.0 - probability)
  # Stable: ties keep the sample order, as NVlabs' sorted() does.
  kept = np.argsort(-confidence, kind="stable")[: int(len(probability) * KEEP_FRACTION)]
  targets = (probability[kept] >= 0.5).astype(np.int64)
  inputs = np.asarray(latents, np.float64)[kept]
  if len(np.unique(targets)) < 2:
    predicted = targets  # Nothing to separate: NVlabs assumes a perfect prediction.
  else:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore", ConvergenceWarning)  # As NVlabs: the defaults, as is.
      predicted = LinearSVC().fit(inputs, targets).predict(inputs)
  joint = np.zeros((2, 2))
  np.add.at(joint, (predicted, targets), 1.0)
  return conditional_entropy(joint)


def linear_separability(latents: np.ndarray, attributes: np.ndarray) -> float:
  """2 ** sum over attributes of ``attribute_entropy``.

  Args:
    latents: [N, D] codes of the N samples (z or w).
    attributes: [N, A] per-attribute probabilities of the same samples.
  """
  return float(2.0 ** sum(attribute_entropy(latents, a) for a in np.asarray(attributes).T))


def digits_attributes(probabilities: np.ndarray) -> np.ndarray:
  """The digits classifier's softmax [N, 11] -> ten attributes [N, 10]: "is digit i" with
  probability p_i (the not-a-digit class counts against every digit)."""
  return np.asarray(probabilities)[:, :10]


def evaluate_specs(specs, sampler, map_fn, classify, key, latent_dim: int, batch: int = 500):
  """{spec.key: linear separability} of one set of generated samples.

  Args:
    specs: ``SeparabilitySpec``s; the largest count is drawn once and the others use a prefix.
    sampler: ``metrics.evaluators.Sampler`` of an unconditional model.
    map_fn: z [n, Z] -> w [n, W] (the mapping network), or None when no spec is in W.
    classify: images [n, R, R, C] in [-1, 1] -> attribute probabilities [n, A].
    key: the samples' key: z as ``evaluators.draw`` draws it from this key, so the images are
      the ones the run's other metrics of this key see.
    latent_dim: Z.
  """
  import jax

  from gans_jax.metrics import evaluators

  count = max(spec.count for spec in specs)
  keys = jax.random.split(key, -(-count // batch))
  latents, images = [], []
  for k in keys:
    z = jax.random.normal(k, (batch, latent_dim))
    labels = np.zeros(batch, np.int32)
    images.append(np.asarray(sampler(z, labels, jax.random.fold_in(k, evaluators.SAMPLING_STREAM))))
    latents.append(np.asarray(z))
  spaces = {"z": np.concatenate(latents)[:count]}
  attributes = np.asarray(classify(np.concatenate(images)[:count]))
  if any(spec.space == "w" for spec in specs):
    spaces["w"] = np.concatenate(
      [np.asarray(map_fn(spaces["z"][i : i + batch])) for i in range(0, count, batch)]
    )
  return {
    spec.key: linear_separability(spaces[spec.space][: spec.count], attributes[: spec.count])
    for spec in specs
  }
