"""NVlabs' StyleGAN pickles read without TensorFlow, dnnlib or running them
(``gans_jax.interop.stylegan1_pickle``): a pickle written by a stand-in of
``dnnlib.tflib.network.Network`` (its ``__getstate__``'s dict, ``dnnlib/tflib/network.py``) reads
back as plain arrays; the embedded build source and any other callable never run."""

import os
import pickle

import numpy as np
import pytest

from gans_jax import errors
from gans_jax.interop import restricted_pickle, stylegan1_pickle
from tests import dnnlib_stand_ins


def test_a_snapshot_reads_back_as_arrays_and_runs_nothing(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  Network = dnnlib_stand_ins.install(monkeypatch)
  rng = np.random.default_rng(0)
  mapping = Network("G_mapping", {"Dense0/weight": rng.normal(size=(4, 4)).astype(np.float32)},
                    {"latent_size": 4})  # fmt: skip
  synthesis = Network("G_synthesis", {"4x4/Const/const": np.ones((1, 8, 4, 4), np.float32),
                                      "lod": np.float32(0.0)}, {"resolution": 8})  # fmt: skip
  g = Network("G_style", {"dlatent_avg": np.zeros(4, np.float32)}, {"resolution": 8},
              {"mapping": mapping, "synthesis": synthesis})  # fmt: skip
  d = Network("D_basic", {"4x4/Dense1/bias": np.zeros(1, np.float32)}, {"resolution": 8})
  path = tmp_path / "snapshot.pkl"
  path.write_bytes(pickle.dumps((g, d, g), protocol=3))
  monkeypatch.undo()  # No dnnlib any more: the reader must not need it.
  monkeypatch.chdir(tmp_path)
  networks = stylegan1_pickle.read(path)
  assert list(networks) == ["G", "D", "Gs"]
  gs = networks["Gs"]
  assert gs.name == "G_style" and gs.static_kwargs == {"resolution": 8}
  synthesis = gs.components["synthesis"]
  assert synthesis.variables["4x4/Const/const"].shape == (1, 8, 4, 4)
  np.testing.assert_array_equal(
    gs.components["mapping"].variables["Dense0/weight"], mapping.state["variables"][0][1]
  )
  assert "os.system" in synthesis.build_module_src  # Kept as text,
  assert not (tmp_path / "ran_build_source").exists()  # never run.


class _Exploit:
  def __reduce__(self):
    return (os.system, ("touch exploited",))


def test_a_pickle_naming_anything_else_is_refused_before_it_runs(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  path = tmp_path / "evil.pkl"
  path.write_bytes(pickle.dumps((_Exploit(), 1, 2)))
  with pytest.raises(restricted_pickle.UnsafePickleError, match=r"evil.pkl: refused .*system"):
    stylegan1_pickle.read(path)
  assert not (tmp_path / "exploited").exists()
  other = tmp_path / "numbers.pkl"
  other.write_bytes(pickle.dumps([1, 2, 3]))
  with pytest.raises(errors.UsageError, match="holds a list, not StyleGAN's"):
    stylegan1_pickle.read(other)
