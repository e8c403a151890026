"""``gans-jax import-weights`` / ``export-weights`` (``gans_jax.weights``): trained networks of
the PyTorch DCGAN example and of junyanz/pytorch-CycleGAN-and-pix2pix, saved by PyTorch from
re-creations of their modules (``tests.torch_references``, random weights), imported into run
directories whose samples and translations equal PyTorch's, exported back and read by PyTorch's
strict ``load_state_dict``; the restricted reader of PyTorch files; and the errors."""

import io
import json
import os
import pickle
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans_jax import main, runs, trainers
from gans_jax.interop import restricted_pickle, torch_files

torch = pytest.importorskip("torch")

from tests.torch_references import (  # noqa: E402 (after the importorskip)
  UnetGenerator,
  dcgan_discriminator,
  dcgan_generator,
  nlayer_discriminator,
  randomise,
  resnet_generator,
)


def _save(net, path, legacy=False, prefix=""):
  state = {prefix + k: v for k, v in net.state_dict().items()}
  torch.save(state, path, _use_new_zipfile_serialization=not legacy)
  return str(path)


def _nchw(x):
  return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def _nhwc(t):
  return t.detach().numpy().transpose(0, 2, 3, 1)


def _loaded(workdir):
  config, state = runs.load_run(workdir)
  family = trainers.get_family(config.family)
  return config, family, state


def test_the_reader_gives_torch_load_s_arrays_for_both_layouts(tmp_path):
  tensors = {
    "conv.weight": torch.randn(3, 4, 2, 2),
    "double": torch.randn(3).double(),
    "bn.num_batches_tracked": torch.tensor(7),
    "transposed": torch.randn(5, 6).t(),  # A strided view.
    "half": torch.randn(4).half(),
    "bfloat": torch.randn(4).bfloat16(),
    "mask": torch.tensor([True, False]),
  }
  shared = torch.randn(10)
  tensors.update(first=shared[2:5], second=shared[4:9])  # Two views of one storage.
  for legacy in (False, True):
    path = tmp_path / f"legacy{legacy}.pth"
    torch.save(tensors, path, _use_new_zipfile_serialization=not legacy)
    read = torch_files.read_state_dict(path)
    expected = torch.load(path, weights_only=True)
    assert list(read) == list(expected)
    for key, tensor in expected.items():
      want = tensor.float().numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy()
      got = read[key].astype(np.float32) if tensor.dtype == torch.bfloat16 else read[key]
      assert got.dtype == want.dtype and got.shape == want.shape, key
      np.testing.assert_array_equal(got, want)


class _Exploit:
  """A pickle payload that would create ``marker`` if anything ran it."""

  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (os.system, (f"touch {self.marker}",))


def test_a_malicious_pickle_is_refused_before_anything_runs(tmp_path):
  marker = tmp_path / "ran"
  payload = pickle.dumps({"weight": _Exploit(marker)}, protocol=2)
  archive = tmp_path / "evil.pth"
  with zipfile.ZipFile(archive, "w") as zipped:
    zipped.writestr("evil/data.pkl", payload)
  legacy = tmp_path / "evil_legacy.pth"
  header = [torch_files.LEGACY_MAGIC, torch_files.LEGACY_PROTOCOL, {"little_endian": True}]
  legacy.write_bytes(b"".join(pickle.dumps(x, protocol=2) for x in header) + payload)
  for path in (archive, legacy):
    with pytest.raises(restricted_pickle.UnsafePickleError, match=r"refused to load posix\.system"):
      torch_files.read_state_dict(path)
  assert not marker.exists()
  stream = io.BytesIO(payload)
  with pytest.raises(restricted_pickle.UnsafePickleError):
    restricted_pickle.load(stream, {}, "payload")
  assert not marker.exists()
  pickle.loads(payload)  # The same bytes unrestricted do run: the payload is real.
  assert marker.exists()


