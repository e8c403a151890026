"""Faithful by default: every field a config sets away from its paper is a declared departure
(field, the paper's value, ours, why), and a ``paper`` preset declares none in force."""

import pytest

from gans_jax import config_utils, errors, fidelity, main
from tests.helpers import ROOT

# Fields that say how a run is run, observed or documented, never what it trains.
NOT_TRAINING = (
  "checkpoint_every_steps",
  "checkpoint_every_secs",
  "sample_every_steps",
  "log_every_steps",
  "num_grid_samples",
  "eval",
  "eval_num_samples",
  "cpu_convolutions",
  "parallel",
  "distributed",
  "departures",
  "data.class_names",  # The dataset's own labels, read from it (digits' names, a folder's).
)


def _not_training(field: str) -> bool:
  return any(field == name or field.startswith(name + ".") for name in NOT_TRAINING)


def _leaves(tree: dict, prefix: str = "") -> dict:
  found = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      found.update(_leaves(value, prefix + key + "."))
    else:
      found[prefix + key] = value
  return found


def _with_paper_preset() -> list[str]:
  """The named configs that take ``paper=true``."""
  names = []
  for name in config_utils.named_configs():
    try:
      config_utils.load_config(f"{name}:paper=true")
    except errors.ConfigError as error:
      if "Unknown config argument 'paper'" in str(error):
        continue
      raise
    names.append(name)
  return names


# Files with several papers: the arguments that choose the other ones (WGAN without the penalty).
# gan.py's data selects its paper: PacGAN's preset (Lin et al. 2018) on the 2-D points (its bare
# default, ring8), Goodfellow's MNIST model otherwise (its bare paper=true).
OTHER_PAPERS = {
  "wgan": ["gp=false"],
  "gan": ["dataset=ring8", "dataset=grid25"],
}
SELECTED_BY_DATA = ("gan",)  # Tested through OTHER_PAPERS only.


def _presets() -> list[tuple[str, str]]:
  """(config name, the arguments choosing one of its papers) for every paper preset."""
  return [(name, "") for name in _with_paper_preset() if name not in SELECTED_BY_DATA] + [
    (name, arg) for name, args in OTHER_PAPERS.items() for arg in args
  ]


def _spec(name: str, *args: str) -> str:
  args = ",".join(filter(None, args))
  return f"{name}:{args}" if args else name


@pytest.mark.parametrize(("name", "variant"), _presets())
def test_the_default_departs_from_the_paper_preset_only_where_it_says_so(name, variant):
  """Every training field that differs is declared, with the paper preset's value; a declared
  section (a network that is another network) covers the fields under it."""
  default = config_utils.load_config(_spec(name, variant))
  paper = config_utils.load_config(_spec(name, "paper=true", variant))
  assert fidelity.departures(paper) == []
  declared = {d["field"]: d for d in fidelity.departures(default)}
  ours, theirs = (_leaves(config_utils.to_dict(c)) for c in (default, paper))
  for field in sorted(set(ours) | set(theirs)):
    if _not_training(field) or ours.get(field) == theirs.get(field):
      continue
    covering = [d for d in declared if field == d or field.startswith(d + ".")]
    assert covering, f"{name}: {field} = {ours.get(field)!r}, paper {theirs.get(field)!r}"
    section = declared[covering[0]]
    if section["field"] == field:
      assert section["paper"] == theirs[field] and section["why"]
    else:
      paper_leaves = _leaves(section["paper"], section["field"] + ".")
      assert paper_leaves.get(field) == theirs.get(field) and section["why"]
  assert all(_present(config_utils.to_dict(default), field) for field in declared)


def _present(tree: dict, dotted: str) -> bool:
  for part in dotted.split("."):
    if not isinstance(tree, dict) or part not in tree:
      return False
    tree = tree[part]
  return True


def test_an_override_back_to_the_papers_value_ends_that_departure():
  config = config_utils.load_config("sngan")
  config_utils.apply_overrides(config, ["num_steps=100000"])
  assert "num_steps" not in {d["field"] for d in fidelity.departures(config)}


def test_a_departure_of_a_field_the_config_lacks_is_refused():
  with pytest.raises(errors.ConfigError, match="names 'loss.nmae'"):
    fidelity.depart(config_utils.load_config("sngan"), "loss.nmae", "hinge", "typo")


