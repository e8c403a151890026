"""One self-contained HTML page per run directory (``gans-jax report``).

The page shows, top to bottom: a summary line (family, dataset, steps trained), the evaluation
metrics at every evaluated step, the loss curves (drawn afresh from ``metrics.jsonl``, so an
unfinished run gets them too), the sample grids over training with their steps, and the resolved
config. Images are embedded as base64 PNGs: the file can be mailed or opened anywhere.
"""

from __future__ import annotations

import base64
import html
import io
import json
import pathlib
import re

from gans_jax import errors, writers

REPORT_FILE = "report.html"
_STYLE = (
  "body{font-family:sans-serif;margin:2em;max-width:1100px}"
  "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
  "figure{display:inline-block;margin:0 1em 1em 0}pre{background:#f6f6f6;padding:1em}"
)


class ReportError(errors.UserError, ValueError):
  """The directory is not a run directory."""


def _png_tag(data: bytes, alt: str) -> str:
  encoded = base64.b64encode(data).decode("ascii")
  return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _cell(value) -> str:
  if isinstance(value, float):
    return f"{value:.4g}"
  return html.escape(json.dumps(value) if isinstance(value, list) else str(value))


def metrics_table(records: list[dict], kind: str) -> str:
  """An HTML table of the ``kind`` records ("eval" or "train"): one row per step, one column
  per metric (lists, such as class histograms, as text)."""
  rows = [r for r in records if r.get("kind") == kind]
  if not rows:
    return f"<p>No {kind} records.</p>"
  names = sorted({k for r in rows for k in r} - {"step", "kind"})
  head = "".join(f"<th>{html.escape(n)}</th>" for n in ["step", *names])
  body = "".join(
    "<tr>" + "".join(f"<td>{_cell(r.get(n, ''))}</td>" for n in ["step", *names]) + "</tr>"
    for r in rows
  )
  return f"<table><tr>{head}</tr>{body}</table>"


def _loss_curves_png(records: list[dict]) -> bytes | None:
  from gans_jax import visualize

  if not any(r.get("kind") == "train" for r in records):
    return None
  buffer = io.BytesIO()
  visualize.save_loss_curves(buffer, records)
  return buffer.getvalue()


def _sample_grids(workdir: pathlib.Path) -> list[tuple[int, bytes]]:
  """(step, PNG bytes) of every samples_<step>.png, in step order."""
  grids = []
  for path in workdir.glob("samples_*.png"):
    match = re.fullmatch(r"samples_(\d+)\.png", path.name)
    if match:
      grids.append((int(match.group(1)), path.read_bytes()))
  return sorted(grids)


def build(workdir) -> str:
  """The report page of ``workdir`` as an HTML string.

  Raises:
    ReportError: if ``workdir`` holds no config.json.
  """
  workdir = pathlib.Path(workdir)
  config_path = workdir / "config.json"
  if not config_path.is_file():
    raise ReportError(f"No config.json in {workdir}: not a run directory.")
  config = json.loads(config_path.read_text())
  records = writers.read_metrics(workdir)
  last_step = max((r["step"] for r in records), default=0)
  curves = _loss_curves_png(records)
  grids = _sample_grids(workdir)
  train_rows = [r for r in records if r.get("kind") == "train"]
  parts = [
    "<!doctype html><html><head><meta charset='utf-8'>",
    f"<title>gans_jax run {html.escape(workdir.name)}</title><style>{_STYLE}</style></head><body>",
    f"<h1>Run {html.escape(str(workdir))}</h1>",
    f"<p id='summary'>family <b>{html.escape(config.get('family', '?'))}</b>, dataset "
    f"<b>{html.escape(str(config.get('dataset', '?')))}</b>, {last_step} of "
    f"{config.get('num_steps', '?')} steps logged.</p>",
    "<h2 id='metrics'>Evaluation metrics</h2>",
    metrics_table(records, "eval"),
    "<h3>Last training metrics</h3>",
    metrics_table(train_rows[-1:], "train"),
    "<h2 id='loss-curves'>Loss curves</h2>",
    _png_tag(curves, "loss curves") if curves else "<p>No training records yet.</p>",
    "<h2 id='samples'>Samples over training</h2>",
  ]
  for step, data in grids:
    parts.append(
      f"<figure>{_png_tag(data, f'samples at step {step}')}"
      f"<figcaption>step {step}</figcaption></figure>"
    )
  if not grids:
    parts.append("<p>No sample grids yet.</p>")
  parts += [
    "<h2 id='config'>Config</h2>",
    f"<pre>{html.escape(json.dumps(config, indent=2, sort_keys=True))}</pre>",
    "</body></html>",
  ]
  return "\n".join(parts)


def write(workdir, out=None) -> pathlib.Path:
  """Writes the report (default ``workdir/report.html``, atomically); returns its path."""
  out = pathlib.Path(out) if out else pathlib.Path(workdir) / REPORT_FILE
  page = build(workdir)
  out.parent.mkdir(parents=True, exist_ok=True)
  writers.write_atomically(out, page)
  return out
