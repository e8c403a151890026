"""Trained networks of other codebases in and out of run directories (``gans-jax import-weights``
and ``export-weights``); each family lists the formats it reads and writes
(``trainers.Family.weight_formats``, a ``WeightFormat`` each).

An import writes a run directory at step 0 that every command uses as it uses a trained run:
``config.json`` (the config, with the sizes the files fix), the checkpoint of the state with the
files' networks (those not given keep the config's fresh initialisation, and the optimizers start
fresh), and ``imported.json`` (format, each file's path and SHA-256, the networks left fresh).
Everything is read, checked and converted before anything is written; the directory is built
beside the target and renamed into place, so a failed import leaves nothing behind. Training it
further is ``gans-jax train --workdir DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
from collections.abc import Callable, Sequence

import jax
import numpy as np

from gans_jax import (
  checkpointing,
  config_utils,
  determinism,
  errors,
  loop,
  run_data,
  run_directory,
  runs,
  trainers,
  writers,
)
from gans_jax.interop import state_dicts, torch_files

IMPORT_RECORD = "imported.json"


def format_of(family_name: str, name: str) -> trainers.WeightFormat:
  """The family's format ``name``.

  Raises:
    errors.UsageError: naming the families that have it when this one does not.
  """
  family = trainers.get_family(family_name)
  if name in family.weight_formats:
    return family.weight_formats[name]
  having = trainers.families_with(lambda f: name in f.weight_formats)
  known = ", ".join(family.weight_formats) or "none"
  where = f"it is for {', '.join(having)} configs" if having else "no family reads it"
  raise errors.UsageError(
    f"--format {name}: {where}; this {family_name} config's formats: {known}."
  )


def _usage(weight_format: trainers.WeightFormat) -> str:
  """The files as the command takes them, e.g. "G_A [G_B [D_A [D_B]]]"."""
  roles = [role for role, _ in weight_format.files]
  required, optional = roles[: weight_format.required], roles[weight_format.required :]
  nested = " ".join(f"[{role}" for role in optional) + "]" * len(optional)
  return " ".join(required + ([nested] if optional else []))


def _read_state_dict(path) -> dict:
  """A ``torch.save``d state dict without DataParallel's ``module.`` prefixes and BatchNorm's
  ``num_batches_tracked`` counters, which no format maps (``state_dicts.without_wrappers``)."""
  return state_dicts.without_wrappers(torch_files.read_state_dict(path))[0]


def _read_files(weight_format, paths: Sequence[str]) -> dict:
  """{role: (path, contents)} of the files given, in the format's order."""
  roles = [role for role, _ in weight_format.files]
  if not weight_format.required <= len(paths) <= len(roles):
    raise errors.UsageError(
      f"This format takes the files {_usage(weight_format)} ({weight_format.required} to "
      f"{len(roles)}); {len(paths)} given."
    )
  read = weight_format.read or _read_state_dict
  return {role: (str(path), read(path)) for role, path in zip(roles, paths, strict=False)}


def _check_target(workdir: pathlib.Path) -> None:
  run_directory.check_usable(workdir)
  if workdir.exists() and any(workdir.iterdir()):
    raise errors.UsageError(
      f"--workdir {workdir} is not empty; import into a new (or empty) directory."
    )


def import_weights(
  format_name: str,
  config,
  paths: Sequence[str],
  workdir: str | os.PathLike,
  log: Callable[[str], None] = print,
) -> pathlib.Path:
  """Writes a run directory (step 0) holding the networks of ``paths`` in ``config``'s state.

  Raises:
    errors.UsageError: for a format the config's family does not read, a wrong number of files,
      a file that is missing, unreadable or unsafe, a tensor missing, misshapen or left over
      (naming the file, the key and both shapes), or a non-empty ``workdir``. Nothing is
      written then.
  """
  workdir = pathlib.Path(workdir)
  determinism.configure(config)
  weight_format = format_of(config.family, format_name)
  _check_target(workdir)
  files = _read_files(weight_format, paths)
  if weight_format.configure is not None:
    config = weight_format.configure(config, files, log)
  config_utils.validate(config)
  shape = run_data.sample_shape(config)
  # Every file is checked against the state's shapes first: a wrong file fails at once, not after
  # the networks' initialisation (a compilation, seconds for a large network).
  shapes = loop.initial_state_shapes(config, shape)
  zeros = jax.tree.map(lambda leaf: np.zeros(leaf.shape, leaf.dtype), shapes)
  weight_format.load(config, zeros, files, lambda line: None)
  state = weight_format.load(config, loop.initial_state(config, shape), files, log)
  fresh = [role for role, _ in weight_format.files if role not in files]
  if weight_format.left_fresh is not None:
    fresh += weight_format.left_fresh(files)
  record = {
    "format": format_name,
    "files": {
      role: {"path": str(pathlib.Path(path).resolve()), "sha256": _sha256(path)}
      for role, (path, _) in files.items()
    },  # fmt: skip
    "fresh_initialisation": fresh,
  }
  _write_run(workdir, config, state, record)
  if fresh:
    log(f"Not in the files, so freshly initialised: {', '.join(fresh)}.")
  log(f"Wrote {workdir} (step 0); train it further with: gans-jax train --workdir {workdir}")
  return workdir


def _sha256(path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as file:
    for block in iter(lambda: file.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def _write_run(workdir: pathlib.Path, config, state, record: dict) -> None:
  """The run directory, built as a hidden sibling and renamed into place when complete."""
  building = workdir.parent / f".{workdir.name}.importing-{os.getpid()}"
  shutil.rmtree(building, ignore_errors=True)
  building.mkdir(parents=True)
  try:
    loop.check_or_write_config(config, building)
    checkpointer = checkpointing.Checkpointer(building)
    try:
      checkpointer.save(0, state)
    finally:
      checkpointer.close()
    writers.write_atomically(building / IMPORT_RECORD, json.dumps(record, indent=2))
    if workdir.exists():
      workdir.rmdir()  # Empty (``_check_target``).
    os.replace(building, workdir)
  except BaseException:
    shutil.rmtree(building, ignore_errors=True)
    raise


def export_weights(
  workdir: str | os.PathLike,
  format_name: str,
  out: str | os.PathLike,
  log: Callable[[str], None] = print,
) -> list[pathlib.Path]:
  """Writes a run's latest networks as the format's files (named as its codebase names them)
  into the directory ``out``; returns their paths.

  Raises:
    errors.UsageError: for a format the run's family does not write, or an ``out`` that is a
      file; checkpointing.CheckpointError for a directory without a run.
  """
  config = runs.run_config(workdir)
  weight_format = format_of(config.family, format_name)
  if weight_format.dump is None:
    raise errors.UsageError(f"--format {format_name} is read-only: it has no export.")
  out = pathlib.Path(out)
  if out.exists() and not out.is_dir():
    raise errors.UsageError(f"--out {out} is a file; give a directory.")
  config, state = runs.load_run(workdir, config)
  states = weight_format.dump(config, state)
  out.mkdir(parents=True, exist_ok=True)
  names = dict(weight_format.files)
  written = [torch_files.write_state_dict(out / names[role], s) for role, s in states.items()]
  log(f"Wrote {', '.join(str(p) for p in written)}")
  return written
