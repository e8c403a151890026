"""The GAN trainer's step: k D updates per G update, EMA, one trace, named keys."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from gans_jax import config_utils, loop, trainers
from tests.helpers import ROOT, tiny_config


def batch_for(config, fill=0.1):
  n = config.batch_size * config.d_steps
  res, ch = config.data.resolution, config.data.channels
  return {"x": jnp.full((n, res, res, ch), fill), "label": jnp.zeros((n,), jnp.int32)}


def test_k_discriminator_steps_per_generator_step():
  config = tiny_config("d_steps=4")
  family = trainers.get_family("gan")
  state = loop.initial_state(config, (8, 8, 1))
  step = jax.jit(lambda s, b: family.train_step(s, b, config=config))
  for _ in range(2):
    state, metrics = step(state, batch_for(config))
  assert int(state.step) == 2
  assert int(state.g.step) == 2 and int(state.d.step) == 8
  assert set(metrics) == {"d_loss", "d_real", "d_fake", "g_loss"}


def test_train_step_traces_once_and_is_deterministic():
  config = tiny_config()
  family = trainers.get_family("gan")

  @jax.jit
  @chex.assert_max_traces(n=1)
  def step(state, batch):
    return family.train_step(state, batch, config=config)

  start = loop.initial_state(config, (8, 8, 1))
  first = second = start
  for _ in range(3):
    first, m1 = step(first, batch_for(config))
    second, m2 = step(second, batch_for(config))
  assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), first, second))
  # A different step number folds in a different key: the step's randomness changes.
  third, m3 = step(first.replace(step=first.step + 1), batch_for(config))
  assert float(m3["g_loss"]) != float(step(first, batch_for(config))[1]["g_loss"])


def test_ema_of_generator():
  config = tiny_config("ema_decay=0.999")
  family = trainers.get_family("gan")
  state = loop.initial_state(config, (8, 8, 1)).replace(step=jnp.asarray(30, jnp.int32))
  new, _ = family.train_step(state, batch_for(config), config=config)
  decay = 31 / 40  # Warm-up: min(0.999, (1 + t) / (10 + t)) at t = 30.
  expected = jax.tree.map(lambda e, p: decay * e + (1 - decay) * p, state.g.params, new.g.params)
  chex.assert_trees_all_close(new.g_ema, expected, rtol=1e-6)
  assert not np.allclose(jax.tree.leaves(new.g_ema)[0], jax.tree.leaves(new.g.params)[0])


def test_every_loss_trains_a_step_of_the_mlp_gan():
  for loss in ("minimax", "non_saturating", "wasserstein", "hinge", "least_squares"):
    config = config_utils.load_config(f"{ROOT}/configs/gan.py:dataset=ring8,loss={loss},batch=8")
    family = trainers.get_family("gan")
    state = loop.initial_state(config, (2,))
    batch = {"x": jnp.ones((config.batch_size, 2)), "label": jnp.zeros((config.batch_size,))}
    state, metrics = family.train_step(state, batch, config=config)
    assert all(np.isfinite(float(v)) for v in metrics.values()), loss


def test_batch_statistics_are_the_batchs_own_for_any_momentum():
  """A Dense -> BatchNorm(momentum 0.7) network: mean and variance of the Dense outputs."""
  import flax.linen as nn

  from gans_jax.train_state import model_state
  from gans_jax.trainers import gan

  class Net(nn.Module):
    @nn.compact
    def __call__(self, z, labels=None, train=False):
      return nn.BatchNorm(use_running_average=not train, momentum=0.7)(nn.Dense(3)(z))

  z = jax.random.normal(jax.random.PRNGKey(3), (64, 5)) * 2.0 + 1.0
  variables = Net().init(jax.random.PRNGKey(0), z)
  model = model_state(Net().apply, variables, tiny_config().optim.g)
  hidden = nn.Dense(3).apply({"params": variables["params"]["Dense_0"]}, z)
  stats = gan.batch_statistics(model, variables["params"], z, np.zeros(64, np.int32))
  np.testing.assert_allclose(stats["BatchNorm_0"]["mean"], hidden.mean(0), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(stats["BatchNorm_0"]["var"], hidden.var(0), rtol=1e-5)


def test_ema_samples_are_normalised_with_the_ema_weights_own_statistics():
  """After training moves G away from its slow EMA, the live running statistics no longer fit
  the EMA weights; with the standing statistics, inference on the standing batch equals the
  EMA in batch-statistics mode (the reference codes' sampling) on that batch."""
  from gans_jax.trainers import gan

  config = tiny_config("ema_decay=0.999")
  family = trainers.get_family("gan")
  state = loop.initial_state(config, (8, 8, 1))
  step = jax.jit(lambda s, b: family.train_step(s, b, config=config))
  for i in range(20):
    state, _ = step(state, batch_for(config, fill=0.1 + 0.04 * i))
  keys = gan.run_keys.split(jax.random.PRNGKey(gan.STANDING_STATISTICS_SEED), "z", "label")
  z, labels = gan.sample_latents(keys["z"], keys["label"], gan.STANDING_STATISTICS_SAMPLES, config)
  reference, _ = state.g.apply(z, labels=labels, train=True, params=state.g_ema)
  prepared = family.sampling_state(state, config)
  standing = gan.generate(prepared, z, labels)
  np.testing.assert_allclose(standing, reference, atol=2e-5)
  live = gan.generate(state, z, labels)
  assert float(jnp.abs(live - reference).mean()) > 20 * float(jnp.abs(standing - reference).max())
  # Without an EMA the state is sampled as it is.
  no_ema = tiny_config("ema_decay=0.0")
  plain = loop.initial_state(no_ema, (8, 8, 1))
  assert family.sampling_state(plain, no_ema) is plain
