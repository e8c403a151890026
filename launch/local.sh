#!/usr/bin/env bash
# Train on this machine (all local devices), e.g.
#   launch/local.sh configs/dcgan.py:resolution=64,channels=3 runs/dcgan64 --config.num_steps=20000
# Re-running the same command resumes from the run directory's latest checkpoint.
set -euo pipefail
config=${1:-configs/dcgan.py}
workdir=${2:-runs/$(basename "${config%%:*}" .py)_$(date +%Y%m%d-%H%M%S)}
shift $(( $# < 2 ? $# : 2 ))
exec gans-jax train --config "$config" --workdir "$workdir" "$@"
