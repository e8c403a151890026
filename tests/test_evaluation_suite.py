"""Named metrics (fid/is/kid/pr on Inception or the digits classifier): grammar, agreement with
the pytorch-fid-style folder FID on the same pixels, the reference cache, the CLI and periodic
evaluation during training."""

import json

import jax
import numpy as np
import pytest
from PIL import Image

from gans_jax import main
from gans_jax.metrics import feature_scores, fid, inception, registry, suite
from tests.helpers import TINY_DCGAN


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
  """Randomly initialised FID InceptionV3 weights (the real ones cannot be downloaded here)."""
  path = tmp_path_factory.mktemp("inception") / "random.npz"
  inception.save_variables(inception.init_variables(seed=0), path)
  return path


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
  monkeypatch.setattr(suite, "cache_root", lambda: tmp_path / "reference_features")
  return tmp_path / "reference_features"


def test_one_registry_routes_every_metric_name():
  grouped = registry.parse("kid1k_digits, ppl500_w_digits,fid10k,pr_selfsup", 2000)
  assert list(grouped) == ["suite", "ppl"]  # GRAMMARS order, whatever the names' order.
  assert [name for name, _ in grouped["suite"]] == ["kid1k_digits", "fid10k", "pr_selfsup"]
  assert grouped["suite"][2][1] == suite.MetricSpec("pr", 2000, "selfsup")
  assert grouped["ppl"][0][1].key == "ppl500_w_full_proxy_digits"
  assert registry.parse(" , ", 1000) == {}
  # A name no grammar claims shows them all; one a grammar claims gets that grammar's message.
  with pytest.raises(ValueError, match="Unknown metric 'ssim10k': expected one of KIND.*ppl"):
    registry.parse("fid10k,ssim10k", 1000)
  with pytest.raises(ValueError, match="Unknown PPL metric 'ppl10k_x'"):
    registry.parse("fid10k,ppl10k_x", 1000)
  with pytest.raises(ValueError, match="Unknown metric 'fid10m'"):
    registry.parse("fid10m", 1000)


def test_ppl_on_a_family_without_a_latent_space_names_those_with_one(tmp_path):
  from gans_jax import evaluation
  from tests.helpers import tiny_config

  with pytest.raises(
    ValueError, match=r"needs a run of a family with a mapping network \(stylegan\)"
  ):
    evaluation.named_evaluator(tiny_config(), "ppl1k_w_digits")


def test_metric_names_parse_with_their_protocol():
  specs = suite.parse_metrics("fid10k, is500,kid1k_digits,pr50k_inception,fd2k_digits,fd_digits")
  assert [(s.kind, s.count, s.detector, s.tag) for s in specs] == [
    ("fd", 10_000, "inception", "10k"),
    ("is", 500, "inception", "500"),
    ("kid", 1000, "digits", "1k"),
    ("pr", 50_000, "inception", "50k"),
    ("fd", 2000, "digits", "2k"),
    ("fd", 1000, "digits", "1k"),  # No count: the default (eval_num_samples).
  ]
  for bad in ("fid10m", "ssim10k", "fid0", "fid10k_vgg"):
    with pytest.raises(ValueError, match=f"Unknown metric '{bad}'"):
      suite.parse_metrics(bad)


def _save_pngs(folder, images):
  folder.mkdir()
  for i, image in enumerate(images):
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(folder / f"{i:04d}.png")


