"""One sharded code path from 1 CPU to many devices and many hosts (docs/design.md section 4).

Every train step is ``jax.jit`` over a ``Mesh`` with axes ``("data", "fsdp")``:

- the global batch is sharded on its leading axis over both axes, so every device holds
  ``batch / mesh.size`` examples and BatchNorm statistics still cover the global batch (the step
  is written for the global batch; XLA inserts the reductions);
- the state (params, optimizer state, BatchNorm averages, EMA, pools) is replicated over
  ``data`` and, when the ``fsdp`` axis is longer than 1, its large arrays are split over ``fsdp``
  (fully sharded data parallelism, Rajbhandari et al. 2020's ZeRO-3; XLA gathers each weight where
  it is used). ``mesh_shape = (-1, 1)`` is plain data parallelism, ``(1, -1)`` shards the state
  over every device, ``(hosts, devices_per_host)`` keeps the gathers inside a host.

Multi-host runs start with ``initialize_distributed`` (before any JAX computation); each process
then feeds its own slice of the global batch and ``to_global`` assembles the global arrays.
"""

from __future__ import annotations

import glob
import inspect
import math
import os
from collections.abc import Mapping, Sequence

import jax
import numpy as np
from jax.experimental import mesh_utils, multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from gans_jax import errors, rendezvous

AXES = ("data", "fsdp")
BATCH_SPEC = PartitionSpec(AXES)  # Leading (example) axis split over every device.


class ParallelError(errors.UserError, ValueError):
  """A mesh, batch or process layout that cannot work."""


def mesh_axis_sizes(mesh_shape: Sequence[int], device_count: int) -> tuple[int, int]:
  """``(data, fsdp)`` sizes from a config's ``mesh_shape`` with at most one -1 (the rest).

  Raises:
    ParallelError: naming the shape when it is not two entries or does not use every device.
  """
  shape = tuple(int(n) for n in mesh_shape)
  if len(shape) != len(AXES) or shape.count(-1) > 1 or any(n == 0 or n < -1 for n in shape):
    raise ParallelError(
      f"parallel.mesh_shape={shape} must be (data, fsdp) sizes, at most one of them -1, "
      "e.g. (-1, 1) for data parallelism or (1, -1) for fully sharded state."
    )
  known = math.prod(n for n in shape if n != -1)
  if -1 in shape:
    if device_count % known:
      raise ParallelError(f"parallel.mesh_shape={shape} does not divide {device_count} devices.")
    shape = tuple(device_count // known if n == -1 else n for n in shape)
  if math.prod(shape) != device_count:
    raise ParallelError(
      f"parallel.mesh_shape={shape} has {math.prod(shape)} devices; this run has {device_count}."
    )
  return shape


def make_mesh(mesh_shape: Sequence[int] = (-1, 1), devices=None) -> Mesh:
  """The ``("data", "fsdp")`` mesh over ``devices`` (default: every device of every process),
  laid out by ``mesh_utils`` so that ``fsdp`` neighbours share the fastest links."""
  devices = jax.devices() if devices is None else list(devices)
  shape = mesh_axis_sizes(mesh_shape, len(devices))
  try:
    grid = mesh_utils.create_device_mesh(shape, devices, allow_split_physical_axes=True)
  except (AssertionError, NotImplementedError, ValueError):
    grid = np.asarray(devices).reshape(shape)  # Topologies mesh_utils does not know (CPU).
  return Mesh(grid, AXES)


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, BATCH_SPEC)


def leaf_spec(shape: Sequence[int], fsdp_size: int, min_size: int) -> PartitionSpec:
  """Where one state array lives: split over ``fsdp`` on its largest dimension that divides
  evenly, when the axis is longer than 1 and the array has ``min_size`` elements or more;
  replicated otherwise (biases, scalars, keys: gathering them would cost more than it saves).

  A rule of the shape alone, so a parameter and its Adam moments get the same layout.
  """
  if fsdp_size <= 1 or math.prod(shape) < min_size:
    return PartitionSpec()
  dims = [
    d for d in sorted(range(len(shape)), key=lambda d: -shape[d]) if shape[d] % fsdp_size == 0
  ]
  if not dims:
    return PartitionSpec()
  spec = [None] * len(shape)
  spec[dims[0]] = "fsdp"
  return PartitionSpec(*spec)


def state_shardings(state, mesh: Mesh, min_size: int = 2**14):
  """NamedShardings for every array of ``state`` (a pytree of arrays or ShapeDtypeStructs)."""
  fsdp_size = mesh.shape["fsdp"]
  return jax.tree.map(
    lambda x: NamedSharding(mesh, leaf_spec(np.shape(x), fsdp_size, min_size)), state
  )


def place(tree, shardings):
  """Puts a host (or single-device) pytree, identical on every process, onto ``shardings``.

  Each process contributes the shards of its own devices, so this works across hosts.
  """

  def put(x, sharding):
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

  return jax.tree.map(put, tree, shardings)


def to_host(tree):
  """The whole value of every (possibly sharded, multi-host) array as numpy, on every process.

  Every process must call it (it may gather over the network)."""
  if jax.process_count() == 1:
    return jax.device_get(tree)
  return multihost_utils.process_allgather(tree, tiled=True)


def check_global_batch(global_batch: int, mesh: Mesh) -> None:
  """Raises ParallelError unless the global batch splits evenly over devices and processes."""
  for count, what in ((mesh.size, "devices"), (jax.process_count(), "processes")):
    if global_batch % count:
      raise ParallelError(
        f"batch_size {global_batch} does not divide evenly over {count} {what}; use a multiple "
        f"of {count} (and scale the learning rate with it, see README 'Scaling')."
      )


