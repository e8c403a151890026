"""GAN families: each plugs into the one training loop through a small contract.

A family is a module-level ``Family`` of three pure functions:

- ``init_state(config, key, sample_shape) -> GANState``: networks, optimizers, family state.
- ``train_step(state, batch, *, config) -> (state, metrics)``: one generator update and what
  precedes it; compiled once by the loop with ``config`` bound. ``batch`` is
  {"x": [batch_size * d_steps, ...], "label": int32 [same]}; randomness comes only from
  ``fold_in(state.key, state.step)``; metrics are float32 scalars.
- ``generate(state, z, labels) -> samples``: inference-mode samples for grids and evaluation.

Image-to-image families (``translates=True``; pix2pix, CycleGAN) differ in two places: batches
are {"a": inputs, "b": outputs} at the load size (see ``trainers.translation``), and
``generate(state, inputs [N, R, R, C_a], key) -> outputs [N, R, R, C_b]``.

A family that trains in stages (progressive growing) also gives ``stages(config, sample_shape)
-> tuple[trainers.stages.Stage, ...]``; its ``train_step`` then takes the current stage as a static
``stage=`` argument, and the loop compiles one step per stage and reads each stage's batch size.

``FAMILIES`` maps ``config.family`` to its Family.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from gans_jax import errors
from gans_jax.trainers import artgan, cyclegan, gan, pix2pix, stylegan
from gans_jax.trainers.stages import Stage, single_stage, stage_at  # noqa: F401 (loop API)


@dataclasses.dataclass(frozen=True)
class Family:
  init_state: Callable
  train_step: Callable
  generate: Callable
  translates: bool = False  # Image-to-image: generate(state, inputs, key) -> outputs.
  generate_backward: Callable | None = None  # Unpaired families: outputs -> inputs.
  stages: Callable | None = None  # Growing families: (config, sample_shape) -> stages.

  def schedule(self, config, sample_shape) -> tuple[Stage, ...]:
    """The family's stages for this config (one stage unless the family grows)."""
    return self.stages(config, sample_shape) if self.stages else single_stage(config)


FAMILIES = {
  "gan": Family(gan.init_state, gan.train_step, gan.generate),
  "artgan": Family(artgan.init_state, artgan.train_step, artgan.generate),
  "pix2pix": Family(pix2pix.init_state, pix2pix.train_step, pix2pix.generate, translates=True),
  "cyclegan": Family(
    cyclegan.init_state,
    cyclegan.train_step,
    cyclegan.generate,
    translates=True,
    generate_backward=cyclegan.generate_b_to_a,
  ),
  "stylegan": Family(
    stylegan.init_state, stylegan.train_step, stylegan.generate, stages=stylegan.stages
  ),
}


def get_family(name: str) -> Family:
  if name not in FAMILIES:
    raise errors.ConfigError(f"Unknown family {name!r}; known families: {', '.join(FAMILIES)}.")
  return FAMILIES[name]
