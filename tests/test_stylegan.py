"""StyleGAN: layers against hand-computed values, growing, truncation, mixing, exact resume."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import checkpointing, config_utils, experiment, loop, runs
from gans_jax.models import stylegan as networks
from gans_jax.trainers import stages as stages_lib
from gans_jax.trainers import stylegan
from tests.helpers import ROOT

# 8x8 digits (two levels: 4x4 and 8x8), 8 channels, growing from 4x4: 2 stable steps, then the
# 8x8 level fades in over 4 steps and trains 2 more (batch 8: 16 images = 0.016 kimg).
TINY_STYLEGAN = [
  "data.resolution=8",
  "model.latent_dim=8",
  "model.generator.w_dim=8",
  "model.generator.mapping_layers=2",
  "model.generator.fmap_base=16",
  "model.generator.fmap_max=8",
  "model.discriminator.fmap_base=16",
  "model.discriminator.fmap_max=8",
  "progressive.initial_resolution=4",
  "progressive.batch_sizes=(8,8)",
  "progressive.learning_rates=(0.001,0.002)",
  "progressive.initial_kimg=0.016",
  "progressive.stable_kimg=0.016",
  "progressive.fade_kimg=0.032",
  "num_steps=8",
  "checkpoint_every_steps=100",
  "sample_every_steps=100",
  "log_every_steps=1",
  "eval_num_samples=16",
  "num_grid_samples=4",
]


def tiny_config(*extra):
  config = config_utils.load_config(f"{ROOT}/configs/stylegan.py:resolution=8")
  config_utils.apply_overrides(config, [*TINY_STYLEGAN, *extra])
  return config


def _tiny_networks(resolution=16, channels=1):
  g = networks.Generator(
    resolution=resolution, channels=channels, latent_dim=8, w_dim=8, mapping_layers=2,
    fmap_base=32, fmap_max=8,
  )  # fmt: skip
  d = networks.Discriminator(resolution=resolution, fmap_base=32, fmap_max=8)
  keys = {"params": jax.random.PRNGKey(0), "noise": jax.random.PRNGKey(1)}
  g_params = g.init(keys, jnp.zeros((4, 8)), method="every_level")["params"]
  images = jnp.zeros((4, resolution, resolution, channels))
  d_params = d.init(jax.random.PRNGKey(2), images, method="every_level")["params"]
  return g, g_params, d, d_params


def test_adain_against_hand_computed_values():
  """AdaIN (Karras 2019, Eq. 1) on a 2x2 map: each channel normalised over its 4 pixels, then
  scaled by 1 + y_s and shifted by y_b."""
  x = np.array([1.0, 2.0, 3.0, 6.0], np.float32).reshape(1, 2, 2, 1)
  x = np.concatenate([x, 10 * x], axis=-1)  # A second channel: the same map times 10.
  scale, bias = np.array([[0.5, -1.0]], np.float32), np.array([[1.0, 2.0]], np.float32)
  # mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5 for channel 0 (350 for channel 1).
  normalised = (np.array([1.0, 2.0, 3.0, 6.0]) - 3.0) / math.sqrt(3.5 + 1e-8)
  expected0 = 1.5 * normalised + 1.0
  expected1 = 0.0 * normalised + 2.0  # 1 + y_s = 0: the style removes the content.
  out = np.asarray(networks.adain(jnp.asarray(x), jnp.asarray(scale), jnp.asarray(bias)))
  np.testing.assert_allclose(out[0, :, :, 0].ravel(), expected0, rtol=1e-6)
  np.testing.assert_allclose(out[0, :, :, 1].ravel(), expected1, atol=1e-6)


def test_equalized_dense_scales_at_run_time():
  """y = x (W gain lrmul / sqrt(fan_in)) + b lrmul with the stored W ~ N(0, 1 / lrmul^2)."""
  layer = networks.EqualizedDense(2, gain=math.sqrt(2.0), lr_multiplier=0.01)
  params = layer.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))["params"]
  assert abs(float(jnp.std(layer.init(jax.random.PRNGKey(1), jnp.zeros((1, 400)))["params"]
                           ["kernel"])) - 100.0) < 5.0  # fmt: skip
  kernel = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, -1.0], [3.0, 0.5]], np.float32)
  params = {"kernel": jnp.asarray(kernel), "bias": jnp.array([10.0, -20.0])}
  x = np.array([[1.0, 1.0, 2.0, -1.0]], np.float32)
  # x . W = [1 + 2 - 3, 0 + 1 - 2 - 0.5] = [0, -1.5]; scale sqrt(2) * 0.01 / 2.
  scale = math.sqrt(2.0) * 0.01 / 2.0
  expected = np.array([[0.0 * scale + 0.1, -1.5 * scale - 0.2]])
  out = layer.apply({"params": params}, jnp.asarray(x))
  np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)


def test_equalized_conv_scales_at_run_time():
  """A 3x3 conv of a delta image reads the (flipped) kernel times gain / sqrt(9 C_in)."""
  layer = networks.EqualizedConv(1, kernel_size=3, gain=2.0)
  kernel = np.arange(18, dtype=np.float32).reshape(3, 3, 2, 1)
  params = {"kernel": jnp.asarray(kernel), "bias": jnp.array([0.5])}
  x = np.zeros((1, 3, 3, 2), np.float32)
  x[0, 1, 1, 1] = 1.0  # A delta in the centre of channel 1.
  out = np.asarray(layer.apply({"params": params}, jnp.asarray(x)))[0, :, :, 0]
  expected = kernel[::-1, ::-1, 1, 0] * 2.0 / math.sqrt(18.0) + 0.5
  np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_minibatch_stddev_against_numpy():
  x = np.random.default_rng(0).normal(size=(8, 2, 2, 3)).astype(np.float32)
  out = np.asarray(networks.minibatch_stddev(jnp.asarray(x), group_size=4))
  assert out.shape == (8, 2, 2, 4)
  np.testing.assert_array_equal(out[..., :3], x)
  for i in range(8):
    group = x[i % 2 :: 2]  # NVlabs' grouping: sample i with every (B / G)-th sample.
    expected = np.mean(np.sqrt(np.var(group, axis=0) + 1e-8))
    np.testing.assert_allclose(out[i, :, :, 3], expected, rtol=1e-5)


def test_generator_matches_the_papers_parameter_count():
  """The 1024x1024 FFHQ generator has NVlabs' 26,219,627 parameters (their README's G summary)."""
  g = networks.Generator(resolution=1024, channels=3)
  keys = {"params": jax.random.PRNGKey(0), "noise": jax.random.PRNGKey(1)}
  shapes = jax.eval_shape(lambda: g.init(keys, jnp.zeros((1, 512)), method="every_level"))
  assert sum(x.size for x in jax.tree.leaves(shapes)) == 26_219_627


@pytest.mark.parametrize("level", [1, 2])
def test_alpha_zero_equals_the_previous_level(level):
  """At alpha = 0 a grown G outputs the upsampled image of the previous level, and a grown D
  scores images as the previous level's D scores them pooled."""
  g, g_params, d, d_params = _tiny_networks()
  z = jax.random.normal(jax.random.PRNGKey(3), (4, 8))
  noise = {"noise": jax.random.PRNGKey(4)}
  grown = g.apply({"params": g_params}, z, level=level, alpha=0.0, rngs=noise)
  previous = g.apply({"params": g_params}, z, level=level - 1, alpha=1.0, rngs=noise)
  np.testing.assert_allclose(grown, networks.upsample(previous), atol=1e-6)
  half = g.apply({"params": g_params}, z, level=level, alpha=0.5, rngs=noise)
  assert float(jnp.max(jnp.abs(half - grown))) > 1e-3  # The new layers do contribute.

  images = jax.random.normal(jax.random.PRNGKey(5), grown.shape)
  grown_logits = d.apply({"params": d_params}, images, level=level, alpha=0.0)
  previous_logits = d.apply(
    {"params": d_params}, networks.downsample(images), level=level - 1, alpha=1.0
  )
  np.testing.assert_allclose(grown_logits, previous_logits, rtol=1e-5, atol=1e-6)


