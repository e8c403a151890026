#!/usr/bin/env bash
# The accelerator check: one command that fits a lease (about 6 minutes of work on one GPU) and
# writes one JSON file (benchmarks/device_check.py lists what it measures).
#
#   benchmarks/prepare_device_wheels.sh      # here, beforehand (needs the package registry)
#   benchmarks/device_check.sh [--small] [OUT.json]
#
# On the accelerator it installs nothing from a registry: the wheels prepared in .whl/ (pure
# Python: what the machine's image lacks) go into a private folder on PYTHONPATH, and the project
# runs from this checkout. --small shrinks every size so the check runs on a CPU in minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
small=()
if [[ "${1:-}" == "--small" ]]; then
  small=(--small)
  shift
fi
out="${1:-${OUT:-.}/device_check.json}"
if compgen -G ".whl/*.whl" >/dev/null; then
  site="${TMPDIR:-/tmp}/gans_jax_device_site"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" .whl/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
exec python3 -m benchmarks.device_check "${small[@]}" --out "$out"
