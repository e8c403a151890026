"""``gans-jax import-weights --format stylegan1`` (``trainers.stylegan_weights``): an NVlabs
StyleGAN snapshot pickle (written with stand-ins of dnnlib's classes, random values under the
official names and shapes) becomes a run directory whose Gs samples the images of an independent
numpy forward pass of NVlabs' graph, whose D gives its scores, and which trains on."""

import json

import jax
import jax.numpy as jnp
import numpy as np

from gans_jax import main, runs, trainers
from tests import dnnlib_stand_ins
from tests import stylegan1_reference as reference

# The pickled networks' build arguments: 8x8 grey images, z 6, w 8, channels min(16 / 2^stage, 16).
KWARGS = {"resolution": 8, "num_channels": 1, "label_size": 0, "latent_size": 6,
          "dlatent_size": 8, "mapping_layers": 2, "mapping_fmaps": 8, "fmap_base": 16,
          "fmap_max": 16, "mapping_lrmul": 0.02}  # fmt: skip
CONFIG = "stylegan:resolution=8,channels=1"


def _random(shapes: dict, rng, scale=0.5) -> dict:
  return {name: (scale * rng.normal(size=shape)).astype(np.float32)
          for name, shape in shapes.items()}  # fmt: skip


def _networks(seed: int, lod=0.0, silent_noise=False):
  """(mapping, synthesis, own) variables of a G_style and D's, random."""
  rng = np.random.default_rng(seed)
  mapping, synthesis, discriminator = reference.official_shapes(
    8, channels=1, latent=6, w=8, mapping_layers=2, fmap_base=16, fmap_max=16
  )
  synthesis = _random(synthesis | reference.noise_shapes(8), rng) | {"lod": np.float32(lod)}
  if silent_noise:  # Sampling draws fresh noise; without it the images are a function of z.
    synthesis |= {name: 0 * value for name, value in synthesis.items() if "Noise" in name}
  own = {"lod": np.float32(lod), "dlatent_avg": rng.normal(size=8).astype(np.float32)}
  return (_random(mapping, rng), synthesis, own), _random(discriminator, rng)


def _import(tmp_path, pickle_path, name="imported", config=CONFIG):
  workdir = tmp_path / name
  argv = ["import-weights", "--format", "stylegan1", "--config", config, str(pickle_path)]
  return main.main([*argv, "--workdir", str(workdir)]), workdir


def test_a_snapshot_samples_judges_and_trains_as_nvlabs_networks(tmp_path, monkeypatch, capsys):
  g, d = _networks(0)
  gs, _ = _networks(1, silent_noise=True)
  path = dnnlib_stand_ins.write_snapshot(tmp_path / "network-snapshot.pkl", monkeypatch, g, d, gs,
                                         KWARGS)  # fmt: skip
  code, workdir = _import(tmp_path, path)
  assert code == 0
  assert "z 6, w 8, 2 mapping layers, channels min(16 / 2^stage, 16); level 8x8" in (
    capsys.readouterr().out
  )
  config, state = runs.load_run(workdir)
  assert (config.model.latent_dim, config.model.generator.mapping_lr_multiplier) == (6, 0.02)
  assert config.progressive.initial_resolution == 8
  assert json.loads((workdir / "imported.json").read_text())["fresh_initialisation"] == []
  np.testing.assert_array_equal(state.extra["w_avg"], gs[2]["dlatent_avg"])
  assert (int(state.extra["level"]), float(state.extra["alpha"])) == (1, 1.0)

  family = trainers.get_family("stylegan")
  z = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)
  images = np.asarray(family.sample(family.sampling_state(state, config), jnp.asarray(z), None))
  variables = gs[0] | gs[1]
  w = reference.mapping(z.astype(np.float64), variables, 2, lrmul=0.02)
  theirs = reference.synthesis(np.repeat(w[:, None], 4, axis=1), variables, 8)
  np.testing.assert_allclose(images, theirs.transpose(0, 2, 3, 1), atol=1e-4)
  scores = state.d.apply_fn({"params": state.d.params}, jnp.asarray(images))
  np.testing.assert_allclose(
    np.asarray(scores), reference.discriminator(theirs, d, 8)[:, 0], rtol=1e-4, atol=1e-4
  )
  np.testing.assert_array_equal(state.g.params["mapping"]["dense_1"]["bias"], g[0]["Dense1/bias"])

  capsys.readouterr()
  assert main.main(["train", "--workdir", str(workdir), "--config.num_steps=2",
                    "--config.eval.protocol=none"]) == 0  # fmt: skip
  assert f"Resuming {workdir} from step 0." in capsys.readouterr().out
  assert int(runs.load_run(workdir)[1].step) == 2


