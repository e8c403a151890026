"""ArtGAN (Tan, Chan, Aguirre & Tanaka, "ArtGAN: Artwork Synthesis with Conditional Categorical
GANs", ICIP 2017): a categorical D with K + 1 sigmoid outputs and a reconstruction loss through
G's decoder. Networks: ``gans_jax.models.artgan``.

D update: D's K + 1 outputs are trained with binary cross-entropy against one-hot targets, the
true class k for a real image and the "generated" output (index K) for G(z, k'), k' uniform
(paper, Eq. 3: the label information flows back to G through D's class outputs). Optionally, a
fraction ``config.artgan.label_flip`` of both kinds of targets is swapped (a real image labelled
generated, a generated one labelled its requested class) and Gaussian instance noise of std
``config.artgan.real_noise`` is added to real images.

G update: BCE of D's outputs on G(z, k) against the one-hot target k (G wants every sample
classified as the class it was asked for, and not as generated), plus
``config.artgan.reconstruction_weight`` times the L2 reconstruction error of real images through
D's encoder and G's decoder, mean over pixels of (Dec(Enc(x_r)) - x_r)^2 (paper, Eq. 5); only Dec
learns from it (D's encoder is D's, updated by D's own loss).

Both run on the shared k-D-steps-per-G-step loop of ``trainers.gan``; init and sampling are the
GAN family's.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from gans_jax import errors, losses, run_keys
from gans_jax.train_state import GANState, ModelState
from gans_jax.trainers import gan

generate = gan.generate


def init_state(config, key, sample_shape):
  """The GAN family's state, on z ~ N(0, I) only.

  Raises:
    errors.ConfigError: for another ``model.latent_prior`` (the reconstruction runs G's decoder
      alone, which a prior on G's input would not reach).
  """
  if config.model.latent_prior != "normal":
    raise errors.ConfigError(
      f"model.latent_prior={config.model.latent_prior!r}: ArtGAN trains on z ~ N(0, I) only."
    )
  return gan.init_state(config, key, sample_shape)


def config_fields(config) -> None:
  """ArtGAN's own fields (``config.artgan``), with the defaults of configs/artgan.py."""
  section = config.artgan = ml_collections.ConfigDict()
  section.reconstruction_weight = 1.0  # Weight of the L2 term in G's loss (paper, Eq. 5).
  section.label_flip = 0.0  # Probability of swapping a D target (0: the paper's plain targets).
  section.real_noise = 0.0  # Std of Gaussian noise on real images (0: none).


def categorical_targets(labels, num_classes: int) -> jax.Array:
  """float32 [B, K + 1] one-hot targets; label K means "generated"."""
  return jax.nn.one_hot(labels, num_classes + 1, dtype=jnp.float32)


categorical_loss = losses.categorical_sigmoid_loss  # Both players' loss (paper, Eqs. 3 and 5).


def flip_targets(key, real_labels, fake_labels, fake_index: int, probability: float):
  """(real targets, fake targets) as int class indices [B] with each one swapped with the given
  probability: a real image then counts as generated (index ``fake_index``) and a generated
  image as its requested class. Probability 0 leaves them as they are."""
  real_targets = real_labels
  fake_targets = jnp.full_like(fake_labels, fake_index)
  if not probability:
    return real_targets, fake_targets
  real_key, fake_key = jax.random.split(key)
  real_flip = jax.random.bernoulli(real_key, probability, real_labels.shape)
  fake_flip = jax.random.bernoulli(fake_key, probability, fake_labels.shape)
  return (
    jnp.where(real_flip, fake_index, real_targets),
    jnp.where(fake_flip, fake_labels, fake_targets),
  )


def reconstruction_error(g: ModelState, d: ModelState, g_params, real) -> jax.Array:
  """Mean over pixels of (Dec(Enc(x_r)) - x_r)^2 (paper, Eq. 5), differentiable in G's params only.

  Enc runs with D's params in training mode (as D does in G's adversarial term); neither
  network's running statistics change (G's follow its samples, D's its own updates).
  """
  features, _ = d.apply(real, train=True, method="encode")
  features = jax.lax.stop_gradient(features)
  reconstruction, _ = g.apply(features, train=True, params=g_params, method="decode")
  return jnp.mean((reconstruction - real) ** 2)


def _discriminator_update(g: ModelState, d: ModelState, real, real_labels, key, *, config):
  classes = config.model.num_classes
  transform = gan.d_input_transform(config)
  keys = run_keys.split(key, *gan.FAKE_KEYS, "real_noise", "real_transform", "label_flip")
  fake, fake_labels = gan.generated_for_d(g, keys, real.shape[0], config, transform)
  if config.artgan.real_noise:
    noise = jax.random.normal(keys["real_noise"], real.shape, real.dtype)
    real = real + config.artgan.real_noise * noise
  real = transform(real, keys["real_transform"])
  real_targets, fake_targets = flip_targets(
    keys["label_flip"], real_labels, fake_labels, classes, config.artgan.label_flip
  )

  def loss_fn(params):
    real_logits, stats = d.apply(real, train=True, params=params)
    fake_logits, stats = d.replace(batch_stats=stats).apply(fake, train=True, params=params)
    total = categorical_loss(real_logits, categorical_targets(real_targets, classes))
    total += categorical_loss(fake_logits, categorical_targets(fake_targets, classes))
    return total, (stats, real_logits, fake_logits)

  (d_loss, (stats, real_logits, fake_logits)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
    d.params
  )
  d = d.apply_gradients(grads=grads).replace(batch_stats=stats)
  real_probs = jax.nn.sigmoid(real_logits)
  metrics = {
    "d_loss": d_loss,
    "d_real": jnp.mean(jnp.take_along_axis(real_probs, real_labels[:, None], -1)),
    "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits[:, classes])),
    "d_class_acc": jnp.mean(jnp.argmax(real_logits[:, :classes], -1) == real_labels),
  }
  return d, metrics


def _generator_update(g: ModelState, d: ModelState, real, key, *, config):
  classes = config.model.num_classes
  transform = gan.d_input_transform(config)
  z_key, label_key, transform_key = jax.random.split(key, 3)
  z, labels = gan.sample_latents(z_key, label_key, real.shape[0], config)

  def loss_fn(params):
    fake, stats = g.apply(z, labels=labels, train=True, params=params)
    logits, _ = d.apply(transform(fake, transform_key), train=True)
    adversarial = categorical_loss(logits, categorical_targets(labels, classes))
    l2 = reconstruction_error(g, d, params, real)
    return adversarial + config.artgan.reconstruction_weight * l2, (stats, l2)

  (g_loss, (stats, l2)), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
  g = g.apply_gradients(grads=grads).replace(batch_stats=stats)
  return g, {"g_loss": g_loss, "g_reconstruction": l2}


def train_step(state: GANState, batch, *, config) -> tuple[GANState, dict]:
  """k ArtGAN D updates then one G update (see ``trainers.gan.alternating_step``).

  Returns:
    The new state and scalar metrics: losses, D's mean probability of the true class on real
    images (d_real) and of "generated" on generated ones (d_fake), D's class accuracy on real
    images, and G's reconstruction error.
  """
  return gan.alternating_step(
    state, batch, config=config, d_update=_discriminator_update, g_update=_generator_update
  )
