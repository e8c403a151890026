"""Adversarial losses on discriminator outputs (logits or critic scores), selected by name.

Every function takes D's raw outputs on real and generated data, float [B], and returns scalar
means. Discriminators never apply a sigmoid themselves; the losses use softplus, which is exact
and stable: -log sigmoid(t) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t). ArtGAN's
categorical loss takes D's K + 1 outputs against targets instead (``categorical_sigmoid_loss``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from gans_jax import errors

Array = jax.Array


def bce_discriminator(real: Array, fake: Array) -> Array:
  """-E[log D(x)] - E[log(1 - D(G(z)))] (Goodfellow 2014, Eq. 1, as a loss to minimise)."""
  return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))


def logistic_discriminator_per_example(real: Array, fake: Array) -> Array:
  """softplus(D(G(z))) + softplus(-D(x)) per example [B], the same loss as ``bce_discriminator``
  summed before averaging, as NVlabs' StyleGAN writes it (``training/loss.py``, D_logistic)."""
  return jax.nn.softplus(fake) + jax.nn.softplus(-real)


def minimax_generator(fake: Array) -> Array:
  """E[log(1 - D(G(z)))], the saturating generator loss of Goodfellow 2014, Eq. 1."""
  return -jnp.mean(jax.nn.softplus(fake))


def non_saturating_generator(fake: Array) -> Array:
  """-E[log D(G(z))], the heuristic of Goodfellow 2014, Sec. 3 (strong early gradients)."""
  return jnp.mean(jax.nn.softplus(-fake))


def wasserstein_discriminator(real: Array, fake: Array) -> Array:
  """E[f(G(z))] - E[f(x)]: the critic maximises E[f(x)] - E[f(G(z))] (Arjovsky 2017, Eq. 3)."""
  return jnp.mean(fake) - jnp.mean(real)


def wasserstein_generator(fake: Array) -> Array:
  """-E[f(G(z))] (Arjovsky 2017, Alg. 1)."""
  return -jnp.mean(fake)


def hinge_discriminator(real: Array, fake: Array) -> Array:
  """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (Lim & Ye 2017; Miyato 2018, Eq. 16)."""
  return jnp.mean(jax.nn.relu(1.0 - real)) + jnp.mean(jax.nn.relu(1.0 + fake))


def least_squares_discriminator(real: Array, fake: Array) -> Array:
  """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]: LSGAN with a=0, b=1 (Mao 2017, Eq. 2)."""
  return 0.5 * jnp.mean((real - 1.0) ** 2) + 0.5 * jnp.mean(fake**2)


def least_squares_generator(fake: Array) -> Array:
  """1/2 E[(D(G(z)) - 1)^2]: LSGAN with c=1 (Mao 2017, Eq. 2)."""
  return 0.5 * jnp.mean((fake - 1.0) ** 2)


def target_loss(outputs: Array, target_is_real: bool, name: str) -> Array:
  """One side of an adversarial loss the way pix2pix and CycleGAN write it (their reference
  code's ``GANLoss``): D's outputs [B, ...] (patch logits) against a constant target, averaged
  over every element.

  - "non_saturating" ("vanilla"): binary cross-entropy with logits against 1 (real) or 0 (fake);
  - "least_squares" ("lsgan"): squared error against 1 or 0 (Mao et al. 2017), no 1/2 factor;
  - "wasserstein": -mean (real) or mean (fake).

  D minimises the real and the fake side, G the real side on its outputs; pix2pix and CycleGAN
  halve D's sum (Isola et al. 2017, Sec. 3.3).

  Raises:
    ValueError: for another name.
  """
  sign = 1.0 if target_is_real else -1.0
  if name == "non_saturating":
    return jnp.mean(jax.nn.softplus(-sign * outputs))
  if name == "least_squares":
    return jnp.mean((outputs - (1.0 if target_is_real else 0.0)) ** 2)
  if name == "wasserstein":
    return -sign * jnp.mean(outputs)
  raise errors.ConfigError(
    f"Unknown loss {name!r} for a target loss; known: non_saturating, least_squares, wasserstein."
  )


def categorical_sigmoid_loss(logits: Array, targets: Array) -> Array:
  """ArtGAN's loss (Tan et al. 2017, Eqs. 3 and 5): binary cross-entropy of each of D's K + 1
  sigmoid outputs (K classes and "generated") against its target, summed over the outputs (the
  log-likelihood of independent Bernoulli outputs), mean over the batch. D and G both minimise
  it, against different targets.

  Args:
    logits: [B, K + 1] pre-sigmoid outputs.
    targets: [B, K + 1] in [0, 1].
  """
  return optax.sigmoid_binary_cross_entropy(logits, targets).sum(-1).mean()


@dataclasses.dataclass(frozen=True)
class AdversarialLoss:
  """A named pair: ``discriminator(real, fake)`` and ``generator(fake)``, both minimised."""

  discriminator: Callable[[Array, Array], Array]
  generator: Callable[[Array], Array]
  # Whether D's output is a logit of P(real); reports then show sigmoid(D) as probabilities.
  outputs_logits: bool


ADVERSARIAL_LOSSES = {
  "minimax": AdversarialLoss(bce_discriminator, minimax_generator, True),
  "non_saturating": AdversarialLoss(bce_discriminator, non_saturating_generator, True),
  "wasserstein": AdversarialLoss(wasserstein_discriminator, wasserstein_generator, False),
  "hinge": AdversarialLoss(hinge_discriminator, wasserstein_generator, False),
  "least_squares": AdversarialLoss(least_squares_discriminator, least_squares_generator, False),
}


def get_adversarial_loss(name: str) -> AdversarialLoss:
  """The loss pair named ``name``.

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if name not in ADVERSARIAL_LOSSES:
    raise errors.ConfigError(
      f"Unknown loss {name!r}; known losses: {', '.join(ADVERSARIAL_LOSSES)}."
    )
  return ADVERSARIAL_LOSSES[name]
