"""NVlabs' StyleGAN (v1) networks (``training/networks_stylegan.py``) <-> the project's StyleGAN
(``models.stylegan``), variable by variable.

Both keep every weight in the equalized-learning-rate form (stored N(0, 1 / lrmul), multiplied at
run time by gain * lrmul / sqrt(fan_in); biases stored / lrmul), and TensorFlow's kernels are
already [kh, kw, in, out] / [in, out], so most variables carry over as they are. The exceptions:

- ``G_synthesis/4x4/Const/const`` is [1, C, 4, 4] (NCHW); the project's ``const`` is [4, 4, C];
- ``D_basic/4x4/Dense0/weight`` multiplies the NCHW-flattened 4x4 features (row c * 16 + 4 h + w);
  the project flattens NHWC (row (4 h + w) C + c);
- resolutions are named ``{2^res}x{2^res}`` and the RGB layers ``ToRGB_lod{k}`` / ``FromRGB_lod{k}``
  with k = log2(resolution) - res, counted from the top; the project's level is res - 2.

NVlabs' fused ``upscale2d_conv2d`` / ``conv2d_downscale2d`` (``fused_scale='auto'``: outputs /
inputs from 128x128 up) build a 4x4 kernel from the 3x3 variable (its padded sum over four
shifts). The fused downscaling equals convolution then 2x2 averaging with the same kernel, but
the fused upscaling is a ``conv2d_transpose``, which does not flip its kernel: it equals nearest
upsampling then the convolution with the 3x3 kernel flipped in both spatial axes (checked in
``tests/test_stylegan1_import.py``). The project's unfused layers hold those kernels flipped
(kind "flipped").

The sizes of an import (``generator_sizes``, ``discriminator_sizes``) come from the variables'
shapes where they fix them (z, w, the mapping layers, the resolution, the colour channels) and
from the networks' pickled build arguments (``static_kwargs``) otherwise, with NVlabs' defaults
for the arguments a pickle leaves out (train.py passes only the data's sizes). Build arguments
that change the graph into one the project's StyleGAN is not (no styles, no noise, pixel norm,
another blur, labels, ...) are refused by name.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from gans_jax import errors
from gans_jax.interop import state_dicts


@dataclasses.dataclass(frozen=True)
class Variable:
  """One NVlabs variable and where it goes in the project's parameter tree."""

  ours: tuple[str, ...]  # ("mapping", "dense_0", "kernel")
  theirs: str  # "Dense0/weight"
  kind: str = "as_is"  # "as_is", "const", "nchw_dense" or "flipped".


# Build arguments of ``G_style`` / ``G_mapping`` / ``G_synthesis`` and ``D_basic`` whose other
# values the project's networks do not have: NVlabs' defaults.
_FIXED_GENERATOR_ARGS = {
  "label_size": 0,
  "fmap_decay": 1.0,
  "use_styles": True,
  "const_input_layer": True,
  "use_noise": True,
  "nonlinearity": "lrelu",
  "mapping_nonlinearity": "lrelu",
  "use_wscale": True,
  "use_pixel_norm": False,
  "use_instance_norm": True,
  "normalize_latents": True,
  "blur_filter": [1, 2, 1],
}
_FIXED_DISCRIMINATOR_ARGS = {
  "label_size": 0,
  "fmap_decay": 1.0,
  "nonlinearity": "lrelu",
  "use_wscale": True,
  "mbstd_num_features": 1,
  "blur_filter": [1, 2, 1],
}


@dataclasses.dataclass(frozen=True)
class GeneratorSizes:
  """What a pickled ``G_style`` fixes of the project's ``Generator`` (its fields' names)."""

  resolution: int
  channels: int
  latent_dim: int
  w_dim: int
  mapping_layers: int
  mapping_lr_multiplier: float
  fmap_base: int
  fmap_max: int
  fused_scale: object  # True, False or "auto" (which layers hold flipped kernels).


@dataclasses.dataclass(frozen=True)
class DiscriminatorSizes:
  """What a pickled ``D_basic`` fixes of the project's ``Discriminator``."""

  resolution: int
  channels: int
  fmap_base: int
  fmap_max: int
  mbstd_group_size: int


def _build_args(network, fixed: dict, source: str) -> dict:
  """The network's build arguments (its components' included: ``G_style`` passes its own on);
  raises errors.UsageError naming the first argument the project's networks do not have."""
  args = dict(network.static_kwargs)
  for component in network.components.values():
    args.update(component.static_kwargs)
  for name, needed in fixed.items():
    value = args.get(name, needed)
    if not _same(value, needed):
      raise errors.UsageError(
        f"{source}: built with {name}={value!r}; the project's StyleGAN is NVlabs' default "
        f"{name}={needed!r}."
      )
  return args


def _same(value, needed) -> bool:
  if isinstance(needed, list):
    return isinstance(value, list | tuple) and list(value) == needed
  return value == needed


def _variable(variables: dict, name: str, source: str) -> np.ndarray:
  if name not in variables:
    raise errors.UsageError(f"{source}: no variable {name!r} (the network needs it).")
  return np.asarray(variables[name])


