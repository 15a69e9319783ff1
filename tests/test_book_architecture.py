"""The book engine's shape: cohesive modules, explicit public names, no private reach-ins.

* no module imports another module's private (``_``) name — in the engine, the renderers,
  the CLI and the Sphinx extension;
* every engine module declares ``__all__``, and stays a readable size;
* the language knows nothing of documents, hosts or sources; the scanners know nothing of
  evaluation (so a cache hit of the Quarto batch can locate items without pint).
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

import mlsysim

PACKAGE = Path(mlsysim.__file__).parent
ROOT = PACKAGE.parent
MINE = [PACKAGE / "book", PACKAGE / "viz", PACKAGE / "cli", ROOT / "sphinx_ext" / "mlsysim_sphinx"]
_MAX_LINES = 420


def _modules() -> list[Path]:
    return sorted(p for d in MINE for p in d.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_across_modules(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            private = [
                a.name for a in node.names if a.name.startswith("_") and not a.name.endswith("__")
            ]
            assert not private, f"{path.name} imports {private} from {node.module}"


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "book").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_engine_modules_declare_their_public_names_and_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "__all__" in text, path
    lines = text.count("\n")
    assert lines <= _MAX_LINES, f"{path.name}: {lines} lines"


def test_language_and_scanners_stand_apart() -> None:
    graph = grimp.build_graph("mlsysim", include_external_packages=False)
    lang = {m for m in graph.modules if m.startswith("mlsysim.book.lang")}
    for module in lang:
        for imported in graph.find_modules_directly_imported_by(module):
            assert not imported.startswith("mlsysim.book.") or imported in lang, (module, imported)
    scanners = {m for m in graph.modules if m.startswith("mlsysim.book.sources")}
    evaluation = {"mlsysim.book.document", "mlsysim.book.evaluator", "mlsysim.book.lang"}
    for module in scanners - {"mlsysim.book.sources.check"}:
        for imported in graph.find_modules_directly_imported_by(module):
            assert not any(imported.startswith(e) for e in evaluation), (module, imported)


def test_both_hosts_ship_the_same_stylesheet() -> None:
    """The Quarto extension installs on its own (``quarto add``), so it carries a copy of the
    stylesheet the Sphinx extension ships; the two never drift apart."""
    root = Path(__file__).resolve().parents[1]
    quarto = root / "quarto_ext" / "_extensions" / "mlsysim" / "mlsysim.css"
    sphinx = root / "sphinx_ext" / "mlsysim_sphinx" / "static" / "mlsysim.css"
    assert quarto.read_bytes() == sphinx.read_bytes()
