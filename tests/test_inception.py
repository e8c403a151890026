"""The FID InceptionV3 port against pytorch-fid itself (random weights: the real file cannot be
downloaded here), the weight converter, folder FID and its errors."""

import numpy as np
import pytest
from PIL import Image

from gans_jax import main
from gans_jax.metrics import fid, frechet, inception, inception_torch

TOLERANCE = 1e-4  # Max |difference| / max |reference| per tap: the parity target.


@pytest.fixture(scope="module")
def state_dict():
  return inception_torch.random_state_dict(seed=0)


@pytest.fixture(scope="module")
def weights_file(state_dict, tmp_path_factory):
  """pytorch-fid's random state dict saved as a .pth and converted by the CLI."""
  import torch

  folder = tmp_path_factory.mktemp("weights")
  torch.save(state_dict, folder / "random.pth")
  assert (
    main.main(["convert-inception-weights", str(folder / "random.pth"), str(folder / "w.npz")]) == 0
  )
  return folder / "w.npz"


@pytest.fixture(scope="module")
def variables(weights_file):
  return inception.load_variables(weights_file)


def _relative_error(ours, reference):
  return float(np.abs(ours - reference).max() / np.abs(reference).max())


@pytest.mark.parametrize("size", [(299, 299), (32, 32), (64, 80), (320, 400)])
def test_every_tap_matches_pytorch_fid(size, state_dict, variables):
  """Upsampled, exact, non-square and downsampled inputs: same resize, same network."""
  import torch

  model, fc = inception_torch.pytorch_fid_model(state_dict, output_blocks=(0, 1, 2, 3))
  images = np.random.default_rng(sum(size)).random((3, *size, 3), dtype=np.float32)
  with torch.no_grad():
    maps = model(torch.from_numpy(images).permute(0, 3, 1, 2))
    reference = [m.mean((2, 3)) for m in maps]  # pytorch-fid's adaptive average pooling.
    reference.append(fc(reference[3]))
  ours = inception.extract(variables, images, inception.TAP_ORDER, batch_size=2)
  for name, expected in zip(inception.TAP_ORDER, reference, strict=True):
    expected = expected.numpy()
    assert ours[name].shape == expected.shape
    assert _relative_error(ours[name], expected) < TOLERANCE, name
  # The Inception Score's logits: the same layer without its bias.
  unbiased = inception.extract(variables, images, ("logits_unbiased",), batch_size=2)
  bias = state_dict["fc.bias"].numpy()
  assert _relative_error(unbiased["logits_unbiased"] + bias, ours["logits"]) < TOLERANCE


def test_uint8_and_grey_inputs_are_read_as_pytorch_fid_reads_files(variables):
  grey = np.random.default_rng(1).integers(0, 256, (2, 40, 40, 1), dtype=np.uint8)
  as_rgb_floats = np.repeat(grey, 3, -1).astype(np.float32) / 255.0
  first = inception.extract(variables, grey, ("pool1",))["pool1"]
  second = inception.extract(variables, as_rgb_floats, ("pool1",))["pool1"]
  np.testing.assert_array_equal(first, second)


def test_resize_matrix_is_torch_bilinear_without_antialiasing():
  import torch

  row = np.random.default_rng(2).random((1, 1, 1, 37), dtype=np.float32)
  for size in (11, 37, 90):
    expected = torch.nn.functional.interpolate(
      torch.from_numpy(row), size=(1, size), mode="bilinear", align_corners=False
    ).numpy()[0, 0, 0]
    ours = inception.interpolation_matrix(37, size) @ row[0, 0, 0]
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