def _resolution_from(variables: dict, prefix: str, source: str) -> int:
  """2^(levels + 1) from the ``{prefix}_lod{k}`` layers, k = 0 .. levels - 1."""
  lods = {int(name.split("/")[0][len(prefix) + 4 :]) for name in variables
          if name.startswith(f"{prefix}_lod")}  # fmt: skip
  if not lods or lods != set(range(len(lods))):
    raise errors.UsageError(
      f"{source}: its {prefix}_lod* layers are {sorted(lods)}, not lod 0 .. top."
    )
  return 2 ** (len(lods) + 1)


def component(network, name: str, source: str):
  """``G_style``'s component ``name`` ("mapping" or "synthesis")."""
  if name not in network.components:
    raise errors.UsageError(
      f"{source}: a {network.name or 'network'} without a {name!r} component; StyleGAN's G_style "
      "has 'mapping' and 'synthesis'."
    )
  return network.components[name]


def generator_sizes(network, source: str) -> GeneratorSizes:
  """The sizes of a pickled ``G_style`` (``stylegan1_pickle.PickledNetwork``).

  Raises:
    errors.UsageError: naming ``source`` and the variable or build argument the project's
      generator cannot take (a mapping network narrower than w is one).
  """
  args = _build_args(network, _FIXED_GENERATOR_ARGS, source)
  mapping = component(network, "mapping", source).variables
  synthesis = component(network, "synthesis", source).variables
  layers = sum(1 for name in mapping if name.startswith("Dense") and name.endswith("/weight"))
  kernels = [_variable(mapping, f"Dense{i}/weight", source) for i in range(layers)]
  if not kernels:
    raise errors.UsageError(f"{source}: its mapping network has no Dense0/weight.")
  w_dim = kernels[-1].shape[-1]
  for i, kernel in enumerate(kernels):
    if kernel.shape[-1] != w_dim:
      raise errors.UsageError(
        f"{source}: Dense{i}/weight has shape {kernel.shape}; the project's mapping layers are "
        f"all w's width ({w_dim}: mapping_fmaps = dlatent_size)."
      )
  resolution = _resolution_from(synthesis, "ToRGB", source)
  return GeneratorSizes(
    resolution=resolution,
    channels=int(_variable(synthesis, "ToRGB_lod0/weight", source).shape[-1]),
    latent_dim=int(kernels[0].shape[0]),
    w_dim=int(w_dim),
    mapping_layers=layers,
    mapping_lr_multiplier=float(args.get("mapping_lrmul", 0.01)),
    fmap_base=int(args.get("fmap_base", 8192)),
    fmap_max=int(args.get("fmap_max", 512)),
    fused_scale=args.get("fused_scale", "auto"),
  )


def discriminator_sizes(network, source: str) -> DiscriminatorSizes:
  """The sizes of a pickled ``D_basic``.

  Raises:
    errors.UsageError: naming ``source`` and the build argument the project's discriminator
      does not have (a minibatch-stddev group below 2, which NVlabs' code skips, is one).
  """
  args = _build_args(network, _FIXED_DISCRIMINATOR_ARGS, source)
  group = int(args.get("mbstd_group_size", 4))
  if group < 2:
    raise errors.UsageError(
      f"{source}: built with mbstd_group_size={group} (no minibatch-stddev layer); the "
      "project's discriminator always has one."
    )
  return DiscriminatorSizes(
    resolution=_resolution_from(network.variables, "FromRGB", source),
    channels=int(_variable(network.variables, "FromRGB_lod0/weight", source).shape[2]),
    fmap_base=int(args.get("fmap_base", 8192)),
    fmap_max=int(args.get("fmap_max", 512)),
    mbstd_group_size=group,
  )


def level_and_alpha(lod: float, num_levels: int) -> tuple[int, float]:
  """NVlabs' level of detail as the project's (level, alpha): lod = top - log2(size) is 0 at
  the full resolution; a fractional lod is a fade-in of the size above, the larger part of the
  lod the lower resolution's weight (``lerp(new, upscaled old, lod - floor(lod))``)."""
  lod = float(lod)
  whole = math.floor(lod)
  if not 0 <= lod <= num_levels - 1:
    raise errors.UsageError(f"lod {lod} is outside 0 .. {num_levels - 1} for these networks.")
  if whole == lod:
    return num_levels - 1 - whole, 1.0
  return num_levels - 1 - whole, 1.0 - (lod - whole)


def _epilogue(ours: tuple[str, ...], theirs: str) -> list[Variable]:
  """Noise strength, bias and the style affine of one synthesis layer."""
  return [
    Variable((*ours, "noise_strength"), f"{theirs}/Noise/weight"),
    Variable((*ours, "bias"), f"{theirs}/bias"),
    Variable((*ours, "style", "kernel"), f"{theirs}/StyleMod/weight"),
    Variable((*ours, "style", "bias"), f"{theirs}/StyleMod/bias"),
  ]


