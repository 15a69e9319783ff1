"""Work a warm solve does, counted (not timed): a second solve of the same structure reuses
the resolved plan, the GEMM wave fractions and the efficiency rows, and gives the same result."""

from __future__ import annotations

from typing import Any

import pytest

import mlsysim
from mlsysim import solve
from mlsysim.core import cache
from mlsysim.execution.plan import ExecutionPlan
from mlsysim.solvers.single_node import solver as single_node
from mlsysim.workload.lowering import ops


@pytest.mark.parametrize(
    ("phase", "batch", "seq_len"), [("decode", 1, 512), ("prefill", 4, 2048), ("training", 2, 1024)]
)
def test_a_second_solve_of_a_structure_redoes_no_static_work(
    count_calls: Any, phase: str, batch: int, seq_len: int
) -> None:
    model, hw = mlsysim.Models.Llama2_7B, mlsysim.Hardware.A100
    first = solve(model, hw, phase=phase, batch=batch, seq_len=seq_len)
    resolves = count_calls(ExecutionPlan, "resolve")
    waves = count_calls(ops, "gemm_wave_fraction")
    rows = count_calls(single_node, "efficiency_rows")
    again = solve(model, hw, phase=phase, batch=batch, seq_len=seq_len)
    assert (resolves[0], waves[0], rows[0]) == (0, 0, 0)
    assert again.latency_s == first.latency_s and again.ops == first.ops
    assert again.efficiencies == first.efficiencies


def test_a_new_batch_computes_only_its_own_wave_fractions(
    count_calls: Any,
) -> None:
    model, hw = mlsysim.Models.Llama2_7B, mlsysim.Hardware.A100
    solve(model, hw, phase="decode", batch=3)
    cache.clear_all()
    waves = count_calls(ops, "gemm_wave_fraction")
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


@pytest.mark.parametrize(
    ("model", "phase"),
    [
        ("Llama2_7B", "decode"),
        ("Llama2_7B", "prefill"),
        ("Llama2_7B", "training"),
        ("DeepSeekV3", "decode"),  # MoE and MLA
        ("BERT_Base", "inference"),
    ],
)
def test_another_batch_relowers_no_static_structure(
    monkeypatch: pytest.MonkeyPatch, count_calls: Any, model: str, phase: str
) -> None:
    """A warm solve with a new batch and context rebuilds nothing that depends only on the
    model, the phase, the plan and the device — and still computes its own answer."""
    from mlsysim.workload.lowering import transformer

    spec, hw = mlsysim.Models[model], mlsysim.Hardware.H100
    solve(spec, hw, phase=phase, batch=2, seq_len=64)
    counts = {
        "frame": count_calls(transformer, "_build_frame"),
        "weights": count_calls(transformer, "resident_weights"),
        "training_state": count_calls(transformer, "training_state"),
        "optimizer_update": count_calls(transformer, "add_optimizer_update"),
        "resolve": count_calls(ExecutionPlan, "resolve"),
        "efficiency_rows": count_calls(single_node, "efficiency_rows"),
        "peaks": count_calls(single_node, "peaks"),
        "rates": count_calls(single_node, "rates"),
    }
    warm = solve(spec, hw, phase=phase, batch=5, seq_len=96)
    assert {name: calls[0] for name, calls in counts.items()} == dict.fromkeys(counts, 0)
    monkeypatch.undo()
    cache.clear_all()
    cold = solve(spec, hw, phase=phase, batch=5, seq_len=96)
    assert warm.to_dict() == cold.to_dict()  # the same answer as a solve from nothing
    assert warm.latency_s != solve(spec, hw, phase=phase, batch=2, seq_len=64).latency_s


def test_a_warm_solve_by_ids_reads_the_registry_once(count_calls: Any) -> None:
    solve("Llama2_7B", "A100", phase="decode")
    reads = count_calls(type(mlsysim.Models), "__getitem__")
    solve("Llama2_7B", "A100", phase="decode", batch=3)
    assert reads[0] == 0
    mlsysim.core.registry.reset()  # a new generation: the names are looked up again
    solve("Llama2_7B", "A100", phase="decode", batch=3)
    assert reads[0] >= 1


def test_the_result_a_solve_builds_is_a_frozen_solve_result() -> None:
    import copy
    import dataclasses
    import pickle

    from mlsysim.solvers.single_node.results import SolveResult

    r = solve("Llama2_7B", "A100", phase="decode", batch=4)
    same = SolveResult(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})
    assert type(r) is SolveResult and r == same and hash(r) == hash(same)
    assert repr(r) == repr(same)
    assert pickle.loads(pickle.dumps(r)) == r == copy.deepcopy(r)
    assert dataclasses.replace(r, batch=8).batch == 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.batch = 8  # type: ignore[misc]


def test_time_op_is_the_row_time_ops_reports() -> None:
    from mlsysim.hardware.facts import device_facts
    from mlsysim.solvers.single_node.timing import peaks, rates, time_op, time_ops
    from mlsysim.workload.lowering import lower

    spec, hw, phase, batch, seq_len, rp = single_node.check(
        "Llama2_7B", "A100", "prefill", 2, 256, None, None, {}
    )
    low = lower(spec, phase, batch, seq_len, rp)
    dev = device_facts(hw)
    pk = peaks(dev, rp)
    r = rates(pk, dev.bandwidth, rp.eff)
    rows: list[Any] = []
    time_ops(low.ops, pk, dev.bandwidth, rp.eff, rows)
    for op, row in zip(low.ops, rows, strict=True):
        bound, body, over, on_compute = time_op(op, r)
        assert (bound, body + over, over) == (row.time_bound_s, row.time_s, row.overhead_s)
        assert on_compute == (row.bound == "compute")


def test_clear_all_empties_priced_collectives() -> None:
    """A fresh sweep or solve after ``clear_all()`` prices its collectives again."""
    from mlsysim.systems import collective_pricing, collectives

    mlsysim.collective("all_reduce", "1 GB", "DGX_H100")
    kept = (collectives._RESULTS, collective_pricing._TIMINGS, collective_pricing._PLANS)
    assert all(len(c) > 0 for c in kept)
    cache.clear_all()
    assert all(len(c) == 0 for c in kept)
