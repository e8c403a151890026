"""FID Inception feature throughput: gans_jax against pytorch-fid on the same CPU, in one run.

  python -m benchmarks.inception_throughput [--batch 50] [--images 200] [--rounds 3]

Both run the full network to pool_3 on the same 299x299 images (random weights of pytorch-fid's
layout; speed does not depend on the values), batch by batch as their FID code does. Rounds
alternate between the two so that machine noise hits both alike; the median round counts.
Needs the test extra (torch, torchvision, pytorch-fid). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import jax
import numpy as np

from gans_jax import compile_options
from gans_jax.metrics import inception, inception_torch


def _jax_round(variables, images, batch):
  start = time.perf_counter()
  inception.extract(variables, images, ("pool3",), batch)
  return time.perf_counter() - start


def _torch_round(model, images, batch, device="cpu"):
  import torch

  start = time.perf_counter()
  with torch.no_grad():
    for i in range(0, len(images), batch):
      features = model(torch.from_numpy(images[i : i + batch]).to(device).permute(0, 3, 1, 2))
      features[0].cpu()  # As FID code does: the features come back to the host.
  return time.perf_counter() - start


def measure(batch: int, num_images: int, rounds: int, device: str = "cpu") -> dict:
  """Both networks' images/s; ``device`` is PyTorch's ("cpu" or "cuda"), JAX uses its default."""
  import torch

  state_dict = inception_torch.random_state_dict(0)
  model, _ = inception_torch.pytorch_fid_model(state_dict)
  model = model.to(device)
  with tempfile.TemporaryDirectory() as folder:
    inception.save_variables(inception_torch.convert_state_dict(state_dict), f"{folder}/w.npz")
    variables = inception.load_variables(f"{folder}/w.npz")
  images = np.random.default_rng(0).random((num_images, 299, 299, 3), dtype=np.float32)

  start = time.perf_counter()
  inception.extract(variables, images[:batch], ("pool3",), batch)
  compile_and_first = time.perf_counter() - start
  _torch_round(model, images[:batch], batch, device)  # Warm-up.
  jax_times, torch_times = [], []
  for _ in range(rounds):
    jax_times.append(_jax_round(variables, images, batch))
    torch_times.append(_torch_round(model, images, batch, device))
  jax_rate = num_images / statistics.median(jax_times)
  torch_rate = num_images / statistics.median(torch_times)
  return {
    "batch": batch,
    "images_per_round": num_images,
    "gans_jax_img_per_sec": round(jax_rate, 2),
    "pytorch_fid_img_per_sec": round(torch_rate, 2),
    "ratio": round(jax_rate / torch_rate, 3),
    "gans_jax_compile_and_first_batch_sec": round(compile_and_first, 2),
    "compiler_options": compile_options.for_cpu_convolutions(),
    "torch_threads": torch.get_num_threads(),
    "torch_device": device,
    "backend": jax.default_backend(),
    "devices": jax.device_count(),
  }


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--batch", type=int, default=50)
  parser.add_argument("--images", type=int, default=200)
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  print(json.dumps(measure(args.batch, args.images, args.rounds)))


if __name__ == "__main__":
  main()
