"""The 22-wall taxonomy: ids, formulas, sources, lookups and the `mlsysim walls` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlsysim.cli.main import main
from mlsysim.core.exceptions import UnknownNameError
from mlsysim.core.formulas import FORMULAS
from mlsysim.core.registry import catalog
from mlsysim.core.walls import WALLS, Wall, wall, wall_ids
from mlsysim.solvers import solver_classes

IDS = [
    "compute",
    "memory_bandwidth",
    "memory_capacity",
    "software_overhead",
    "serving",
    "batching",
    "weight_streaming",
    "tail_latency",
    "data_ingestion",
    "preprocessing",
    "locality",
    "scaling_laws",
    "reasoning",
    "fidelity",
    "communication",
    "fragility",
    "multi_tenancy",
    "capital",
    "sustainability",
    "checkpoint",
    "safety",
    "sensitivity",
]


def test_twenty_two_walls_with_the_contract_ids_in_order():
    assert wall_ids() == IDS
    assert [w.number for w in WALLS] == list(range(1, 23))


@pytest.mark.parametrize("w", WALLS, ids=lambda w: w.id)
def test_each_wall_names_formulas_sources_and_solver(w: Wall):
    sources = catalog().sources
    assert w.question.endswith("?") and w.name
    assert w.formulas and all(f in FORMULAS for f in w.formulas)
    assert w.sources and all(s in sources for s in w.sources)
    assert w.layer in {"workload", "execution", "hardware", "systems", "infra"}


#: The walls decided by a solver today; every other wall is formula-only until its solver lands.
_DEVICE = ("single_node", "distributed")
DECIDED: dict[str, tuple[str, ...]] = {
    "compute": _DEVICE,
    "memory_bandwidth": _DEVICE,
    "memory_capacity": _DEVICE,
    "software_overhead": _DEVICE,
    "communication": ("distributed",),
    "serving": ("serving", "serving_fleet"),
    "batching": ("generate", "serving"),
    "weight_streaming": ("generate", "serving"),
    "tail_latency": ("serving",),
    "reasoning": ("generate",),
    "multi_tenancy": ("serving",),
    "fragility": ("training_run",),
    "checkpoint": ("training_run",),
    "capital": ("training_run", "serving_fleet"),
    "sustainability": ("training_run", "serving_fleet"),
}


@pytest.mark.parametrize("w", WALLS, ids=lambda w: w.id)
def test_each_wall_names_a_real_solver_that_lists_it_or_is_formula_only(w: Wall):
    solvers = solver_classes()
    assert w.solvers == DECIDED.get(w.id, ())
    if w.formula_only:
        assert w.decided_by == "formulas" and w.solver is None
        assert not any(w.id in cls.walls for cls in solvers.values()), (
            f"a solver decides {w.id}: name it in the wall"
        )
    else:
        assert w.solver == w.solvers[0] and w.decided_by == "solver"
        for name in w.solvers:
            assert name in solvers, f"no solver named {name!r}"
            assert w.id in solvers[name].walls, (name, w.id)


def test_every_solver_wall_names_that_solver():
    for name, cls in solver_classes().items():
        assert cls.walls, name
        for wid in cls.walls:
            assert name in wall(wid).solvers, (name, wid)


def test_every_formula_belongs_to_a_wall():
    used = {f for w in WALLS for f in w.formulas}
    assert set(FORMULAS) <= used, sorted(set(FORMULAS) - used)


def test_lookup_and_did_you_mean():
    assert wall("memory_bandwidth").name == "Memory bandwidth"
    assert wall("Memory Bandwidth") is wall("memory_bandwidth")
    with pytest.raises(UnknownNameError, match="memory_bandwidth"):
        wall("memory_bandwith")


def test_cli_json(capsys):
    assert main(["walls", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["count"] == 22 and len(data["walls"]) == 22
    for w in data["walls"]:
        assert w["sources"] and len(w["citations"]) == len(w["sources"])
        assert all(c["citation"] for c in w["citations"])
        assert w["solvers"] == list(DECIDED.get(w["id"], ()))
        assert w["solver"] == (DECIDED[w["id"]][0] if w["id"] in DECIDED else None)
        assert w["decided_by"] == ("solver" if w["id"] in DECIDED else "formulas")
    assert data["schema"] == "mlsysim.walls/2"


def test_cli_text_and_errors(capsys):
    assert main(["walls"]) == 0
    out = capsys.readouterr().out
    assert "22. Sensitivity / synthesis [sensitivity]" in out
    assert "solver:   single_node, distributed" in out and "solver:   — (formula-only)" in out
    assert main(["walls", "fragility"]) == 0
    assert "young1974" in capsys.readouterr().out
    assert main(["walls", "fragilty"]) == 2
    assert "did you mean fragility" in capsys.readouterr().err


def test_cli_as_a_process():
    out = subprocess.run(
        [sys.executable, "-m", "mlsysim", "walls", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out)["count"] == 22
