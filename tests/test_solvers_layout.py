"""``mlsysim/solvers/``'s layout: one package per kind of solve, placed in the import order.

A new module goes into the package of its kind (each package's ``__init__`` says what goes
there and names every module it holds); a new package is placed in the layers contract of
``pyproject.toml`` (``lint-imports`` then enforces what it may import); only the shared ground
and the ``solve`` entry point sit at the root.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import mlsysim.solvers

SOLVERS = Path(mlsysim.solvers.__file__).parent
ROOT = SOLVERS.parents[1]
ROOT_MODULES = {"api", "arguments", "base", "quantities"}


def _packages() -> list[Path]:
    return sorted(p for p in SOLVERS.iterdir() if (p / "__init__.py").is_file())


def test_only_the_shared_ground_sits_at_the_root() -> None:
    flat = {p.stem for p in SOLVERS.glob("*.py")} - {"__init__"}
    assert flat == ROOT_MODULES, "a new module goes into the package of its kind"


def test_every_package_says_what_its_modules_do() -> None:
    for package in _packages():
        tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree) or ""
        assert any(
            isinstance(n, ast.AnnAssign | ast.Assign) and "__all__" in ast.unparse(n)
            for n in tree.body
        ), package
        for module in sorted(package.glob("*.py")):
            if module.stem != "__init__":
                assert f"* ``{module.stem}`` —" in doc, (package.name, module.stem)


def test_every_package_has_its_place_in_the_import_order() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = (
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c.get("containers") == ["mlsysim.solvers"]
    )
    placed = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    assert placed == {p.name for p in _packages()} | ROOT_MODULES
