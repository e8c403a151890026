"""notebooks/quickstart.ipynb runs end to end (tiny models: GANS_JAX_NOTEBOOK_QUICK=1)."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import ROOT

NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_executes(tmp_path, monkeypatch):
  monkeypatch.setenv("GANS_JAX_NOTEBOOK_QUICK", "1")
  monkeypatch.setenv("GANS_JAX_NOTEBOOK_RUNS", str(tmp_path / "runs"))
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  client = NotebookClient(
    notebook,
    timeout=600,
    kernel_name="python3",
    resources={"metadata": {"path": str(NOTEBOOK.parent)}},
  )
  client.execute()  # Raises CellExecutionError, with the cell and traceback, on any failure.

  outputs = [
    output
    for cell in notebook.cells
    if cell.cell_type == "code"
    for output in cell.get("outputs", [])
  ]
  images = [o for o in outputs if "image/png" in o.get("data", {})]
  # Samples, loss curves, interpolation, exemplars, arithmetic, cGAN grid, pix2pix triples, the
  # imported pix2pix G's translations.
  assert len(images) == 8, len(images)
  text = "".join(o.get("text", "") for o in outputs)
  for expected in ("digits_confident_frac", "digits_requested_class_frac", "fd500_digits_test",
                   "report.html", "pix2pix_imported (step 0)"):  # fmt: skip
    assert expected in text, expected
  assert (tmp_path / "runs" / "dcgan" / "report.html").is_file()
  assert os.environ["GANS_JAX_NOTEBOOK_QUICK"] == "1"


@pytest.fixture(autouse=True)
def _no_pythonpath_surprises(monkeypatch):
  # The kernel imports the checkout's packages, as a user's would after `pip install -e .`.
  monkeypatch.setenv("PYTHONPATH", str(ROOT))
