"""StyleGAN (Karras, Laine & Aila 2019) trained with progressive growing, as NVlabs' v1 code.

- Losses: non-saturating logistic, softplus(D(G(z))) + softplus(-D(x)) for D and softplus(-D(G(z)))
  for G, plus the R1 penalty (gamma / 2) E||grad_x D(x)||^2 on reals (Mescheder et al. 2018) with
  gamma = ``config.loss.r1_gamma``; one D update then one G update per step.
- Style mixing regularization (Sec. 3.1): with probability ``config.model.style_mixing_prob`` a
  minibatch's latents go through two z's, the second's w read from a random layer on (one
  crossover per minibatch, uniform over the layers of the current level).
- ``w_avg``: a moving average (decay 0.995) of the mapping network's output, updated on every G
  step, the centre of the truncation trick (Sec. 2 / App. B).
- G's EMA (``g_ema``) with a half-life of ``config.ema_kimg`` thousand images.
- Progressive growing (``trainers.stages``): the stage's level is static; its fade-in alpha is a
  function of the step; both, and w_avg, are kept in ``state.extra`` so sampling a checkpoint
  (also one saved mid-fade) uses the networks exactly as trained. Real images are average-pooled
  to the level's size and faded like G's output (Karras 2018, App. A.1). Both optimizers restart
  at both ends of each fade-in (NVlabs' ``reset_opt_for_new_lod``), and each stage runs them at
  its own learning rate (``progressive.learning_rates``). NVlabs recompute the fade every 4
  minibatches (``minibatch_repeats``); here alpha moves every step.
- Optional, off in the paper's recipe: D's input transform of the other families
  (``config.augment.policy`` DiffAugment, ``config.d_input_noise``) on reals and fakes alike, R1
  then taken at the transformed reals.
- ``config.d_steps`` and class labels do not apply: StyleGAN v1 is unconditional, one D step per
  G step.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax

from gans_jax import ema, errors, losses, models, optimizers, run_keys
from gans_jax.models import stylegan as networks
from gans_jax.train_state import GANState, ModelState
from gans_jax.trainers import gan
from gans_jax.trainers import stages as stages_lib
from gans_jax.trainers.types import LatentSpace

W_AVG_DECAY = 0.995  # NVlabs' dlatent_avg_beta.


def build_networks(config, sample_shape: Sequence[int]):
  resolution, _, channels = sample_shape
  dtype = models.compute_dtype(config.compute_dtype)
  g_section, d_section = config.model.generator, config.model.discriminator
  generator = networks.Generator(
    resolution=resolution,
    channels=channels,
    latent_dim=config.model.latent_dim,
    w_dim=g_section.w_dim,
    mapping_layers=g_section.mapping_layers,
    mapping_lr_multiplier=g_section.mapping_lr_multiplier,
    fmap_base=g_section.fmap_base,
    fmap_max=g_section.fmap_max,
    dtype=dtype,
  )
  discriminator = networks.Discriminator(
    resolution=resolution,
    fmap_base=d_section.fmap_base,
    fmap_max=d_section.fmap_max,
    mbstd_group_size=d_section.mbstd_group_size,
    dtype=dtype,
  )
  return generator, discriminator


def stages(config, sample_shape: Sequence[int]) -> tuple[stages_lib.Stage, ...]:
  """The growing schedule for images of ``sample_shape`` (see ``stages.progressive_stages``).

  Raises:
    ValueError: for settings StyleGAN v1 does not have (several D steps, class conditioning).
  """
  if config.d_steps != 1 or config.model.num_classes:
    raise errors.ConfigError(
      f"stylegan trains unconditionally with one D step per G step; got d_steps="
      f"{config.d_steps}, model.num_classes={config.model.num_classes}."
    )
  return stages_lib.progressive_stages(config, networks.num_levels(sample_shape[0]))


def init_state(config, key: jax.Array, sample_shape: Sequence[int]) -> GANState:
  """Fresh state: every level's layers initialised (the unused ones get zero gradients until
  their stage), at the schedule's first level with alpha 1 and w_avg 0."""
  generator, discriminator = build_networks(config, sample_shape)
  g_key, d_key, noise_key, train_key = jax.random.split(key, 4)
  z = jnp.zeros((4, config.model.latent_dim), jnp.float32)
  g_vars = generator.init({"params": g_key, "noise": noise_key}, z, method="every_level")
  d_vars = discriminator.init(
    {"params": d_key}, jnp.zeros((4, *sample_shape)), method="every_level"
  )
  first = stages(config, sample_shape)[0]
  return GANState.create(
    train_key,
    g=(generator.apply, g_vars),
    d=(discriminator.apply, d_vars),
    optim=config.optim,
    ema=True,
    extra={
      "w_avg": jnp.zeros((config.model.generator.w_dim,), jnp.float32),
      "level": jnp.asarray(first.level, jnp.int32),
      "alpha": jnp.ones((), jnp.float32),
    },
  )


