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
