"""GAN families: each plugs into the one training loop through a small contract, and owns its
features (docs/design.md section 8). Nothing outside ``trainers/`` names a family.

A family is a module-level ``Family``:

- ``init_state(config, key, sample_shape) -> GANState``: networks, optimizers, family state.
- ``train_step(state, batch, *, config) -> (state, metrics)``: one generator update and what
  precedes it; compiled once by the loop with ``config`` bound. ``batch`` is
  {"x": [batch_size * d_steps, ...], "label": int32 [same]} for a sampling family and
  {"a": inputs, "b": outputs} at the load size for a translating one (``trainers.translation``);
  randomness comes only from ``fold_in(state.key, state.step)``; metrics are float32 scalars.
- Either ``sample(state, z [N, latent], labels int32 [N], key=None) -> samples [N, ...]`` (a
  sampling family; ``key`` is the randomness it draws besides z, such as StyleGAN's noise
  inputs: metrics pass a fresh one per batch, grids None for the family's fixed one) or
  ``translate(state, inputs [N, R, R, C_a], key) -> outputs [N, R, R, C_b]`` (an
  image-to-image family), with ``translate_back`` (B -> A) where the family has that generator.
  Both run in inference mode, for grids, evaluation and ``gans-jax sample``.

Optional hooks:

- ``stages(config, sample_shape) -> tuple[Stage, ...]``: a family that trains in stages
  (progressive growing); its ``train_step`` then takes the current stage as a static ``stage=``
  argument, and the loop compiles one step per stage and reads each stage's batch size.
- ``prepare_sampling(state, config) -> state``: the state ``sample`` should use, computed once
  per state before grids, evaluation and ``gans-jax sample`` (the GAN families: BatchNorm
  statistics of G's EMA weights, ``gan.prepare_sampling``); default: the state itself.
- ``latent_space``: a ``LatentSpace`` (mapping and synthesis apart), for perceptual path length.
- ``figures``: {command name: ``Figure``}, the family's own paper figures as CLI commands.
- ``networks(params) -> {suffix: params}``: how one role's parameters split into networks, for
  parameter counts (default: one network, suffix "").
- ``config_fields(config)``: adds the family's own config fields, each with its default and a
  comment (``config_schema.base_config`` calls it; config files then set values only). A field
  added later must default to the value that reproduces runs saved before it
  (``config_schema.upgrade_saved``).
- ``unused_fields``: base fields the family does not read: its configs do not have them, so
  setting one is an error that names it.
- ``weight_formats``: {format name: ``WeightFormat``}, other codebases' saved networks the
  family reads (``gans-jax import-weights``) and writes (``export-weights``).

``FAMILIES`` maps ``config.family`` to its Family.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from gans_jax import errors
from gans_jax.trainers import (
  artgan,
  cyclegan,
  gan,
  gan_weights,
  pix2pix,
  sngan,
  stylegan,
  stylegan_figures,
  stylegan_schema,
  stylegan_weights,
  translation,
)
from gans_jax.trainers.stages import (  # noqa: F401 (loop API)
  Stage,
  d_updates_before,
  single_stage,
  stage_at,
)
from gans_jax.trainers.types import Figure, LatentSpace, WeightFormat


def _one_network(params) -> dict:
  return {"": params}


@dataclasses.dataclass(frozen=True)
class Family:
  init_state: Callable
  train_step: Callable
  sample: Callable | None = None  # (state, z, labels, key=None) -> samples.
  translate: Callable | None = None  # (state, inputs, key) -> outputs.
  translate_back: Callable | None = None  # Unpaired families: (state, outputs, key) -> inputs.
  stages: Callable | None = None  # Growing families: (config, sample_shape) -> stages.
  prepare_sampling: Callable | None = None  # (state, config) -> the state to sample from.
  latent_space: LatentSpace | None = None
  figures: Mapping[str, Figure] = dataclasses.field(default_factory=dict)
  networks: Callable = _one_network
  config_fields: Callable | None = None  # (config) -> None: the family's own fields.
  unused_fields: tuple[str, ...] = ()  # Dotted base fields the family does not read.
  weight_formats: Mapping[str, WeightFormat] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    if (self.sample is None) == (self.translate is None):
      raise ValueError("A family either samples or translates: give exactly one of the two.")

  @property
  def translates(self) -> bool:
    """Image-to-image: trains on pairs and translates instead of sampling."""
    return self.translate is not None

  def sampling_state(self, state, config):
    """``state`` as ``sample`` should see it (``prepare_sampling``, else unchanged)."""
    return state if self.prepare_sampling is None else self.prepare_sampling(state, config)

  def schedule(self, config, sample_shape) -> tuple[Stage, ...]:
    """The family's stages for this config (one stage unless the family grows)."""
    return self.stages(config, sample_shape) if self.stages else single_stage(config)


FAMILIES = {
  "gan": Family(
    gan.init_state,
    gan.train_step,
    sample=gan.generate,
    stages=gan.stages,  # WGAN's critic schedule (d_steps_schedule); one stage otherwise.
    prepare_sampling=gan.prepare_sampling,
    config_fields=gan.config_fields,
    weight_formats=gan_weights.WEIGHT_FORMATS,
  ),
  "artgan": Family(
    artgan.init_state,
    artgan.train_step,
    sample=artgan.generate,
    prepare_sampling=gan.prepare_sampling,
    config_fields=artgan.config_fields,
  ),
  "sngan": Family(
    sngan.init_state,
    sngan.train_step,
    sample=sngan.generate,
    stages=gan.stages,
    prepare_sampling=gan.prepare_sampling,
    config_fields=gan.config_fields,  # Its step is the gan family's.
  ),
  "pix2pix": Family(
    pix2pix.init_state,
    pix2pix.train_step,
    translate=pix2pix.generate,
    config_fields=pix2pix.config_fields,
    unused_fields=translation.UNUSED_FIELDS,
    weight_formats=pix2pix.WEIGHT_FORMATS,
  ),
  "cyclegan": Family(
    cyclegan.init_state,
    cyclegan.train_step,
    translate=cyclegan.generate,
    translate_back=cyclegan.generate_b_to_a,
    networks=cyclegan.networks,
    config_fields=cyclegan.config_fields,
    unused_fields=translation.UNUSED_FIELDS,
    weight_formats=cyclegan.WEIGHT_FORMATS,
  ),
  "stylegan": Family(
    stylegan.init_state,
    stylegan.train_step,
    sample=stylegan.generate,
    stages=stylegan.stages,
    latent_space=stylegan.LATENT_SPACE,
    figures=stylegan_figures.FIGURES,
    config_fields=stylegan_schema.config_fields,
    unused_fields=stylegan_schema.UNUSED_FIELDS,
    weight_formats=stylegan_weights.WEIGHT_FORMATS,
  ),
}


def get_family(name: str) -> Family:
  if name not in FAMILIES:
    raise errors.ConfigError(f"Unknown family {name!r}; known families: {', '.join(FAMILIES)}.")
  return FAMILIES[name]


def families_with(feature: Callable[[Family], object]) -> list[str]:
  """Names of the families that have a feature (for error messages), e.g.
  ``families_with(lambda f: f.latent_space)``."""
  return [name for name, family in FAMILIES.items() if feature(family)]


def figures() -> dict[str, Figure]:
  """Every family's figures by command name (names are unique across families)."""
  found = {}
  for family in FAMILIES.values():
    found.update(family.figures)
  return found