def _write_folder(path, count, size, seed, shift):
  path.mkdir()
  rng = np.random.default_rng(seed)
  for i in range(count):
    # Smooth images with a per-set brightness shift, so the two sets differ measurably.
    base = rng.random((4, 4, 3)) * 0.6 + shift
    image = np.kron(base, np.ones((size // 4, size // 4, 1))) + rng.random((size, size, 3)) * 0.2
    Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).save(path / f"{i:03d}.png")
  return path


@pytest.fixture(scope="module")
def two_folders(tmp_path_factory):
  root = tmp_path_factory.mktemp("folders")
  return _write_folder(root / "a", 90, 32, 0, 0.0), _write_folder(root / "b", 80, 32, 1, 0.3)


@pytest.mark.parametrize("dims", [64, 192])
def test_folder_fid_matches_pytorch_fid(dims, two_folders, state_dict, weights_file):
  from pytorch_fid import fid_score

  paths = [str(p) for p in two_folders]
  with inception_torch.offline_weights(state_dict):
    expected = fid_score.calculate_fid_given_paths(paths, 50, "cpu", dims, num_workers=0)
  ours = fid.fid_of_paths(*paths, weights=weights_file, dims=dims)
  assert expected > 1.0
  assert abs(ours - expected) / expected < TOLERANCE


def test_stats_files_are_exchangeable_with_pytorch_fid(
  two_folders, state_dict, weights_file, tmp_path
):
  from pytorch_fid import fid_score

  a, b = (str(p) for p in two_folders)
  ours_npz, theirs_npz = tmp_path / "ours.npz", tmp_path / "theirs.npz"
  args = ["--inception-weights", str(weights_file), "--dims", "64"]
  assert main.main(["fid", "--save-stats", a, str(ours_npz), *args]) == 0
  assert main.main(["fid", "--save-stats", a, str(ours_npz), *args]) == 2  # Never overwritten.
  with inception_torch.offline_weights(state_dict):
    fid_score.save_fid_stats([b, str(theirs_npz)], 50, "cpu", 64, num_workers=0)
    theirs_on_ours = fid_score.calculate_fid_given_paths([str(ours_npz), b], 50, "cpu", 64, 0)
  ours_on_theirs = fid.fid_of_paths(a, theirs_npz, weights=weights_file, dims=64)
  assert abs(ours_on_theirs - theirs_on_ours) / theirs_on_ours < TOLERANCE


def test_frechet_distance_matches_pytorch_fid_sqrtm():
  from pytorch_fid import fid_score

  rng = np.random.default_rng(3)
  for dim in (8, 64, 256):
    a, b = rng.normal(size=(2, dim, 2 * dim))
    sigma1, sigma2 = a @ a.T / dim, b @ b.T / dim + np.eye(dim) * 0.1
    mu1, mu2 = rng.normal(size=(2, dim))
    expected = fid_score.calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
    ours = frechet.frechet_distance(mu1, sigma1, mu2, sigma2)
    assert abs(ours - expected) / expected < 1e-6


def test_streamed_statistics_equal_numpy_on_all_features():
  features = np.random.default_rng(4).normal(5.0, 2.0, size=(1003, 16))
  moments = frechet.moments_init(16)
  for start in range(0, 1003, 100):
    moments = frechet.moments_update(moments, features[start : start + 100])
  mu, sigma = frechet.moments_statistics(moments)
  np.testing.assert_allclose(mu, features.mean(0), rtol=1e-12)
  np.testing.assert_allclose(sigma, np.cov(features, rowvar=False), rtol=1e-10, atol=1e-12)


def test_missing_weights_name_the_download_and_the_converter(tmp_path, two_folders, capsys):
  missing = tmp_path / "nowhere.npz"
  code = main.main(["fid", *map(str, two_folders), "--inception-weights", str(missing)])
  err = capsys.readouterr().err.strip()
  assert code == 2 and len(err.splitlines()) == 1
  assert str(missing) in err and inception.PYTORCH_FID_URL in err
  assert "gans-jax convert-inception-weights" in err


def test_environment_variable_names_the_weights(monkeypatch, tmp_path):
  monkeypatch.setenv(inception.WEIGHTS_ENV, str(tmp_path / "env.npz"))
  with pytest.raises(inception.WeightsError, match="env.npz"):
    inception.resolve_weights_path(None)


@pytest.mark.parametrize(
  ("make", "message"),
  [
    (lambda p: p.mkdir(), "No images in"),
    (lambda p: None, "Not a folder of images"),
  ],
)
def test_unusable_folders_are_clear_errors(make, message, tmp_path, weights_file, capsys):
  folder = tmp_path / "images"
  make(folder)
  code = main.main(["fid", str(folder), str(folder), "--inception-weights", str(weights_file)])
  err = capsys.readouterr().err.strip()
  assert code == 2 and len(err.splitlines()) == 1
  assert str(folder) in err and message in err


def test_images_of_mixed_sizes_name_the_odd_file(tmp_path, weights_file):
  folder = _write_folder(tmp_path / "mixed", 3, 16, 0, 0.0)
  Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(folder / "001.png")
  with pytest.raises(ValueError, match=r"001.png is 24x20, .*000.png is 16x16"):
    fid.fid_of_paths(folder, folder, weights=weights_file, dims=64)


def test_stats_file_without_mu_is_a_clear_error(tmp_path):
  bad = tmp_path / "bad.npz"
  np.savez(bad, mean=np.zeros(3), sigma=np.eye(3))
  with pytest.raises(ValueError, match=r"bad.npz has no 'mu' array \(it has \['mean', 'sigma'\]\)"):
    fid.fid_of_paths(bad, bad, dims=64)


def test_converter_rejects_other_layouts(state_dict, tmp_path):
  import torch

  with_aux = dict(state_dict, **{"AuxLogits.fc.weight": torch.zeros(1008, 768)})
  with pytest.raises(inception.WeightsError, match="AuxLogits.fc.weight"):
    inception_torch.convert_state_dict(with_aux)
  truncated = {k: v for k, v in state_dict.items() if not k.startswith("Mixed_7c")}
  with pytest.raises(inception.WeightsError, match="missing variable"):
    inception_torch.convert_state_dict(truncated)
  wrong = dict(state_dict, **{"fc.weight": torch.zeros(1000, 2048)})
  with pytest.raises(inception.WeightsError, match=r"params/fc/kernel has shape \(2048, 1000\)"):
    inception_torch.convert_state_dict(wrong)
  not_converted = tmp_path / "plain.npz"
  np.savez(not_converted, x=np.zeros(2))
  with pytest.raises(inception.WeightsError, match="not a converted FID Inception file"):
    inception.load_variables(not_converted)