def test_suite_agrees_with_folder_fid_on_the_same_pixels(weights_file, private_cache, tmp_path):
  """The in-process FID of generated samples equals `gans-jax fid` (pytorch-fid's procedure) on
  the same samples and reference images saved as PNG files."""
  rng = np.random.default_rng(0)
  real = rng.integers(0, 256, (40, 16, 16, 1), dtype=np.uint8)

  def sampler(z, labels, key):  # A deterministic "generator" of smooth images in [-1, 1].
    z = np.asarray(z)
    return np.tanh(z[:, :16, None, None] * z[:, None, 16:32, None])

  calls = []

  def real_images():
    calls.append(1)
    return real

  detector = lambda: suite.inception_detector(weights_file, batch_size=50)
  evaluate = suite.metric_suite(
    suite.parse_metrics("fid30,is30,kid30,pr30"),
    {"inception": detector},
    {"train": real_images},
    latent_dim=32,
    batch=7,
  )
  key = jax.random.PRNGKey(3)
  result = evaluate(sampler, key)
  assert set(result) == {
    "fid30_train",
    "is30",
    "is30_std",
    "kid30_train",
    "kid30_train_std",
    "precision30_train",
    "recall30_train",
  }
  from gans_jax import visualize
  from gans_jax.metrics import evaluators

  samples = visualize.to_uint8(evaluators.draw(sampler, key, 30, 32, 7))
  _save_pngs(tmp_path / "fake", samples)
  _save_pngs(tmp_path / "real", real)
  folder_fid = fid.fid_of_paths(tmp_path / "fake", tmp_path / "real", weights=weights_file)
  assert result["fid30_train"] == pytest.approx(folder_fid, rel=1e-6)
  # Scores on the same features, recomputed directly.
  variables = inception.load_variables(weights_file)
  fake = inception.extract(variables, samples, ("pool3", "logits_unbiased"))
  real_features = inception.extract(variables, real, ("pool3",))["pool3"]
  assert result["is30"] == pytest.approx(feature_scores.inception_score(fake["logits_unbiased"])[0])
  assert (result["precision30_train"], result["recall30_train"]) == pytest.approx(
    feature_scores.precision_recall(real_features[:30], fake["pool3"])
  )
  # Reference features are cached by pixels and detector: a second evaluation reads the file.
  assert len(list(private_cache.glob("inception-*.npz"))) == 1
  again = evaluate(sampler, key)
  assert again == result and len(calls) == 2  # Pixels are re-read (they are the key) ...
  assert len(list(private_cache.glob("inception-*.npz"))) == 1  # ... features are not.


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("suite_run")
  overrides = [f"--config.{item}" for item in TINY_DCGAN]
  overrides += [
    "--config.eval.metrics=fd50_digits,is50_digits",
    "--config.eval.every_steps=2",
    "--config.eval.reference_count=60",
  ]
  assert main.main(["train", "--workdir", str(workdir), *overrides]) == 0
  return workdir


def test_training_evaluates_named_metrics_periodically(tiny_run):
  records = [json.loads(line) for line in (tiny_run / "metrics.jsonl").read_text().splitlines()]
  evals = [r for r in records if r["kind"] == "eval"]
  assert [r["step"] for r in evals] == [2, 4, 6]
  for record in evals:
    assert record["fd50_digits_test"] > 0 and record["is50_digits"] >= 1.0
    assert "digits_confident_frac100" in record  # The dataset's own evaluation runs too.


def test_evaluate_cli_with_inception_metrics(tiny_run, weights_file, private_cache, capsys):
  args = ["evaluate", "--workdir", str(tiny_run), "--metrics", "fid20,kid20,pr20,kid20_digits"]
  assert main.main([*args, "--inception-weights", str(weights_file)]) == 0
  result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
  assert {"fid20_train", "kid20_train", "precision20_train", "kid20_digits_test"} <= set(result)
  last = json.loads((tiny_run / "metrics.jsonl").read_text().splitlines()[-1])
  assert last["kind"] == "eval" and last["fid20_train"] == result["fid20_train"]


@pytest.mark.parametrize(
  ("metrics", "message"),
  [
    ("fid20", "FID Inception weights not found"),
    ("fid2o", "Unknown metric 'fid2o'"),
  ],
)
def test_evaluate_cli_errors(metrics, message, tiny_run, tmp_path, capsys):
  args = ["evaluate", "--workdir", str(tiny_run), "--metrics", metrics]
  code = main.main([*args, "--inception-weights", str(tmp_path / "missing.npz")])
  err = capsys.readouterr().err.strip()
  assert code == 2 and message in err and len(err.splitlines()) == 1
