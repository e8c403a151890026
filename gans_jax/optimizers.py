"""Optimizers from config sections (``config.optim.g`` / ``config.optim.d``), built with optax."""

from __future__ import annotations

import optax

from gans_jax import errors

OPTIMIZERS = {
  "adam": lambda c, lr: optax.adam(lr, b1=c.b1, b2=c.b2),
  "rmsprop": lambda c, lr: optax.rmsprop(lr, decay=c.decay),
  "sgd": lambda c, lr: optax.sgd(lr),
}


def learning_rate(section) -> optax.Schedule | float:
  """The section's learning rate: constant; or multiplied by ``lr_decay_rate`` every
  ``lr_decay_steps`` updates of this optimizer, continuously (ArtGAN's exponential decay); or
  constant for ``lr_constant_steps`` updates, then falling linearly to 0 over
  ``lr_linear_decay_steps`` (pix2pix and CycleGAN's "linear" policy, per update instead of per
  epoch).

  Raises:
    ValueError: for a decay rate outside (0, 1], a decaying rate without a positive period, or
      both decays at once.
  """
  linear_steps, rate = section.lr_linear_decay_steps, section.lr_decay_rate
  if linear_steps:
    if rate != 1.0:
      raise errors.ConfigError(
        "Choose one decay: lr_decay_rate (exponential) or lr_linear_decay_steps."
      )
    return optax.linear_schedule(
      section.learning_rate, 0.0, linear_steps, transition_begin=section.lr_constant_steps
    )
  if not 0.0 < rate <= 1.0:
    raise errors.ConfigError(f"lr_decay_rate must be in (0, 1], got {rate}.")
  if rate == 1.0:
    return section.learning_rate
  if section.lr_decay_steps <= 0:
    raise errors.ConfigError(
      f"lr_decay_rate={rate} needs lr_decay_steps > 0, got {section.lr_decay_steps}."
    )
  return optax.exponential_decay(section.learning_rate, section.lr_decay_steps, rate)


def build_optimizer(section, learning_rate_scale: float = 1.0) -> optax.GradientTransformation:
  """The optax optimizer named by ``section.name``, at ``learning_rate_scale`` times the
  section's rate (a stage's rate, e.g. progressive growing's per-resolution rates). The scale
  changes no state: the optimizer state of one scale serves every other.

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if section.name not in OPTIMIZERS:
    raise errors.ConfigError(f"Unknown optimizer {section.name!r}; known: {', '.join(OPTIMIZERS)}.")
  rate = learning_rate(section)
  if learning_rate_scale != 1.0:
    base = rate
    rate = (
      (lambda count: base(count) * learning_rate_scale)
      if callable(base)
      else base * learning_rate_scale
    )
  return OPTIMIZERS[section.name](section, rate)


def learning_rates(config, step: int) -> dict[str, float]:
  """{"lr/g": ..., "lr/d": ...}: each optimizer's rate at its update count after ``step``
  generator steps (D updates ``d_steps`` times per step)."""
  rates = {}
  for role, section in config.optim.items():
    rate = learning_rate(section)
    updates = step * (config.d_steps if role == "d" else 1)
    rates[f"lr/{role}"] = float(rate(updates)) if callable(rate) else float(rate)
  return rates
