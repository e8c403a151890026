"""`gans-jax report`: one self-contained HTML page per run."""

import base64
import io
import json
import re

from PIL import Image

from gans_jax import experiment, main
from tests.helpers import tiny_config


def _images(page: str) -> dict[str, Image.Image]:
  """alt text -> decoded image of every embedded PNG."""
  found = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)">', page)
  return {alt: Image.open(io.BytesIO(base64.b64decode(data))) for alt, data in found}


def test_report_of_a_finished_run_shows_every_part(tmp_path, capsys):
  result = experiment.train_and_evaluate(tiny_config(), tmp_path, log=lambda _: None)
  assert main.main(["report", "--workdir", str(tmp_path)]) == 0
  page = (tmp_path / "report.html").read_text()
  assert str(tmp_path / "report.html") in capsys.readouterr().out

  for section in ("summary", "metrics", "loss-curves", "samples", "config"):
    assert f"id='{section}'" in page, section
  assert "family <b>gan</b>, dataset <b>digits</b>, 6 of 6 steps logged" in page
  # The evaluation table holds the run's final metrics, formatted to 4 significant digits.
  for name, value in result.eval_metrics.items():
    if isinstance(value, float):
      assert f"<th>{name}</th>" in page and f"<td>{value:.4g}</td>" in page, name
  images = _images(page)
  assert images["loss curves"].size == (600, 350)  # visualize.save_loss_curves: 6 x 3.5 in.
  # One figure per sample grid the run wrote (steps 3 and 6), in step order, as written.
  steps = [int(s) for s in re.findall(r"<figcaption>step (\d+)</figcaption>", page)]
  assert steps == [3, 6]
  on_disk = Image.open(tmp_path / "samples_000006.png")
  assert images["samples at step 6"].size == on_disk.size
  config = json.loads((tmp_path / "config.json").read_text())
  assert "&quot;num_steps&quot;: 6" in page and config["num_steps"] == 6


def test_report_of_a_directory_that_is_no_run_fails_clearly(tmp_path, capsys):
  assert main.main(["report", "--workdir", str(tmp_path)]) == 2
  assert "No config.json" in capsys.readouterr().err
