"""One sharded code path: 1 device vs 8 simulated devices vs 2 processes x 4 devices, FSDP,
bfloat16, the mesh and distributed settings, and a train step that traces once."""

import dataclasses
import fcntl
import inspect
import json
import os
import pathlib
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from gans_jax import (
  config_schema,
  config_utils,
  experiment,
  loop,
  models,
  parallel,
  runs,
  trainers,
)
from tests import parallel_worker
from tests.helpers import ROOT, free_port, tiny_config


def _once(tmp_path_factory, name: str, make) -> pathlib.Path:
  """The directory ``make(directory)`` filled, made once per test session even if pytest tears
  a module fixture down and sets it up again, or xdist runs tests on several workers."""
  base = tmp_path_factory.getbasetemp()
  if os.environ.get("PYTEST_XDIST_WORKER"):
    base = base.parent  # Shared by this session's workers.
  directory = base / name
  with open(base / f"{name}.lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if not (directory / "done").exists():
      shutil.rmtree(directory, ignore_errors=True)
      directory.mkdir()
      make(directory)
      (directory / "done").touch()
  return directory


@pytest.fixture(scope="module")
def compile_cache(tmp_path_factory):
  """A persistent XLA compilation cache shared by this module's subprocesses: the one-ulp
  baselines and resumed runs reuse the compiled steps of the runs before them."""
  return _once(tmp_path_factory, "xla_cache", lambda _: None)


def _env(devices: int, cache) -> dict:
  flags = os.environ.get("XLA_FLAGS", "").replace("--xla_force_host_platform_device_count", "--x")
  return {
    **os.environ,
    "PYTHONPATH": str(ROOT),
    "XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={devices}".strip(),
    "JAX_COMPILATION_CACHE_DIR": str(cache),
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
  }


def _start_worker(family: str, devices: int, variants: str, tmp_path, cache) -> subprocess.Popen:
  command = [sys.executable, "-m", "tests.parallel_worker", "--family", family]
  command += ["--variants", variants, "--workdir", str(tmp_path / f"{family}_{devices}")]
  return subprocess.Popen(
    command, cwd=ROOT, env=_env(devices, cache), stderr=subprocess.PIPE, text=True
  )


@pytest.fixture(scope="module")
def device_runs(tmp_path_factory, compile_cache):
  """{(family, devices, variant): arrays}: dcgan and pix2pix on 1 device (plain and one ulp up)
  and on 8 devices (dcgan also with the fully sharded state); two processes at a time."""
  jobs = [
    ("dcgan", 1, "plain,ulp"),
    ("dcgan", 8, "plain,fsdp"),
    ("pix2pix", 1, "plain,ulp"),
    ("pix2pix", 8, "plain"),
  ]

  def make(directory):
    for pair in (jobs[:2], jobs[2:]):
      running = [_start_worker(*job, directory, compile_cache) for job in pair]
      for process in running:
        _, stderr = process.communicate(timeout=900)
        assert process.returncode == 0, stderr[-3000:]

  directory = _once(tmp_path_factory, "device_runs", make)
  return {
    (family, devices, variant): dict(np.load(directory / f"{family}_{devices}" / f"{variant}.npz"))
    for family, devices, variants in jobs
    for variant in variants.split(",")
  }


def _max_difference(a: dict, b: dict, prefix: str) -> float:
  keys = [k for k in a if k.startswith(prefix)]
  assert keys and keys == [k for k in b if k.startswith(prefix)]
  return max(float(np.max(np.abs(a[k] - b[k]))) for k in keys)


def test_one_and_eight_devices_agree(device_runs):
  """dcgan (BatchNorm), pix2pix (BatchNorm, dropout, jitter) and dcgan with the fully sharded
  state, 1 device vs 8, in one test so that one xdist worker makes the runs:

  - the initial states are bitwise equal (``loop.sharded_initial_state``);
  - the first step's gradients and every step's losses agree to float rounding;
  - parameters after 4 Adam steps: Adam's first updates follow the gradient's sign, so float
    noise that flips the sign of a near-zero gradient entry moves that parameter by up to 2 lr in
    one step. The baseline is the movement a one-ulp shift of every input causes; 8 devices
    (another summation order) stay within 10x of it, or within half a learning rate, as a
    single flip can exceed a baseline run that happened to flip nothing (measured over three
    sessions: dcgan 0.7-1.7e-8 vs 3.7e-9, dcgan fsdp 7.5e-9, pix2pix 0.3e-6-3.3e-5 vs
    0.8e-6-3.3e-5, lr 2e-4).
  """
  for family, variant in [("dcgan", "plain"), ("pix2pix", "plain"), ("dcgan", "fsdp")]:
    one, eight = device_runs[(family, 1, "plain")], device_runs[(family, 8, variant)]
    run = f"{family} {variant}"
    assert int(one["device_count"]) == 1 and int(eight["device_count"]) == 8
    assert (int(eight["sharded_arrays"]) > 0) == (variant == "fsdp"), run  # Really split.
    for key in [k for k in one if k.startswith("init/")]:  # One program draws every layout's.
      np.testing.assert_array_equal(eight[key], one[key], err_msg=run + key)
    for key in [k for k in one if k.startswith("grad/")]:
      scale = float(np.max(np.abs(one[key]))) + 1e-12
      np.testing.assert_allclose(eight[key], one[key], rtol=0, atol=1e-4 * scale, err_msg=run + key)
    for key in [k for k in one if k.startswith("loss/")]:  # Every step's, not only the first.
      np.testing.assert_allclose(eight[key], one[key], rtol=1e-5, atol=1e-6, err_msg=run + key)
    noise = _max_difference(one, device_runs[(family, 1, "ulp")], "param/")
    difference = _max_difference(one, eight, "param/")
    learning_rate = parallel_worker.family_config(family).optim.d.learning_rate
    bound = max(10 * noise, 0.5 * learning_rate)
    assert 0 < noise and difference <= bound, (run, difference, noise, learning_rate)


def _train_two_processes(workdir, cache, *extra: str) -> None:
  """``gans-jax train`` of the workers' dcgan config as 2 processes x 4 CPU devices, joined by
  jax.distributed on localhost (gloo collectives)."""
  spec, overrides = parallel_worker.CONFIGS["dcgan"]
  command = [sys.executable, "-m", "gans_jax.main", "train", "--config", str(ROOT / spec)]
  command += ["--workdir", str(workdir)]
  command += [f"--config.{item}" for item in [*overrides, *parallel_worker.QUIET]]
  command.append("--config.eval_num_samples=100")  # Process 0's end-of-run evaluation.
  address = f"localhost:{free_port()}"
  running = [
    subprocess.Popen(
      command
      + [
        f"--config.distributed.coordinator_address={address}",
        "--config.distributed.num_processes=2",
        f"--config.distributed.process_id={i}",
        *extra,
      ],
      cwd=ROOT,
      env=_env(4, cache),
      stderr=subprocess.PIPE,
      text=True,
    )
    for i in range(2)
  ]
  for process in running:
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]


