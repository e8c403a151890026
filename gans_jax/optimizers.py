"""Optimizers from config sections (``config.optim.g`` / ``config.optim.d``), built with optax."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from gans_jax import errors


def _sgd(section, rate):
  """Plain SGD, or with momentum in pylearn2's form (``momentum_sgd``)."""
  if not section.momentum and not section.momentum_ramp:
    return optax.sgd(rate)
  return momentum_sgd(rate, momentum_schedule(section))


OPTIMIZERS = {
  "adam": lambda c, lr: optax.adam(lr, b1=c.b1, b2=c.b2),
  "rmsprop": lambda c, lr: optax.rmsprop(lr, decay=c.decay, eps=c.eps, eps_in_sqrt=c.eps_in_sqrt),
  "sgd": _sgd,
}


class MomentumState(NamedTuple):
  count: jax.Array  # int32 [], updates done.
  velocity: optax.Updates


def momentum_sgd(rate, momentum) -> optax.GradientTransformation:
  """SGD with classical momentum as pylearn2 writes it (Goodfellow et al. 2014's code):
  v <- m_t v - lr_t g, and the update is v. The rate enters the velocity (unlike optax.sgd's
  trace, which scales the sum), so a decaying rate shrinks only the new gradients.

  Args:
    rate: learning rate, a number or a schedule of the update count.
    momentum: m, a number or a schedule of the update count.
  """
  as_schedule = lambda v: v if callable(v) else (lambda count: v)  # noqa: E731
  rate, momentum = as_schedule(rate), as_schedule(momentum)

  def init(params):
    return MomentumState(jnp.zeros((), jnp.int32), jax.tree.map(jnp.zeros_like, params))

  def update(grads, state, params=None):
    del params
    m, lr = momentum(state.count), rate(state.count)
    velocity = jax.tree.map(lambda v, g: m * v - lr * g, state.velocity, grads)
    return velocity, MomentumState(state.count + 1, velocity)

  return optax.GradientTransformation(init, update)


def momentum_schedule(section):
  """m at each update: ``section.momentum``, or with ``momentum_ramp`` = (final, first epoch,
  last epoch, updates per epoch) rising linearly from the first to the last epoch, constant
  within an epoch (Goodfellow 2014: 0.5 to 0.7 over epochs 1-250).

  Raises:
    errors.ConfigError: for a ramp that is not four numbers with first <= last and at least one
      update per epoch.
  """
  if not section.momentum_ramp:
    return section.momentum
  if len(section.momentum_ramp) != 4:
    raise errors.ConfigError(
      f"momentum_ramp={tuple(section.momentum_ramp)}: expected (final momentum, first epoch, "
      "last epoch, updates per epoch)."
    )
  final, first, last, per_epoch = section.momentum_ramp
  if not (first <= last and per_epoch >= 1):
    raise errors.ConfigError(
      f"momentum_ramp={tuple(section.momentum_ramp)}: needs first epoch <= last epoch and at "
      "least one update per epoch."
    )
  start = section.momentum

  def schedule(count):
    epoch = count // int(per_epoch)
    if last == first:  # No ramp: the final momentum from the first epoch on.
      progress = (epoch >= first).astype(jnp.float32)
    else:
      progress = jnp.clip((epoch - first) / (last - first), 0.0, 1.0)
    return start + (final - start) * progress

  return schedule


def learning_rate(section) -> optax.Schedule | float:
  """The section's learning rate: constant; or multiplied by ``lr_decay_rate`` every
  ``lr_decay_steps`` updates of this optimizer, continuously, down to ``lr_min`` when it is
  above 0 (ArtGAN's exponential decay; Goodfellow 2014's 1 / 1.000004 per update to 1e-6); or
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
  return optax.exponential_decay(
    section.learning_rate, section.lr_decay_steps, rate, end_value=section.lr_min or None
  )


def build_optimizer(section, learning_rate_scale: float = 1.0) -> optax.GradientTransformation:
  """The optax optimizer named by ``section.name``, at ``learning_rate_scale`` times the
  section's rate (a stage's rate, e.g. progressive growing's per-resolution rates), with the
  section's L2 penalty (``weight_decay``). Neither changes the state's layout: the optimizer
  state of one scale serves every other.

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if section.name not in OPTIMIZERS:
    raise errors.ConfigError(f"Unknown optimizer {section.name!r}; known: {', '.join(OPTIMIZERS)}.")
  rate = learning_rate(section)
  decay = section.weight_decay
  if learning_rate_scale != 1.0:
    base = rate
    rate = (
      (lambda count: base(count) * learning_rate_scale)
      if callable(base)
      else base * learning_rate_scale
    )
  optimizer = OPTIMIZERS[section.name](section, rate)
  return optimizer if not decay else with_l2_penalty(optimizer, decay)


def with_l2_penalty(optimizer, decay: float) -> optax.GradientTransformation:
  """``optimizer`` on g + decay * params (an L2 penalty in the loss; Newmu's DCGAN code). Its
  state is the optimizer's own, so turning the penalty on or off keeps the checkpoint's layout
  (``optax.chain`` with an empty first state is a layout orbax cannot describe)."""

  def update(grads, state, params):
    penalised = jax.tree.map(lambda g, p: g + decay * p, grads, params)
    return optimizer.update(penalised, state, params)

  return optax.GradientTransformation(optimizer.init, update)


def learning_rates(config, step: int, d_updates: int | None = None) -> dict[str, float]:
  """{"lr/g": ..., "lr/d": ...}: each optimizer's rate at its update count after ``step``
  generator steps and ``d_updates`` D updates (default ``d_steps`` per step)."""
  rates = {}
  for role, section in config.optim.items():
    rate = learning_rate(section)
    updates = (step * config.d_steps if d_updates is None else d_updates) if role == "d" else step
    rates[f"lr/{role}"] = float(rate(updates)) if callable(rate) else float(rate)
  return rates
