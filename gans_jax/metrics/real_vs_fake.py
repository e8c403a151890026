"""A real-vs-fake test standing in for the AMT studies of pix2pix (Isola et al. 2017, Tables 3-4)
and CycleGAN (Zhu et al. 2017, Table 1): a classifier two-sample test (Lopez-Paz & Oquab 2017).

People were shown one image at a time and asked whether it was real; the fraction of generated
images they took for real is the papers' score. Here a small fully-convolutional critic
(``PatchCritic``, a receptive field of 20 pixels: it judges texture and local structure, not
the layout) is trained to tell the held-out real targets of one half of
the held-out inputs from the model's outputs for the same inputs, then tested on the other half:
an image's score is its mean patch logit, real when positive. Test accuracy 0.5 means the
outputs cannot be told from real photos by such a critic; 1.0 that every one is caught. Under
the null hypothesis (outputs distributed as the targets) the number of correct test calls is
Binomial(n, 1/2), which gives the p-value.

Accuracy saturates: once every generated image is caught it cannot rank two models any more,
and a critic trained long enough catches the outputs of every model trained here (measured:
docs/design.md section 6). The critic's held-out cross-entropy keeps the ranking: for any critic
D, log 2 - (BCE on real + BCE on generated) / 2 is a lower bound on the Jensen-Shannon
divergence between the real and the generated 20x20 patches (Goodfellow et al. 2014, Theorem 1:
the criterion at the optimal D is 2 JSD - log 4), so ``js`` reports that bound on the held-out
half, in bits and floored at 0: 0 when the critic finds no difference, 1 at certain separation.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.stats

from gans_jax import errors

STEPS = 300
BATCH = 16  # Half real, half generated.
LEARNING_RATE = 1e-3
WIDTH = 16
SEED = 0


class PatchCritic(nn.Module):
  """[B, R, R, C] in [-1, 1], R >= 20 -> patch logits [B, P, P] (positive: real), one per
  20x20 window at a stride of 4 (P = 12 at R = 64)."""

  width: int = WIDTH

  @nn.compact
  def __call__(self, x):
    x = nn.leaky_relu(nn.Conv(self.width, (3, 3), padding="VALID")(x), 0.2)
    x = nn.leaky_relu(nn.Conv(2 * self.width, (4, 4), strides=2, padding="VALID")(x), 0.2)
    x = nn.leaky_relu(nn.Conv(2 * self.width, (4, 4), strides=2, padding="VALID")(x), 0.2)
    return nn.Conv(1, (3, 3), padding="VALID")(x)[..., 0]


def _train(real: np.ndarray, fake: np.ndarray, steps: int):
  """The critic's params after ``steps`` Adam steps on real (label 1) vs fake (label 0)
  images, each batch half of each, mirrored at random."""
  model = PatchCritic()
  init_key, pick_key, flip_key = jax.random.split(jax.random.PRNGKey(SEED), 3)
  params = model.init(init_key, real[:1])["params"]
  tx = optax.adam(LEARNING_RATE)
  opt_state = tx.init(params)
  labels = jnp.concatenate([jnp.ones(BATCH // 2), jnp.zeros(BATCH // 2)])

  @jax.jit
  def step(params, opt_state, x, key):
    mirrored = jax.random.bernoulli(key, 0.5, (len(x),))
    x = jnp.where(mirrored[:, None, None, None], x[:, :, ::-1], x)

    def loss_fn(p):
      logits = model.apply({"params": p}, x)
      targets = jnp.broadcast_to(labels[:, None, None], logits.shape)
      return optax.sigmoid_binary_cross_entropy(logits, targets).mean()

    updates, opt_state = tx.update(jax.grad(loss_fn)(params), opt_state)
    return optax.apply_updates(params, updates), opt_state

  real, fake = jnp.asarray(real, jnp.float32), jnp.asarray(fake, jnp.float32)
  for i in range(steps):
    real_key, fake_key = jax.random.split(jax.random.fold_in(pick_key, i))
    pick = lambda k, n: jax.random.randint(k, (BATCH // 2,), 0, n)
    x = jnp.concatenate([real[pick(real_key, len(real))], fake[pick(fake_key, len(fake))]])
    params, opt_state = step(params, opt_state, x, jax.random.fold_in(flip_key, i))
  return params


def two_sample_test(real: np.ndarray, fake: np.ndarray, steps: int | None = None) -> dict:
  """The classifier two-sample test of generated images against real ones.

  Args:
    real: held-out real targets [n, R, R, C] in [-1, 1], R >= 20.
    fake: the model's outputs for the same inputs, [n, R, R, C]; pair i shares input i.
    steps: the critic's training steps (default ``STEPS``; the metric's protocol fixes it).

  Returns:
    {"acc": correct calls on the second half of both sets (0.5 = indistinguishable),
    "js": the held-out lower bound on the Jensen-Shannon divergence of real and generated
    patches, in bits (0 = indistinguishable to the critic, 1 = certainly told apart),
    "p": P(at least that many correct calls | indistinguishable)}.

  Raises:
    errors.ConfigError: for fewer than 4 pairs, mismatched shapes or images under 20 pixels.
  """
  real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
  if real.shape != fake.shape or len(real) < 4:
    raise errors.ConfigError(
      f"The real-vs-fake test needs at least 4 pairs of equal shapes, got {real.shape} real "
      f"and {fake.shape} generated."
    )
  if min(real.shape[1:3]) < 20:
    raise errors.ConfigError(
      f"The real-vs-fake test needs images of at least 20x20, got {real.shape[1:3]}."
    )
  half = len(real) // 2  # Inputs 0..half-1 train the critic; the others test it.
  params = _train(real[:half], fake[:half], steps or STEPS)
  patch_logits = jax.jit(lambda p, x: PatchCritic().apply({"params": p}, x))
  real_logits = np.asarray(patch_logits(params, real[half:]), np.float64)
  fake_logits = np.asarray(patch_logits(params, fake[half:]), np.float64)
  real_scores, fake_scores = real_logits.mean((1, 2)), fake_logits.mean((1, 2))
  correct = int((real_scores > 0).sum() + (fake_scores <= 0).sum())
  trials = 2 * (len(real) - half)
  # Mean binary cross-entropies of the held-out patches: -log sigmoid(+-logit).
  cross_entropy = (np.logaddexp(0, -real_logits).mean() + np.logaddexp(0, fake_logits).mean()) / 2
  return {
    "acc": correct / trials,
    "js": max(0.0, float((np.log(2) - cross_entropy) / np.log(2))),
    "p": float(scipy.stats.binom.sf(correct - 1, trials, 0.5)),
  }