def _state(config=None):
  config = config or tiny_config()
  return config, stylegan.init_state(config, jax.random.PRNGKey(0), (8, 8, 1))


def test_truncation_psi_zero_maps_every_z_to_w_avg():
  config, state = _state()
  w_avg = jax.random.normal(jax.random.PRNGKey(1), (8,))
  state = state.replace(extra={**state.extra, "w_avg": w_avg, "level": jnp.asarray(1)})
  z = jax.random.normal(jax.random.PRNGKey(2), (4, 8))
  key = jax.random.PRNGKey(3)
  truncated = stylegan.generate(state, z, None, key, psi=0.0)
  of_w_avg = stylegan.synthesize(
    state, stylegan.broadcast_styles(state, jnp.tile(w_avg, (4, 1))), key
  )
  np.testing.assert_allclose(truncated, of_w_avg, atol=1e-6)
  untruncated = stylegan.generate(state, z, None, key)
  assert float(jnp.max(jnp.abs(untruncated - of_w_avg))) > 1e-3


def test_truncation_cutoff_leaves_fine_layers_alone():
  ws = jnp.arange(12.0).reshape(1, 3, 4)
  w_avg = jnp.ones(4)
  out = stylegan.truncate(ws, w_avg, 0.5, cutoff=2)
  np.testing.assert_allclose(out[:, :2], 1.0 + 0.5 * (ws[:, :2] - 1.0))
  np.testing.assert_array_equal(out[:, 2], ws[:, 2])