def test_the_example_s_64x64_networks_are_the_dcgan_modules_with_4x4_kernels():
  from gans_jax.interop import pytorch_dcgan, state_dicts
  from gans_jax.models import dcgan

  torch.manual_seed(0)
  net_g = randomise(dcgan_generator(nz=16, ngf=4, nc=3))
  net_d = randomise(dcgan_discriminator(nc=3, ndf=4, sigmoid=False), seed=1)
  g_state = {k: v.numpy() for k, v in net_g.state_dict().items()}
  assert pytorch_dcgan.generator_sizes(g_state, "netG") == pytorch_dcgan.Sizes(16, 4, 3, 64)
  z = np.random.default_rng(0).normal(size=(2, 16)).astype(np.float32)
  with torch.no_grad():
    images = _nhwc(net_g(torch.from_numpy(z[:, :, None, None])))
    logits = net_d(_nchw(images)).numpy().reshape(-1)
  for module, state, inputs, entries, want in (
    (dcgan.Generator((64, 64, 3), width=4), net_g, z, pytorch_dcgan.generator_entries(4), images),
    (dcgan.Discriminator(width=4), net_d, images, pytorch_dcgan.discriminator_entries(4), logits),
  ):
    template = jax.tree.map(np.asarray, module.init(jax.random.key(0), inputs, train=False))
    state = state_dicts.without_wrappers({k: v.numpy() for k, v in state.state_dict().items()})[0]
    variables = state_dicts.import_variables(template, entries, state, "net")
    np.testing.assert_allclose(module.apply(variables, inputs, train=False), want, atol=1e-5)


def test_pytorch_dcgan_files_import_sample_export_and_train_on(tmp_path, capsys):
  """At the default config's 32x32x1 (the example's pattern with one doubling less)."""
  torch.manual_seed(0)
  net_g = randomise(dcgan_generator(nz=16, ngf=8, nc=1, num_up=3))
  net_d = randomise(dcgan_discriminator(nc=1, ndf=4, num_down=3, sigmoid=False), seed=1)
  files = [_save(net_g, tmp_path / "netG.pth", legacy=True),  # A pre-1.6 file,
           _save(net_d, tmp_path / "netD.pth", prefix="module.")]  # DataParallel's.  # fmt: skip
  workdir = tmp_path / "imported"
  argv = ["import-weights", "--format", "pytorch-dcgan", "--config", "dcgan", *files]
  assert main.main([*argv, "--workdir", str(workdir)]) == 0
  assert "nz=16, ngf=8, ndf=4, 32x32x1" in capsys.readouterr().out
  config, family, state = _loaded(workdir)
  assert (config.model.latent_dim, config.ema_decay) == (16, 0.0)
  z = np.random.default_rng(0).normal(size=(4, 16)).astype(np.float32)
  ours = np.asarray(family.sample(family.sampling_state(state, config), jnp.asarray(z), None))
  with torch.no_grad():
    theirs = _nhwc(net_g(torch.from_numpy(z[:, :, None, None])))
    logits = net_d(_nchw(theirs)).numpy().reshape(-1)
  np.testing.assert_allclose(ours, theirs, atol=1e-5)
  np.testing.assert_allclose(np.asarray(state.d.apply(jnp.asarray(theirs), train=False)[0]), logits,
                             atol=1e-5)  # fmt: skip

  out = tmp_path / "exported"
  assert main.main(["export-weights", "--workdir", str(workdir), "--format", "pytorch-dcgan",
                    "--out", str(out)]) == 0  # fmt: skip
  for name, net in (("netG.pth", net_g), ("netD.pth", net_d)):
    exported = torch.load(out / name, weights_only=True)
    for key, tensor in net.state_dict().items():  # Bit-exact; strict loading accepts it.
      assert key.endswith("num_batches_tracked") or torch.equal(exported[key], tensor), key
    net.load_state_dict(exported, strict=True)
  again = tmp_path / "again"
  assert main.main([*argv[:5], str(out / "netG.pth"), str(out / "netD.pth"), "--workdir",
                    str(again)]) == 0  # fmt: skip
  jax.tree.map(np.testing.assert_array_equal, _loaded(again)[2].g.params, state.g.params)

  capsys.readouterr()
  assert main.main(["train", "--workdir", str(workdir), "--config.num_steps=2",
                    "--config.eval.protocol=none"]) == 0  # fmt: skip
  assert f"Resuming {workdir} from step 0." in capsys.readouterr().out
  assert int(_loaded(workdir)[2].step) == 2


