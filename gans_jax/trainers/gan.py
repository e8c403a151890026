"""Adversarial training with one generator and one discriminator (or critic):

- vanilla GAN (Goodfellow et al. 2014) and DCGAN (Radford et al. 2016);
- conditional GAN (Mirza & Osindero 2014): ``config.model.num_classes`` > 0 with a D that sees the
  label (``model.discriminator.conditioning="input"``);
- AC-GAN (Odena et al. 2017): a D with a class head (``conditioning="auxiliary"``); D minimises
  -(L_S + L_C) and G minimises the non-saturating -L_S plus -L_C, weighted by
  ``config.loss.class_weight``;
- WGAN (Arjovsky et al. 2017): Wasserstein loss with every D weight clipped to
  +-``config.d_weight_clip`` after each D update (or before it, ``d_weight_clip_when``, as the
  reference code clamps), n_critic = ``config.d_steps`` (with ``d_steps_schedule``, the
  reference code's 100 critic updates for the first 25 G updates and every 500th: a second
  compiled step, chosen on the host by the run's stages, ``stages.d_steps_stages``);
- WGAN-GP (Gulrajani et al. 2017): a gradient penalty of weight ``config.loss.gradient_penalty``;
- Bhavsar 2018's "Artistic GAN": DCGAN with weight clipping and noise on D's inputs
  (``config.d_input_noise``).

One generator update per step, preceded by k discriminator updates on k fresh real minibatches
(Goodfellow 2014, Algorithm 1), all inside one compiled step; with
``config.simultaneous_updates`` G's update sees D as it was before D's (k = 1), as
goodfeli/adversarial's pylearn2 code updates both from one gradient evaluation. Generated
samples get uniformly random class labels. The networks come from ``config.model``, the loss
from ``config.loss.name``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import ml_collections

from gans_jax import augment, ema, errors, models, run_keys
from gans_jax.losses import class_loss, get_adversarial_loss, gradient_penalty
from gans_jax.train_state import GANState, ModelState
from gans_jax.trainers import stages as stages_lib


def build_networks(config: ml_collections.ConfigDict, sample_shape: Sequence[int]):
  classes = config.model.num_classes
  generator = models.build_generator(
    config.model.generator,
    sample_shape,
    models.compute_dtype(config.compute_dtype),
    num_classes=classes,
  )
  discriminator = models.build_discriminator(
    config.model.discriminator, models.compute_dtype(config.compute_dtype), num_classes=classes
  )
  return generator, discriminator


def config_fields(config: ml_collections.ConfigDict) -> None:
  """The gan family's own fields."""
  # G's update uses D before D's update of the same step (Goodfellow's pylearn2 code computes
  # both gradients at the same parameters), instead of after it (Algorithm 1); needs d_steps=1.
  config.simultaneous_updates = False
  # (k, first, every): k D updates per G update for the first `first` G updates and at every
  # `every`-th one, d_steps otherwise (WGAN's reference code: (100, 25, 500)); () is off.
  config.d_steps_schedule = ()
  # When d_weight_clip clips D: "after" each D update, or "before" it (martinarjovsky/
  # WassersteinGAN clamps before each critic update, so G's update sees the last one unclipped).
  config.d_weight_clip_when = "after"


def stages(config, sample_shape: Sequence[int]) -> tuple[stages_lib.Stage, ...]:
  """One stage, or the stretches of ``config.d_steps_schedule`` (``stages.d_steps_stages``)."""
  del sample_shape
  return stages_lib.d_steps_stages(config)


def init_state(config, key: jax.Array, sample_shape: Sequence[int]) -> GANState:
  """Fresh GANState: networks initialised from ``key``; training randomness from a split of it;
  G sees z through ``config.model.latent_prior`` (``models.with_latent_prior``).

  Args:
    config: the run config.
    key: the run's root key (from ``config.seed``).
    sample_shape: shape of one data sample, e.g. (32, 32, 1) or (2,).
  """
  generator, discriminator = build_networks(config, sample_shape)
  generator = models.with_latent_prior(generator, config.model.latent_prior)
  return init_state_of(generator, discriminator, config, key, sample_shape)


def init_state_of(generator, discriminator, config, key: jax.Array, sample_shape) -> GANState:
  """``init_state`` for given networks (families that bring their own, e.g. SN-GAN's); both
  take ``labels=`` and ``train=``."""
  g_key, d_key, train_key = jax.random.split(key, 3)
  init_batch = 2 * getattr(discriminator, "pack", 1)  # A packing D needs whole packs.
  z = jnp.zeros((init_batch, config.model.latent_dim), jnp.float32)
  labels = jnp.zeros((init_batch,), jnp.int32)
  g_vars = generator.init({"params": g_key}, z, labels=labels, train=False)
  d_vars = discriminator.init(
    {"params": d_key}, jnp.zeros((init_batch, *sample_shape)), labels=labels, train=False
  )

  return GANState.create(
    train_key,
    g=(generator.apply, g_vars),
    d=(discriminator.apply, d_vars),
    optim=config.optim,
    ema=config.ema_decay > 0,
  )


