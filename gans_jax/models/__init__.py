"""Flax linen networks, one file per paper, selected by ``config.model.{generator,discriminator}``.

Every generator maps (z [B, latent], labels int [B]) to samples [B, *output_shape]; every
discriminator maps (samples, labels) to logits (or critic scores) [B], or with an auxiliary class
head to (logits [B], class logits [B, K]). Unconditional networks (num_classes = 0) ignore labels.
Image-to-image networks (unet, resnet, patchgan) map images to images, or to patch logits
[B, H', W'].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans_jax import errors
from gans_jax.models import acgan, artgan, cyclegan, dcgan, mlp, pix2pix

GENERATORS = {
  "mlp": mlp.Generator,
  "dcgan": dcgan.Generator,
  "acgan": acgan.Generator,
  "artgan": artgan.Generator,
  "unet": pix2pix.UNetGenerator,
  "resnet": cyclegan.ResnetGenerator,
}
DISCRIMINATORS = {
  "mlp": mlp.Discriminator,
  "dcgan": dcgan.Discriminator,
  "acgan": acgan.Discriminator,
  "artgan": artgan.Discriminator,
  "patchgan": pix2pix.PatchDiscriminator,
}


COMPUTE_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def compute_dtype(name: str):
  """The dtype layers compute in, from ``config.compute_dtype``. Parameters stay float32 either
  way (flax's ``param_dtype``), BatchNorm reduces in float32, and ``ModelState.apply`` hands
  float32 outputs to the losses: bfloat16 mixed precision (Micikevicius et al. 2018 without loss
  scaling, which bfloat16's float32-sized exponent makes unnecessary)."""
  if name not in COMPUTE_DTYPES:
    raise errors.ConfigError(f"compute_dtype={name!r}; known: {', '.join(COMPUTE_DTYPES)}.")
  return COMPUTE_DTYPES[name]


def _build(registry: dict, role: str, section, **fixed) -> nn.Module:
  options = dict(section)
  name = options.pop("name", None)
  if name not in registry:
    raise errors.ConfigError(f"Unknown {role} {name!r}; known: {', '.join(registry)}.")
  module = registry[name]
  fields = {f.name for f in dataclasses.fields(module)} - {"parent", "name"}
  unknown = sorted(set(options) - fields)
  if unknown:
    valid = ", ".join(sorted(fields))
    raise errors.ConfigError(
      f"model.{role}.{unknown[0]} is not a field of {name} {role}; valid: {valid}."
    )
  options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
  return module(**options, **fixed)


def network_defaults(role: str, name: str) -> dict:
  """{attribute: default} of the ``role`` ("generator" or "discriminator") network ``name``
  (attributes without a default left out); {} for a name the registry does not have."""
  module = (GENERATORS if role == "generator" else DISCRIMINATORS).get(name)
  if module is None:
    return {}
  return {
    f.name: f.default
    for f in dataclasses.fields(module)
    if f.name not in ("parent", "name") and f.default is not dataclasses.MISSING
  }


def build_generator(section, output_shape: Sequence[int], dtype, num_classes: int = 0) -> nn.Module:
  """The generator named by ``section.name``, with the section's other fields as attributes."""
  return _build(
    GENERATORS,
    "generator",
    section,
    output_shape=tuple(output_shape),
    dtype=dtype,
    num_classes=num_classes,
  )


def build_discriminator(section, dtype, num_classes: int = 0) -> nn.Module:
  """The discriminator named by ``section.name``, with the section's other fields as attributes."""
  return _build(DISCRIMINATORS, "discriminator", section, dtype=dtype, num_classes=num_classes)


# What G's latent input is, for z ~ N(0, I) everywhere outside G: each prior maps a standard
# normal coordinate onto itself exactly in distribution.
LATENT_PRIORS = {
  "normal": lambda z: z,  # N(0, I), most codes here.
  "uniform": lambda z: jax.scipy.special.erf(z / jnp.sqrt(2.0)),  # U(-1, 1)^d (Newmu's DCGAN).
  # U(-sqrt 3, sqrt 3)^d, unit variance: goodfeli/adversarial's noise="uniform" (Goodfellow 2014).
  "uniform_unit_variance": lambda z: jnp.sqrt(3.0) * jax.scipy.special.erf(z / jnp.sqrt(2.0)),
  # U(0, 1)^d, "the unit hypercube" of Mirza & Osindero 2014, Sec. 4.1.
  "uniform_unit_cube": lambda z: 0.5 + 0.5 * jax.scipy.special.erf(z / jnp.sqrt(2.0)),
}


class WithLatentPrior(nn.Module):
  """``inner`` fed with ``LATENT_PRIORS[prior](z)``: G as a paper trained it on another prior,
  while every sampler, grid and metric keeps drawing z ~ N(0, I) (2 Phi(z) - 1 is uniform on
  (-1, 1) when z is standard normal)."""

  inner: nn.Module
  prior: str

  def __call__(self, z, *args, **kwargs):
    return self.inner(LATENT_PRIORS[self.prior](z), *args, **kwargs)


def with_latent_prior(generator: nn.Module, prior: str) -> nn.Module:
  """``generator`` on the latent prior ``prior`` (unchanged for "normal").

  Raises:
    errors.ConfigError: for an unknown prior.
  """
  if prior not in LATENT_PRIORS:
    raise errors.ConfigError(
      f"Unknown model.latent_prior {prior!r}; known: {', '.join(LATENT_PRIORS)}."
    )
  return generator if prior == "normal" else WithLatentPrior(generator, prior)