def test_a_junyanz_pix2pix_generator_translates_as_the_reference_test_script(tmp_path):
  """pix2pix's test script runs G as in training (``model.eval()`` only with ``--eval``): each
  image normalised by its own statistics; dropout off here (``--no_dropout``) to compare. The
  export loads back into the reference's modules strictly, bit for bit."""
  torch.manual_seed(3)
  net_g = randomise(UnetGenerator(3, 3, 5, 4, "batch", use_dropout=False))
  net_d = randomise(nlayer_discriminator(6, 4, 3, "batch"), seed=4)
  files = [_save(net_g, tmp_path / "G.pth"), _save(net_d, tmp_path / "D.pth")]
  workdir = tmp_path / "pix2pix"
  argv = ["import-weights", "--format", "junyanz", "--config", "pix2pix:width=4,resolution=32",
          "--config.model.generator.dropout=0", *files, "--workdir", str(workdir)]  # fmt: skip
  assert main.main(argv) == 0
  config, family, state = _loaded(workdir)
  x = np.random.default_rng(3).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
  ours = np.asarray(family.translate(state, jnp.asarray(x), jax.random.key(0)))
  net_g.train()
  with torch.no_grad():
    theirs = np.concatenate([_nhwc(net_g(_nchw(x[i : i + 1]))) for i in range(len(x))])
  np.testing.assert_allclose(ours, theirs, atol=1e-5)
  assert json.loads((workdir / "imported.json").read_text())["fresh_initialisation"] == []

  out = tmp_path / "exported"
  assert main.main(["export-weights", "--workdir", str(workdir), "--format", "junyanz",
                    "--out", str(out)]) == 0  # fmt: skip
  for name, net, file in (
    ("latest_net_G.pth", net_g, files[0]),
    ("latest_net_D.pth", net_d, files[1]),
  ):
    exported = torch.load(out / name, weights_only=True)
    for key, tensor in torch.load(file, weights_only=True).items():  # (G's ran in train mode.)
      assert key.endswith("num_batches_tracked") or torch.equal(exported[key], tensor), key
    net.load_state_dict(exported, strict=True)