def fade_alpha(step: jax.Array, stage: stages_lib.Stage) -> jax.Array:
  """alpha float32 [] of ``step`` in ``stage``: 0 at its first step, rising linearly to 1 over
  its fade steps, 1 after (and always 1 without a fade)."""
  if not stage.fade_steps:
    return jnp.ones((), jnp.float32)
  done = (step - stage.first_step).astype(jnp.float32)
  return jnp.clip(done / stage.fade_steps, 0.0, 1.0)


def optimizer_restarts(step: jax.Array, stage: stages_lib.Stage) -> jax.Array:
  """Whether both optimizers restart at ``step`` (bool []): at the stage's first step, where the
  new layers start fading in, and at its first step after the fade (alpha reaches 1). NVlabs'
  ``reset_opt_for_new_lod`` resets Adam whenever floor(lod) or ceil(lod) changes: at the start
  and at the end of every transition."""
  restart = step == stage.first_step
  if stage.fade_steps:
    restart |= step == stage.first_step + stage.fade_steps
  return restart


def mix_styles(w_first: jax.Array, w_second: jax.Array, crossover, num_layers: int) -> jax.Array:
  """Per-layer styles [B, num_layers, W]: layers below ``crossover`` read ``w_first`` [B, W],
  the others ``w_second`` [B, W] (crossover = num_layers: no mixing)."""
  layers = jnp.arange(num_layers)[None, :, None]
  return jnp.where(layers < crossover, w_first[:, None], w_second[:, None])


def truncate(ws: jax.Array, w_avg: jax.Array, psi, cutoff: int | None = None) -> jax.Array:
  """The truncation trick (Karras 2019, App. B): w' = w_avg + psi (w - w_avg) on the layers below
  ``cutoff`` (all if None); ws [B, L, W], w_avg [W]."""
  truncated = w_avg + psi * (ws - w_avg)
  if cutoff is None:
    return truncated
  layers = jnp.arange(ws.shape[1])[None, :, None]
  return jnp.where(layers < cutoff, truncated, ws)


# The keys of ``generated``, first in every update's split.
GENERATION_KEYS = ("z", "z_mix", "mix_chance", "crossover", "noise")


def _mixed_styles(apply_fn, params, keys: dict, batch: int, level: int, config):
  """Styles [B, 2 num_levels, W] of fresh latents with style-mixing regularization, and the
  first latents' w [B, W]."""
  z_key, z2_key, chance_key, crossover_key = (
    keys[name] for name in ("z", "z_mix", "mix_chance", "crossover")
  )
  latent = config.model.latent_dim
  map_fn = lambda z: apply_fn({"params": params}, z, method="map")  # noqa: E731
  w = map_fn(jax.random.normal(z_key, (batch, latent)))
  w_second = map_fn(jax.random.normal(z2_key, (batch, latent)))
  used = networks.num_style_layers(level)
  crossover = jnp.where(
    jax.random.uniform(chance_key) < config.model.style_mixing_prob,
    jax.random.randint(crossover_key, (), 1, used) if used > 1 else used,
    used,
  )
  return mix_styles(w, w_second, crossover, 2 * num_levels_of(params)), w


def num_levels_of(g_params) -> int:
  """Levels of a generator, from its params (one toRGB per level)."""
  return sum(name.startswith("to_rgb_") for name in g_params["synthesis"])


def generated(g: ModelState, params, keys: dict, batch: int, stage, alpha, config):
  """(images [B, S, S, C] at the stage's level with mixed styles, the first latents' w), drawn
  with ``keys`` (``GENERATION_KEYS``)."""
  ws, w = _mixed_styles(g.apply_fn, params, keys, batch, stage.level, config)
  images = g.apply_fn(
    {"params": params}, ws, stage.level, alpha, method="synthesize", rngs={"noise": keys["noise"]}
  )
  return images, w


