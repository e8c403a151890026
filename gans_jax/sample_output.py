"""What ``gans-jax sample`` writes: one .npz of arrays, or a folder of PNGs with an index.html.

The folder follows the reference image-to-image code's test pages (junyanz's ``test.py``): one
PNG per image, named after the source file for translations, and a page that shows them in rows.
Either form is written whole or not at all: a folder is assembled next to its destination and
renamed into place.
"""

from __future__ import annotations

import html
import io
import os
import pathlib
import shutil

import numpy as np

from gans_jax import errors, visualize, writers

NPZ = "npz"
FOLDER = "folder"
# Translation arrays in the order of a page's columns, with their headings.
TRANSLATION_COLUMNS = (("inputs", "input"), ("outputs", "output"), ("targets", "target"))


def output_format(out: str) -> str:
  """``NPZ`` for ``*.npz``, ``FOLDER`` for ``DIR/``, an existing directory or a name without a
  suffix.

  Raises:
    UsageError: for any other suffix (``x.png`` would otherwise be a zip named .png).
  """
  path = pathlib.Path(out)
  if path.suffix.lower() == ".npz":
    return NPZ
  if str(out).endswith(os.sep) or path.is_dir() or not path.suffix:
    return FOLDER
  raise errors.UsageError(
    f"--out {out}: write F.npz (arrays) or DIR/ (PNGs and an index.html); {path.suffix!r} is "
    "neither."
  )


def write(out: str, arrays: dict[str, np.ndarray]) -> str:
  """Writes ``arrays`` (``runs.sample`` or ``runs.translate``) as ``out`` says.

  Args:
    out: F.npz or DIR/ (see ``output_format``).
    arrays: {"images"[, "labels", "class_names"]} of samples, {"points"[, "labels"]} of 2-D
      samples (.npz only), or {"inputs", "outputs"[, "targets", "names"]} of translations.

  Returns:
    A line saying what was written where.

  Raises:
    UsageError: for a folder of 2-D points or a destination that is a non-empty folder.
  """
  shown = ", ".join(
    f"{k} {v.shape}" for k, v in arrays.items() if k not in ("names", "class_names")
  )
  if output_format(out) == NPZ:
    path = pathlib.Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    writers.write_atomically(path, buffer.getvalue())
    return f"Wrote {shown} to {path}"
  if "points" in arrays:
    raise errors.UsageError(f"--out {out}: 2-D points are written as .npz, not as images.")
  destination = pathlib.Path(out)
  if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
    raise errors.UsageError(f"--out {out} exists and is not an empty folder; name a new one.")
  destination.parent.mkdir(parents=True, exist_ok=True)
  partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
  shutil.rmtree(partial, ignore_errors=True)
  partial.mkdir()
  try:
    if "outputs" in arrays:
      count = _write_translations(partial, arrays)
    else:
      count = _write_samples(partial, arrays)
    os.replace(partial, destination)  # Onto a missing or empty folder: whole or nothing.
  finally:
    shutil.rmtree(partial, ignore_errors=True)
  return f"Wrote {count} PNGs ({shown}) and index.html to {destination}/"


def _file_stem(name: str, taken: set[str]) -> str:
  """A file name for ``name`` (a source path such as "cats/0007"), unique within ``taken``."""
  stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.replace(os.sep, "__"))
  stem = stem.lstrip(".") or "image"
  unique, n = stem, 1
  while unique in taken:
    n += 1
    unique = f"{stem}_{n}"
  taken.add(unique)
  return unique


def _write_samples(folder: pathlib.Path, arrays) -> int:
  images = arrays["images"]
  labels = arrays.get("labels")
  class_names = [str(n) for n in arrays.get("class_names", [])]
  cells, taken = [], set()
  for i, image in enumerate(images):
    caption = f"#{i}"
    if labels is not None:
      label = int(labels[i])
      class_name = class_names[label] if label < len(class_names) else f"class {label}"
      caption += f" {class_name}"
    stem = _file_stem(f"{i:04d}" + (f"_{class_name}" if labels is not None else ""), taken)
    visualize.save_image(folder / f"{stem}.png", image)
    cells.append(_figure(f"{stem}.png", caption))
  _write_page(folder, "Samples", f"<div class='grid'>{''.join(cells)}</div>")
  return len(images)


def _write_translations(folder: pathlib.Path, arrays) -> int:
  columns = [(key, heading) for key, heading in TRANSLATION_COLUMNS if key in arrays]
  names = arrays.get("names")
  names = [str(n) for n in names] if names is not None else []
  rows, taken, count = [], set(), 0
  for i in range(len(arrays["inputs"])):
    name = names[i] if i < len(names) and names[i] else f"{i:04d}"
    stem = _file_stem(name, taken)
    cells = [f"<td>{html.escape(name)}</td>"]
    for key, heading in columns:
      file = f"{stem}_{heading}.png"
      visualize.save_image(folder / file, arrays[key][i])
      cells.append(f"<td>{_figure(file, heading)}</td>")
      count += 1
    rows.append(f"<tr>{''.join(cells)}</tr>")
  head = "<tr><th>name</th>" + "".join(f"<th>{h}</th>" for _, h in columns) + "</tr>"
  _write_page(folder, "Translations", f"<table>{head}{''.join(rows)}</table>")
  return count


def _figure(file: str, caption: str) -> str:
  return (
    f"<figure><img src='{html.escape(file)}' alt='{html.escape(caption)}'>"
    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
  )


def _write_page(folder: pathlib.Path, title: str, body: str) -> None:
  style = (
    "body{font-family:sans-serif} img{image-rendering:pixelated;width:128px}"
    " .grid{display:flex;flex-wrap:wrap} figure{margin:4px} td{padding:4px}"
  )
  page = (
    f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
    f"<style>{style}</style></head><body><h1>{title}</h1>{body}</body></html>\n"
  )
  (folder / "index.html").write_text(page)
