"""Pure loss and regularizer functions."""

from gans_jax.losses.adversarial import (
  ADVERSARIAL_LOSSES,
  AdversarialLoss,
  get_adversarial_loss,
  target_loss,
)

__all__ = ["ADVERSARIAL_LOSSES", "AdversarialLoss", "get_adversarial_loss", "target_loss"]
