"""The optimizers the papers used: pylearn2's momentum SGD with its momentum ramp and a floored
per-update decay (Goodfellow 2014), PyTorch's RMSprop (the WGAN reference), per-stage rates."""

import jax
import numpy as np
import pytest

from gans_jax import config_schema, errors, optimizers


def test_momentum_sgd_is_pylearn2s_recurrence_with_its_ramp_and_floored_decay():
  """v <- m_e v - lr_t g, lr_t = max(0.1 / 1.5^t, 0.02), m rising 0.5 -> 0.7 over epochs 1-3
  of 2 updates, written out by hand."""
  section = config_schema.optimizer_config(
    "sgd", 0.1, momentum=0.5, momentum_ramp=(0.7, 1, 3, 2), lr_decay_rate=1 / 1.5,
    lr_decay_steps=1, lr_min=0.02,
  )  # fmt: skip
  tx = optimizers.build_optimizer(section)
  params = {"w": np.array([1.0, -2.0], np.float32)}
  state = tx.init(params)
  velocity = np.zeros(2)
  for t in range(10):
    grads = {"w": np.array([0.3 * (t + 1), -0.7], np.float32)}
    updates, state = tx.update(grads, state, params)
    epoch = t // 2
    momentum = 0.5 + 0.2 * min(max((epoch - 1) / 2, 0.0), 1.0)
    rate = max(0.1 / 1.5**t, 0.02)
    velocity = momentum * velocity - rate * grads["w"]
    np.testing.assert_allclose(updates["w"], velocity, rtol=1e-5)


def test_plain_sgd_is_optaxs():
  section = config_schema.optimizer_config("sgd", 0.1)
  state = optimizers.build_optimizer(section).init({"w": np.zeros(2, np.float32)})
  assert not isinstance(state, optimizers.MomentumState)


@pytest.mark.parametrize("ramp", [(0.7, 3, 1, 10), (0.7, 1, 2), (0.7, 1, 3, 0)])
def test_a_malformed_momentum_ramp_is_named(ramp):
  section = config_schema.optimizer_config("sgd", 0.1, momentum=0.5, momentum_ramp=ramp)
  with pytest.raises(errors.ConfigError, match="momentum_ramp="):
    optimizers.build_optimizer(section)


def test_rmsprop_with_epsilon_outside_the_root_matches_pytorch():
  """WGAN's reference trains with torch.optim.RMSprop (alpha 0.99): lr g / (sqrt(v) + eps). On
  a clipped critic's tiny gradients the epsilon's place decides the step size."""
  torch = pytest.importorskip("torch")
  section = config_schema.optimizer_config("rmsprop", 5e-5, decay=0.99, eps_in_sqrt=False)
  tx = optimizers.build_optimizer(section)
  start = np.array([0.01, -0.005, 0.002], np.float32)
  params = {"w": start}
  state = tx.init(params)
  weight = torch.tensor(start, requires_grad=True)
  reference = torch.optim.RMSprop([weight], lr=5e-5, alpha=0.99, eps=1e-8)
  for t in range(6):
    grads = np.array([1e-7, -3e-8, 2e-6], np.float32) * (t + 1)
    updates, state = tx.update({"w": grads}, state, params)
    params = {"w": np.asarray(params["w"] + updates["w"])}
    weight.grad = torch.tensor(grads)
    reference.step()
    moved, reference_moved = params["w"] - start, weight.detach().numpy() - start
    np.testing.assert_allclose(moved, reference_moved, rtol=1e-5, atol=1e-10)
  inside = optimizers.build_optimizer(config_schema.optimizer_config("rmsprop", 5e-5, decay=0.99))
  first, _ = inside.update({"w": np.array([1e-7, 0, 0], np.float32)}, inside.init(params))
  # Outside the root the first step is lr g / (sqrt(0.01 g^2) + eps) = 2.5e-4 for g = 1e-7;
  # inside it (optax's default) eps dominates: a step a thousand times smaller.
  assert abs(float(first["w"][0])) < 1e-3 * 2.5e-4
  assert jax.tree.structure(state) == jax.tree.structure(inside.init(params))


def test_weight_decay_is_an_l2_penalty_added_to_the_gradient():
  """Newmu's DCGAN Regularizer(l2): g + l2 p, before Adam."""
  decayed = config_schema.optimizer_config("adam", 2e-4, b1=0.5, weight_decay=1e-2)
  plain = config_schema.optimizer_config("adam", 2e-4, b1=0.5)
  params = {"w": np.array([3.0, -1.0], np.float32)}
  grads = {"w": np.array([0.2, 0.1], np.float32)}
  tx, reference = optimizers.build_optimizer(decayed), optimizers.build_optimizer(plain)
  updates, _ = tx.update(grads, tx.init(params), params)
  penalised = {"w": grads["w"] + 1e-2 * params["w"]}
  expected, _ = reference.update(penalised, reference.init(params), params)
  np.testing.assert_allclose(updates["w"], expected["w"], rtol=1e-6)
