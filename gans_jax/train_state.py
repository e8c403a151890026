"""The training state: one pytree holding everything a step reads and a checkpoint saves."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
from flax.training import train_state

from gans_jax import optimizers


class ModelState(train_state.TrainState):
  """A network's params, optimizer state and model state (BatchNorm statistics, or None)."""

  batch_stats: Any = None

  def apply(self, inputs, *, train: bool, params=None, rngs=None, **kwargs):
    """Runs the network; returns (outputs, batch_stats after this call).

    In training mode BatchNorm normalises with the batch's own statistics and its running
    averages are updated; otherwise the running averages are used and left alone. Outputs come
    back in float32 whatever the network computes in, so losses are float32 (mixed precision).
    """
    variables = {"params": self.params if params is None else params}
    if self.batch_stats is None:
      return _float32(self.apply_fn(variables, inputs, train=train, rngs=rngs, **kwargs)), None
    variables["batch_stats"] = self.batch_stats
    if not train:
      outputs = self.apply_fn(variables, inputs, train=False, rngs=rngs, **kwargs)
      return _float32(outputs), self.batch_stats
    outputs, updates = self.apply_fn(
      variables, inputs, train=True, rngs=rngs, mutable=["batch_stats"], **kwargs
    )
    return _float32(outputs), updates["batch_stats"]


def _float32(tree):
  """Floating arrays of ``tree`` as float32 (a no-op on float32)."""
  return jax.tree.map(
    lambda x: x.astype(jnp.float32) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree
  )


def model_state(apply_fn, variables: dict, optim_section) -> ModelState:
  """A network's ModelState: its initial ``variables`` ({"params", maybe "batch_stats"}) and the
  optimizer of the config section ``optim_section``."""
  return ModelState.create(
    apply_fn=apply_fn,
    params=variables["params"],
    tx=optimizers.build_optimizer(optim_section),
    batch_stats=variables.get("batch_stats"),
  ).replace(step=jnp.zeros((), jnp.int32))  # An array, not TrainState's Python 0: one trace.


class GANState(flax.struct.PyTreeNode):
  """State of a GAN run (docs/design.md section 2).

  Attributes:
    step: int32 [], generator updates done.
    key: uint32 [2], the root training key; step s uses ``fold_in(key, s)`` only.
    g: generator ModelState.
    d: discriminator ModelState.
    g_ema: exponential moving average of G's params, or None.
    extra: family-specific arrays (image pools, path-length means, growing phase), or {}.
  """

  step: jax.Array
  key: jax.Array
  g: ModelState
  d: ModelState
  g_ema: Any = None
  extra: Any = flax.struct.field(default_factory=dict)

  @classmethod
  def create(cls, key, *, g, d, optim, ema: bool = False, extra=None) -> GANState:
    """The state at step 0: ``g`` and ``d`` are (apply_fn, variables) pairs whose optimizers come
    from ``optim.g`` / ``optim.d``; with ``ema``, G's EMA starts as a copy of its params."""
    (g_apply, g_vars), (d_apply, d_vars) = g, d
    return cls(
      step=jnp.zeros((), jnp.int32),
      key=key,
      g=model_state(g_apply, g_vars, optim.g),
      d=model_state(d_apply, d_vars, optim.d),
      g_ema=jax.tree.map(jnp.copy, g_vars["params"]) if ema else None,
      extra={} if extra is None else extra,
    )

  def sampling_params(self):
    """G's params to sample with: the EMA when kept, else the live params."""
    return self.g.params if self.g_ema is None else self.g_ema
