"""Every evaluation a run can declare, in one place: the protocols (``config.eval.protocol``)
and the grammars of metric names (``--metrics``, ``config.eval.metrics``), as ``gans-jax list
metrics`` prints them.

A grammar claims the names that start with one of its prefixes and parses them into specs; the
evaluation layer (``gans_jax.evaluation``) builds one evaluator per grammar from its specs, as
NVlabs' ``metric_main`` registers metric functions by name. A name no grammar claims is an
error that shows every grammar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from gans_jax import errors
from gans_jax.metrics import ppl, separability, suite, translation


@dataclasses.dataclass(frozen=True)
class Grammar:
  """One family of metric names.

  Attributes:
    name: the grammar's key (``GRAMMARS``), e.g. "suite".
    prefixes: a name of this grammar starts with one of these (and no longer prefix of another
      grammar claims it).
    parse: (name, default sample count) -> spec; raises ``errors.ConfigError`` naming a
      malformed name.
    summary: the grammar in one line, e.g. "KIND[COUNT][_DETECTOR]".
    help: lines for ``gans-jax list metrics``.
  """

  name: str
  prefixes: tuple[str, ...]
  parse: Callable
  summary: str
  help: tuple[str, ...]


GRAMMARS = (
  Grammar(
    "suite",
    ("fid", "fd", "is", "kid", "pr"),
    lambda name, count: suite.parse_metrics(name, count)[0],
    "KIND[COUNT][_DETECTOR] (fid10k, kid1k_digits, fd1k_selfsup)",
    (
      "KIND[COUNT][_DETECTOR], e.g. fid10k, kid1k_digits; COUNT: generated samples (500, 10k, "
      "50k; default eval_num_samples).",
      "  KIND:",
      *(f"    {kind}: {text}" for kind, text in suite.KINDS.items()),
      "  DETECTOR:",
      *(f"    {name}: {text}" for name, text in suite.DETECTORS.items()),
    ),
  ),
  Grammar(
    "ppl",
    ("ppl",),
    ppl.parse,
    "ppl[COUNT]_<z|w>[_full|_end][_DISTANCE] (ppl10k_w_full_lpips)",
    (
      "ppl[COUNT]_<z|w>[_full|_end][_lpips|_digits|_inception], e.g. ppl10k_w_full_lpips "
      "(perceptual path length, Karras et al. 2019; families with a mapping network).",
    ),
  ),
  Grammar(
    "separability",
    ("ls",),
    separability.parse,
    "ls[COUNT]_<z|w>_digits (ls10k_w_digits)",
    (
      "ls[COUNT]_<z|w>_digits, e.g. ls10k_z_digits, ls10k_w_digits: linear separability "
      "(Karras et al. 2019, Sec. 4.2) of unconditional digits samples, the digits classifier's "
      "ten classes as binary attributes; 1 = every attribute linearly separable in Z or W "
      "(W: families with a mapping network).",
    ),
  ),
  Grammar(
    "translation",
    ("fcn", "real_vs_fake"),
    translation.parse_judged,
    f"{' | '.join(translation.JUDGED_METRICS)} (image-to-image runs on paired data)",
    (
      "Image-to-image runs on paired data, on the held-out pairs (eval_num_samples of them):",
      *(f"  {name}: {text}" for name, text in translation.JUDGED_METRICS.items()),
      "  fcn_*: the inputs are label maps in data.label_palette's colours; the judge, a small "
      "FCN trained once on the training pairs, is cached.",
    ),
  ),
)
# Grammars whose metrics judge translations of held-out inputs, not samples of z.
TRANSLATION_GRAMMARS = ("translation",)


# The protocols (``gans_jax.evaluation.protocol_evaluator``): an evaluation a dataset or a paper
# brings with it, with the metric keys it returns.
PROTOCOLS = {
  "digits_classifier": (
    "the project's digits classifier on digits samples: confident, per-class and not-a-digit "
    "fractions, class entropy, Frechet distance on its features (digits_*)"
  ),
  "mode_coverage": (
    "modes covered, high-quality fraction and reverse KL of the mode histogram of 2-D samples on "
    "ring8 / grid25 (VEEGAN, PacGAN)"
  ),
  "held_out_translation": (
    "held-out test pairs: L1 / SSIM / PSNR against the targets (paired data) or cycle L1 both "
    "ways (unpaired data)"
  ),
}


def grammar_of(name: str) -> Grammar:
  """The grammar that claims ``name`` (the longest matching prefix wins).

  Raises:
    errors.ConfigError: when none does, showing every grammar.
  """
  claims = [(len(p), g) for g in GRAMMARS for p in g.prefixes if name.startswith(p)]
  if not claims:
    known = "; ".join(g.summary for g in GRAMMARS)
    raise errors.ConfigError(f"Unknown metric {name!r}: expected one of {known}.")
  return max(claims, key=lambda claim: claim[0])[1]


def parse(names: str, default_count: int) -> dict[str, list[tuple[str, object]]]:
  """``"fid10k,ppl1k_w_digits"`` -> {grammar name: [(name, spec), ...]}, grammars in
  ``GRAMMARS`` order, every name checked before anything is built.

  Raises:
    errors.ConfigError: naming the first malformed or unknown name.
  """
  grouped = {}
  for name in filter(None, (part.strip() for part in names.split(","))):
    grammar = grammar_of(name)
    grouped.setdefault(grammar.name, []).append((name, grammar.parse(name, default_count)))
  return {g.name: grouped[g.name] for g in GRAMMARS if g.name in grouped}