def real_at_level(real: jax.Array, level: int, alpha, mirror_key=None) -> jax.Array:
  """Reals [B, R, R, C] as D sees them at ``level``: average-pooled to its size, faded between
  that size and the previous one by ``alpha`` (NVlabs' process_reals), optionally mirrored."""
  size = 4 * 2**level
  x = networks.resize_to(real, size)
  if level > 0:
    coarse = networks.upsample(networks.downsample(x))
    x = coarse + (x - coarse) * alpha
  if mirror_key is not None:
    flip = jax.random.bernoulli(mirror_key, 0.5, (x.shape[0], 1, 1, 1))
    x = jnp.where(flip, x[:, :, ::-1], x)
  return x


def r1_penalty(d_fn, real: jax.Array) -> jax.Array:
  """Per-sample ||grad_x D(x)||^2 [B] at the reals (Mescheder et al. 2018, Eq. 9, without the
  gamma / 2)."""
  grads = jax.grad(lambda x: d_fn(x).sum())(real)
  return jnp.sum(jnp.square(grads).reshape(grads.shape[0], -1), axis=1)


def _restart_optimizer(model: ModelState, restart: jax.Array) -> ModelState:
  """The optimizer state reset to its initial value where ``restart`` (a traced bool)."""
  fresh = model.tx.init(model.params)
  opt_state = jax.tree.map(lambda f, s: jnp.where(restart, f, s), fresh, model.opt_state)
  return model.replace(opt_state=opt_state)


def _apply_at_stage_rate(model: ModelState, grads, section, stage) -> ModelState:
  """One update of the config's optimizer (``section``) at the stage's learning rate, as NVlabs
  feed each resolution's rate to the optimizer (``optimizers.build_optimizer``'s scale)."""
  tx = optimizers.build_optimizer(section, stage.learning_rate_scale)
  updates, opt_state = tx.update(grads, model.opt_state, model.params)
  return model.replace(
    step=model.step + 1, params=optax.apply_updates(model.params, updates), opt_state=opt_state
  )


def _discriminator_update(g, d, real, keys, stage, alpha, config):
  transform = gan.d_input_transform(config)
  fake, _ = generated(g, g.params, keys, real.shape[0], stage, alpha, config)
  fake = transform(jax.lax.stop_gradient(fake), keys["fake_transform"])
  real = transform(real, keys["real_transform"])

  def loss_fn(params):
    d_fn = lambda x: d.apply_fn({"params": params}, x, stage.level, alpha)  # noqa: E731
    real_logits, fake_logits = d_fn(real), d_fn(fake)
    adversarial = jnp.mean(losses.logistic_discriminator_per_example(real_logits, fake_logits))
    r1 = jnp.mean(r1_penalty(d_fn, real))
    return adversarial + 0.5 * config.loss.r1_gamma * r1, (real_logits, fake_logits, r1)

  (loss, (real_logits, fake_logits, r1)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
    d.params
  )
  metrics = {
    "d_loss": loss,
    "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
    "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
    "d_r1": r1,
  }
  return _apply_at_stage_rate(d, grads, config.optim.d, stage), metrics


def _generator_update(g, d, batch: int, keys, stage, alpha, config):
  transform = gan.d_input_transform(config)

  def loss_fn(params):
    fake, w = generated(g, params, keys, batch, stage, alpha, config)
    fake = transform(fake, keys["fake_transform"])  # G learns through D's input transform.
    logits = d.apply_fn({"params": d.params}, fake, stage.level, alpha)
    return losses.non_saturating_generator(logits), w

  (loss, w), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
  g = _apply_at_stage_rate(g, grads, config.optim.g, stage)
  return g, jnp.mean(w, axis=0), {"g_loss": loss}