def mapping_variables(num_layers: int) -> list[Variable]:
  """``G_mapping``'s ``Dense{i}/weight`` and ``bias`` -> ``mapping/dense_{i}``."""
  variables = []
  for i in range(num_layers):
    variables.append(Variable(("mapping", f"dense_{i}", "kernel"), f"Dense{i}/weight"))
    variables.append(Variable(("mapping", f"dense_{i}", "bias"), f"Dense{i}/bias"))
  return variables


def synthesis_variables(resolution: int, fused_scale="auto") -> list[Variable]:
  """``G_synthesis``'s trainable variables (not ``lod`` or the ``noise{i}`` inputs);
  ``fused_scale`` is the network's (its static kwarg: True, False or "auto")."""
  top = int(math.log2(resolution))
  initial = ("synthesis", "initial")
  variables = [Variable((*initial, "const"), "4x4/Const/const", "const")]
  variables += _epilogue((*initial, "epilogue_0"), "4x4/Const")
  variables.append(Variable((*initial, "conv", "kernel"), "4x4/Conv/weight"))
  variables += _epilogue((*initial, "epilogue_1"), "4x4/Conv")
  for res in range(3, top + 1):
    block, scope = ("synthesis", f"blocks_{res - 3}"), f"{2**res}x{2**res}"
    fused = fused_scale is True or (fused_scale == "auto" and 2**res >= 128)
    kind = "flipped" if fused else "as_is"
    variables.append(Variable((*block, "conv_up", "kernel"), f"{scope}/Conv0_up/weight", kind))
    variables += _epilogue((*block, "epilogue_0"), f"{scope}/Conv0_up")
    variables.append(Variable((*block, "conv", "kernel"), f"{scope}/Conv1/weight"))
    variables += _epilogue((*block, "epilogue_1"), f"{scope}/Conv1")
  for res in range(2, top + 1):
    rgb, scope = ("synthesis", f"to_rgb_{res - 2}"), f"ToRGB_lod{top - res}"
    variables.append(Variable((*rgb, "kernel"), f"{scope}/weight"))
    variables.append(Variable((*rgb, "bias"), f"{scope}/bias"))
  return variables


def discriminator_variables(resolution: int) -> list[Variable]:
  """``D_basic``'s trainable variables (not ``lod``)."""
  top = int(math.log2(resolution))
  variables = []
  for res in range(2, top + 1):
    scope = f"FromRGB_lod{top - res}"
    variables += [Variable((f"from_rgb_{res - 2}", "kernel"), f"{scope}/weight"),
                  Variable((f"from_rgb_{res - 2}", "bias"), f"{scope}/bias")]  # fmt: skip
  for res in range(3, top + 1):
    block, scope = f"blocks_{res - 3}", f"{2**res}x{2**res}"
    for ours, theirs in (("conv", "Conv0"), ("conv_down", "Conv1_down")):
      variables += [Variable((block, ours, "kernel"), f"{scope}/{theirs}/weight"),
                    Variable((block, ours, "bias"), f"{scope}/{theirs}/bias")]  # fmt: skip
  heads = (("final_conv", "Conv", "as_is"), ("final_dense", "Dense0", "nchw_dense"),
           ("logit", "Dense1", "as_is"))  # fmt: skip
  for ours, theirs, kind in heads:
    variables += [Variable((ours, "kernel"), f"4x4/{theirs}/weight", kind),
                  Variable((ours, "bias"), f"4x4/{theirs}/bias")]  # fmt: skip
  return variables


def to_ours(array: np.ndarray, kind: str) -> np.ndarray:
  """An NVlabs variable in the project's layout (see the module docstring)."""
  array = np.asarray(array, np.float32)
  if kind == "flipped":
    return np.ascontiguousarray(array[::-1, ::-1])
  if kind == "const":  # [1, C, 4, 4] -> [4, 4, C]
    return np.ascontiguousarray(array[0].transpose(1, 2, 0))
  if kind == "nchw_dense":  # Rows c * 16 + i -> rows i * C + c (i = 4 h + w).
    channels = array.shape[0] // 16
    return np.ascontiguousarray(
      array.reshape(channels, 16, -1).transpose(1, 0, 2).reshape(array.shape)
    )
  return array


def to_theirs(array: np.ndarray, kind: str) -> np.ndarray:
  """The inverse of ``to_ours``."""
  array = np.asarray(array, np.float32)
  if kind == "flipped":
    return np.ascontiguousarray(array[::-1, ::-1])
  if kind == "const":
    return np.ascontiguousarray(array.transpose(2, 0, 1)[None])
  if kind == "nchw_dense":
    channels = array.shape[0] // 16
    return np.ascontiguousarray(
      array.reshape(16, channels, -1).transpose(1, 0, 2).reshape(array.shape)
    )
  return array


def import_params(template: dict, variables: list[Variable], values: dict, source: str) -> dict:
  """``template`` (the project's params, for shapes) with every listed variable of ``values``
  ({NVlabs name: array}) in place (``state_dicts.placed`` with this module's layouts).

  Raises:
    errors.UsageError: naming ``source`` and the variable when it is missing or its shape is not
      the network's (both shapes, NVlabs' layout).
  """
  return state_dicts.placed(template, variables, values, source, (to_ours, to_theirs), "variable ")
