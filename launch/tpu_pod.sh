#!/usr/bin/env bash
# Train on a Cloud TPU VM or pod slice: copy this checkout to every worker, install it, and start
# the same command on all of them at once (one process per host; each feeds its own share of the
# global batch, and jax.distributed.initialize() finds the other workers from the TPU metadata).
#
#   launch/tpu_pod.sh TPU_NAME ZONE configs/dcgan.py:dataset=tfds:celeb_a,resolution=64,channels=3 \
#       /mnt/shared/runs/dcgan_celeba --config.batch_size=1024
#
# The run directory must be on a file system every worker mounts (e.g. a Filestore NFS share;
# the run writes plain files, not gs:// objects); the same command resumes.
# Stop a run with: gcloud compute tpus tpu-vm ssh TPU_NAME --zone ZONE --worker=all \
#   --command='pkill -f "gans-jax train"'
set -euo pipefail
tpu=${1:?usage: launch/tpu_pod.sh TPU_NAME ZONE CONFIG WORKDIR [--config.KEY=VALUE ...]}
zone=${2:?usage: launch/tpu_pod.sh TPU_NAME ZONE CONFIG WORKDIR [--config.KEY=VALUE ...]}
config=${3:?usage: launch/tpu_pod.sh TPU_NAME ZONE CONFIG WORKDIR [--config.KEY=VALUE ...]}
workdir=${4:?usage: launch/tpu_pod.sh TPU_NAME ZONE CONFIG WORKDIR [--config.KEY=VALUE ...]}
shift 4
root=$(cd "$(dirname "$0")/.." && pwd)
ssh_all() {
  gcloud compute tpus tpu-vm ssh "$tpu" --zone "$zone" --worker=all --command "$1"
}

# 1. This checkout (without run outputs or environments) onto every worker.
archive=$(mktemp --suffix=.tar.gz)
tar -C "$root" --exclude=.venv --exclude=runs --exclude=.git -czf "$archive" .
gcloud compute tpus tpu-vm scp "$archive" "$tpu":gans_jax.tar.gz --zone "$zone" --worker=all
rm -f "$archive"

# 2. Install (jax[tpu] and the project) and train, the same command on every worker.
args=$(printf ' %q' "$@")
ssh_all "set -e; rm -rf ~/gans_jax && mkdir ~/gans_jax && tar -xzf ~/gans_jax.tar.gz -C ~/gans_jax \
  && cd ~/gans_jax && python3 -m venv .venv && . .venv/bin/activate \
  && pip install -q -e '.[tpu]' \
  && gans-jax train --config $(printf '%q' "$config") --workdir $(printf '%q' "$workdir") \
     --config.distributed.mode=on$args"