@pytest.fixture(scope="module")
def two_process_runs(tmp_path_factory, compile_cache):
  """The dcgan worker config trained by 2 processes x 4 devices, straight through and stopped
  after 2 steps then resumed by the same command."""

  def make(directory):
    _train_two_processes(directory / "straight", compile_cache)
    _train_two_processes(directory / "resumed", compile_cache, "--config.num_steps=2")
    _train_two_processes(directory / "resumed", compile_cache)

  return _once(tmp_path_factory, "two_process_runs", make)


def _run_arrays(workdir) -> dict:
  state = runs.load_run(workdir)[1]
  return parallel_worker.flat(parallel_worker.trainable(state), "param/")


def test_two_processes_agree_with_one_process_of_eight_devices(two_process_runs, device_runs):
  # two_process_runs first: another xdist worker may be making device_runs meanwhile.
  multi = _run_arrays(two_process_runs / "straight")
  single = device_runs[("dcgan", 8, "plain")]
  difference = _max_difference(single, multi, "param/")
  assert difference <= 1e-6, difference  # Measured: 7.5e-9 (gloo sums in another order).


def test_two_processes_write_once_and_resume_exactly(two_process_runs):
  workdir = two_process_runs / "straight"
  records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  steps = parallel_worker.STEPS
  assert [r["step"] for r in records if r["kind"] == "train"] == list(range(1, steps + 1))
  assert [r["step"] for r in records if r["kind"] == "eval"] == [steps]  # Process 0 only.
  assert (workdir / f"samples_{steps:06d}.png").exists()
  resumed = runs.load_run(two_process_runs / "resumed")[1]
  straight = runs.load_run(workdir)[1]
  for a, b in zip(jax.tree.leaves(resumed), jax.tree.leaves(straight), strict=True):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_the_train_step_traces_once_across_sampling_checkpoints_and_resume(tmp_path, monkeypatch):
  family = trainers.get_family("gan")
  traces = []

  def counted(state, batch, *, config, **static):
    traces.append(1)  # Python runs only while tracing.
    return family.train_step(state, batch, config=config, **static)

  monkeypatch.setitem(trainers.FAMILIES, "gan", dataclasses.replace(family, train_step=counted))
  experiment.train_and_evaluate(tiny_config("num_steps=4"), tmp_path, log=lambda _: None)
  assert len(traces) == 1  # Steps 1-4, with samples at 3 and checkpoints at 2 and 4.
  experiment.train_and_evaluate(tiny_config("num_steps=6"), tmp_path, log=lambda _: None)
  assert len(traces) == 2  # The resumed run compiles its own step once.


