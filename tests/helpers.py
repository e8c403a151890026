"""Tiny configs shared by the tests (each new model costs seconds to compile on this CPU)."""

import pathlib
import socket

from gans_jax import config_utils

ROOT = pathlib.Path(__file__).resolve().parent.parent

# A DCGAN small enough to compile in seconds: 8x8 grey digits, 4 channels per layer.
TINY_DCGAN = [
  "num_steps=6",
  "batch_size=8",
  "data.resolution=8",
  "model.generator.width=4",
  "model.discriminator.width=4",
  "model.latent_dim=8",
  "checkpoint_every_steps=2",
  "sample_every_steps=3",
  "log_every_steps=1",
  "eval_num_samples=100",
  "num_grid_samples=4",
]


def tiny_config(*extra: str, spec: str | None = None):
  config = config_utils.load_config(spec or f"{ROOT}/configs/dcgan.py")
  config_utils.apply_overrides(config, [*TINY_DCGAN, *extra])
  return config


def free_port() -> int:
  """A TCP port of this machine that nothing listens on (for local multi-process runs)."""
  with socket.socket() as probe:
    probe.bind(("localhost", 0))
    return probe.getsockname()[1]
