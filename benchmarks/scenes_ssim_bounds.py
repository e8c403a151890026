"""What SSIM can say on the embedded scenes: the scores of two ideal translators, as one JSON line.

  python -m benchmarks.scenes_ssim_bounds [--size 64] [--draws 20]

The scenes' textures are random given the map (``data_pipelines/scenes.py``), so no model can
reproduce the held-out targets pixel for pixel. Two ideal models bound what a trained one can reach
on the test split, scored with the same ``translation.paired_metrics`` as a training run:

* ``ideal_sampler``: the true layout painted with another draw of the textures, i.e. a perfect
  conditional GAN (the right texture statistics, independent of the target's texture);
* ``ideal_l1``: the per-pixel median of ``draws`` such paintings, i.e. the best prediction under L1,
  what an L1-only model converges to.

If ``ideal_sampler`` scores well below ``ideal_l1`` on SSIM, SSIM ranks blur above realistic
texture on this data, and a GAN can at best approach ``ideal_sampler``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from data_pipelines import scenes
from gans_jax.metrics import translation


def _to_unit(images: np.ndarray) -> np.ndarray:
  return images.astype(np.float32) / 127.5 - 1.0


def bounds(size: int = 64, draws: int = 20) -> dict:
  """{"ideal_sampler": metrics, "ideal_l1": metrics} on the scenes' test split."""
  first = scenes.SPLIT_SIZES["train"]
  indices = range(first, first + scenes.SPLIT_SIZES["test"])
  _, targets = scenes.scenes_split("test", size)

  def painted(draw: int) -> np.ndarray:
    return np.stack([scenes.scene(i, size, texture_draw=draw)[1] for i in indices])

  other_draws = np.stack([painted(draw) for draw in range(1, draws + 1)])
  median = np.round(np.median(other_draws, axis=0)).astype(np.uint8)
  result = {}
  for name, outputs in (("ideal_sampler", other_draws[0]), ("ideal_l1", median)):
    metrics = translation.paired_metrics(_to_unit(outputs), _to_unit(targets))
    result[name] = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
  return result


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--size", type=int, default=64)
  parser.add_argument("--draws", type=int, default=20)
  args = parser.parse_args()
  print(json.dumps({"size": args.size, "draws": args.draws, **bounds(args.size, args.draws)}))


if __name__ == "__main__":
  main()
