"""CycleGAN (Zhu, Park, Isola & Efros 2017): unpaired translation between domains A and B.

Generators G: A -> B and F: B -> A (ResNet), discriminators D_X on A and D_Y on B (PatchGAN with
InstanceNorm), each pair in one ``models.cyclegan.TwoWay`` with one optimizer, as the reference
code. One step (batch {"a", "b"} of unrelated images, each cropped and mirrored independently):

- G and F: minimise L_GAN(G, D_Y) + L_GAN(F, D_X) + lambda (||F(G(a)) - a||_1 + ||G(F(b)) - b||_1)
  + lambda_idt lambda (||G(b) - b||_1 + ||F(a) - a||_1) (Eq. 3; the identity loss of Sec. 5.2),
  lambda = ``loss.cycle_weight`` = 10, lambda_idt = ``loss.identity_weight`` = 0.5, with the
  least-squares GAN loss (Sec. 4);
- then D_X and D_Y: 1/2 [L(D(real), real) + L(D(pool(fake)), fake)], where each generated batch
  first goes through a history of ``config.pool_size`` = 50 earlier generated images (Shrivastava
  et al. 2017; paper Sec. 4): while the history is filling, images go in and are used as they
  are; once it is full, each image is, with probability 1/2, swapped for a random stored one
  (which D then sees instead), or else used as it is.

The histories are arrays in ``state.extra`` ({"pool_a", "pool_b": [P, R, R, C], "pool_size_a",
"pool_size_b": int32 fill counts}), so they are checkpointed and restored with everything else.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from gans_jax import errors, models
from gans_jax.interop import junyanz
from gans_jax.losses import target_loss
from gans_jax.models.cyclegan import TwoWay
from gans_jax.train_state import GANState, ModelState
from gans_jax.trainers import network_weights, translation
from gans_jax.trainers.types import WeightFormat


def config_fields(config) -> None:
  """CycleGAN's own fields (the weights of Eq. 3 and Sec. 5.2, the image pools' size) beside
  the image-to-image ones."""
  translation.config_fields(config)
  config.loss.cycle_weight = 10.0  # lambda of Eq. 3.
  config.loss.identity_weight = 0.5  # Identity loss weight, relative to lambda (Sec. 5.2).
  config.pool_size = 50  # History of generated images per discriminator; 0 turns it off.


def build_networks(config, sample_shape: Sequence[int]) -> tuple[TwoWay, TwoWay]:
  shape_a = translation.input_shape(config, sample_shape)
  build_g = lambda shape: models.build_generator(
    config.model.generator, shape, models.compute_dtype(config.compute_dtype)
  )
  build_d = lambda: models.build_discriminator(
    config.model.discriminator, models.compute_dtype(config.compute_dtype)
  )
  generators = TwoWay(a_net=build_g(tuple(sample_shape)), b_net=build_g(shape_a))
  discriminators = TwoWay(a_net=build_d(), b_net=build_d())
  return generators, discriminators


def init_state(config, key: jax.Array, sample_shape: Sequence[int]) -> GANState:
  """Fresh state: both generators, both discriminators, empty image histories."""
  generators, discriminators = build_networks(config, sample_shape)
  g_key, d_key, train_key = jax.random.split(key, 3)
  shape_a = translation.input_shape(config, sample_shape)
  images_a, images_b = jnp.zeros((1, *shape_a)), jnp.zeros((1, *sample_shape))
  g_vars = generators.init({"params": g_key}, images_a, images_b, train=False)
  d_vars = discriminators.init({"params": d_key}, images_a, images_b, train=False)
  if "batch_stats" in g_vars or "batch_stats" in d_vars:
    raise errors.ConfigError(
      "CycleGAN here supports norm='instance' only (the paper's), not 'batch'."
    )
  pool = config.pool_size
  extra = {
    "pool_a": jnp.zeros((pool, *shape_a)),  # Generated A images, F(b), for D_X.
    "pool_b": jnp.zeros((pool, *sample_shape)),  # Generated B images, G(a), for D_Y.
    "pool_size_a": jnp.zeros((), jnp.int32),
    "pool_size_b": jnp.zeros((), jnp.int32),
  }
  return GANState.create(
    train_key,
    g=(generators.apply, g_vars),
    d=(discriminators.apply, d_vars),
    optim=config.optim,
    extra=extra,
  )


def query_pool(pool, size, images, key) -> tuple[jax.Array, jax.Array, jax.Array]:
  """The image history's query, one image after another (the reference's ``ImagePool``).

  Args:
    pool: [P, ...] stored images (the first ``size`` valid); P = 0 disables the history.
    size: int32 [], how many are stored.
    images: [B, ...] newly generated images.
    key: PRNG key.

  Returns:
    (images for D [B, ...], the new pool, the new size).
  """
  capacity = pool.shape[0]
  if capacity == 0:
    return images, pool, size

  def one(carry, inputs):
    pool, size = carry
    image, image_key = inputs
    swap_key, slot_key = jax.random.split(image_key)
    filling = size < capacity
    swap = ~filling & jax.random.bernoulli(swap_key, 0.5)
    slot = jnp.where(filling, size, jax.random.randint(slot_key, (), 0, capacity))
    returned = jnp.where(swap, pool[slot], image)
    stored = jnp.where(filling | swap, image, pool[slot])
    pool = pool.at[slot].set(stored)
    return (pool, jnp.minimum(size + 1, capacity)), returned

  keys = jax.random.split(key, images.shape[0])
  (pool, size), returned = jax.lax.scan(one, (pool, size), (images, keys))
  return returned, pool, size


def _l1(x, y):
  return jnp.mean(jnp.abs(x - y))


def generator_loss(params, g: ModelState, d: ModelState, a, b, *, config):
  """Eq. 3 plus the identity loss; returns (total, (fake_a, fake_b, metrics))."""
  name = config.loss.name
  translate = lambda x, method: g.apply(x, train=True, params=params, method=method)[0]
  fake_b, fake_a = translate(a, "a"), translate(b, "b")
  cycle_a, cycle_b = _l1(translate(fake_b, "b"), a), _l1(translate(fake_a, "a"), b)
  judge = lambda x, method: d.apply(x, train=True, method=method)[0]
  gan_ab, gan_ba = (
    target_loss(judge(fake_b, "b"), True, name),
    target_loss(judge(fake_a, "a"), True, name),
  )
  lam = config.loss.cycle_weight
  total = gan_ab + gan_ba + lam * (cycle_a + cycle_b)
  metrics = {"g_gan_ab": gan_ab, "g_gan_ba": gan_ba, "cycle_l1_a": cycle_a, "cycle_l1_b": cycle_b}
  if config.loss.identity_weight:
    # G(b) should leave b alone and F(a) a (the identity mapping loss, Sec. 5.2).
    metrics["identity_l1_b"] = _l1(translate(b, "a"), b)
    metrics["identity_l1_a"] = _l1(translate(a, "b"), a)
    total += (
      config.loss.identity_weight * lam * (metrics["identity_l1_a"] + metrics["identity_l1_b"])
    )
  metrics["g_loss"] = total
  return total, (fake_a, fake_b, metrics)


def discriminator_loss(params, d: ModelState, real_a, real_b, fake_a, fake_b, *, config):
  """1/2 [L(D(real), real) + L(D(fake), fake)] for D_X on A and D_Y on B, summed."""
  name = config.loss.name
  metrics = {}
  for domain, real, fake in (("a", real_a, fake_a), ("b", real_b, fake_b)):
    real_out = d.apply(real, train=True, params=params, method=domain)[0]
    fake_out = d.apply(fake, train=True, params=params, method=domain)[0]
    loss = 0.5 * (target_loss(real_out, True, name) + target_loss(fake_out, False, name))
    metrics.update({f"d_loss_{domain}": loss, f"d_real_{domain}": jnp.mean(real_out)})
    metrics[f"d_fake_{domain}"] = jnp.mean(fake_out)
  return metrics["d_loss_a"] + metrics["d_loss_b"], metrics


def train_step(state: GANState, batch, *, config) -> tuple[GANState, dict]:
  """One update of both generators, then of both discriminators (the reference's order)."""
  key = jax.random.fold_in(state.key, state.step)
  jitter_a, jitter_b, pool_key_a, pool_key_b = jax.random.split(key, 4)
  crop, flip = config.data.resolution, config.data.flip
  (a,) = translation.random_jitter([batch["a"]], jitter_a, crop, flip)
  (b,) = translation.random_jitter([batch["b"]], jitter_b, crop, flip)

  (_, (fake_a, fake_b, metrics)), grads = jax.value_and_grad(generator_loss, has_aux=True)(
    state.g.params, state.g, state.d, a, b, config=config
  )
  g = state.g.apply_gradients(grads=grads)

  extra = dict(state.extra)
  fake_a, extra["pool_a"], extra["pool_size_a"] = query_pool(
    extra["pool_a"], extra["pool_size_a"], jax.lax.stop_gradient(fake_a), pool_key_a
  )
  fake_b, extra["pool_b"], extra["pool_size_b"] = query_pool(
    extra["pool_b"], extra["pool_size_b"], jax.lax.stop_gradient(fake_b), pool_key_b
  )
  (d_loss, d_metrics), grads = jax.value_and_grad(discriminator_loss, has_aux=True)(
    state.d.params, state.d, a, b, fake_a, fake_b, config=config
  )
  d = state.d.apply_gradients(grads=grads)
  metrics.update(d_metrics, d_loss=d_loss)
  return state.replace(step=state.step + 1, g=g, d=d, extra=extra), metrics


def generate(state: GANState, inputs: jax.Array, key: jax.Array | None = None) -> jax.Array:
  """G(inputs): domain A [N, R, R, C_a] -> domain B (InstanceNorm, no noise; ``key`` unused)."""
  del key
  return state.g.apply(inputs, train=False, method="a")[0]


def generate_b_to_a(state: GANState, inputs: jax.Array, key: jax.Array | None = None):
  """F(inputs): domain B [N, R, R, C_b] -> domain A."""
  del key
  return state.g.apply(inputs, train=False, method="b")[0]


def networks(params) -> dict:
  """One role's parameters as its two networks: "" for A's (G: A -> B; D_B) and "_b" for B's."""
  return {"": params["a_net"], "_b": params["b_net"]}


# The reference's roles -> (G or D, where in the TwoWay tree): G_A maps A -> B (our a_net), G_B
# B -> A; D_A judges domain B (``backward_D_A`` feeds it real_B and fake_B: our b_net) and D_B
# domain A (our a_net).
JUNYANZ_ROLES = {
  "G_A": ("g", "a_net"),
  "G_B": ("g", "b_net"),
  "D_A": ("d", "b_net"),
  "D_B": ("d", "a_net"),
}


def _junyanz_entries(config, network: str):
  if network == "g":
    return config.model.generator, junyanz.generator_entries(config.model.generator)
  return config.model.discriminator, junyanz.discriminator_entries(config.model.discriminator)


def _load_junyanz(config, state: GANState, files: dict, log) -> GANState:
  """The reference's G_A, G_B, D_A, D_B (those given) in ``state``."""
  for role, file in files.items():
    network, side = JUNYANZ_ROLES[role]
    section, entries = _junyanz_entries(config, network)
    model = network_weights.load_junyanz(
      getattr(state, network), section, entries, file, log, (side,)
    )
    state = state.replace(**{network: model})
  return state


def _dump_junyanz(config, state: GANState) -> dict:
  return {
    role: network_weights.dump(
      getattr(state, network), _junyanz_entries(config, network)[1], (side,)
    )
    for role, (network, side) in JUNYANZ_ROLES.items()
  }


WEIGHT_FORMATS = {
  "junyanz": WeightFormat(
    help="junyanz/pytorch-CycleGAN-and-pix2pix's CycleGAN: G_A.pth [G_B.pth [D_A.pth D_B.pth]]",
    files=tuple((role, f"latest_net_{role}.pth") for role in JUNYANZ_ROLES),
    required=1,
    load=_load_junyanz,
    dump=_dump_junyanz,
  )
}
