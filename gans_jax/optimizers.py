"""Optimizers from config sections (``config.optim.g`` / ``config.optim.d``), built with optax."""

from __future__ import annotations

import optax

OPTIMIZERS = {
  "adam": lambda c: optax.adam(c.learning_rate, b1=c.b1, b2=c.b2),
  "rmsprop": lambda c: optax.rmsprop(c.learning_rate, decay=c.decay),
  "sgd": lambda c: optax.sgd(c.learning_rate),
}


def build_optimizer(section) -> optax.GradientTransformation:
  """The optax optimizer named by ``section.name``.

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if section.name not in OPTIMIZERS:
    raise ValueError(f"Unknown optimizer {section.name!r}; known: {', '.join(OPTIMIZERS)}.")
  return OPTIMIZERS[section.name](section)
