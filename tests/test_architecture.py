"""The architecture holds in the code: nothing outside ``gans_jax/trainers/`` names a family
(docs/design.md section 8), and modules and functions stay small."""

import ast

from gans_jax import trainers
from tests.helpers import ROOT

# Architectures are named after their papers ("artgan", "dcgan") in the network registry of
# ``gans_jax/models``: a network name, chosen by config.model.*.name, not a family.
ARCHITECTURE_REGISTRY = "gans_jax/models/__init__.py"


def _docstrings(module: ast.Module) -> set[int]:
  found = set()
  for node in ast.walk(module):
    if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
      first = node.body[0] if node.body else None
      if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        found.add(id(first.value))
  return found


def _config_name_constants(module: ast.Module) -> set[int]:
  """String constants assigned to ``*_CONFIG`` names: names of config files, not families."""
  return {
    id(node.value)
    for node in module.body
    if isinstance(node, ast.Assign)
    and all(isinstance(t, ast.Name) and t.id.endswith("_CONFIG") for t in node.targets)
  }


def family_references(source: str) -> list[tuple[int, str]]:
  """(line, text) of every string literal that is a family name (prose that mentions a paper,
  "pix2pix layout: ...", is not), every ``trainers.<family>`` attribute and every import of a
  family's module, outside docstrings."""
  module = ast.parse(source)
  skipped = _docstrings(module) | _config_name_constants(module)
  families = set(trainers.FAMILIES)
  found = []
  for node in ast.walk(module):
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
      if node.value.strip() in families:
        found.append((node.lineno, node.value))
    if isinstance(node, ast.Attribute) and node.attr in families:
      if isinstance(node.value, ast.Name) and node.value.id == "trainers":
        found.append((node.lineno, f"trainers.{node.attr}"))
    if isinstance(node, ast.ImportFrom) and node.module == "gans_jax.trainers":
      found.extend((node.lineno, f"import {a.name}") for a in node.names if a.name in families)
  return sorted(found)


def test_the_check_finds_what_it_looks_for():
  source = 'import x\nif config.family == "stylegan":\n  pass\nfrom gans_jax.trainers import gan\n'
  assert family_references(source) == [(2, "stylegan"), (4, "import gan")]
  assert family_references('x = trainers.cyclegan.init_state\nname = f"{a}" + "gan"\n') == [
    (1, "trainers.cyclegan"),
    (2, "gan"),
  ]
  quiet = '"""About pix2pix."""\nNAME_CONFIG = "pix2pix"\nx = "cycle_gan"\ny = "pix2pix layout"\n'
  assert family_references(quiet) == []


def test_no_family_is_named_outside_trainers():
  found = []
  for tree in ("gans_jax", "data_pipelines"):
    for path in sorted((ROOT / tree).rglob("*.py")):
      relative = str(path.relative_to(ROOT))
      if relative.startswith("gans_jax/trainers/") or relative == ARCHITECTURE_REGISTRY:
        continue
      found += [(relative, *ref) for ref in family_references(path.read_text())]
  assert not found, f"family names outside trainers/: {found}"


# The two files that are long by nature: a layer library, and the InceptionV3 port, whose layers
# follow pytorch-fid's network one by one.
LONG_MODULES = {"gans_jax/models/layers.py", "gans_jax/metrics/inception.py"}
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def test_modules_and_functions_stay_small():
  too_long = []
  for path in sorted((ROOT / "gans_jax").rglob("*.py")):
    relative, source = str(path.relative_to(ROOT)), path.read_text()
    if relative not in LONG_MODULES and len(source.splitlines()) > MAX_MODULE_LINES:
      too_long.append((relative, len(source.splitlines())))
    for node in ast.walk(ast.parse(source)):
      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        length = node.end_lineno - node.lineno + 1
        if length > MAX_FUNCTION_LINES:
          too_long.append((f"{relative}:{node.name}", length))
  assert not too_long, (
    f"over {MAX_MODULE_LINES} lines a module / {MAX_FUNCTION_LINES} a function: {too_long}"
  )