def test_style_mixing_with_identical_latents_equals_no_mixing():
  config, state = _state()
  state = state.replace(extra={**state.extra, "level": jnp.asarray(1)})
  z = jax.random.normal(jax.random.PRNGKey(2), (4, 8))
  w = stylegan.map_latents(state, z)
  key = jax.random.PRNGKey(3)
  for crossover in (1, 2, 3):
    mixed = stylegan.mix_styles(w, w, crossover, 4)
    np.testing.assert_array_equal(
      stylegan.synthesize(state, mixed, key), stylegan.generate(state, z, None, key)
    )
  other = stylegan.map_latents(state, z[::-1])
  mixed = stylegan.mix_styles(w, other, 2, 4)
  assert np.all(np.asarray(mixed[:, :2]) == np.asarray(w)[:, None])
  assert np.all(np.asarray(mixed[:, 2:]) == np.asarray(other)[:, None])


def test_growing_schedule_in_images_shown():
  """Stages from kimg: fade and stable lengths per batch size; data positions run on."""
  config = tiny_config("progressive.batch_sizes=(8,4)")
  stages = stylegan.stages(config, (8, 8, 1))
  assert [(s.first_step, s.batch_size, s.first_image, s.level, s.fade_steps) for s in stages] == [
    (0, 8, 0, 0, 0),
    (2, 4, 16, 1, 8),
  ]
  assert stages[1].learning_rate_scale == pytest.approx(2.0)
  assert stages_lib.stage_at(stages, 1) == stages[0]
  assert stages_lib.stage_at(stages, 500) == stages[1]
  alphas = [float(stylegan.fade_alpha(jnp.asarray(s), stages[1])) for s in (2, 4, 10, 11)]
  assert alphas == [0.0, 0.25, 1.0, 1.0]
  with pytest.raises(ValueError, match="batch_sizes has 1 entries"):
    stylegan.stages(tiny_config("progressive.batch_sizes=(8,)"), (8, 8, 1))


def test_reals_fade_between_resolutions():
  real = jax.random.normal(jax.random.PRNGKey(0), (2, 16, 16, 1))
  at_8 = networks.resize_to(real, 8)
  np.testing.assert_allclose(stylegan.real_at_level(real, 1, 1.0), at_8, atol=1e-6)
  coarse = networks.upsample(networks.downsample(at_8))
  np.testing.assert_allclose(stylegan.real_at_level(real, 1, 0.0), coarse, atol=1e-6)


def _params(state):
  return jax.tree.leaves((state.g.params, state.d.params, state.g_ema, state.extra))


def test_resume_mid_fade_is_bit_exact(tmp_path):
  """Stopped at step 4 (mid-fade: step 3 ran the 8x8 level at alpha 0.25) and resumed, the run
  reaches the same parameters, EMA, w_avg and alpha bit for bit as an uninterrupted one; both
  pass through the stage change (new data stream, new compiled step, optimizer restart)."""
  config = tiny_config("checkpoint_every_steps=4")
  straight = experiment.train_and_evaluate(config, tmp_path / "straight", log=lambda _: None)
  experiment.train_and_evaluate(config, tmp_path / "resumed", stop_after=4, log=lambda _: None)
  checkpointer = checkpointing.Checkpointer(tmp_path / "resumed")
  assert checkpointer.latest_step() == 4
  mid = checkpointer.restore(loop.initial_state(config, (8, 8, 1)), 4)
  checkpointer.close()
  assert float(mid.extra["alpha"]) == pytest.approx(1 / 4) and int(mid.extra["level"]) == 1
  resumed = experiment.train_and_evaluate(config, tmp_path / "resumed", log=lambda _: None)
  assert float(straight.state.extra["alpha"]) == 1.0
  for a, b in zip(_params(straight.state), _params(resumed.state), strict=True):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_optimizers_restart_at_both_ends_of_a_fade():
  """NVlabs' reset_opt_for_new_lod: Adam starts afresh where the new level starts fading in
  (step 2, alpha 0) and where the fade ends (step 6, the first at alpha 1), nowhere else."""
  config, state = _state()
  stages = stylegan.stages(config, (8, 8, 1))
  assert (stages[1].first_step, stages[1].fade_steps) == (2, 4)
  batch = {"x": jnp.zeros((8, 8, 8, 1)), "label": jnp.zeros(8, jnp.int32)}
  step = jax.jit(lambda s, b, stage: stylegan.train_step(s, b, config=config, stage=stage),
                 static_argnums=2)  # fmt: skip
  counts, alphas = [], []
  for index in range(8):
    state, metrics = step(state, batch, stages_lib.stage_at(stages, index))
    counts.append((int(state.g.opt_state[0].count), int(state.d.opt_state[0].count)))
    alphas.append(float(metrics["alpha"]))
  assert [g for g, _ in counts] == [1, 2, 1, 2, 3, 4, 1, 2]
  assert counts == [(g, g) for g, _ in counts]
  assert alphas == [1.0, 1.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]


