"""Orbax checkpoints of the whole GANState: atomic, verified, and with a fallback.

- Atomic: orbax writes each step into a temporary directory and renames it when complete, so a
  crash (even ``kill -9``) mid-save leaves the previous checkpoint as the latest one; it deletes
  old steps (beyond ``max_to_keep``) only after the new one is committed.
- Verified: every step stores, beside the state, a fingerprint of each array's bits
  (``fingerprints``); a restore recomputes and compares them, so flipped bytes are found even
  where the storage format would decode them silently.
- With a fallback: ``restore_latest`` tries the steps newest first. A step that cannot be read or
  fails its fingerprints is reported (step and reason) and the next older one is tried; the
  damaged newer steps are then moved to ``<workdir>/damaged_checkpoints/`` (kept, not deleted:
  the run will write those step numbers again). A checkpoint whose arrays are named or shaped
  unlike this config's state is another config's, which no fallback mends.

Layout: ``checkpoints/<step>/state`` (orbax's StandardSave of the state) and
``checkpoints/<step>/fingerprints`` (JSON). Steps saved before fingerprints existed hold
``checkpoints/<step>/default`` instead; they restore unverified.
"""

from __future__ import annotations

import dataclasses
import pathlib
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils

from gans_jax import errors

DAMAGED_DIR = "damaged_checkpoints"
_LEGACY_ITEM = "default"  # Orbax's item name for a single StandardSave.


class CheckpointError(errors.UserError, RuntimeError):
  """A checkpoint that cannot be restored into the current config's state."""


class DamagedCheckpointError(CheckpointError):
  """A checkpoint step whose files are missing, unreadable or fail their fingerprints."""


def _leaf_fingerprint(x: jax.Array) -> jax.Array:
  """uint32 [2]: two position-weighted sums of ``x``'s bits (mod 2^32).

  The first weights word i by an odd number, so changing any single word always changes it
  (odd numbers are invertible mod 2^32); several changed words cancel with odds of ~2^-64 for
  both sums. Integer sums are exact in any order, so the value does not depend on sharding.
  """
  words = x.reshape(-1)
  if words.dtype == jnp.bool_:
    words = words.astype(jnp.uint32)
  width = words.dtype.itemsize
  if width == 8:
    words = jax.lax.bitcast_convert_type(words, jnp.uint32).reshape(-1)
  elif width in (1, 2, 4):
    unsigned = {1: jnp.uint8, 2: jnp.uint16, 4: jnp.uint32}[width]
    words = jax.lax.bitcast_convert_type(words, unsigned).astype(jnp.uint32)
  index = jnp.arange(words.size, dtype=jnp.uint32)
  odd = index * jnp.uint32(2654435761) | jnp.uint32(1)
  mixed = (words ^ (index * jnp.uint32(0x9E3779B9))) * jnp.uint32(0x85EBCA6B)
  return jnp.stack([jnp.sum(words * odd, dtype=jnp.uint32), jnp.sum(mixed, dtype=jnp.uint32)])


@jax.jit
def _fingerprints(leaves: list) -> list:
  return [_leaf_fingerprint(leaf) for leaf in leaves]


def fingerprints(state) -> dict[str, str]:
  """{leaf path: 16 hex digits} of every array in ``state`` (see ``_leaf_fingerprint``)."""
  paths_and_leaves = jax.tree_util.tree_flatten_with_path(state)[0]
  values = jax.device_get(_fingerprints([leaf for _, leaf in paths_and_leaves]))
  return {
    jax.tree_util.keystr(path): f"{int(v[0]):08x}{int(v[1]):08x}"
    for (path, _), v in zip(paths_and_leaves, values, strict=True)
  }


def _structure(tree) -> dict[str, tuple]:
  """{leaf path: (shape, dtype name)} of a state or of a checkpoint's metadata tree, with the
  paths written as orbax stores them (dataclass fields as dict keys)."""
  flat = ocp.tree.to_flat_dict(ocp.tree.serialize_tree(tree, keep_empty_nodes=False))
  return {"/".join(map(str, k)): (tuple(v.shape), np.dtype(v.dtype).name) for k, v in flat.items()}


def _first_line(error: BaseException) -> str:
  """The first line of the innermost cause (TensorStore's own says which array and why; the
  wrapper orbax raises dumps a whole spec)."""
  while error.__cause__ is not None:
    error = error.__cause__
  lines = str(error).strip().splitlines()
  return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__


@dataclasses.dataclass
class Restored:
  """What ``restore_latest`` found: the state (the given one when nothing restored), its step
  (None when the run starts over) and one line per damaged step that was skipped."""

  state: object
  step: int | None
  damaged: list[str]


