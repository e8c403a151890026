"""Pure loss and regularizer functions."""

from gans_jax.losses.adversarial import (
  ADVERSARIAL_LOSSES,
  AdversarialLoss,
  categorical_sigmoid_loss,
  get_adversarial_loss,
  logistic_discriminator_per_example,
  non_saturating_generator,
  target_loss,
)
from gans_jax.losses.regularizers import class_loss, gradient_penalty

__all__ = [
  "ADVERSARIAL_LOSSES",
  "AdversarialLoss",
  "categorical_sigmoid_loss",
  "class_loss",
  "get_adversarial_loss",
  "gradient_penalty",
  "logistic_discriminator_per_example",
  "non_saturating_generator",
  "target_loss",
]