def d_input_transform(config):
  """images, key -> images: what D's inputs go through in training, in both D's and G's updates:
  the config's DiffAugment policy, then Gaussian instance noise of std ``config.d_input_noise``
  (Sønderby et al. 2017; Bhavsar 2018's "Artistic GAN" noise on D's input). Identity by default."""
  policy = augment.parse_policy(config.augment.policy)
  noise = config.d_input_noise

  def transform(images, key):
    augment_key, noise_key = jax.random.split(key)
    images = augment.diff_augment(
      images,
      augment_key,
      policy,
      translation_ratio=config.augment.translation_ratio,
      cutout_ratio=config.augment.cutout_ratio,
    )
    if noise:
      images = images + noise * jax.random.normal(noise_key, images.shape, images.dtype)
    return images

  return transform


def _split_outputs(outputs):
  """D's outputs -> (source logits [B], class logits [B, K] or None)."""
  return outputs if isinstance(outputs, tuple) else (outputs, None)


def _clip_when(config) -> str:
  """``config.d_weight_clip_when``.

  Raises:
    errors.ConfigError: for a value other than "after" and "before".
  """
  when = config.d_weight_clip_when
  if when not in ("after", "before"):
    raise errors.ConfigError(f"d_weight_clip_when must be 'after' or 'before', got {when!r}.")
  return when


def clip_weights(params, bound: float):
  """Every parameter clipped to [-bound, bound] (WGAN's Lipschitz constraint, Arjovsky 2017)."""
  return jax.tree.map(lambda p: jnp.clip(p, -bound, bound), params)


def random_labels(key, batch: int, num_classes: int) -> jax.Array:
  """Uniform class labels int32 [batch] for generated samples (zeros when unconditional)."""
  if not num_classes:
    return jnp.zeros((batch,), jnp.int32)
  return jax.random.randint(key, (batch,), 0, num_classes)


def sample_latents(z_key, label_key, batch: int, config) -> tuple[jax.Array, jax.Array]:
  """(z ~ N(0, I) [batch, latent], uniform class labels int32 [batch]) for G."""
  z = jax.random.normal(z_key, (batch, config.model.latent_dim))
  return z, random_labels(label_key, batch, config.model.num_classes)


# The keys of generated_for_d, first in every D update's split.
FAKE_KEYS = ("z", "label", "fake_transform")


# G's dropout masks (Mirza & Osindero's G) come from a stream of their own, folded in from the
# update's key, so that adding them changed no earlier run's numbers.
GENERATOR_DROPOUT_STREAM = 0x47445250


def generator_rngs(key: jax.Array) -> dict:
  """The rngs of a training-mode G call in the update whose key is ``key``."""
  return {"dropout": jax.random.fold_in(key, GENERATOR_DROPOUT_STREAM)}


def generated_for_d(g: ModelState, keys: dict, batch: int, config, transform):
  """(G's samples as D's update sees them [batch, ...], their labels [batch]): drawn with
  ``keys`` (``FAKE_KEYS``), no gradient to G, through D's input transform. G's running
  statistics are not updated (they change in G's own step only)."""
  z, labels = sample_latents(keys["z"], keys["label"], batch, config)
  fake, _ = g.apply(z, labels=labels, train=True, rngs=generator_rngs(keys["z"]))
  return transform(jax.lax.stop_gradient(fake), keys["fake_transform"]), labels