class Checkpointer:
  """Saves and restores GANStates under ``<workdir>/checkpoints``."""

  def __init__(self, workdir: str | pathlib.Path, max_to_keep: int = 2):
    self.workdir = pathlib.Path(workdir).resolve()
    self.directory = self.workdir / "checkpoints"
    self._manager = ocp.CheckpointManager(
      self.directory,
      options=ocp.CheckpointManagerOptions(
        max_to_keep=max_to_keep,
        create=True,
        enable_async_checkpointing=False,
        cleanup_tmp_directories=True,  # What a kill mid-save left: never a usable step.
      ),
    )

  def steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state) -> None:
    """Saves ``state`` and its fingerprints as ``step``, committed atomically together."""
    items = ocp.args.Composite(
      state=ocp.args.StandardSave(state), fingerprints=ocp.args.JsonSave(fingerprints(state))
    )
    self._manager.save(step, args=items)
    self._manager.wait_until_finished()

  def restore(self, state, step: int | None = None):
    """Restores the checkpoint at ``step`` (default: latest) into the structure of ``state``.

    Raises:
      CheckpointError: naming the step and the first differing array when the checkpoint's
        arrays are not this state's (a checkpoint of another config).
      DamagedCheckpointError: naming the step and the reason when its files are missing or
        unreadable, or an array fails its fingerprint.
    """
    step = self.latest_step() if step is None else step
    step_dir = self.directory / str(step)
    legacy = (step_dir / _LEGACY_ITEM).is_dir()
    item = _LEGACY_ITEM if legacy else "state"
    self._check_structure(step, item, state)
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    try:
      if legacy:
        with ocp.StandardCheckpointer() as reader:
          restored, saved_prints = reader.restore(step_dir / _LEGACY_ITEM, target), None
      else:
        both = self._manager.restore(
          step,
          args=ocp.args.Composite(
            state=ocp.args.StandardRestore(target), fingerprints=ocp.args.JsonRestore()
          ),
        )
        restored, saved_prints = both["state"], both["fingerprints"]
    except Exception as error:  # TensorStore raises bare Exceptions for missing/short files.
      raise DamagedCheckpointError(
        f"checkpoint step {step} ({step_dir}) cannot be read: {_first_line(error)}"
      ) from None
    if saved_prints is not None:
      self._verify(step, restored, saved_prints)
    # Orbax may hand back numpy scalars of another integer width; keep the state's own dtypes.
    return jax.tree.map(lambda r, t: jnp.asarray(r, jnp.result_type(t)), restored, state)

  def _check_structure(self, step: int, item: str, state) -> None:
    """Raises CheckpointError when the step's arrays differ from ``state``'s in name or shape,
    DamagedCheckpointError when its metadata cannot be read at all."""
    try:
      metadata = ocp.StandardCheckpointHandler().metadata(self.directory / str(step) / item)
      saved = _structure(metadata.tree)
    except Exception as error:
      raise DamagedCheckpointError(
        f"checkpoint step {step} ({self.directory / str(step)}) has no readable metadata: "
        f"{_first_line(error)}"
      ) from None
    expected = _structure(jax.tree.map(ocp.utils.to_shape_dtype_struct, state))
    if saved == expected:
      return
    only_saved = sorted(set(saved) - set(expected))
    only_expected = sorted(set(expected) - set(saved))
    if only_saved or only_expected:
      detail = (
        f"it has {only_saved[0]}, which this config's state lacks"
        if only_saved
        else f"it lacks {only_expected[0]}, which this config's state has"
      )
    else:
      name = next(k for k in expected if saved[k] != expected[k])
      shape_of = lambda entry: f"{entry[0]} {entry[1]}"  # noqa: E731
      detail = (
        f"{name} is {shape_of(saved[name])} there but {shape_of(expected[name])} in this "
        "config's state"
      )
    raise CheckpointError(
      f"Checkpoint {self.directory / str(step)} does not match this config's state (a "
      f"checkpoint from another config?): {detail}."
    )

  def _verify(self, step: int, restored, saved_prints: dict) -> None:
    for name, value in fingerprints(restored).items():
      if saved_prints.get(name) != value:
        raise DamagedCheckpointError(
          f"checkpoint step {step} ({self.directory / str(step)}) fails its fingerprint at "
          f"{name} (saved {saved_prints.get(name)}, read {value}): its data files changed"
        )

  def restore_latest(self, state, log=print) -> Restored:
    """Restores the newest step that restores, reporting (``log``) each damaged one skipped.

    Raises:
      CheckpointError: for another config's checkpoint, or when no step restores (each step's
        reason is listed; nothing is moved, so nothing is lost).
    """
    damaged = []
    for step in reversed(self.steps()):
      try:
        restored = self.restore(state, step)
      except DamagedCheckpointError as error:
        damaged.append((step, str(error)))
        log(f"Warning: {error}; trying the step before it.")
        continue
      if damaged:
        self._set_aside([s for s, _ in damaged])
        log(f"Resumed from the intact step {step}; the damaged steps are in {DAMAGED_DIR}/.")
      return Restored(restored, step, [reason for _, reason in damaged])
    if damaged:
      reasons = "; ".join(reason for _, reason in damaged)
      raise CheckpointError(
        f"No checkpoint under {self.directory} restores ({reasons}). Move that directory away "
        "to start the run over."
      )
    return Restored(state, None, [])

  def _set_aside(self, steps: list[int]) -> None:
    """Moves damaged steps to ``<workdir>/damaged_checkpoints/<step>[.N]`` (process 0; every
    process then waits for the move and re-reads the step list)."""
    if jax.process_index() == 0:
      target_root = self.workdir / DAMAGED_DIR
      target_root.mkdir(exist_ok=True)
      for step in steps:
        target, copy = target_root / str(step), 1
        while target.exists():
          target, copy = target_root / f"{step}.{copy}", copy + 1
        shutil.move(str(self.directory / str(step)), target)
    if jax.process_count() > 1:
      multihost_utils.sync_global_devices("gans_jax_checkpoints_set_aside")
    self._manager.reload()

  def close(self) -> None:
    self._manager.close()