def test_describe_prints_the_departures_then_the_counts(capsys):
  assert main.main(["describe", "--config", "sngan"]) == 0
  lines = capsys.readouterr().out.strip().splitlines()
  assert lines[0].startswith("Departures from the paper (field: paper -> ours; why):")
  assert any(line.startswith("  num_steps: 100000 -> 2000; to train in minutes") for line in lines)
  assert lines[-1].startswith('{"generator_params": ')
  assert main.main(["describe", "--config", f"{ROOT}/configs/sngan.py:paper=true"]) == 0
  assert capsys.readouterr().out.startswith("Departures from the paper: none.\n")
  # Two sections of one kind show the fields that differ; two different networks show whole.
  assert main.main(["describe", "--config", "gan:dataset=digits"]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert any(line.startswith("  optim.g: {name: 'sgd' -> 'adam', learning_rate: 0.1 -> 0.0001,")
             for line in lines)  # fmt: skip
  assert main.main(["describe", "--config", "gan"]) == 0  # The ring: against PacGAN's preset.
  ring_decay = "  optim.g: {learning_rate: 0.0001 -> 0.001, lr_linear_decay_steps: 0 -> 5000}; "
  assert ring_decay in capsys.readouterr().out
  assert main.main(["describe", "--config", "acgan"]) == 0
  assert "  model.generator: {'name': 'acgan', 'width': 768} -> {'name': 'dcgan'" in (
    capsys.readouterr().out
  )
  config = config_utils.load_config("sngan")
  config.departures = ()  # A config file that declares nothing against a paper preset.
  assert fidelity.format_departures(config).startswith("Departures from the paper: not declared")


def test_a_uniform_latent_prior_is_what_g_sees_of_standard_normal_z():
  import jax
  import numpy as np

  from gans_jax import models

  z = jax.random.normal(jax.random.PRNGKey(0), (20_000, 2))
  u = np.asarray(models.LATENT_PRIORS["uniform"](z))
  assert u.min() > -1.0 and u.max() < 1.0
  np.testing.assert_allclose(u.mean(0), 0.0, atol=0.02)
  np.testing.assert_allclose(u.var(0), 1 / 3, atol=0.01)  # U(-1, 1)'s variance.
  np.testing.assert_allclose(np.histogram(u[:, 0], 4, (-1, 1))[0] / 20_000, 0.25, atol=0.015)
  with pytest.raises(errors.ConfigError, match="Unknown model.latent_prior 'laplace'"):
    models.with_latent_prior(None, "laplace")


# The offline data each paper preset trains on in the tests (default: the embedded digits).
OFFLINE_DATA = {
  "stylegan": "dataset=digits,resolution=16,channels=1",
  "pix2pix": "dataset=scenes,resolution=32",  # Still BtoA: renderings -> maps.
  "cyclegan": "dataset=scenes_unpaired,resolution=32",
  "acgan": "dataset=digits,resolution=32",
}
# Convolutional presets train narrowed here (compiling them at full width costs a minute each);
# their full networks are counted layer by layer in the describe tests.
NARROWED = {
  name: ["model.generator.width=16", "model.discriminator.width=16"]
  for name in ("dcgan", "sngan", "wgan", "artgan", "pix2pix", "cyclegan", "artistic")
}
NARROWED["stylegan"] = [
  f"model.{role}.{field}" for role in ("generator", "discriminator")
  for field in ("fmap_base=64", "fmap_max=16")
] + ["progressive.batch_sizes=[4, 4, 4]"]  # fmt: skip
NARROWED["acgan"] = ["model.generator.width=96"]  # 1/8 of the table's 768 dense maps.
# StyleGAN's batch sizes are per level (above); every other family's is batch_size.
SMALL_BATCH = {"stylegan": []}


@pytest.mark.parametrize(("name", "variant"), _presets())
def test_every_paper_preset_trains_offline(name, variant, tmp_path):
  """paper=true on embedded data, everything else the paper's (priors, optimizers, losses,
  schedules, networks, the convolutional ones narrowed): two steps at a small batch, a
  checkpoint, then samples (points on the 2-D mixtures, or held-out translations) from it."""
  from gans_jax import experiment, runs

  data = "" if "dataset=" in variant else OFFLINE_DATA.get(name, "dataset=digits")
  config = config_utils.load_config(_spec(name, "paper=true", variant, data))
  overrides = ["num_steps=2", *SMALL_BATCH.get(name, ["batch_size=4"]),
               "checkpoint_every_steps=2", "sample_every_steps=2", "eval.protocol=none",
               "num_grid_samples=4"]  # fmt: skip
  config_utils.apply_overrides(config, [*overrides, *NARROWED.get(name, [])])
  result = experiment.train_and_evaluate(config, tmp_path, log=lambda _: None)
  assert int(result.state.step) == 2
  size, channels = config.data.resolution, config.data.channels
  if runs.translates(tmp_path):
    assert runs.translate(tmp_path, num=2)["outputs"].shape == (2, size, size, channels)
  elif "points" in (sampled := runs.sample(tmp_path, 2)):  # PacGAN's 2-D mixtures.
    assert sampled["points"].shape == (2, 2)
  else:
    assert runs.sample(tmp_path, 2)["images"].shape == (2, size, size, channels)


def test_the_dcgan_paper_presets_parameters_are_newmus_layer_sizes():
  """Newmu/dcgan_code's faces model (ngf = ndf = 128, 5x5, 64x64 RGB, nz = 100), layer by layer:
  G: gw 100 x 16,384, gg / gb per unit of the projection, then 5x5 deconvolutions 1024 -> 512
  -> 256 -> 128 with gains and biases, and 128 -> 3 without; D: 5x5 convolutions 3 -> 128 ->
  256 -> 512 -> 1024 (gains and biases after the first) and a 16,384 -> 1 dense head."""
  from gans_jax import runs

  generator = 100 * 16_384 + 2 * 16_384
  for c_in, c_out in ((1024, 512), (512, 256), (256, 128)):
    generator += c_in * c_out * 25 + 2 * c_out
  generator += 128 * 3 * 25
  discriminator = 3 * 128 * 25
  for c_in, c_out in ((128, 256), (256, 512), (512, 1024)):
    discriminator += c_in * c_out * 25 + 2 * c_out
  discriminator += 1024 * 4 * 4
  counts = runs.describe(config_utils.load_config("dcgan:paper=true"))
  assert (counts["generator_params"], counts["discriminator_params"]) == (generator, discriminator)
  assert (generator, discriminator) == (18_885_760, 17_232_768)


def test_goodfellows_mnist_networks_have_the_yamls_layer_sizes():
  """mnist.yaml: G 100 -> 1200 -> 1200 -> 784 (ReLU, ReLU, sigmoid); D 784 -> 240 maxout units
  of 5 pieces -> 240 x 5 -> 1, every layer with its biases (a maxout unit has one per piece)."""
  from gans_jax import runs

  generator = (100 * 1200 + 1200) + (1200 * 1200 + 1200) + (1200 * 784 + 784)
  discriminator = (784 * 1200 + 1200) + (240 * 1200 + 1200) + (240 + 1)
  counts = runs.describe(config_utils.load_config("gan:paper=true"))
  assert (counts["generator_params"], counts["discriminator_params"]) == (generator, discriminator)
  assert (generator, discriminator) == (2_503_984, 1_231_441)
  assert counts["generator_output_shape"] == [28, 28, 1]


def test_goodfellows_initialisation_dropout_and_noise():
  """Weights U(-irange, irange) with zero biases (G .05, D .005); D drops 20 % of the image and
  half of every hidden layer's units, the output unit's input included (pylearn2's dropout on
  every layer, scaled 1 / keep); z ~ U(-sqrt 3, sqrt 3)."""
  import flax.linen as nn
  import jax
  import jax.numpy as jnp
  import numpy as np

  from gans_jax import models

  config = config_utils.load_config("gan:paper=true")
  d = models.build_discriminator(config.model.discriminator, jnp.float32)
  params = d.init(jax.random.PRNGKey(0), jnp.zeros((2, 28, 28, 1)), train=False)["params"]
  kernels = [leaf for path, leaf in jax.tree_util.tree_leaves_with_path(params)
             if "kernel" in jax.tree_util.keystr(path)]  # fmt: skip
  assert all(float(jnp.abs(k).max()) <= 0.005 for k in kernels)
  largest = max(kernels, key=lambda k: k.size)  # The first maxout layer's 784 x 1200.
  assert float(jnp.abs(largest).max()) > 0.0049  # Uniform: its edge is reached.
  np.testing.assert_allclose(float(largest.std()), 0.005 / np.sqrt(3), rtol=0.01)
  biases = [leaf for path, leaf in jax.tree_util.tree_leaves_with_path(params)
            if "bias" in jax.tree_util.keystr(path)]  # fmt: skip
  assert all(float(jnp.abs(b).max()) == 0.0 for b in biases)

  # Dropout where pylearn2 puts it: every Dropout call's rate, and what it did to its input.
  calls = []

  def record(next_fun, args, kwargs, context):
    out = next_fun(*args, **kwargs)
    if isinstance(context.module, nn.Dropout) and context.method_name == "__call__":
      inputs = args[0]
      dropped = jnp.mean((out == 0) & (inputs != 0)) / jnp.mean(inputs != 0)
      kept = jnp.where(out != 0, out / jnp.where(inputs == 0, 1.0, inputs), jnp.nan)
      calls.append((context.module.rate, float(dropped), float(jnp.nanmean(kept))))
    return out

  with nn.intercept_methods(record):
    d.apply({"params": params}, jnp.ones((500, 28, 28, 1)), train=True,
            rngs={"dropout": jax.random.PRNGKey(2)})  # fmt: skip
  assert [rate for rate, _, _ in calls] == [0.2, 0.5, 0.5]  # Image, hidden 1, output unit.
  for rate, dropped, scale in calls:
    assert abs(dropped - rate) < 0.01 and abs(scale - 1 / (1 - rate)) < 1e-4
  z = jax.random.normal(jax.random.PRNGKey(1), (20_000, 3))
  u = np.asarray(models.LATENT_PRIORS[config.model.latent_prior](z))
  assert u.min() > -np.sqrt(3) and u.max() < np.sqrt(3)
  np.testing.assert_allclose(u.var(0), 1.0, atol=0.03)
  cube = np.asarray(models.LATENT_PRIORS["uniform_unit_cube"](z))
  assert cube.min() > 0.0 and cube.max() < 1.0
  np.testing.assert_allclose(cube.mean(0), 0.5, atol=0.01)


def _one_goodfellow_step(*overrides):
  import jax
  import jax.numpy as jnp

  from gans_jax import trainers

  config = config_utils.load_config("gan:paper=true,dataset=digits")
  small = [
    "data.resolution=8",
    "model.generator.hidden=[16, 16]",
    "model.discriminator.hidden=[8, 8]",
  ]
  config_utils.apply_overrides(config, [*small, *overrides])
  family = trainers.get_family("gan")
  state = family.init_state(config, jax.random.PRNGKey(0), (8, 8, 1))
  batch = {"x": jax.random.uniform(jax.random.PRNGKey(1), (6, 8, 8, 1), minval=-1),
           "label": jnp.zeros((6,), jnp.int32)}  # fmt: skip
  return family.train_step(state, batch, config=config)[0]


def test_simultaneous_updates_give_g_the_gradient_of_the_d_the_step_started_with():
  """goodfeli/adversarial evaluates both gradients at the same parameters: G's update is the one
  it would get if D did not move (D's learning rate 0), and not the alternating one."""
  import jax
  import numpy as np

  simultaneous = _one_goodfellow_step()
  frozen_d = _one_goodfellow_step("simultaneous_updates=False", "optim.d.learning_rate=0.0")
  alternating = _one_goodfellow_step("simultaneous_updates=False")
  # (Equal up to XLA's rounding: the two programs differ in D's update, fused differently.)
  close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-20)  # noqa: E731
  jax.tree.map(close, simultaneous.g.params, frozen_d.g.params)
  jax.tree.map(close, simultaneous.d.params, alternating.d.params)
  gaps = jax.tree.map(lambda a, b: float(abs(a - b).max() / abs(b).max()),
                      simultaneous.g.params, alternating.g.params)  # fmt: skip
  assert max(jax.tree.leaves(gaps)) > 0.01
  with pytest.raises(errors.ConfigError, match="needs d_steps=1"):
    _one_goodfellow_step("d_steps=2")


