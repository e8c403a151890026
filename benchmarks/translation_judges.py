"""How the image-to-image judges behave on an ablation's models and on known answers.

  python -m benchmarks.translation_judges --ablation runs/results/ablation [--budgets 30,300]

For the real held-out scenes and known stand-ins (the targets blurred; the true layouts painted
with another texture draw, what an ideal translator would output) and for every model of a
``gans-jax ablation`` directory (its outputs for the 100 held-out maps, dropout key of seed 0):

- the segmentation judge's per-pixel accuracy: does blur cost FCN-score on these scenes?
- the Fréchet distance to the real targets on each of the judge's layers (every position a
  sample; ``fcn_fd`` is the context layer, ``Conv_4``);
- the real-vs-fake test's accuracy and JS bound with the critic trained for each budget.

Prints one JSON line per image set.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import jax
import numpy as np
import scipy.ndimage

from data_pipelines import scenes
from gans_jax import config_utils, evaluation, runs
from gans_jax.metrics import frechet, real_vs_fake, segmentation

LAYERS = ("Conv_0", "Conv_1", "Conv_2", "Conv_4", "Conv_6")  # Full, 1/2, 1/4, context, fused.


def _model_range(images) -> np.ndarray:
  return np.asarray(images, np.float32) / 127.5 - 1.0


def layer_features(judge: segmentation.Judge, images: np.ndarray) -> dict[str, np.ndarray]:
  """{layer: its ReLU activations [N * h * w, C]} of the judge on images [N, R, R, 3]."""
  _, captured = segmentation.SegmentationJudge(judge.num_classes).apply(
    {"params": judge.params}, images, capture_intermediates=True, mutable=["intermediates"]
  )
  outputs = {name: captured["intermediates"][name]["__call__"][0] for name in LAYERS}
  return {name: np.asarray(jax.nn.relu(x)).reshape(-1, x.shape[-1]) for name, x in outputs.items()}


def image_sets(ablation: pathlib.Path, targets: np.ndarray) -> dict[str, np.ndarray]:
  sets = {
    "blur sigma 0.5": scipy.ndimage.gaussian_filter(targets, (0, 0.5, 0.5, 0)),
    "blur sigma 1": scipy.ndimage.gaussian_filter(targets, (0, 1, 1, 0)),
    "another texture draw": np.stack(
      [_model_range(scenes.scene(400 + i, 64, texture_draw=1)[1]) for i in range(len(targets))]
    ),
  }
  for run in sorted(p for p in ablation.iterdir() if (p / "config.json").is_file()):
    sets[run.name] = _model_range(runs.translate(run, num=len(targets))["outputs"])
  return sets


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--ablation", required=True, help="a gans-jax ablation --workdir")
  parser.add_argument("--budgets", default="30,100,300,600", help="critic training steps")
  args = parser.parse_args(argv)
  config = config_utils.load_config("pix2pix")
  palette = segmentation.parse_palette(config.data.label_palette)
  judge = evaluation.segmentation_judge(config, palette)
  maps, renderings = scenes.scenes_split("test", 64)
  inputs, targets = _model_range(maps), _model_range(renderings)
  truth = segmentation.labels_from_maps(inputs, palette)
  real_features = layer_features(judge, targets)
  sets = {"real targets": targets, **image_sets(pathlib.Path(args.ablation), targets)}
  for name, images in sets.items():
    predicted, _ = segmentation.predict(judge, images)
    features = layer_features(judge, images)
    row = {
      "images": name,
      "fcn_pixel_acc": segmentation.scores(segmentation.confusion(predicted, truth, 5))[
        "pixel_acc"
      ],
      "frechet": {
        layer: round(frechet.frechet_distance(
          *frechet.feature_statistics(features[layer]),
          *frechet.feature_statistics(real_features[layer]),
        ), 4)
        for layer in LAYERS
      },
    }  # fmt: skip
    for budget in map(int, args.budgets.split(",")):
      test = real_vs_fake.two_sample_test(targets, images, steps=budget)
      row[f"critic_{budget}"] = {"acc": test["acc"], "js": round(test["js"], 3)}
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
  main()
