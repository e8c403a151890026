"""Orbax checkpoints of the whole GANState, written atomically.

Orbax writes each step into a temporary directory and renames it when complete, so a crash (even
``kill -9``) mid-save leaves the previous checkpoint as the latest usable one.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp


class CheckpointError(RuntimeError):
  """A checkpoint that cannot be restored into the current config's state."""


class Checkpointer:
  """Saves and restores GANStates under ``<workdir>/checkpoints``."""

  def __init__(self, workdir: str | pathlib.Path, max_to_keep: int = 2):
    self.directory = pathlib.Path(workdir).resolve() / "checkpoints"
    self._manager = ocp.CheckpointManager(
      self.directory,
      options=ocp.CheckpointManagerOptions(
        max_to_keep=max_to_keep, create=True, enable_async_checkpointing=False
      ),
    )

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state) -> None:
    self._manager.save(step, args=ocp.args.StandardSave(state))
    self._manager.wait_until_finished()

  def restore(self, state, step: int | None = None):
    """Restores the checkpoint at ``step`` (default: latest) into the structure of ``state``.

    Raises:
      CheckpointError: naming the checkpoint when its structure or shapes differ from
        ``state`` (a checkpoint from another config).
    """
    step = self.latest_step() if step is None else step
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    try:
      restored = self._manager.restore(step, args=ocp.args.StandardRestore(target))
    except (ValueError, KeyError, TypeError) as error:
      first_line = (
        str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
      )
      raise CheckpointError(
        f"Checkpoint {self.directory / str(step)} does not match this config's state "
        f"(a checkpoint from another config?): {first_line}"
      ) from None
    # Orbax may hand back numpy scalars of another integer width; keep the state's own dtypes.
    return jax.tree.map(lambda r, t: jnp.asarray(r, jnp.result_type(t)), restored, state)

  def close(self) -> None:
    self._manager.close()