def test_the_wgan_paper_presets_networks_are_the_reference_codes_layer_sizes():
  """WGAN (martinarjovsky/WassersteinGAN, 64x64, ngf = ndf = 64): the PyTorch DCGAN without
  biases, BatchNorm scales and offsets on every hidden layer. WGAN-GP (gan_cifar.py, DIM 128,
  32x32): G dense 128 -> 8,192 with bias and per-unit BatchNorm, 5x5 deconvolutions 512 -> 256
  -> 128 -> 3 with biases (BatchNorm on the first two); critic 5x5 convolutions 3 -> 128 -> 256
  -> 512 with biases, a dense 8,192 -> 1 with bias."""
  from gans_jax import runs

  g = 100 * 512 * 16 + 2 * 512
  for c_in, c_out in ((512, 256), (256, 128), (128, 64)):
    g += c_in * c_out * 16 + 2 * c_out
  g += 64 * 3 * 16
  d = 3 * 64 * 16
  for c_in, c_out in ((64, 128), (128, 256), (256, 512)):
    d += c_in * c_out * 16 + 2 * c_out
  d += 512 * 16
  counts = runs.describe(config_utils.load_config("wgan:paper=true,gp=false"))
  assert (counts["generator_params"], counts["discriminator_params"]) == (g, d)
  assert counts["generator_output_shape"] == [64, 64, 3]

  g = 128 * 8192 + 8192 + 2 * 8192
  for c_in, c_out in ((512, 256), (256, 128)):
    g += 25 * c_in * c_out + c_out + 2 * c_out
  g += 25 * 128 * 3 + 3
  d = 25 * 3 * 128 + 128 + 25 * 128 * 256 + 256 + 25 * 256 * 512 + 512 + 8192 + 1
  counts = runs.describe(config_utils.load_config("wgan:paper=true"))
  assert (counts["generator_params"], counts["discriminator_params"]) == (g, d)
  assert counts["generator_output_shape"] == [32, 32, 3]