def test_mesh_shape_and_fsdp_layout():
  assert parallel.mesh_axis_sizes((-1, 1), 8) == (8, 1)
  assert parallel.mesh_axis_sizes((2, -1), 8) == (2, 4)
  assert parallel.mesh_axis_sizes((1, 1), 1) == (1, 1)
  for bad, message in [
    ((3, -1), "does not divide 8"),
    ((2, 2), "has 4 devices"),
    ((-1,), "must be"),
    ((-1, -1), "must be"),
  ]:
    with pytest.raises(parallel.ParallelError, match=message):
      parallel.mesh_axis_sizes(bad, 8)
  # The largest dimension that divides evenly is split; small arrays stay whole.
  assert parallel.leaf_spec((4, 4, 64, 128), 4, 1024) == jax.sharding.PartitionSpec(
    None, None, None, "fsdp"
  )
  assert parallel.leaf_spec((3, 3, 6, 130), 4, 1024) == jax.sharding.PartitionSpec()
  assert parallel.leaf_spec((4, 4, 64, 130), 4, 1024) == jax.sharding.PartitionSpec(
    None, None, "fsdp", None
  )
  assert parallel.leaf_spec((128,), 4, 1024) == jax.sharding.PartitionSpec()
  assert parallel.leaf_spec((4096, 8), 1, 1024) == jax.sharding.PartitionSpec()


def test_uneven_global_batch_is_refused_with_the_numbers():
  mesh = parallel.make_mesh((-1, 1))
  parallel.check_global_batch(mesh.size * 3, mesh)
  if mesh.size > 1:
    with pytest.raises(parallel.ParallelError, match="batch_size 5 does not divide evenly"):
      parallel.check_global_batch(mesh.size * 2 + 1, mesh)


def _distributed(**fields):
  section = ml_collections.ConfigDict(
    dict(mode="auto", coordinator_address="", num_processes=0, process_id=-1)
  )
  section.update(fields)
  return section


def test_distributed_settings_from_config_and_environment():
  assert parallel.distributed_arguments(_distributed(), {}) is None  # A plain single process.
  assert parallel.distributed_arguments(_distributed(mode="off"), {"SLURM_NTASKS": "8"}) is None
  # Managed clusters: JAX finds the coordinator, the count and the id itself.
  assert parallel.distributed_arguments(_distributed(), {"SLURM_NTASKS": "8"}) == {}
  assert parallel.distributed_arguments(_distributed(), {"SLURM_NTASKS": "1"}) is None
  assert parallel.distributed_arguments(_distributed(), {"OMPI_COMM_WORLD_SIZE": "2"}) == {}
  assert parallel.distributed_arguments(_distributed(), {}, tpu_vm=True) == {}
  explicit = _distributed(coordinator_address="h:1234", num_processes=2, process_id=1)
  assert parallel.distributed_arguments(explicit, {}) == {
    "coordinator_address": "h:1234",
    "num_processes": 2,
    "process_id": 1,
  }
  with pytest.raises(parallel.ParallelError, match="process count and id"):
    parallel.distributed_arguments(_distributed(), {"JAX_COORDINATOR_ADDRESS": "h:1234"})
  with pytest.raises(parallel.ParallelError, match="mode='sometimes'"):
    parallel.distributed_arguments(_distributed(mode="sometimes"), {})


def test_timeouts_reach_jax_distributed_under_its_own_names():
  section = config_schema.base_config("gan").distributed
  accepted = inspect.signature(jax.distributed.initialize).parameters
  given = parallel.timeout_arguments(section, accepted)
  assert given["initialization_timeout"] == 900  # Generous: JAX's default is 300 s.
  assert given.get("shutdown_timeout_seconds", 3600) == 3600
  assert parallel.timeout_arguments(section, {"initialization_timeout"}) == {
    "initialization_timeout": 900
  }  # An older jax without the other two.


def test_placement_fields_may_change_on_resume():
  saved = config_utils.to_dict(tiny_config())
  moved = tiny_config("parallel.mesh_shape=(1,-1)", "distributed.mode=off")
  assert config_utils.differing_keys(saved, config_utils.to_dict(moved)) == []
  assert config_utils.differing_keys(
    saved, config_utils.to_dict(tiny_config("compute_dtype=bfloat16"))
  ) == ["compute_dtype"]


def test_bfloat16_computes_in_bfloat16_and_keeps_float32_state():
  config = tiny_config("compute_dtype=bfloat16")
  state = loop.initial_state(config, (8, 8, 1))
  for leaf in jax.tree.leaves((state.g.params, state.g.opt_state, state.d.batch_stats)):
    if jnp.issubdtype(leaf.dtype, jnp.floating):
      assert leaf.dtype == jnp.float32
  batch = {"x": jnp.zeros((8, 8, 8, 1)), "label": jnp.zeros((8,), jnp.int32)}
  text = (
    jax.jit(lambda s, b: trainers.get_family("gan").train_step(s, b, config=config))
    .lower(state, batch)
    .as_text()
  )
  assert "bf16" in text  # The convolutions run in bfloat16 ...
  new_state, metrics = jax.jit(
    lambda s, b: trainers.get_family("gan").train_step(s, b, config=config)
  )(state, batch)
  assert all(v.dtype == jnp.float32 and np.isfinite(v) for v in metrics.values())  # ... losses f32.
  for old, new in zip(jax.tree.leaves(state), jax.tree.leaves(new_state), strict=True):
    assert old.dtype == new.dtype
  with pytest.raises(ValueError, match="compute_dtype='float16'"):
    models.compute_dtype("float16")
