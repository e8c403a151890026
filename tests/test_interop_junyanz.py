"""junyanz/pytorch-CycleGAN-and-pix2pix state dicts into the project's networks and back
(``gans_jax.interop.junyanz``), against PyTorch re-creations of the reference's modules written
with its attribute names, so that every state-dict key is the reference's."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import errors
from gans_jax.interop import junyanz, state_dicts
from gans_jax.models import cyclegan, pix2pix

torch = pytest.importorskip("torch")

from tests.torch_references import (  # noqa: E402 (after the importorskip)
  UnetGenerator,
  nlayer_discriminator,
  randomise,
  resnet_generator,
)


def _state(net, prefix=""):
  return {prefix + k: v.detach().numpy() for k, v in net.state_dict().items()}


def _compare(flax_net, variables, torch_net, x, atol=2e-5):
  ours = flax_net.apply(variables, jnp.asarray(x), train=False)
  with torch.no_grad():
    theirs = torch_net(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
  theirs = theirs[:, 0] if theirs.shape[1] == 1 else theirs.transpose(0, 2, 3, 1)
  np.testing.assert_allclose(np.asarray(ours), theirs, atol=atol)


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_a_unet_state_dict_gives_the_references_outputs(norm):
  torch.manual_seed(0)
  reference = randomise(UnetGenerator(3, 2, 6, 4, norm))
  net = pix2pix.UNetGenerator((64, 64, 2), num_downs=6, width=4, norm=norm)
  x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
  template = jax.tree.map(np.asarray, net.init(jax.random.key(0), jnp.asarray(x), train=False))
  state, dropped = junyanz.clean(_state(reference, "module."), norm)  # DataParallel's prefix.
  assert all(k.endswith("num_batches_tracked") for k in dropped)
  entries = junyanz.unet_entries(6, norm)
  variables = state_dicts.import_variables(template, entries, state, "G.pth")
  _compare(net, variables, reference, x)
  exported = state_dicts.export_state(variables, entries)
  assert set(exported) == set(reference.state_dict())  # Every key of the reference's.
  reference.load_state_dict({k: torch.from_numpy(v) for k, v in exported.items()}, strict=True)
  again = state_dicts.import_variables(template, entries, junyanz.clean(exported, norm)[0], "G")
  jax.tree.map(np.testing.assert_array_equal, again, variables)  # Bit-exact round trip.


def test_instance_norm_running_statistics_are_dropped_as_the_reference_loader_does():
  """An older checkpoint (InstanceNorm with running statistics) imports with them dropped, and
  the outputs are the reference's with per-image statistics: what its test script computes after
  its loader pops the same keys. Using them instead changes the outputs."""
  torch.manual_seed(1)
  tracked = randomise(resnet_generator(3, 3, 4, 2, "instance", tracked=True))
  per_image = resnet_generator(3, 3, 4, 2, "instance", tracked=False).eval()
  per_image.load_state_dict(
    {k: v for k, v in tracked.state_dict().items() if "running" not in k and "batches" not in k}
  )
  state, dropped = junyanz.clean(_state(tracked), "instance")
  assert len([k for k in dropped if k.endswith("running_mean")]) == 1 + 2 + 2 * 2 + 2
  net = cyclegan.ResnetGenerator((32, 32, 3), num_blocks=2, width=4)
  x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  template = jax.tree.map(np.asarray, net.init(jax.random.key(0), jnp.asarray(x), train=False))
  entries = junyanz.resnet_entries(2, "instance")
  variables = state_dicts.import_variables(template, entries, state, "G")
  _compare(net, variables, per_image, x)
  with torch.no_grad():
    inputs = torch.from_numpy(x.transpose(0, 3, 1, 2))
    assert (tracked(inputs) - per_image(inputs)).abs().max() > 1e-2  # They would matter.


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_patchgan_and_resnet_state_dicts_give_the_references_outputs(norm):
  torch.manual_seed(2)
  reference = randomise(nlayer_discriminator(6, 4, 3, norm))
  net = pix2pix.PatchDiscriminator(width=4, norm=norm)
  x = np.random.default_rng(2).uniform(-1, 1, (2, 40, 40, 6)).astype(np.float32)
  template = jax.tree.map(np.asarray, net.init(jax.random.key(0), jnp.asarray(x), train=False))
  state, _ = junyanz.clean(_state(reference), norm)
  variables = state_dicts.import_variables(template, junyanz.patchgan_entries(3, norm), state, "D")
  _compare(net, variables, reference, x)
  resnet = randomise(resnet_generator(3, 3, 4, 3, norm))
  net = cyclegan.ResnetGenerator((32, 32, 3), num_blocks=3, width=4, norm=norm)
  x = np.random.default_rng(3).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  template = jax.tree.map(np.asarray, net.init(jax.random.key(0), jnp.asarray(x), train=False))
  state, _ = junyanz.clean(_state(resnet), norm)
  variables = state_dicts.import_variables(template, junyanz.resnet_entries(3, norm), state, "G")
  _compare(net, variables, resnet, x)


def test_a_missing_key_a_wrong_shape_or_a_stray_key_is_named():
  reference = UnetGenerator(3, 3, 5, 4, "batch")
  net = pix2pix.UNetGenerator((32, 32, 3), num_downs=5, width=4)
  template = jax.tree.map(
    np.asarray, net.init(jax.random.key(0), jnp.zeros((1, 32, 32, 3)), train=False)
  )
  entries = junyanz.unet_entries(5, "batch")
  state, _ = junyanz.clean(_state(reference), "batch")
  missing = {k: v for k, v in state.items() if k != "model.model.3.bias"}
  with pytest.raises(errors.UsageError, match=r"G.pth: no 'model.model.3.bias'"):
    state_dicts.import_variables(template, entries, missing, "G.pth")
  wrong = dict(state, **{"model.model.0.weight": np.zeros((8, 3, 4, 4), np.float32)})
  with pytest.raises(errors.UsageError, match=r"\(8, 3, 4, 4\), the network's is \(4, 3, 4, 4\)"):
    state_dicts.import_variables(template, entries, wrong, "G.pth")
  stray = dict(state, **{"model.extra.weight": np.zeros(3, np.float32)})
  with pytest.raises(errors.UsageError, match="'model.extra.weight' .* has no place"):
    state_dicts.import_variables(template, entries, stray, "G.pth")
