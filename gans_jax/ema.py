"""Exponential moving average of parameters (G's sampling weights; Yazici et al. 2019)."""

import jax
import jax.numpy as jnp


def ema_decay(decay: float, step: jax.Array) -> jax.Array:
  """The decay at update ``step`` (0-based), warmed up as min(decay, (1 + t) / (10 + t)).

  The warm-up (that of TensorFlow's ExponentialMovingAverage with num_updates) keeps the average
  from remembering the random initialisation: with a plain 0.999 it still weighs 37 % after
  1,000 steps.
  """
  step = jnp.asarray(step, jnp.float32)
  return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def update_ema(ema_params, params, decay):
  """ema <- decay * ema + (1 - decay) * params, leaf by leaf."""
  return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema_params, params)
