"""PacGAN's protocol over seeds (``gans_jax.trials``) and PacGAN's own 2-D settings as
``configs/gan.py``'s paper preset (fjxmlzn/PacGAN, synthetic_data_experiments)."""

import json
import math

import numpy as np
import pytest

from data_pipelines import embedded
from gans_jax import config_utils, errors, main, models, trials
from tests.helpers import ROOT

GAN = f"{ROOT}/configs/gan.py"
TINY = ["eval_num_samples=200", "log_every_steps=5", "sample_every_steps=10",
        "checkpoint_every_steps=10", "eval.every_steps=5"]  # fmt: skip


def test_pacgans_preset_is_its_codes_2d_experiment():
  config = config_utils.load_config(f"{GAN}:paper=true,dataset=grid25,pack=3")
  g, d = config.model.generator, config.model.discriminator
  assert config.dataset == "grid25" and config.num_steps == 400 * 1000
  assert config.batch_size == 100 * 3 and d.pack == 3  # Minibatches of 100 packs.
  assert (g.batch_norm, g.batch_norm_momentum, g.batch_norm_epsilon) == (True, 0.95, 1e-4)
  assert g.init_std == d.init_std == 0.02 and config.simultaneous_updates
  assert config.optim.g.learning_rate == config.optim.d.learning_rate == 1e-4
  assert config.optim.g.b1 == 0.8 and config.ema_decay == 0.0
  ring = config_utils.load_config(f"{GAN}:paper=true,dataset=ring8")
  assert ring.dataset == "ring8_pacgan" and ring.model.discriminator.pack == 2
  centers, sigma = embedded.mode_centers("ring8_pacgan")
  np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 1.0)
  assert sigma == 0.01
  # Goodfellow's MNIST model stays paper=true without a 2-D dataset.
  assert config_utils.load_config(f"{GAN}:paper=true").dataset == "tfds:mnist[:50000]"


def test_pacgans_networks_have_the_codes_parameter_counts(capsys):
  """Counted from the code's layer sizes: G 2 -> 400 x4 (no bias; BatchNorm scale and shift)
  -> 2 (bias); D maxout 200 x 5 pieces x3 on 2 x pack inputs -> 1."""
  g_count = 2 * 400 + 3 * 400 * 400 + 4 * 2 * 400 + 400 * 2 + 2
  d_count = (4 * 1000 + 1000) + 2 * (200 * 1000 + 1000) + 201
  main.run(["describe", "--config", f"{GAN}:paper=true,dataset=grid25"])
  counts = json.loads(capsys.readouterr().out.splitlines()[-1])
  assert (counts["generator_params"], counts["discriminator_params"]) == (g_count, d_count)


def test_normal_initialisation_has_the_asked_spread():
  import jax

  net = models.mlp.Generator((2,), hidden=(400,), output_activation="linear", init_std=0.02)
  params = net.init(jax.random.key(0), np.zeros((1, 2), np.float32))["params"]
  kernel = np.asarray(params["Dense_1"]["kernel"])
  assert abs(kernel.std() - 0.02) < 0.002 and np.all(np.asarray(params["Dense_1"]["bias"]) == 0)
  with pytest.raises(errors.ConfigError, match="init_range and init_std"):
    models.mlp.weight_init(0.05, 0.02)


