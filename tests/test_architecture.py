"""The package's shape: imports flow one way with no cycle, and each layer owns its kinds."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

import mlsysim
from mlsysim.core import registry

_PACKAGE = Path(mlsysim.__file__).parent


def _cycles(adjacency: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(adjacency):
        if root in index:
            continue
        work = [(root, iter(sorted(adjacency[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(adjacency.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_anywhere_in_the_package() -> None:
    graph = grimp.build_graph("mlsysim", include_external_packages=False)
    adjacency = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(adjacency) == []


def test_core_imports_no_layer_by_string() -> None:
    """The ground never reaches up: no layer module is named in core, and the registry
    machinery imports nothing dynamically (each layer registers its kinds itself)."""
    layers = ("hardware", "workload", "systems", "infra", "execution", "solvers", "sim")
    for path in (_PACKAGE / "core" / "registry").glob("*.py"):
        assert "importlib" not in path.read_text(encoding="utf-8"), path
    for path in (_PACKAGE / "core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                for layer in layers:
                    assert f"mlsysim.{layer}" not in node.value, (path, node.value)


def test_each_layer_registers_its_own_kinds() -> None:
    owners = {
        "hardware": "mlsysim.hardware.registry",
        "model": "mlsysim.workload.registry",
        "grid": "mlsysim.infra.registry",
        "datacenter": "mlsysim.infra.registry",
        "cloud_rate": "mlsysim.infra.registry",
        "fabric": "mlsysim.systems.registry",
        "node": "mlsysim.systems.registry",
        "cluster": "mlsysim.systems.registry",
        "application": "mlsysim.sim.registry",
        "persona": "mlsysim.sim.registry",
    }
    kinds = registry.kinds()
    for kind, module in owners.items():
        assert kind in kinds
        assert registry._KINDS[kind].spec.__module__ == module


def test_every_layer_keeps_its_data_beside_its_logic() -> None:
    for layer in ("hardware", "workload", "systems", "infra", "sim"):
        assert (_PACKAGE / layer / "registry.py").is_file()
        assert list((_PACKAGE / layer / "data").glob("*.toml")), layer


def test_import_mlsysim_stays_light() -> None:
    """`import mlsysim` (the ≤ 40 ms target) loads no pint, pydantic, data parser,
    introspection machinery or array library (numpy: on the first sweep): they load on first
    use."""
    import subprocess
    import sys

    heavy = ("pint", "pydantic", "jinja2", "tomllib", "dataclasses", "inspect", "difflib",
             "numpy", "array_api_compat", "dask")  # fmt: skip
    code = f"import sys, mlsysim; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