def test_tflib_initialisation_is_uniform_with_its_fans():
  """tflib (igul222/improved_wgan_training): U(-sqrt 3 s, sqrt 3 s); s = sqrt(4 / (fan_in +
  fan_out)) for convolutions (fan_out / stride^2) and transposed ones (fan_in / stride^2),
  sqrt(2 / (in + out)) for dense layers; BatchNorm scales 1, biases 0."""
  import jax
  import jax.numpy as jnp
  import numpy as np

  from gans_jax import models

  config = config_utils.load_config("wgan:paper=true")
  key = jax.random.PRNGKey(0)
  g = models.build_generator(config.model.generator, (32, 32, 3), jnp.float32)
  params = g.init(key, jnp.zeros((2, 128)), train=False)["params"]
  d = models.build_discriminator(config.model.discriminator, jnp.float32)
  d_params = d.init(key, jnp.zeros((2, 32, 32, 3)), train=False)["params"]
  expected = {
    ("Dense_0", "kernel"): np.sqrt(2 / (128 + 8192)),
    ("ConvTranspose_0", "kernel"): np.sqrt(4 / (512 * 25 / 4 + 256 * 25)),
    ("ConvTranspose_2", "kernel"): np.sqrt(4 / (128 * 25 / 4 + 3 * 25)),
  }
  d_expected = {
    ("Conv_0", "kernel"): np.sqrt(4 / (3 * 25 + 128 * 25 / 4)),
    ("Conv_2", "kernel"): np.sqrt(4 / (256 * 25 + 512 * 25 / 4)),
    ("Dense_0", "kernel"): np.sqrt(2 / (8192 + 1)),
  }
  for tree, table in ((params, expected), (d_params, d_expected)):
    for (layer, name), std in table.items():
      kernel = np.asarray(tree[layer][name])
      assert np.abs(kernel).max() <= std * np.sqrt(3) + 1e-7, layer
      np.testing.assert_allclose(kernel.std(), std, rtol=0.1 if kernel.size < 10_000 else 0.02)
      assert np.all(np.asarray(tree[layer]["bias"]) == 0.0)
  assert np.all(np.asarray(params["BatchNorm_0"]["scale"]) == 1.0)