def test_trials_train_each_seed_then_read_finished_ones_back(tmp_path):
  lines = []
  rows = trials.coverage_trials(
    f"{GAN}:steps=10", tmp_path, datasets=("ring8",), trials=2, overrides=TINY,
    log=lines.append,
  )  # fmt: skip
  assert [(r["dataset"], r["seed"], r["steps"]) for r in rows] == [
    ("ring8", 0, 10),
    ("ring8", 1, 10),
  ]
  for row in rows:
    assert row["seconds"] > 0 and not row["resumed"] and row["num_modes"] == 8
    assert 0 <= row["modes_covered"] <= 8 and sum(row["mode_counts"]) <= 200
    assert [step for step, *_ in row["curve"]] == [5, 10]
    assert row["curve"][-1][1:] == [row[name] for name in trials.MEASURES]
  for seed in (0, 1):  # Two seeds, two runs.
    assert (
      json.loads((tmp_path / "ring8" / f"seed{seed}" / "config.json").read_text())["seed"] == seed
    )
  saved = json.loads((tmp_path / "coverage_trials.json").read_text())
  assert saved == rows
  again = trials.coverage_trials(
    f"{GAN}:steps=10", tmp_path, datasets=("ring8",), trials=2, overrides=TINY,
    log=lines.append,
  )  # fmt: skip
  assert again == rows and sum("finished before" in line for line in lines) == 2


def test_the_summary_and_table_put_ours_beside_pacgans_rows():
  rows = [
    {"dataset": "grid25", "seed": s, "steps": 100, "seconds": 10.0 + s, "resumed": False,
     "modes_covered": m, "num_modes": 25, "high_quality_frac": q, "reverse_kl": k}
    for s, (m, q, k) in enumerate([(25, 0.9, 0.1), (23, 0.8, 0.3)])
  ]  # fmt: skip
  entry = trials.summary(rows)["grid25"]
  assert entry["modes_covered"] == pytest.approx((24.0, math.sqrt(2), 1.0))
  assert entry["reverse_kl"][0] == pytest.approx(0.2) and entry["seconds_max"] == 11.0
  table = trials.format_coverage(rows)
  assert "| gans_jax (2 trials, mean ± std (s.e.)) | 24.0 ± 1.4 (1.0) | 85.0 ± 7.1 (5.0) %" in table
  assert "| PacGAN4 (PacGAN's Table 1, 10 trials, mean ± s.e.) | 24.8 ± 0.2 | 93.6 ± 0.6 %" in table
  rows[0]["curve"] = [[50, 20, 0.5, 0.4], [100, 25, 0.9, 0.1]]
  rows[1]["curve"] = [[100, 23, 0.8, 0.3]]  # The second trial evaluated less often.
  assert trials.format_curve(rows).splitlines()[2:] == ["| 100 | 24.0 | 85.0 % | 0.20 |"]
  assert trials.format_trials(rows).splitlines()[1] == (
    "- grid25 seed 1: 23/25 modes, 80.0 % high quality, reverse KL 0.300, 100 steps, 11 s"
  )


@pytest.mark.parametrize(
  ("spec", "datasets", "message"),
  [
    (f"{GAN}:dataset=grid25", ("ring8",), "names a dataset"),
    (GAN, ("digits",), "Mode-coverage trials run on"),
  ],
)
def test_trials_refuse_what_they_cannot_run_before_training(spec, datasets, message, tmp_path):
  with pytest.raises(errors.ConfigError, match=message):
    trials.coverage_trials(spec, tmp_path, datasets=datasets, trials=1)
  assert not any(tmp_path.iterdir())


def test_the_coverage_command_prints_the_table(tmp_path, capsys):
  overrides = [f"--config.{item}" for item in TINY]
  args = ["coverage", "--config", f"{GAN}:steps=5", "--workdir", str(tmp_path), "--trials", "1",
          "--datasets", "grid25", *overrides]  # fmt: skip
  assert main.main(args) == 0
  out = capsys.readouterr().out
  assert "| Model | grid: modes (of 25) | grid: high quality | grid: reverse KL |" in out
  assert "| PacGAN2 (PacGAN's Table 1, 10 trials, mean ± s.e.) | 23.8 ± 0.7 | 91.3 ± 0.8 %" in out
  assert (tmp_path / "grid25" / "seed0" / trials.TRIAL_FILE).exists()
  assert (
    main.main(["coverage", "--config", f"{GAN}:dataset=ring8", "--workdir", str(tmp_path)]) == 2
  )
  assert "names a dataset" in capsys.readouterr().err
