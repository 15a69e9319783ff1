"""Work a warm solve does, counted (not timed): a second solve of the same structure reuses
the resolved plan, the GEMM wave fractions and the efficiency rows, and gives the same result."""

from __future__ import annotations

from typing import Any

import pytest

import mlsysim
from mlsysim import solve
from mlsysim.core import cache
from mlsysim.execution.plan import ExecutionPlan
from mlsysim.solvers import single_node
from mlsysim.workload.lowering import ops


def _counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls = [0]
    original = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


@pytest.mark.parametrize(
    ("phase", "batch", "seq_len"), [("decode", 1, 512), ("prefill", 4, 2048), ("training", 2, 1024)]
)
def test_a_second_solve_of_a_structure_redoes_no_static_work(
    monkeypatch: pytest.MonkeyPatch, phase: str, batch: int, seq_len: int
) -> None:
    model, hw = mlsysim.Models.Llama2_7B, mlsysim.Hardware.A100
    first = solve(model, hw, phase=phase, batch=batch, seq_len=seq_len)
    resolves = _counting(monkeypatch, ExecutionPlan, "resolve")
    waves = _counting(monkeypatch, ops, "gemm_wave_fraction")
    rows = _counting(monkeypatch, single_node, "efficiency_rows")
    again = solve(model, hw, phase=phase, batch=batch, seq_len=seq_len)
    assert (resolves[0], waves[0], rows[0]) == (0, 0, 0)
    assert again.latency_s == first.latency_s and again.ops == first.ops
    assert again.efficiencies == first.efficiencies


def test_a_new_batch_computes_only_its_own_wave_fractions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, hw = mlsysim.Models.Llama2_7B, mlsysim.Hardware.A100
    solve(model, hw, phase="decode", batch=3)
    cache.clear_all()
    waves = _counting(monkeypatch, ops, "gemm_wave_fraction")
    solve(model, hw, phase="decode", batch=37)  # M = 37: every weight GEMM's shape is new
    assert waves[0] == 5  # QKV, output projection, FFN up and down, LM head
    solve(model, hw, phase="decode", batch=37, seq_len=100)  # a new context: same shapes
    assert waves[0] == 5


def test_efficiency_rows_follow_the_plan() -> None:
    r = solve("Llama2_7B", "A100", phase="decode", kernel_overhead="3 us")
    sources = {name: source for name, _, source in r.efficiencies}
    assert r.efficiencies[-1][0] == "idle_power_fraction"
    assert sources["kernel_overhead"] == "user"
    plain = solve("Llama2_7B", "A100", phase="decode")
    assert {name: source for name, _, source in plain.efficiencies}["kernel_overhead"] != "user"
