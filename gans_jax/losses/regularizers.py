"""Regularisers and auxiliary terms of the adversarial losses: WGAN-GP's gradient penalty and
AC-GAN's class term."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def class_loss(class_logits, labels) -> jax.Array:
  """Mean cross-entropy of the class head (AC-GAN's -L_C terms, Odena et al. 2017, Eq. 2-3)."""
  return optax.softmax_cross_entropy_with_integer_labels(class_logits, labels).mean()


def gradient_penalty(critic, real, fake, key) -> jax.Array:
  """E[(||grad_x critic(x_hat)||_2 - 1)^2] on x_hat = e x + (1 - e) G(z), e ~ U[0, 1] per sample
  (Gulrajani et al. 2017, Alg. 1). ``critic`` maps a batch to scores [B]."""
  shape = (real.shape[0],) + (1,) * (real.ndim - 1)
  epsilon = jax.random.uniform(key, shape)
  interpolates = epsilon * real + (1.0 - epsilon) * fake
  # Scores are per sample, so the gradient of their sum holds each sample's own gradient.
  grads = jax.grad(lambda x: critic(x).sum())(interpolates)
  norms = jnp.sqrt(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1) + 1e-12)
  return jnp.mean((norms - 1.0) ** 2)
