"""Perceptual path length and its LPIPS distance."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax.metrics import inception_torch, lpips, ppl


def test_parse_names_and_result_keys():
  spec = ppl.parse("ppl10k_w_full_lpips")
  assert spec == ppl.PPLSpec(10_000, "w", "full", "lpips")
  assert spec.key == "ppl10k_w_full_lpips"
  assert ppl.parse("ppl_z_digits", default_count=500).key == "ppl500_z_full_proxy_digits"
  assert ppl.parse("ppl2k_z_end").sampling == "end"
  with pytest.raises(ValueError, match="expected ppl"):
    ppl.parse("ppl10k_x")


def test_slerp_stays_on_the_sphere_and_hits_its_ends():
  a, b = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 16))
  for t in (0.0, 0.3, 1.0):
    out = ppl.slerp(a, b, jnp.full((5, 1), t))
    np.testing.assert_allclose(jnp.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
  np.testing.assert_allclose(ppl.slerp(a, b, jnp.zeros((5, 1))), ppl.normalize(a), atol=1e-6)
  np.testing.assert_allclose(ppl.slerp(a, b, jnp.ones((5, 1))), ppl.normalize(b), atol=1e-5)
  # Constant angular speed: the angle covered is t times the full angle.
  cosine = jnp.sum(ppl.normalize(a) * ppl.normalize(b), axis=1)
  half = ppl.slerp(a, b, jnp.full((5, 1), 0.5))
  np.testing.assert_allclose(
    jnp.arccos(jnp.sum(half * ppl.normalize(a), axis=1)), 0.5 * jnp.arccos(cosine), rtol=1e-4
  )


def test_path_length_of_a_linear_generator_in_w_is_closed_form():
  """G(w) = w reshaped to an image and d = squared L2: along the lerp the image moves by
  eps (w1 - w0), so d / eps^2 = ||w1 - w0||^2, whose mean for w ~ N(0, I_D) is 2 D."""
  dim = 16
  map_fn = lambda z: z  # noqa: E731
  synthesize = lambda w, key: w.reshape(-1, 4, 4, 1)  # noqa: E731
  squared = lambda a, b: np.sum(np.square(a - b).reshape(len(a), -1), axis=1)  # noqa: E731
  spec = ppl.PPLSpec(4000, "w", "full", "digits")
  value = ppl.path_length(map_fn, synthesize, squared, jax.random.PRNGKey(0), spec, dim, 500)
  # The 1 / 99 % filter trims the chi-square tails a little: the mean drops to ~0.99 of 2D.
  assert 0.95 * 2 * dim < value < 1.02 * 2 * dim, value


def test_filtered_mean_drops_the_tails():
  """1..1000 shuffled: the 1st percentile ('lower') is 10, the 99th ('higher') 991; the mean of
  10..991 is 500.5."""
  values = np.random.default_rng(0).permutation(np.arange(1.0, 1001.0))
  values[0] = 1e9 if values[0] > 991 else values[0]  # An outlier changes nothing.
  assert ppl.filtered_mean(values) == 500.5


def test_face_crop_takes_the_centre():
  images = np.arange(16 * 16, dtype=np.float32).reshape(1, 16, 16, 1)
  crop = ppl.face_crop(images)
  assert crop.shape == (1, 8, 8, 1)
  assert crop[0, 0, 0, 0] == images[0, 6, 4, 0]


def _torch_lpips():
  torch = pytest.importorskip("torch")
  inception_torch.import_torchvision()  # lpips imports torchvision (see that helper).
  lpips_torch = pytest.importorskip("lpips")
  torch.manual_seed(0)
  # Random VGG16 (its ImageNet weights cannot be downloaded here), the package's own lin weights.
  model = lpips_torch.LPIPS(net="vgg", pretrained=True, pnet_rand=True, verbose=False).eval()
  # Random VGG weights make tiny activations deep down: scale each conv to keep them O(1).
  with torch.no_grad():
    for name, parameter in model.net.named_parameters():
      if name.endswith("weight"):
        parameter.mul_(3.0)
  return torch, model


def test_lpips_matches_the_reference_package():
  torch, model = _torch_lpips()
  state = {k: v.numpy() for k, v in model.state_dict().items()}
  variables = lpips.convert(state)
  rng = np.random.default_rng(0)
  a = rng.uniform(-1, 1, (3, 64, 64, 3)).astype(np.float32)
  b = np.clip(a + rng.normal(0, 0.2, a.shape), -1, 1).astype(np.float32)
  with torch.no_grad():
    expected = model(
      torch.from_numpy(a.transpose(0, 3, 1, 2)), torch.from_numpy(b.transpose(0, 3, 1, 2))
    )
  expected = expected.numpy().reshape(-1)
  assert np.all(expected > 0)
  got = np.asarray(lpips.distance(variables, jnp.asarray(a), jnp.asarray(b)))
  np.testing.assert_allclose(got, expected, rtol=2e-4)
  assert np.asarray(lpips.distance(variables, jnp.asarray(a), jnp.asarray(a))).max() < 1e-6


def test_lpips_weights_round_trip_through_npz(tmp_path):
  torch, model = _torch_lpips()
  vgg = {f"features.{k.split('.', 2)[2]}": v for k, v in model.state_dict().items()
         if k.startswith("net.slice")}  # fmt: skip
  lin = {k: v for k, v in model.state_dict().items() if k.startswith("lin")}
  torch.save(vgg, tmp_path / "vgg16.pth")
  torch.save(lin, tmp_path / "vgg.pth")
  path = lpips.convert_files(tmp_path / "vgg16.pth", tmp_path / "vgg.pth", tmp_path / "l.npz")
  loaded = lpips.load_variables(path)
  direct = lpips.convert({k: v.numpy() for k, v in model.state_dict().items()})
  for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(direct), strict=True):
    np.testing.assert_array_equal(np.asarray(a), b)
  with pytest.raises(lpips.WeightsError, match="convert-lpips-weights"):
    lpips.resolve_weights_path(tmp_path / "missing.npz")
  with pytest.raises(KeyError, match="lin0.model.1.weight"):
    lpips.convert(vgg)