def test_a_pickle_of_gs_alone_mid_fade(tmp_path, monkeypatch, capsys):
  """G starts as Gs, D fresh (and said so); lod 0.25 is the 8x8 level at alpha 0.75."""
  gs, _ = _networks(3, lod=0.25)
  path = dnnlib_stand_ins.write_snapshot(tmp_path / "gs.pkl", monkeypatch, None, None, gs, KWARGS)
  code, workdir = _import(tmp_path, path)
  out = capsys.readouterr().out
  assert code == 0 and "holds Gs alone" in out and "freshly initialised: D" in out
  assert "alpha 0.75 (training on starts after the fade)" in out
  config, state = runs.load_run(workdir)
  assert json.loads((workdir / "imported.json").read_text())["fresh_initialisation"] == ["D"]
  assert (int(state.extra["level"]), float(state.extra["alpha"])) == (1, 0.75)
  jax.tree.map(np.testing.assert_array_equal, state.g.params, state.g_ema)


def _fails(tmp_path, capsys, path, match, config=CONFIG):
  code, workdir = _import(tmp_path, path, "refused", config)
  err = capsys.readouterr().err.strip()
  assert code == 2 and len(err.splitlines()) == 1 and match in err, err
  assert not any(p.name.startswith((".refused", "refused")) for p in tmp_path.iterdir())


def test_wrong_pickles_are_named_in_one_line_and_nothing_is_written(tmp_path, monkeypatch, capsys):
  g, d = _networks(4)
  path = dnnlib_stand_ins.write_snapshot(tmp_path / "ok.pkl", monkeypatch, g, d, g, KWARGS)
  _fails(tmp_path, capsys, path, "ok.pkl makes 8x8x1 images; the config's data are 16x16x1",
         config="stylegan:resolution=16,channels=1")  # fmt: skip
  _fails(tmp_path, capsys, path, "--format stylegan1: it is for stylegan configs", config="dcgan")

  missing = (g[0], {k: v for k, v in g[1].items() if k != "8x8/Conv1/weight"}, g[2])
  path = dnnlib_stand_ins.write_snapshot(tmp_path / "m.pkl", monkeypatch, g, d, missing, KWARGS)
  _fails(tmp_path, capsys, path, "m.pkl: Gs G_synthesis: no variable '8x8/Conv1/weight'")

  wrong_d = d | {"4x4/Dense0/weight": np.zeros((64, 3), np.float32)}
  path = dnnlib_stand_ins.write_snapshot(tmp_path / "d.pkl", monkeypatch, g, wrong_d, g, KWARGS)
  _fails(tmp_path, capsys, path,
         "d.pkl: D: '4x4/Dense0/weight' has shape (64, 3), the network's is (128, 16)")  # fmt: skip

  path = dnnlib_stand_ins.write_snapshot(tmp_path / "n.pkl", monkeypatch, g, d, g,
                                         KWARGS | {"use_noise": False})  # fmt: skip
  _fails(tmp_path, capsys, path, "built with use_noise=False")
  (tmp_path / "text.pkl").write_text("not a pickle")
  _fails(tmp_path, capsys, tmp_path / "text.pkl", "text.pkl")
