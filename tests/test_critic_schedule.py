"""WGAN's reference schedule and clamping order (martinarjovsky/WassersteinGAN's main.py): 100
critic updates per generator update for the first 25 and every 500th, through a second compiled
step chosen by the run's stages; the critic clamped before each of its updates."""

import jax
import numpy as np
import pytest

from gans_jax import config_utils, errors, experiment, trainers
from gans_jax.trainers import gan, stages
from tests.helpers import ROOT


def _reference_critic_iterations(num_generator_updates: int, d_iters: int = 5) -> list[int]:
  """main.py's rule, written from the reference: Diters = 100 if gen_iterations < 25 or
  gen_iterations % 500 == 0 else opt.Diters."""
  return [100 if g < 25 or g % 500 == 0 else d_iters for g in range(num_generator_updates)]


def test_the_schedules_stages_give_each_step_the_reference_count_and_its_own_data():
  config = config_utils.load_config(f"{ROOT}/configs/wgan.py:paper=true,gp=false")
  config_utils.apply_overrides(config, ["num_steps=1601"])
  schedule = stages.d_steps_stages(config)
  expected = _reference_critic_iterations(1601)
  got = [stages.stage_at(schedule, step).d_steps_of(config) for step in range(1601)]
  assert got == expected
  # Steps 0-24, 25-499, 500, 501-999, 1000, 1001-1499, 1500, 1501-1600: two programs.
  assert [s.first_step for s in schedule] == [0, 25, 500, 501, 1000, 1001, 1500, 1501]
  assert {s.program_key for s in schedule} == {("program", 0), ("program", 1)}
  # Each step reads its own critic batches: positions continue where the last step stopped.
  positions = np.cumsum([0] + [64 * k for k in expected])
  for stage in schedule:
    assert stage.first_image == positions[stage.first_step]
    assert stage.batch_size == 64 * stage.d_steps
  assert stages.d_updates_before(schedule, 1601, config) == sum(expected)
  assert stages.d_updates_before(schedule, 30, config) == 25 * 100 + 5 * 5


def test_a_bad_schedule_is_refused_by_name():
  config = config_utils.load_config(f"{ROOT}/configs/wgan.py:gp=false")
  config_utils.apply_overrides(config, ["d_steps_schedule=[100, 25]"])
  with pytest.raises(errors.ConfigError, match=r"d_steps_schedule=\(100, 25\): expected"):
    stages.d_steps_stages(config)


def _tiny_wgan(*overrides):
  config = config_utils.load_config(f"{ROOT}/configs/wgan.py:dataset=ring8,gp=false")
  config_utils.apply_overrides(config, [
    "num_steps=9", "batch_size=8", "d_steps=1", "d_steps_schedule=[3, 2, 4]",
    "model.generator.hidden=[16]", "model.discriminator.hidden=[16]",
    "checkpoint_every_steps=3", "sample_every_steps=100", "log_every_steps=1",
    "eval.protocol=none", *overrides,
  ])  # fmt: skip
  return config


def test_a_run_with_the_schedule_trains_each_step_its_count_and_resumes_exactly(tmp_path):
  """Steps 0, 1, 4 and 8 train the critic 3 times, the others once: 17 critic updates in 9
  steps, from two compiled programs (the loop names a new stage only when it compiles one: the
  second program, at step 2), and a run stopped inside a burst resumes bitwise."""
  lines = []
  whole = experiment.train_and_evaluate(_tiny_wgan(), tmp_path / "whole", log=lines.append)
  assert int(whole.state.d.step) == 3 * 4 + 5 and int(whole.state.g.step) == 9
  assert [line for line in lines if "stage" in line] == ["step 2: stage 1 (level 0, batch 8)."]
  experiment.train_and_evaluate(_tiny_wgan(), tmp_path / "cut", stop_after=4, log=print)
  resumed = experiment.train_and_evaluate(_tiny_wgan(), tmp_path / "cut", log=print)
  pairs = zip(jax.tree.leaves(whole.state), jax.tree.leaves(resumed.state), strict=True)
  assert all(np.array_equal(a, b) for a, b in pairs)


def test_clamping_before_each_update_updates_the_clamped_critic():
  """d_weight_clip_when="before": the update starts from clip(D) and leaves its result
  unclamped (G's update sees it so), as main.py clamps at the top of each critic iteration."""
  import jax.numpy as jnp

  config = _tiny_wgan("d_steps_schedule=[]", "d_weight_clip_when=before")
  unclipped = _tiny_wgan("d_steps_schedule=[]", "d_weight_clip=0.0")
  family = trainers.get_family("gan")
  state = family.init_state(config, jax.random.PRNGKey(0), (2,))
  state = state.replace(d=state.d.replace(params=jax.tree.map(lambda p: p * 50, state.d.params)))
  batch = {"x": jax.random.normal(jax.random.PRNGKey(1), (8, 2)), "label": jnp.zeros(8, jnp.int32)}
  before, _ = family.train_step(state, batch, config=config)
  clipped = state.replace(d=state.d.replace(params=gan.clip_weights(state.d.params, 0.01)))
  expected, _ = family.train_step(clipped, batch, config=unclipped)
  close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)  # noqa: E731
  jax.tree.map(close, before.d.params, expected.d.params)
  jax.tree.map(close, before.g.params, expected.g.params)
  assert max(float(jnp.abs(p).max()) for p in jax.tree.leaves(before.d.params)) > 0.01
  with pytest.raises(errors.ConfigError, match="d_weight_clip_when must be"):
    family.train_step(state, batch, config=_tiny_wgan("d_weight_clip_when=during"))


def test_a_long_burst_runs_as_one_scanned_update_equal_to_the_unrolled_one():
  """More than MAX_UNROLLED_D_STEPS critic updates run in a lax.scan; the result is the
  unrolled loop's up to rounding."""
  import jax.numpy as jnp

  config = _tiny_wgan("d_steps_schedule=[]", f"d_steps={gan.MAX_UNROLLED_D_STEPS + 1}")
  family = trainers.get_family("gan")
  state = family.init_state(config, jax.random.PRNGKey(0), (2,))
  n = 8 * config.d_steps
  batch = {"x": jax.random.normal(jax.random.PRNGKey(1), (n, 2)), "label": jnp.zeros(n, jnp.int32)}
  scanned, _ = jax.jit(lambda s, b: family.train_step(s, b, config=config))(state, batch)
  original = gan.MAX_UNROLLED_D_STEPS
  try:
    gan.MAX_UNROLLED_D_STEPS = config.d_steps
    unrolled, _ = jax.jit(lambda s, b: family.train_step(s, b, config=config))(state, batch)
  finally:
    gan.MAX_UNROLLED_D_STEPS = original
  assert int(scanned.d.step) == config.d_steps
  close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)  # noqa: E731
  jax.tree.map(close, scanned.d.params, unrolled.d.params)
  jax.tree.map(close, scanned.g.params, unrolled.g.params)
