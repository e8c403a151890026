"""What a family's optional hooks hand out (``trainers.Family``): plain data and functions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class LatentSpace:
  """A generator split into a mapping and a synthesis network (Karras et al. 2019), for
  perceptual path length in W (``metrics.ppl``)."""

  map: Callable  # (state, z [N, Z]) -> w [N, W].
  synthesize: Callable  # (state, w [N, W], noise_key) -> images [N, R, R, C] in [-1, 1].


@dataclasses.dataclass(frozen=True)
class Figure:
  """One of a family's paper figures, drawn from a trained state as a grid of images.

  ``draw(state, key, *, rows, **options)`` returns images [rows', columns, R, R, C] in [-1, 1]
  (``rows=None``: the paper's layout); ``options`` are the values of ``arguments``, each an
  argparse (flag, keyword arguments) pair that the CLI adds to the figure's command.
  """

  help: str
  draw: Callable
  arguments: tuple[tuple[str, dict], ...] = ()


@dataclasses.dataclass(frozen=True)
class WeightFormat:
  """Another codebase's saved networks as a family's state, both ways (``gans-jax
  import-weights`` / ``export-weights``; ``gans_jax.weights`` reads and writes the files).

  Attributes:
    help: one line for ``--help``.
    files: each file's role and the name its codebase saves it under, in command-line order,
      e.g. (("G", "latest_net_G.pth"), ("D", "latest_net_D.pth")).
    required: how many of the files an import needs; networks of the files not given keep the
      config's fresh initialisation.
    load: (config, state, {role: (source, contents)}, log) -> state with the files' networks.
    dump: (config, state) -> {role: state dict}, or None for an import-only format.
    configure: (config, {role: (source, contents)}, log) -> the config with the sizes the
      files fix (e.g. z's size and the widths), or None when the config must already match.
    read: path -> contents; None for a PyTorch state dict (``interop.torch_files``) without
      DataParallel prefixes and BatchNorm counters (``interop.state_dicts.without_wrappers``).
    left_fresh: ({role: (source, contents)}) -> the networks the files given do not hold, for a
      format whose one file may hold several (e.g. a StyleGAN pickle without D), or None.
  """

  help: str
  files: tuple[tuple[str, str], ...]
  required: int
  load: Callable
  dump: Callable | None = None
  configure: Callable | None = None
  read: Callable | None = None
  left_fresh: Callable | None = None