def test_figure_commands_write_pngs(tmp_path):
  """style-mix, truncation and noise-map on a trained 16x16 run: PNGs of the documented layout;
  an unknown figure is refused by name. PPL of the same run through ``evaluate``."""
  from PIL import Image

  from gans_jax import main

  config = tiny_config(
    "data.resolution=16",
    "progressive.batch_sizes=(8,8,8)",
    "progressive.learning_rates=(0.001,0.001,0.001)",
    "num_steps=1",
  )
  experiment.train_and_evaluate(config, tmp_path / "run", log=lambda _: None)
  layouts = {"style-mix": (1 + 3 * 2, 1 + 5), "truncation": (2, 6), "noise-map": (2, 5)}
  for figure, (rows, columns) in layouts.items():
    out = tmp_path / f"{figure}.png"
    args = [figure, "--workdir", str(tmp_path / "run"), "--out", str(out), "--rows", "2"]
    assert main.main(args) == 0
    width, height = Image.open(out).size
    # visualize.image_grid: 2-pixel padding around 16-pixel images.
    assert (height, width) == (rows * 18 + 2, columns * 18 + 2), figure
  with pytest.raises(ValueError, match="Unknown figure 'bad-figure'"):
    runs.figure(tmp_path / "run", "bad-figure", tmp_path / "x.png")
  # PPL through `gans-jax evaluate --metrics`, with the offline proxy distance, named as such.
  result = runs.evaluate(tmp_path / "run", "ppl200_w_end_digits")
  assert set(result) == {"ppl200_w_end_proxy_digits"}
  assert 0.0 < result["ppl200_w_end_proxy_digits"] < float("inf")


def test_a_new_stage_reads_on_where_the_last_one_stopped():
  """Batch 8 for steps 0-1, then batch 4 from step 2: the example stream continues at position
  16, so no example is skipped or repeated at the change."""
  from data_pipelines import order

  def indices(step, batch, origin=(0, 0)):
    return order.example_indices(
      step, global_batch=batch, num_examples=100, seed=3, first_step=origin[0],
      first_position=origin[1],
    )  # fmt: skip

  stream = order.epoch_permutation(3, 0, 100)
  before = np.concatenate([indices(0, 8), indices(1, 8)])
  after = np.concatenate([indices(2, 4, (2, 16)), indices(3, 4, (2, 16))])
  np.testing.assert_array_equal(np.concatenate([before, after]), stream[:24])


def test_settings_stylegan_does_not_have_fail_clearly():
  with pytest.raises(ValueError, match="d_steps=2"):
    stylegan.stages(tiny_config("d_steps=2"), (8, 8, 1))


def test_metrics_draw_fresh_noise_inputs_and_grids_keep_fixed_ones():
  """As NVlabs' metrics (randomize_noise=True): every evaluation batch gets noise inputs of its
  own, from a stream of the batch's key beside its z (so z is what it was); grids and figures
  (key None) keep the fixed sampling noise."""
  from gans_jax import evaluation
  from gans_jax.metrics import evaluators

  config, state = _state()
  noisy = jax.tree_util.tree_map_with_path(
    lambda path, p: jnp.ones_like(p) if "noise_strength" in jax.tree_util.keystr(path) else p,
    state.g_ema,
  )
  state = state.replace(g_ema=noisy)
  z = jax.random.normal(jax.random.PRNGKey(3), (4, 8))
  fixed = stylegan.generate(state, z)
  np.testing.assert_array_equal(fixed, stylegan.generate(state, z, None, None))
  sample = evaluation.sampler(config, state)
  first = sample(z, np.zeros(4, np.int32), jax.random.PRNGKey(5))
  second = sample(z, np.zeros(4, np.int32), jax.random.PRNGKey(6))
  assert np.abs(first - second).max() > 1e-3  # Same z, other noise.

  seen = []

  def recording(z, labels, key):
    seen.append((np.asarray(z), np.asarray(jax.random.key_data(key))))
    return np.zeros((len(z), 2))

  key = jax.random.PRNGKey(7)
  evaluators.draw(recording, key, 6, 8, batch=3)
  batch_keys = jax.random.split(key, 2)
  for (z_seen, noise_key), batch_key in zip(seen, batch_keys, strict=True):
    np.testing.assert_array_equal(z_seen, jax.random.normal(batch_key, (3, 8)))
    assert not np.array_equal(noise_key, np.asarray(jax.random.key_data(batch_key)))
  assert not np.array_equal(seen[0][1], seen[1][1])
