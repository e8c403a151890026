"""pix2pix (Isola, Zhu, Zhou & Efros 2017): a conditional GAN from images A to images B.

G is a U-Net, D a PatchGAN that judges the pair (a, b) concatenated on channels. One step (batch
{"a", "b"} at the load size, randomly cropped and mirrored together, ``translation.random_jitter``):

- D: minimise 1/2 [L(D(a, b), real) + L(D(a, G(a)), fake)] (the halved objective of Sec. 3.3),
  with L the reference code's ``GANLoss`` (``losses.target_loss``, mean over patches);
- G: minimise ``loss.adversarial_weight`` L(D(a, G(a)), real) + lambda ||b - G(a)||_1 (Eq. 4,
  lambda = ``loss.l1_weight`` = 100), against the just-updated D.

G runs once per step: its outputs feed D's update, and G's gradient is pulled back through the
same forward pass (``jax.vjp``), as the reference's single ``forward()`` does. The only noise is
dropout (Sec. 2.1), which stays on at test time together with per-image normalisation statistics,
as the paper does (Sec. 3.1, "at inference time, we run the generator net in exactly the same
manner as during the training phase").

``loss.adversarial_weight = 0`` trains the U-Net on L1 alone (the paper's "L1" baseline of
Table 1), without any D update; ``loss.l1_weight = 0`` on the adversarial loss alone ("cGAN");
``loss.conditional = False`` gives D the output alone, not the pair (the unconditional "GAN"
objective of Eq. 2, Table 1's "GAN" and "L1+GAN").
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from gans_jax import models
from gans_jax.interop import junyanz
from gans_jax.losses import target_loss
from gans_jax.train_state import GANState, ModelState
from gans_jax.trainers import network_weights, translation
from gans_jax.trainers.types import WeightFormat


def config_fields(config) -> None:
  """pix2pix's own fields (the weights of Eq. 4) beside the image-to-image ones."""
  translation.config_fields(config)
  config.loss.l1_weight = 100.0  # lambda of Eq. 4.
  config.loss.adversarial_weight = 1.0  # 0: the L1-only baseline of Table 1.
  config.loss.conditional = True  # D sees (input, output), Eq. 1; False: the output alone, Eq. 2.


def build_networks(config, sample_shape: Sequence[int]):
  generator = models.build_generator(
    config.model.generator, sample_shape, models.compute_dtype(config.compute_dtype)
  )
  discriminator = models.build_discriminator(
    config.model.discriminator, models.compute_dtype(config.compute_dtype)
  )
  return generator, discriminator


def init_state(config, key: jax.Array, sample_shape: Sequence[int]) -> GANState:
  """Fresh state: U-Net G (input channels ``data.input_channels``) and PatchGAN D on pairs."""
  generator, discriminator = build_networks(config, sample_shape)
  g_key, d_key, dropout_key, train_key = jax.random.split(key, 4)
  inputs = jnp.zeros((1, *translation.input_shape(config, sample_shape)))
  pair = _pair(inputs, jnp.zeros((1, *sample_shape)), config)
  g_vars = generator.init({"params": g_key, "dropout": dropout_key}, inputs, train=False)
  d_vars = discriminator.init({"params": d_key}, pair, train=False)
  return GANState.create(
    train_key, g=(generator.apply, g_vars), d=(discriminator.apply, d_vars), optim=config.optim
  )


def _pair(a, b, config):
  """What D judges: the pair (a, b) on channels, or b alone when unconditional."""
  return jnp.concatenate([a, b], axis=-1) if config.loss.conditional else b


def discriminator_update(d: ModelState, a, b, fake, *, config) -> tuple[ModelState, dict]:
  """One D update on real pairs (a, b) and generated pairs (a, fake), fake without gradient."""
  name = config.loss.name

  def loss_fn(params):
    fake_out, stats = d.apply(_pair(a, fake, config), train=True, params=params)
    real_out, stats = d.replace(batch_stats=stats).apply(
      _pair(a, b, config), train=True, params=params
    )
    loss = 0.5 * (target_loss(real_out, True, name) + target_loss(fake_out, False, name))
    return loss, (stats, real_out, fake_out)

  (loss, (stats, real_out, fake_out)), grads = jax.value_and_grad(loss_fn, has_aux=True)(d.params)
  d = d.apply_gradients(grads=grads).replace(batch_stats=stats)
  probe = jax.nn.sigmoid if name == "non_saturating" else (lambda t: t)
  metrics = {
    "d_loss": loss,
    "d_real": jnp.mean(probe(real_out)),
    "d_fake": jnp.mean(probe(fake_out)),
  }
  return d, metrics


