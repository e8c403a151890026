"""The README's "Code structure" section lists every module and script, and nothing that is gone."""

import re

from tests.helpers import ROOT

LISTED_TREES = ("gans_jax", "data_pipelines", "configs", "benchmarks", "launch", "notebooks")


def _code_structure_section() -> str:
  text = (ROOT / "README.md").read_text()
  start = text.index("## Code structure")
  end = text.find("\n## ", start + 1)
  return text[start : end if end != -1 else None]


def _listed_paths() -> set[str]:
  """Paths at the start of the section's one-line entries: "- `path`: what it is"."""
  return set(re.findall(r"^- `([^`]+)`:", _code_structure_section(), flags=re.MULTILINE))


def test_every_module_is_listed_once_with_a_description():
  listed = _listed_paths()
  files = {
    str(path.relative_to(ROOT))
    for tree in LISTED_TREES
    for path in (ROOT / tree).rglob("*")
    if path.is_file()
    and path.suffix in (".py", ".sh", ".sbatch", ".ipynb")
    and not any(part.startswith((".", "__pycache__")) for part in path.relative_to(ROOT).parts)
  }
  assert files, "no modules found"
  missing = sorted(files - listed)
  assert not missing, f"README 'Code structure' lacks: {missing}"
  entries = re.findall(r"^- `([^`]+)`:", _code_structure_section(), flags=re.MULTILINE)
  assert len(entries) == len(set(entries)), "a file is listed twice"


def test_every_listed_file_exists():
  gone = sorted(path for path in _listed_paths() if not (ROOT / path).exists())
  assert not gone, f"README 'Code structure' lists missing files: {gone}"


def test_every_design_citation_names_a_section_of_the_design_document():
  """Code cites "docs/design.md section N" (or "sections N, M and K"); each N must exist."""
  design = (ROOT / "docs" / "design.md").read_text()
  sections = set(re.findall(r"^## (\d+)\. ", design, flags=re.MULTILINE))
  cited = set()
  for tree in ("gans_jax", "data_pipelines", "tests"):
    for path in (ROOT / tree).rglob("*.py"):
      text = re.sub(r"\s+", " ", path.read_text())
      for numbers in re.findall(r"docs/design\.md sections? ([\d, and]+)", text):
        cited |= {(str(path.relative_to(ROOT)), n) for n in re.findall(r"\d+", numbers)}
  assert cited, "no citations found"
  assert not sorted(c for c in cited if c[1] not in sections)