def _discriminator_update(g: ModelState, d: ModelState, real, real_labels, key, *, config):
  loss = get_adversarial_loss(config.loss.name)
  transform = d_input_transform(config)
  keys = run_keys.split(
    key, *FAKE_KEYS, "real_transform", "real_dropout", "fake_dropout", "penalty", "penalty_dropout"
  )
  fake, fake_labels = generated_for_d(g, keys, real.shape[0], config, transform)
  real = transform(real, keys["real_transform"])

  def loss_fn(params):
    real_out, stats = d.apply(
      real, labels=real_labels, train=True, params=params, rngs={"dropout": keys["real_dropout"]}
    )
    fake_out, stats = d.replace(batch_stats=stats).apply(
      fake, labels=fake_labels, train=True, params=params, rngs={"dropout": keys["fake_dropout"]}
    )
    (real_logits, real_classes), (fake_logits, fake_classes) = map(
      _split_outputs, (real_out, fake_out)
    )
    total = loss.discriminator(real_logits, fake_logits)
    aux = {"real_logits": real_logits, "fake_logits": fake_logits}
    if real_classes is not None:
      total += config.loss.class_weight * (
        class_loss(real_classes, real_labels) + class_loss(fake_classes, fake_labels)
      )
      aux["class_acc"] = jnp.mean(jnp.argmax(real_classes, -1) == real_labels)
    if config.loss.gradient_penalty:
      # D's statistics are not updated by the penalty's extra forward pass.
      critic = lambda x: _split_outputs(
        d.apply(
          x,
          labels=real_labels,
          train=True,
          params=params,
          rngs={"dropout": keys["penalty_dropout"]},
        )[0]
      )[0]
      aux["gradient_penalty"] = gradient_penalty(critic, real, fake, keys["penalty"])
      total += config.loss.gradient_penalty * aux["gradient_penalty"]
    return total, (stats, aux)

  clip = config.d_weight_clip
  if clip and _clip_when(config) == "before":
    d = d.replace(params=clip_weights(d.params, clip))
  (d_loss, (stats, aux)), grads = jax.value_and_grad(loss_fn, has_aux=True)(d.params)
  d = d.apply_gradients(grads=grads).replace(batch_stats=stats)
  if clip and _clip_when(config) == "after":
    d = d.replace(params=clip_weights(d.params, clip))
  probe = jax.nn.sigmoid if loss.outputs_logits else (lambda t: t)
  metrics = {
    "d_loss": d_loss,
    "d_real": jnp.mean(probe(aux.pop("real_logits"))),
    "d_fake": jnp.mean(probe(aux.pop("fake_logits"))),
  }
  metrics.update({f"d_{name}": value for name, value in aux.items()})
  return d, metrics


