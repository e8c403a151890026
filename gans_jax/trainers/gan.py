"""Unconditional GAN training: vanilla GAN (Goodfellow 2014) and DCGAN (Radford 2016).

One generator update per step, preceded by k discriminator updates on k fresh real minibatches
(Goodfellow 2014, Algorithm 1), all inside one compiled step.
The networks come from ``config.model``, the loss from ``config.loss.name``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import ml_collections

from gans_jax import augment, ema, models, optimizers
from gans_jax.losses import get_adversarial_loss
from gans_jax.train_state import GANState, ModelState


def build_networks(config: ml_collections.ConfigDict, sample_shape: Sequence[int]):
  generator = models.build_generator(config.model.generator, sample_shape, jnp.float32)
  discriminator = models.build_discriminator(config.model.discriminator, jnp.float32)
  return generator, discriminator


def init_state(config, key: jax.Array, sample_shape: Sequence[int]) -> GANState:
  """Fresh GANState: networks initialised from ``key``; training randomness from a split of it.

  Args:
    config: the run config.
    key: the run's root key (from ``config.seed``).
    sample_shape: shape of one data sample, e.g. (32, 32, 1) or (2,).
  """
  generator, discriminator = build_networks(config, sample_shape)
  g_key, d_key, train_key = jax.random.split(key, 3)
  init_batch = 2 * getattr(discriminator, "pack", 1)  # A packing D needs whole packs.
  z = jnp.zeros((init_batch, config.model.latent_dim), jnp.float32)
  g_vars = generator.init({"params": g_key}, z, train=False)
  d_vars = discriminator.init(
    {"params": d_key}, jnp.zeros((init_batch, *sample_shape)), train=False
  )

  def model_state(module, variables, optim_section):
    return ModelState.create(
      apply_fn=module.apply,
      params=variables["params"],
      tx=optimizers.build_optimizer(optim_section),
      batch_stats=variables.get("batch_stats"),
    ).replace(step=jnp.zeros((), jnp.int32))  # An array, not TrainState's Python 0: one trace.

  return GANState(
    step=jnp.zeros((), jnp.int32),
    key=train_key,
    g=model_state(generator, g_vars, config.optim.g),
    d=model_state(discriminator, d_vars, config.optim.d),
    g_ema=jax.tree.map(jnp.copy, g_vars["params"]) if config.ema_decay > 0 else None,
  )


def _augmenter(config):
  """images, key -> images: the config's DiffAugment policy (identity when it is empty)."""
  policy = augment.parse_policy(config.augment.policy)
  return lambda images, key: augment.diff_augment(
    images,
    key,
    policy,
    translation_ratio=config.augment.translation_ratio,
    cutout_ratio=config.augment.cutout_ratio,
  )


def _discriminator_update(g: ModelState, d: ModelState, real, key, *, loss, latent_dim, augmenter):
  """One D update on a real minibatch [B, ...] and B fresh samples of G."""
  z_key, real_drop_key, fake_drop_key, real_aug_key, fake_aug_key = jax.random.split(key, 5)
  z = jax.random.normal(z_key, (real.shape[0], latent_dim))  # [B, latent]
  fake, _ = g.apply(z, train=True)  # G's statistics are updated in G's own step only.
  fake = augmenter(jax.lax.stop_gradient(fake), fake_aug_key)
  real = augmenter(real, real_aug_key)

  def loss_fn(params):
    real_logits, stats = d.apply(real, train=True, params=params, rngs={"dropout": real_drop_key})
    fake_logits, stats = d.replace(batch_stats=stats).apply(
      fake, train=True, params=params, rngs={"dropout": fake_drop_key}
    )
    return loss.discriminator(real_logits, fake_logits), (stats, real_logits, fake_logits)

  (d_loss, (stats, real_logits, fake_logits)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
    d.params
  )
  d = d.apply_gradients(grads=grads).replace(batch_stats=stats)
  probe = jax.nn.sigmoid if loss.outputs_logits else (lambda t: t)
  metrics = {
    "d_loss": d_loss,
    "d_real": jnp.mean(probe(real_logits)),
    "d_fake": jnp.mean(probe(fake_logits)),
  }
  return d, metrics


def _generator_update(
  g: ModelState, d: ModelState, key, *, loss, latent_dim, batch_size, augmenter
):
  z_key, drop_key, aug_key = jax.random.split(key, 3)
  z = jax.random.normal(z_key, (batch_size, latent_dim))

  def loss_fn(params):
    fake, stats = g.apply(z, train=True, params=params)
    fake = augmenter(fake, aug_key)  # G learns through the augmentation (DiffAugment).
    # D runs in training mode as in the reference code; its statistics stay D-step-only.
    fake_logits, _ = d.apply(fake, train=True, rngs={"dropout": drop_key})
    return loss.generator(fake_logits), stats

  (g_loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
  return g.apply_gradients(grads=grads).replace(batch_stats=stats), g_loss


def train_step(state: GANState, batch, *, config) -> tuple[GANState, dict]:
  """k D updates then one G update.

  Args:
    state: the GANState.
    batch: {"x": [k * B, ...]}; sample j serves D update j % k (this keeps each device's shard
      of the leading axis whole under data parallelism).
    config: the run config (static).

  Returns:
    The new state and scalar metrics (losses; D's mean outputs on real and fake data).
  """
  k, latent_dim = config.d_steps, config.model.latent_dim
  loss = get_adversarial_loss(config.loss.name)
  augmenter = _augmenter(config)
  key = jax.random.fold_in(state.key, state.step)
  d_key, g_key = jax.random.split(key)
  x = batch["x"]
  batch_size = x.shape[0] // k
  real = jnp.swapaxes(x.reshape(batch_size, k, *x.shape[1:]), 0, 1)  # [k, B, ...]

  # A Python loop (k is static and small), not lax.scan: XLA:CPU runs the convolutions of a
  # scan body, even a fully unrolled one, about 8x slower (measured on the DCGAN step).
  d, d_keys = state.d, jax.random.split(d_key, k)
  for i in range(k):
    d, metrics = _discriminator_update(
      state.g, d, real[i], d_keys[i], loss=loss, latent_dim=latent_dim, augmenter=augmenter
    )
  g, g_loss = _generator_update(
    state.g,
    d,
    g_key,
    loss=loss,
    latent_dim=latent_dim,
    batch_size=batch_size,
    augmenter=augmenter,
  )
  g_ema = state.g_ema
  if g_ema is not None:
    g_ema = ema.update_ema(g_ema, g.params, ema.ema_decay(config.ema_decay, state.step))
  metrics["g_loss"] = g_loss
  return state.replace(step=state.step + 1, g=g, d=d, g_ema=g_ema), metrics


def generate(state: GANState, z: jax.Array, labels=None) -> jax.Array:
  """Samples G(z) [N, ...] in inference mode (BatchNorm running averages, EMA params if kept)."""
  del labels  # Unconditional.
  samples, _ = state.g.apply(z, train=False, params=state.sampling_params())
  return samples
