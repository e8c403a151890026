"""The stylegan family's ``WeightFormat``: NVlabs' StyleGAN (v1) network pickles, read as arrays
without TensorFlow or dnnlib (``interop.stylegan1_pickle``) and mapped variable by variable
(``interop.stylegan1``).

A snapshot (``network-snapshot-*.pkl``, or the released ``karras2019stylegan-*.pkl``) holds
(G, D, Gs): G and D as trained and Gs, G's moving average that NVlabs sample with. They become the
state's ``g``, ``d`` and ``g_ema``; Gs's ``dlatent_avg`` (NVlabs copy G's into Gs at every update)
becomes ``w_avg``, the truncation trick's centre, and the pickle's level of detail ``lod``
becomes the state's level and fade-in alpha. A pickle of Gs alone gives G a copy of Gs and leaves
D freshly initialised.

Not carried over: the synthesis network's fixed ``noise{i}`` inputs (NVlabs sample with fresh
noise, ``randomize_noise=True``, as the project always does) and the optimizers' moments (the
pickles hold none: Adam starts fresh, as after NVlabs' ``reset_opt_for_new_lod``). Training on
starts the growing schedule at the pickle's level (``progressive.initial_resolution``): a
snapshot taken mid-fade trains on from the end of its fade-in.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gans_jax import errors
from gans_jax.interop import stylegan1, stylegan1_pickle
from gans_jax.models import stylegan as networks
from gans_jax.train_state import GANState
from gans_jax.trainers.types import WeightFormat

ROLE = "pickle"


def _lod(network) -> float:
  """The pickle's level of detail: G_style's ``lod`` (its synthesis network's copy otherwise)."""
  for variables in (network.variables, network.components.get("synthesis", network).variables):
    if "lod" in variables:
      return float(np.asarray(variables["lod"]))
  return 0.0


def _check_data(config, resolution: int, channels: int, source: str) -> None:
  ours = (config.data.resolution, config.data.channels)
  if ours != (resolution, channels):
    raise errors.UsageError(
      f"{source} makes {resolution}x{resolution}x{channels} images; the config's data are "
      f"{ours[0]}x{ours[0]}x{ours[1]}: use a config of that size, e.g. --config "
      f"stylegan:resolution={resolution},channels={channels},dataset=..."
    )


def _configure(config, files: dict, log: Callable):
  """The config with the pickle's sizes, growing from its level.

  Raises:
    errors.UsageError: naming the file when its networks are not of the config's data size, or
      were built with arguments the project's StyleGAN does not have.
  """
  source, pickled = files[ROLE]
  if config.model.num_classes:
    raise errors.UsageError(f"{source}: StyleGAN v1 is unconditional; set model.num_classes=0.")
  sizes = stylegan1.generator_sizes(pickled["Gs"], f"{source} (Gs)")
  _check_data(config, sizes.resolution, sizes.channels, source)
  config.model.latent_dim = sizes.latent_dim
  g = config.model.generator
  g.w_dim, g.mapping_layers = sizes.w_dim, sizes.mapping_layers
  g.mapping_lr_multiplier = sizes.mapping_lr_multiplier
  g.fmap_base, g.fmap_max = sizes.fmap_base, sizes.fmap_max
  described = (
    f"z {sizes.latent_dim}, w {sizes.w_dim}, {sizes.mapping_layers} mapping layers, channels "
    f"min({sizes.fmap_base} / 2^stage, {sizes.fmap_max})"
  )
  if "D" in pickled:
    d_sizes = stylegan1.discriminator_sizes(pickled["D"], f"{source} (D)")
    _check_data(config, d_sizes.resolution, d_sizes.channels, f"{source} (D)")
    d = config.model.discriminator
    d.fmap_base, d.fmap_max = d_sizes.fmap_base, d_sizes.fmap_max
    d.mbstd_group_size = d_sizes.mbstd_group_size
  level, alpha = stylegan1.level_and_alpha(
    _lod(pickled["Gs"]), networks.num_levels(sizes.resolution)
  )
  config.progressive.initial_resolution = 4 * 2**level
  fade = f", alpha {alpha:g} (training on starts after the fade)" if alpha < 1 else ""
  log(f"From {source}: {described}; level {4 * 2**level}x{4 * 2**level}{fade}.")
  return config


def _generator_params(template, network, resolution: int, fused_scale, source: str) -> dict:
  """The project's generator params from a pickled ``G_style`` (its two components)."""
  mapping = stylegan1.component(network, "mapping", source)
  synthesis = stylegan1.component(network, "synthesis", source)
  layers = len(template["mapping"])
  params = stylegan1.import_params(
    template, stylegan1.mapping_variables(layers), mapping.variables, f"{source} G_mapping"
  )
  params = stylegan1.import_params(
    params,
    stylegan1.synthesis_variables(resolution, fused_scale),
    synthesis.variables,
    f"{source} G_synthesis",
  )
  return jax.tree.map(jnp.asarray, params)


def _load(config, state: GANState, files: dict, log: Callable) -> GANState:
  source, pickled = files[ROLE]
  sizes = stylegan1.generator_sizes(pickled["Gs"], f"{source} (Gs)")
  resolution, fused = sizes.resolution, sizes.fused_scale
  g_ema = _generator_params(state.g_ema, pickled["Gs"], resolution, fused, f"{source}: Gs")
  if "G" in pickled:
    g_params = _generator_params(state.g.params, pickled["G"], resolution, fused, f"{source}: G")
  else:
    g_params = g_ema
    log(f"{source} holds Gs alone: G (the trained copy) starts as Gs.")
  state = state.replace(g=state.g.replace(params=g_params), g_ema=g_ema)
  if "D" in pickled:
    d_params = stylegan1.import_params(
      state.d.params,
      stylegan1.discriminator_variables(resolution),
      pickled["D"].variables,
      f"{source}: D",
    )
    state = state.replace(d=state.d.replace(params=jax.tree.map(jnp.asarray, d_params)))
  w_avg = pickled["Gs"].variables.get("dlatent_avg")
  if w_avg is None or np.shape(w_avg) != (sizes.w_dim,):
    raise errors.UsageError(
      f"{source}: Gs's 'dlatent_avg' has shape {np.shape(w_avg) if w_avg is not None else None}; "
      f"the network's is {(sizes.w_dim,)}."
    )
  level, alpha = stylegan1.level_and_alpha(_lod(pickled["Gs"]), networks.num_levels(resolution))
  extra = {
    "w_avg": jnp.asarray(w_avg, jnp.float32),
    "level": jnp.asarray(level, jnp.int32),
    "alpha": jnp.asarray(alpha, jnp.float32),
  }
  log(f"{source}: the synthesis network's fixed noise{{i}} inputs are not used (fresh noise).")
  return state.replace(extra=extra)


def _left_fresh(files: dict) -> list[str]:
  return [] if "D" in files[ROLE][1] else ["D"]


WEIGHT_FORMATS = {
  "stylegan1": WeightFormat(
    help="NVlabs' StyleGAN (v1) pickles: network-snapshot.pkl with (G, D, Gs), or Gs alone",
    files=((ROLE, "network-snapshot.pkl"),),
    required=1,
    load=_load,
    configure=_configure,
    read=stylegan1_pickle.read,
    left_fresh=_left_fresh,
  )
}
