"""Data parallelism through one code path: ``jax.jit`` over a Mesh with a ``data`` axis.

The global batch is sharded on its leading axis and the state is replicated, so BatchNorm
statistics cover the global batch with no extra code. The same path runs on 1 CPU, N devices and
many hosts (each process feeds its own slice of the global batch).
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def make_mesh() -> Mesh:
  """A 1-D mesh over all devices of all processes, axis ``data``."""
  return Mesh(np.asarray(jax.devices()), ("data",))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec("data"))


def check_global_batch(global_batch: int, mesh: Mesh) -> None:
  """Raises ValueError unless the global batch splits evenly over devices and processes."""
  for count, what in ((mesh.size, "devices"), (jax.process_count(), "processes")):
    if global_batch % count:
      raise ValueError(f"batch_size {global_batch} does not divide evenly over {count} {what}.")


def to_global(local_batch, mesh: Mesh):
  """Assembles each process's numpy batch into global arrays sharded on the leading axis."""
  sharding = batch_sharded(mesh)
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), local_batch)