def test_junyanz_cyclegan_files_take_their_roles(tmp_path, capsys):
  """G_A maps A -> B, G_B back; D_A judges domain B and D_B domain A (the reference's
  ``backward_D_A``); G_A here is an older checkpoint with InstanceNorm running statistics."""
  torch.manual_seed(5)
  nets = {
    "G_A": randomise(resnet_generator(3, 3, 4, 2, "instance", tracked=True)),
    "G_B": randomise(resnet_generator(3, 3, 4, 2, "instance")),
    "D_A": randomise(nlayer_discriminator(3, 4, 3, "instance")),
    "D_B": randomise(nlayer_discriminator(3, 4, 3, "instance")),
  }
  files = [_save(net, tmp_path / f"latest_net_{role}.pth") for role, net in nets.items()]
  workdir = tmp_path / "cyclegan"
  config = "cyclegan:resolution=32,blocks=2,width=4"
  argv = ["import-weights", "--format", "junyanz", "--config", config]
  assert main.main([*argv, *files, "--workdir", str(workdir)]) == 0
  assert "the running statistics of 9 InstanceNorm layers dropped" in capsys.readouterr().out
  config, family, state = _loaded(workdir)
  per_image = resnet_generator(3, 3, 4, 2, "instance").eval()  # The reference loader's G_A.
  per_image.load_state_dict(
    {k: v for k, v in nets["G_A"].state_dict().items() if "running" not in k and "batches" not in k}
  )
  x = np.random.default_rng(5).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  with torch.no_grad():
    np.testing.assert_allclose(np.asarray(family.translate(state, jnp.asarray(x), None)),
                               _nhwc(per_image(_nchw(x))), atol=1e-5)  # fmt: skip
    np.testing.assert_allclose(np.asarray(family.translate_back(state, jnp.asarray(x), None)),
                               _nhwc(nets["G_B"](_nchw(x))), atol=1e-5)  # fmt: skip
    for role, side in (("D_A", "b"), ("D_B", "a")):
      ours = state.d.apply(jnp.asarray(x), train=False, method=side)[0]
      np.testing.assert_allclose(np.asarray(ours), nets[role](_nchw(x)).numpy()[:, 0], atol=1e-5)

  out = tmp_path / "exported"
  assert main.main(["export-weights", "--workdir", str(workdir), "--format", "junyanz",
                    "--out", str(out)]) == 0  # fmt: skip
  nets["G_A"] = per_image
  for role, net in nets.items():
    net.load_state_dict(torch.load(out / f"latest_net_{role}.pth", weights_only=True), strict=True)
  only_g = tmp_path / "only_g"
  assert main.main([*argv, files[0], "--workdir", str(only_g)]) == 0
  record = json.loads((only_g / "imported.json").read_text())
  assert record["fresh_initialisation"] == ["G_B", "D_A", "D_B"]
  assert (
    record["files"]["G_A"]["sha256"]
    == __import__("hashlib").sha256(open(files[0], "rb").read()).hexdigest()
  )


def _import_fails(argv, workdir, capsys, match):
  assert main.main([*argv, "--workdir", str(workdir)]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and match in err, err
  siblings = [p.name for p in workdir.parent.iterdir() if p.name.startswith(f".{workdir.name}")]
  assert not siblings


def test_bad_files_are_named_in_one_line_and_nothing_is_written(tmp_path, capsys):
  net_g = UnetGenerator(3, 3, 6, 4, "batch")
  good = _save(net_g, tmp_path / "G.pth")
  workdir = tmp_path / "run"
  junyanz = ["import-weights", "--format", "junyanz", "--config", "pix2pix:width=8"]
  _import_fails([*junyanz, good], workdir, capsys,
                "G.pth: 'model.model.0.weight' has shape (4, 3, 4, 4), the network's is "
                "(8, 3, 4, 4).")  # fmt: skip
  state = {k: v for k, v in net_g.state_dict().items() if k != "model.model.3.bias"}
  torch.save(state, tmp_path / "missing.pth")
  _import_fails(["import-weights", "--format", "junyanz", "--config", "pix2pix:width=4",
                 str(tmp_path / "missing.pth")], workdir, capsys,
                "missing.pth: no 'model.model.3.bias'")  # fmt: skip
  text = tmp_path / "notes.txt"
  text.write_text("not weights\n")
  _import_fails([*junyanz, str(text)], workdir, capsys, "notes.txt: neither a zip archive")
  _import_fails([*junyanz, str(tmp_path / "absent.pth")], workdir, capsys, "absent.pth: no such")
  _import_fails([*junyanz, good, good, good], workdir, capsys, "takes the files G [D]")
  _import_fails(["import-weights", "--format", "pytorch-dcgan", "--config", "pix2pix", good],
                workdir, capsys, "it is for gan configs")  # fmt: skip
  _import_fails(["import-weights", "--format", "pytorch-dcgan", "--config", "dcgan", good],
                workdir, capsys, "not the PyTorch DCGAN example's Generator")  # fmt: skip
  assert not workdir.exists()
  workdir.mkdir()
  (workdir / "kept.txt").write_text("mine")
  _import_fails([*junyanz, good], workdir, capsys, "is not empty")
  assert [p.name for p in workdir.iterdir()] == ["kept.txt"]
