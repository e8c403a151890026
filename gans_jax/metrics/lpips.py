"""LPIPS (Zhang et al. 2018, v0.1, VGG16): the perceptual distance of StyleGAN's PPL.

d(a, b) = sum over the five VGG16 stages l (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3) of the
spatial mean of w_l . (f_l(a) - f_l(b))^2, where f_l are the stage's features unit-normalised over
channels and w_l [C_l] the learned non-negative channel weights. Inputs in [-1, 1] are first
shifted and scaled as in the reference ``lpips`` package (its ScalingLayer).

Weights are not downloaded here: ``convert`` turns torchvision's ``vgg16`` state dict plus the
``lpips`` package's ``weights/v0.1/vgg.pth`` (or one ``lpips.LPIPS`` state dict holding both) into
an .npz that ``load_variables`` reads (``gans-jax convert-lpips-weights``). Parity with the
``lpips`` package is a test.
"""

from __future__ import annotations

import io
import os
import pathlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gans_jax import errors

WEIGHTS_ENV = "GANS_JAX_LPIPS_WEIGHTS"
# torchvision vgg16.features indices of the 13 convolutions, and the stages (by convolution count)
# whose last ReLU LPIPS reads.
VGG_CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
VGG_CHANNELS = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
STAGE_ENDS = (2, 4, 7, 10, 13)  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
SHIFT = np.array([-0.030, -0.088, -0.188], np.float32)
SCALE = np.array([0.458, 0.448, 0.450], np.float32)


class WeightsError(errors.UserError, ValueError):
  """No LPIPS weights where they were asked for."""


class VGG16Features(nn.Module):
  """VGG16's convolutional trunk up to relu5_3; returns the five stage outputs (NHWC)."""

  @nn.compact
  def __call__(self, x):
    outputs = []
    for i, channels in enumerate(VGG_CHANNELS):
      if i in (2, 4, 7, 10):  # A 2x2 max-pool starts each stage after the first.
        x = nn.max_pool(x, (2, 2), (2, 2))
      x = nn.relu(nn.Conv(channels, (3, 3), padding=1, name=f"conv{i}")(x))
      if i + 1 in STAGE_ENDS:
        outputs.append(x)
    return outputs


def _unit_normalize(features):
  norm = jnp.sqrt(jnp.sum(jnp.square(features), axis=-1, keepdims=True))
  return features / (norm + 1e-10)


@jax.jit
def distance(variables, a: jax.Array, b: jax.Array) -> jax.Array:
  """LPIPS distances [N] between images a, b [N, H, W, 3] in [-1, 1] (grey images: repeated)."""
  if a.shape[-1] == 1:
    a, b = jnp.repeat(a, 3, axis=-1), jnp.repeat(b, 3, axis=-1)
  scaled = (jnp.concatenate([a, b]) - SHIFT) / SCALE
  stages = VGG16Features().apply({"params": variables["vgg"]}, scaled)
  total = jnp.zeros(a.shape[0], jnp.float32)
  for i, features in enumerate(stages):
    fa, fb = jnp.split(_unit_normalize(features), 2)
    weighted = jnp.sum(jnp.square(fa - fb) * variables["lin"][f"lin{i}"], axis=-1)
    total = total + jnp.mean(weighted, axis=(1, 2))
  return total


def convert(state: dict) -> dict:
  """Variables {"vgg": flax params, "lin": {lin0..lin4: [C]}} from a PyTorch state dict (name ->
  numpy array): torchvision vgg16's (``features.N.weight``) merged with the lpips lin weights
  (``lin{k}.model.1.weight`` [1, C, 1, 1]), or an ``lpips.LPIPS`` module's (``net.sliceS.N.*``).

  Raises:
    KeyError: naming the first missing tensor.
  """
  by_index = {}
  for name, value in state.items():
    parts = name.split(".")
    if parts[0] == "features" or (parts[0] == "net" and parts[1].startswith("slice")):
      by_index[(int(parts[-2]), parts[-1])] = np.asarray(value, np.float32)
  vgg = {}
  for i, index in enumerate(VGG_CONV_INDICES):
    for kind in ("weight", "bias"):
      if (index, kind) not in by_index:
        raise KeyError(f"VGG16 tensor features.{index}.{kind} missing from the state dict.")
    vgg[f"conv{i}"] = {
      "kernel": by_index[(index, "weight")].transpose(2, 3, 1, 0),  # OIHW -> HWIO.
      "bias": by_index[(index, "bias")],
    }
  lin = {}
  for k in range(len(STAGE_ENDS)):
    name = f"lin{k}.model.1.weight"
    if name not in state:
      raise KeyError(f"LPIPS tensor {name} missing from the state dict.")
    lin[f"lin{k}"] = np.asarray(state[name], np.float32).reshape(-1)
  return {"vgg": vgg, "lin": lin}


def convert_files(vgg_path, lin_path, target) -> pathlib.Path:
  """torchvision's vgg16 .pth + lpips' v0.1 vgg.pth -> ``target`` .npz (needs torch)."""
  import torch

  from gans_jax import writers

  state = {}
  for path in (vgg_path, lin_path):
    state.update({k: v.numpy() for k, v in torch.load(path, map_location="cpu").items()})
  flat = {}
  for group, layers in convert(state).items():
    for layer, value in layers.items():
      if isinstance(value, dict):
        flat.update({f"{group}/{layer}/{k}": v for k, v in value.items()})
      else:
        flat[f"{group}/{layer}"] = value
  buffer = io.BytesIO()
  np.savez(buffer, **flat)
  writers.write_atomically(pathlib.Path(target), buffer.getvalue())
  return pathlib.Path(target)


def resolve_weights_path(path: str | os.PathLike | None) -> pathlib.Path:
  """``path``, else $GANS_JAX_LPIPS_WEIGHTS.

  Raises:
    WeightsError: saying how to make the file when there is none.
  """
  path = path or os.environ.get(WEIGHTS_ENV)
  if not path or not pathlib.Path(path).is_file():
    raise WeightsError(
      f"No LPIPS weights ({path or '$' + WEIGHTS_ENV + ' unset'}). Convert them once with "
      "`gans-jax convert-lpips-weights vgg16-397923af.pth lpips/weights/v0.1/vgg.pth OUT.npz` "
      f"and pass the .npz (or set {WEIGHTS_ENV}); or use a proxy distance (ppl..._digits)."
    )
  return pathlib.Path(path)


def load_variables(path) -> dict:
  """The variables of a converted .npz (see ``convert_files``)."""
  variables = {"vgg": {}, "lin": {}}
  with np.load(path) as data:
    for name in data.files:
      parts = name.split("/")
      if parts[0] == "vgg":
        variables["vgg"].setdefault(parts[1], {})[parts[2]] = jnp.asarray(data[name])
      else:
        variables["lin"][parts[1]] = jnp.asarray(data[name])
  return variables
