"""Does the offline self-supervised Fréchet distance rank models as a detector made for the data?

  python -m benchmarks.selfsup_ranking [--workdir DIR] [--steps 250,1000,2000]

Trains the default config (DCGAN on the embedded digits) and, at each of ``--steps``, evaluates
its latest checkpoint with the digits classifier's Fréchet distance (``fd1k_digits``) and the
self-supervised network's Fréchet distance, KID and precision/recall (``*_selfsup``, see
``gans_jax/metrics/selfsup.py``), on the same 1,000 samples per detector. Prints one JSON line
per step, then whether the two Fréchet distances order the steps alike.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import tempfile

from gans_jax import config_utils, experiment, runs

METRICS = "fd1k_digits,fd1k_selfsup,kid1k_selfsup,pr1k_selfsup"


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", help="default: a temporary directory")
  parser.add_argument("--steps", default="250,1000,2000")
  args = parser.parse_args(argv)
  steps = [int(s) for s in args.steps.split(",")]
  with tempfile.TemporaryDirectory() as scratch:
    workdir = pathlib.Path(args.workdir or scratch) / "dcgan"
    rows = []
    for step in steps:
      config = config_utils.load_config("dcgan")
      config_utils.apply_overrides(config, [f"num_steps={step}", f"checkpoint_every_steps={step}"])
      experiment.train_and_evaluate(config, workdir, log=lambda _: None)
      scores = runs.evaluate(workdir, METRICS)
      rows.append({"step": step, **scores})
      print(json.dumps(rows[-1]), flush=True)
  order = lambda key: sorted(range(len(rows)), key=lambda i: rows[i][key])
  digits, selfsup = order("fd1k_digits_test"), order("fd1k_selfsup_train")
  print(json.dumps({"order_by_digits_fd": [steps[i] for i in digits],
                    "order_by_selfsup_fd": [steps[i] for i in selfsup],
                    "agree": digits == selfsup}))  # fmt: skip


if __name__ == "__main__":
  main()
