"""SN-GAN (Miyato et al. 2018): spectral normalisation in D, the hinge loss, n_dis D updates per
G update (``config.d_steps``), through the GAN family's alternating step.

The family owns its networks (``models.sngan``, built here) and otherwise reuses ``trainers.gan``:
its step (k D updates, then G; D in training mode updates the power-iteration vectors ``u``, kept
in D's ``batch_stats`` and so in every checkpoint) and its sampling.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax

from gans_jax import models
from gans_jax.models import sngan as networks
from gans_jax.train_state import GANState
from gans_jax.trainers import gan

train_step = gan.train_step
generate = gan.generate


def build_networks(config, sample_shape: Sequence[int]):
  dtype = models.compute_dtype(config.compute_dtype)
  return (
    networks.Generator(tuple(sample_shape), config.model.generator.width, dtype),
    networks.Discriminator(config.model.discriminator.width, dtype),
  )


def init_state(config, key: jax.Array, sample_shape: Sequence[int]) -> GANState:
  """Networks from ``key`` (D's ``u`` vectors too, drawn N(0, 1) as chainer-gan-lib does); G
  sees z through ``config.model.latent_prior``."""
  generator, discriminator = build_networks(config, sample_shape)
  generator = models.with_latent_prior(generator, config.model.latent_prior)
  return gan.init_state_of(generator, discriminator, config, key, sample_shape)