def generator_loss(d: ModelState, a, fake, b, *, config) -> tuple[jax.Array, dict]:
  """G's objective as a function of its outputs ``fake`` (Eq. 4); D's statistics untouched."""
  l1 = jnp.mean(jnp.abs(fake - b))
  total = config.loss.l1_weight * l1
  metrics = {"g_l1": l1}
  if config.loss.adversarial_weight:
    outputs, _ = d.apply(_pair(a, fake, config), train=True)
    metrics["g_gan"] = target_loss(outputs, True, config.loss.name)
    total += config.loss.adversarial_weight * metrics["g_gan"]
  metrics["g_loss"] = total
  return total, metrics


def train_step(state: GANState, batch, *, config) -> tuple[GANState, dict]:
  """One D update (unless L1-only) and one G update on a batch {"a", "b"} (see module doc)."""
  key = jax.random.fold_in(state.key, state.step)
  jitter_key, dropout_key = jax.random.split(key)
  a, b = translation.random_jitter(
    [batch["a"], batch["b"]], jitter_key, config.data.resolution, config.data.flip
  )

  def forward(params):
    return state.g.apply(a, train=True, params=params, rngs={"dropout": dropout_key})

  fake, pull_back, g_stats = jax.vjp(forward, state.g.params, has_aux=True)
  d, metrics = state.d, {}
  if config.loss.adversarial_weight:
    d, metrics = discriminator_update(state.d, a, b, jax.lax.stop_gradient(fake), config=config)
  (_, g_metrics), fake_grad = jax.value_and_grad(
    lambda f: generator_loss(d, a, f, b, config=config), has_aux=True
  )(fake)
  (g_grads,) = pull_back(fake_grad)
  g = state.g.apply_gradients(grads=g_grads).replace(batch_stats=g_stats)
  metrics.update(g_metrics)
  return state.replace(step=state.step + 1, g=g, d=d), metrics


def generate(state: GANState, inputs: jax.Array, key: jax.Array) -> jax.Array:
  """G(inputs) [N, R, R, C_b] as the paper tests: dropout on, and each image normalised with its
  own statistics (the batch-size-1 BatchNorm of training), so outputs do not depend on N."""
  keys = jax.random.split(key, inputs.shape[0])

  def one(image, image_key):
    output, _ = state.g.apply(image[None], train=True, rngs={"dropout": image_key})
    return output[0]

  return jax.vmap(one)(inputs, keys)


def _load_junyanz(config, state: GANState, files: dict, log) -> GANState:
  """The reference's G and D (``latest_net_G.pth``, ``latest_net_D.pth``) in ``state``."""
  g_section, d_section = config.model.generator, config.model.discriminator
  if "G" in files:
    entries = junyanz.generator_entries(g_section)
    g = network_weights.load_junyanz(state.g, g_section, entries, files["G"], log)
    state = state.replace(g=g)
  if "D" in files:
    entries = junyanz.discriminator_entries(d_section)
    d = network_weights.load_junyanz(state.d, d_section, entries, files["D"], log)
    state = state.replace(d=d)
  return state


def _dump_junyanz(config, state: GANState) -> dict:
  return {
    "G": network_weights.dump(state.g, junyanz.generator_entries(config.model.generator)),
    "D": network_weights.dump(state.d, junyanz.discriminator_entries(config.model.discriminator)),
  }


WEIGHT_FORMATS = {
  "junyanz": WeightFormat(
    help="junyanz/pytorch-CycleGAN-and-pix2pix's pix2pix: G.pth [D.pth]",
    files=(("G", "latest_net_G.pth"), ("D", "latest_net_D.pth")),
    required=1,
    load=_load_junyanz,
    dump=_dump_junyanz,
  )
}
