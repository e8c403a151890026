#!/usr/bin/env bash
# Wheels for benchmarks/device_check.sh, fetched here (where the package registry is reachable)
# into .whl/ (ignored by git), to be carried to an accelerator machine that cannot install from a
# registry. Only what such an image lacks beside jax, flax, optax, orbax, chex, PyTorch,
# torchvision, scikit-learn and pytest: ml-collections (configs) and pytorch-fid (the FID
# reference). Both are pure Python.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: -d .whl \
  "ml-collections==1.1.0" "pytorch-fid==0.3.0"
ls .whl
