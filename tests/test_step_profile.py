"""benchmarks/step_profile.py: the trace grouped by operation kind."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from benchmarks import step_profile


def test_operation_kinds_group_numbered_operations_per_step():
  events = [
    {"ph": "X", "name": "multiply_add_fusion", "dur": 3000},
    {"ph": "X", "name": "multiply_add_fusion.7", "dur": 1000},
    {"ph": "X", "name": "copy.12", "dur": 500},
    {"ph": "X", "name": "copy.13", "dur": 500},
    {"ph": "X", "name": "ThunkExecutor::Execute", "dur": 9000},  # The runtime's own span.
    {"ph": "X", "name": "$api.py:2479 block_until_ready", "dur": 9000},  # A Python frame.
    {"ph": "X", "name": "end: copy", "dur": 1},
    {"ph": "i", "name": "copy.14", "dur": 700},  # Not a complete event.
  ]
  assert step_profile.operation_kinds(events, steps=2) == [
    {"kind": "multiply_add_fusion", "ms": 2.0, "count": 1},
    {"kind": "copy", "ms": 0.5, "count": 1},
  ]


def test_a_traced_step_lists_its_operations():
  x = jnp.arange(4096.0)
  step = jax.jit(lambda v: jnp.sin(v) * 2 + jnp.sum(v))
  jax.block_until_ready(step(x))
  kinds = step_profile.traced_kinds(lambda: jax.block_until_ready(step(x)), steps=2)
  assert kinds and all(k["ms"] >= 0 and k["count"] >= 1 for k in kinds)
  assert not any(k["kind"].startswith(("$", "ThunkExecutor")) for k in kinds)