def train_step(state: GANState, batch, *, config, stage: stages_lib.Stage):
  """One D update (logistic + R1) then one G update (non-saturating) at ``stage``'s level.

  Args:
    state: the GANState.
    batch: {"x": [B, R, R, C] reals at full resolution, "label": unused}.
    config: the run config (static).
    stage: the current stage (static: one compiled step per stage).

  Returns:
    The new state and scalar metrics (losses, D's mean sigmoid on reals and fakes, R1, alpha).
  """
  key = jax.random.fold_in(state.key, state.step)
  d_keys, g_keys, mirror_key = jax.random.split(key, 3)
  alpha = fade_alpha(state.step, stage)
  g, d = state.g, state.d
  if stage.index > 0:  # Both optimizers start afresh at both ends of a fade (below).
    restart = optimizer_restarts(state.step, stage)
    g, d = _restart_optimizer(g, restart), _restart_optimizer(d, restart)
  mirror_key = mirror_key if config.data.mirror else None
  real = real_at_level(batch["x"], stage.level, alpha, mirror_key)
  d_keys = run_keys.split(d_keys, *GENERATION_KEYS, "fake_transform", "real_transform")
  d, metrics = _discriminator_update(g, d, real, d_keys, stage, alpha, config)
  g_keys = run_keys.split(g_keys, *GENERATION_KEYS, "fake_transform")
  g, w_mean, g_metrics = _generator_update(g, d, real.shape[0], g_keys, stage, alpha, config)
  decay = 0.5 ** (stage.batch_size / (config.ema_kimg * 1000.0))
  g_ema = ema.update_ema(state.g_ema, g.params, decay)
  w_avg = W_AVG_DECAY * state.extra["w_avg"] + (1.0 - W_AVG_DECAY) * w_mean
  extra = {"w_avg": w_avg, "level": jnp.asarray(stage.level, jnp.int32), "alpha": alpha}
  metrics.update(g_metrics, alpha=alpha)
  return state.replace(step=state.step + 1, g=g, d=d, g_ema=g_ema, extra=extra), metrics


def map_latents(state: GANState, z: jax.Array, params=None) -> jax.Array:
  """w [N, W] of latents z [N, Z] through the (EMA) mapping network."""
  params = state.sampling_params() if params is None else params
  return state.g.apply_fn({"params": params}, z, method="map")


def broadcast_styles(state: GANState, w: jax.Array) -> jax.Array:
  """w [N, W] -> the same style for every layer [N, L, W]."""
  levels = num_levels_of(state.g.params)
  return jnp.broadcast_to(w[:, None], (w.shape[0], 2 * levels, w.shape[-1]))


def synthesize(state: GANState, ws: jax.Array, noise_key: jax.Array, params=None) -> jax.Array:
  """Images [N, R, R, C] of per-layer styles ws [N, L, W] at the state's level and alpha (lower
  levels nearest-upsampled to the full resolution R, as NVlabs' growing networks output)."""
  params = state.sampling_params() if params is None else params
  levels = num_levels_of(params)
  resolution = 4 * 2 ** (levels - 1)

  def at_level(level):
    def run(ws):
      images = state.g.apply_fn(
        {"params": params},
        ws,
        level,
        state.extra["alpha"],
        method="synthesize",
        rngs={"noise": noise_key},
      )
      return networks.resize_to(images, resolution)

    return run

  return jax.lax.switch(state.extra["level"], [at_level(lvl) for lvl in range(levels)], ws)


def synthesize_from_w(state: GANState, w: jax.Array, noise_key: jax.Array) -> jax.Array:
  """Images [N, R, R, C] of one style w [N, W] for every layer (PPL in W)."""
  return synthesize(state, broadcast_styles(state, w), noise_key)


LATENT_SPACE = LatentSpace(map=map_latents, synthesize=synthesize_from_w)

# Sample grids and figures draw fixed noise maps (a key of their own); metrics and `gans-jax
# sample` pass a fresh key per batch, as NVlabs' metrics do (randomize_noise=True).
SAMPLING_NOISE_SEED = 0


def generate(state: GANState, z: jax.Array, labels=None, key=None, *, psi=1.0, cutoff=None):
  """Samples [N, R, R, C] of z [N, Z] (labels ignored: unconditional) from G's EMA, with the
  truncation trick when psi < 1 (on layers below ``cutoff``) and the noise inputs drawn from
  ``key`` (None: the fixed sampling noise of ``SAMPLING_NOISE_SEED``)."""
  del labels
  noise_key = jax.random.PRNGKey(SAMPLING_NOISE_SEED) if key is None else key
  ws = broadcast_styles(state, map_latents(state, z))
  if psi != 1.0:
    ws = truncate(ws, state.extra["w_avg"], psi, cutoff)
  return synthesize(state, ws, noise_key)