def _generator_update(g: ModelState, d: ModelState, real, key, *, config):
  loss = get_adversarial_loss(config.loss.name)
  transform = d_input_transform(config)
  z_key, label_key, drop_key, transform_key = jax.random.split(key, 4)
  # G's loss is on generated samples alone; the real batch gives only the batch size.
  z, labels = sample_latents(z_key, label_key, real.shape[0], config)

  def loss_fn(params):
    fake, stats = g.apply(z, labels=labels, train=True, params=params, rngs=generator_rngs(key))
    fake = transform(fake, transform_key)  # G learns through D's input transform (DiffAugment).
    # D runs in training mode as in the reference code; its statistics stay D-step-only.
    outputs, _ = d.apply(fake, labels=labels, train=True, rngs={"dropout": drop_key})
    fake_logits, fake_classes = _split_outputs(outputs)
    total = loss.generator(fake_logits)
    if fake_classes is not None:  # AC-GAN: G also maximises L_C on its samples.
      total += config.loss.class_weight * class_loss(fake_classes, labels)
    return total, stats

  (g_loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
  return g.apply_gradients(grads=grads).replace(batch_stats=stats), {"g_loss": g_loss}


def train_step(state: GANState, batch, *, config, stage=None) -> tuple[GANState, dict]:
  """k D updates then one G update.

  Args:
    state: the GANState.
    batch: {"x": [k * B, ...], "label": int32 [k * B]}; sample j serves D update j % k (this
      keeps each device's shard of the leading axis whole under data parallelism).
    config: the run config (static).
    stage: the run's stage (static), whose ``d_steps`` is k (``d_steps_schedule``); None: k is
      ``config.d_steps``.

  Returns:
    The new state and scalar metrics (losses; D's mean outputs on real and fake data; the class
    head's accuracy on real data and the gradient penalty where they apply).

  Raises:
    errors.ConfigError: (when compiled) for simultaneous updates with more than one D update.
  """
  d_steps = config.d_steps if stage is None else stage.d_steps_of(config)
  if config.simultaneous_updates and (config.d_steps != 1 or config.d_steps_schedule):
    raise errors.ConfigError(
      f"simultaneous_updates=True needs d_steps=1 and no d_steps_schedule (one gradient "
      f"evaluation updates both networks), got d_steps={config.d_steps}."
    )
  return alternating_step(
    state,
    batch,
    config=config,
    d_update=_discriminator_update,
    g_update=_generator_update,
    simultaneous=config.simultaneous_updates,
    d_steps=d_steps,
  )


# Up to this many D updates per step are unrolled; more run as one lax.scan.
MAX_UNROLLED_D_STEPS = 16


def alternating_step(
  state: GANState, batch, *, config, d_update, g_update, simultaneous=False, d_steps=None
):
  """Goodfellow et al.'s Algorithm 1 with the family's updates: k = ``d_steps`` (default
  ``config.d_steps``) calls
  ``d_update(g, d, real [B, ...], labels [B], key, config=) -> (d, metrics)`` on the batch's k
  minibatches, then ``g_update(g, d, real, key, config=) -> (g, metrics)`` with the last real
  minibatch and the updated D (``simultaneous``: D as the step found it); then the EMA of G's
  params. Keys: ``fold_in(state.key, state.step)``, split. Up to ``MAX_UNROLLED_D_STEPS`` D
  updates are unrolled, more run as one ``lax.scan``."""
  k = config.d_steps if d_steps is None else d_steps
  key = jax.random.fold_in(state.key, state.step)
  d_key, g_key = jax.random.split(key)
  x, labels = batch["x"], batch["label"]
  batch_size = x.shape[0] // k
  real = jnp.swapaxes(x.reshape(batch_size, k, *x.shape[1:]), 0, 1)  # [k, B, ...]
  real_labels = labels.reshape(batch_size, k).T  # [k, B]

  d, d_keys = state.d, jax.random.split(d_key, k)
  if k <= MAX_UNROLLED_D_STEPS:
    # A Python loop, not lax.scan: XLA:CPU runs the convolutions of a scan body, even a fully
    # unrolled one, about 8x slower (measured on the DCGAN step).
    for i in range(k):
      d, metrics = d_update(state.g, d, real[i], real_labels[i], d_keys[i], config=config)
  else:  # WGAN's bursts of 100: one traced update instead of 100 copies to compile.

    def one_update(d, inputs):
      return d_update(state.g, d, *inputs, config=config)

    d, metrics = jax.lax.scan(one_update, d, (real, real_labels, d_keys))
    metrics = jax.tree.map(lambda m: m[-1], metrics)  # The last update's, as the loop's.
  g, g_metrics = g_update(state.g, state.d if simultaneous else d, real[-1], g_key, config=config)
  g_ema = state.g_ema
  if g_ema is not None:
    g_ema = ema.update_ema(g_ema, g.params, ema.ema_decay(config.ema_decay, state.step))
  metrics.update(g_metrics)
  return state.replace(step=state.step + 1, g=g, d=d, g_ema=g_ema), metrics


def generate(state: GANState, z: jax.Array, labels=None, key=None) -> jax.Array:
  """Samples G(z, labels) [N, ...] in inference mode (BatchNorm running averages, EMA params if
  kept; ``prepare_sampling`` gives the EMA its own statistics first); unconditional generators
  ignore the labels. Deterministic given z: ``key`` is unused."""
  del key
  samples, _ = state.g.apply(z, labels=labels, train=False, params=state.sampling_params())
  return samples


# Standing statistics (below): latents of the run's prior from a fixed key, one batch.
STANDING_STATISTICS_SEED = 0
STANDING_STATISTICS_SAMPLES = 1024


def prepare_sampling(state: GANState, config) -> GANState:
  """The state to sample from: with an EMA of a BatchNorm generator, G's running statistics
  replaced by the EMA weights' own "standing statistics" (Brock et al. 2019, App. C.1).

  G's running averages were collected by the live weights; the EMA weights produce other
  activations, so normalising them with the live statistics mixes two networks. The standing
  statistics are the batch statistics of the EMA weights on ``STANDING_STATISTICS_SAMPLES``
  latents of the run's prior (z ~ N(0, I), uniform labels) drawn from a fixed key, the same
  for every evaluation. Other states come back unchanged.
  """
  if state.g_ema is None or state.g.batch_stats is None:
    return state
  keys = run_keys.split(jax.random.PRNGKey(STANDING_STATISTICS_SEED), "z", "label")
  z, labels = sample_latents(keys["z"], keys["label"], STANDING_STATISTICS_SAMPLES, config)
  standing = batch_statistics(state.g, state.g_ema, z, labels)
  return state.replace(g=state.g.replace(batch_stats=standing))


@jax.jit
def batch_statistics(model: ModelState, params, z: jax.Array, labels: jax.Array):
  """Every BatchNorm layer's mean and variance over the batch G(z, labels) with ``params``, in
  the shape of ``model.batch_stats``.

  A training-mode pass sets each running average r to m r + (1 - m) s for the batch's s, with
  the layer's own momentum m: from r = 0 it returns a = (1 - m) s, from r = 1 it returns
  b = m + (1 - m) s, so m = b - a and s = a / (1 - m), for any momentum and any layer.
  """
  zeros = jax.tree.map(jnp.zeros_like, model.batch_stats)
  ones = jax.tree.map(jnp.ones_like, model.batch_stats)
  _, a = model.replace(batch_stats=zeros).apply(z, labels=labels, train=True, params=params)
  _, b = model.replace(batch_stats=ones).apply(z, labels=labels, train=True, params=params)
  return jax.tree.map(lambda a, b: a / (1.0 - (b - a)), a, b)