def to_global(local_batch, mesh: Mesh):
  """Assembles each process's numpy batch into global arrays sharded on the leading axis."""
  sharding = batch_sharded(mesh)
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), local_batch)


# Managed clusters on which jax.distributed.initialize() finds the coordinator, the process count
# and this process's id by itself: (what it is, the variable that holds the process count).
_CLUSTER_PROCESS_COUNTS = (
  ("Slurm", "SLURM_NTASKS"),
  ("Open MPI", "OMPI_COMM_WORLD_SIZE"),
)


def on_cloud_tpu_vm() -> bool:
  """Whether this machine has TPU chips (the device files libtpu opens: /dev/accel* up to v4,
  /dev/vfio/N from v5)."""
  return bool(glob.glob("/dev/accel[0-9]*") or glob.glob("/dev/vfio/[0-9]*"))


def distributed_arguments(
  section, environ: Mapping[str, str] = os.environ, tpu_vm: bool = False
) -> dict | None:
  """Arguments for ``jax.distributed.initialize``, or None for a single-process run.

  Args:
    section: ``config.distributed``: ``mode`` "auto" (start when the config or
      ``JAX_COORDINATOR_ADDRESS`` names a coordinator, in a Slurm or Open MPI job of several
      tasks, and on Cloud TPU VMs, where JAX reads the slice's workers from the metadata server),
      "on" (always; JAX detects what is not given) or "off"; ``coordinator_address`` ("host:port"
      of process 0), ``num_processes`` and ``process_id`` (0 and -1: detected).
    environ: the environment variables.
    tpu_vm: whether this machine is a Cloud TPU VM (``on_cloud_tpu_vm()``).

  Raises:
    ParallelError: on an unknown mode, or when a coordinator is named without the process count
      and id and nothing can detect them.
  """
  mode = section.mode
  if mode not in ("auto", "on", "off"):
    raise ParallelError(f"distributed.mode={mode!r}; use auto, on or off.")
  if mode == "off":
    return None
  arguments = {}
  if section.coordinator_address:
    arguments["coordinator_address"] = section.coordinator_address
  if section.num_processes > 0:
    arguments["num_processes"] = section.num_processes
  if section.process_id >= 0:
    arguments["process_id"] = section.process_id
  address = section.coordinator_address or environ.get("JAX_COORDINATOR_ADDRESS", "")
  detectable = tpu_vm or any(
    int(environ.get(variable, "1") or 1) > 1 for _, variable in _CLUSTER_PROCESS_COUNTS
  )
  if mode == "on" or detectable:
    return arguments
  if not address:
    return None  # auto, and nothing says this run has other processes.
  if "num_processes" not in arguments or "process_id" not in arguments:
    raise ParallelError(
      f"distributed coordinator {address} is named but not the process count and id, and no "
      "Slurm, Open MPI or Cloud TPU environment can tell them: set "
      "--config.distributed.num_processes and --config.distributed.process_id on every process."
    )
  return arguments


# config.distributed's timeouts -> jax.distributed.initialize's arguments (those this jax has).
_TIMEOUTS = {
  "initialization_timeout_s": "initialization_timeout",
  "heartbeat_timeout_s": "heartbeat_timeout_seconds",
  "shutdown_timeout_s": "shutdown_timeout_seconds",
}


def timeout_arguments(section, accepted) -> dict:
  """The section's timeouts as ``jax.distributed.initialize`` names them, for the names in
  ``accepted`` (older jax versions lack some)."""
  return {
    theirs: int(section[ours])
    for ours, theirs in _TIMEOUTS.items()
    if ours in section and theirs in accepted
  }


def initialize_distributed(section, log=print) -> bool:
  """Starts ``jax.distributed`` when ``distributed_arguments`` says so, with the section's
  timeouts; call it before any JAX computation. Returns whether it did.

  JAX ends a process that waits past its initialization timeout with a fatal error of its own
  (no Python exception), so the line logged first says who is waiting, where and for how long,
  and where the address, process count and id are known (given in the config, not detected)
  the processes first meet in a ``rendezvous.roll_call``: a process that does not come then
  ends the run with a ``RollCallError`` naming it.
  """
  arguments = distributed_arguments(section, os.environ, on_cloud_tpu_vm())
  if arguments is None:
    return False
  accepted = inspect.signature(jax.distributed.initialize).parameters
  arguments |= timeout_arguments(section, accepted)
  who = (
    f"process {arguments['process_id']} of {arguments['num_processes']}"
    if "process_id" in arguments and "num_processes" in arguments
    else "this process (id and count detected)"
  )
  where = arguments.get("coordinator_address") or "the detected coordinator"
  timeout_s = section.get("initialization_timeout_s", 300)
  log(
    f"Joining jax.distributed at {where} as {who}; every process must join within "
    f"{timeout_s} s (config.distributed.initialization_timeout_s)."
  )
  address = arguments.get("coordinator_address") or os.environ.get("JAX_COORDINATOR_ADDRESS")
  if address and "process_id" in arguments and "num_processes" in arguments:
    # JAX would end a process whose peers never come with a fatal error naming no one.
    rendezvous.roll_call(
      address, arguments["num_processes"], arguments["process_id"], float(timeout_s)
    )
  jax.distributed.initialize(**arguments)
  return True