def test_the_acgan_paper_presets_networks_are_the_appendix_tables():
  """Odena et al. 2017, Appendix A (128x128, K = 10): G dense 110 -> 768 maps at 8x8 with bias,
  5x5 transposed convolutions 768 -> 384 -> 256 -> 192 -> 3 with biases and BatchNorm on the
  first three; D 3x3 convolutions 3 -> 16 -> 32 -> 64 -> 128 -> 256 -> 512 (strides 2, 1, 2, 1,
  2, 1; BatchNorm after the first) and a dense 16 x 16 x 512 -> 1 + 10."""
  from gans_jax import runs

  g = 110 * 8 * 8 * 768 + 8 * 8 * 768
  for c_in, c_out in ((768, 384), (384, 256), (256, 192)):
    g += 25 * c_in * c_out + c_out + 2 * c_out
  g += 25 * 192 * 3 + 3
  d, c_in = 0, 3
  for index, c_out in enumerate((16, 32, 64, 128, 256, 512)):
    d += 9 * c_in * c_out + c_out + (2 * c_out if index else 0)
    c_in = c_out
  d += 16 * 16 * 512 * 11 + 11
  counts = runs.describe(config_utils.load_config("acgan:paper=true"))
  assert (counts["generator_params"], counts["discriminator_params"]) == (g, d)
  assert (g, d) == (16_531_971, 3_016_555)
  assert counts["generator_output_shape"] == [128, 128, 3]
