"""Work a warm cluster solve does, counted (not timed): ``mlsysim.solve`` hands a parallel
solve to the distributed solver without routing its keywords through dictionaries, reads no
registry entry, plan or topology group again, lowers the rank once and times each list of
operations once — and builds a true, frozen DistributedResult equal to the routed one."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

import mlsysim
from mlsysim import solve
from mlsysim.core import cache
from mlsysim.execution.plan import ExecutionPlan
from mlsysim.solvers import api
from mlsysim.solvers.distributed import solver as distributed
from mlsysim.solvers.distributed import timing as distributed_timing
from mlsysim.solvers.distributed.results import DistributedResult
from mlsysim.systems.topology import SystemView
from mlsysim.workload.lowering import sharded

#: (model, system, keywords) of warm solves: the benchmark's three clusters and an inference.
CASES = [
    ("GPT3_175B", "SuperPOD_A100",
     {"phase": "training", "devices": 64, "tp": 8, "pp": 8, "chunks": 3, "sp": True,
      "batch": 64, "seq_len": 2048}),
    ("GPT3_175B", "DGX_A100",
     {"phase": "training", "devices": 1024, "tp": 8, "pp": 8, "batch": 1536, "seq_len": 2048,
      "recompute": "full"}),
    ("Llama3_405B", "Llama3_Cluster",
     {"phase": "training", "devices": 16384, "tp": 8, "pp": 16, "chunks": 2, "sp": True,
      "zero": 2, "batch": 2048, "seq_len": 8192, "precision": "bf16", "recompute": "full"}),
    ("Llama2_7B", "DGX_A100", {"phase": "decode", "devices": 8, "tp": 8, "batch": 8}),
]  # fmt: skip


@pytest.mark.parametrize(("model", "system", "keywords"), CASES)
def test_a_warm_cluster_solve_does_each_piece_of_work_once(
    count_calls: Any, model: str, system: str, keywords: dict[str, Any]
) -> None:
    first = solve(model, system, **keywords)
    counts = {
        "route": count_calls(api, "route"),
        "solve_distributed": count_calls(distributed, "solve_distributed"),
        "registry reads": count_calls(type(mlsysim.Models), "__getitem__"),
        "plan resolve": count_calls(ExecutionPlan, "resolve"),
        "groups placed": count_calls(SystemView, "group_of"),
        "lower_rank": count_calls(distributed, "lower_rank"),
        "lower_transformer": count_calls(sharded, "lower_transformer"),
        "transformer_ops": count_calls(sharded, "transformer_ops"),
        "time_ops": count_calls(distributed_timing, "time_ops"),
    }
    warm = solve(model, system, **keywords)
    got = {name: calls[0] for name, calls in counts.items()}
    # the rank's lowering assembled once from its kept operations and share (no transformer
    # lowered again: sharded.lower_ops is cached per facts and plans); its layers and the LM
    # head timed once each (the optimizer update's timing is kept per plan)
    want = {**dict.fromkeys(counts, 0), "lower_rank": 1, "time_ops": 2}
    assert got == want
    assert warm.to_dict() == first.to_dict()


@pytest.mark.parametrize(("model", "system", "keywords"), CASES)
def test_the_direct_path_answers_as_the_routed_one(
    model: str, system: str, keywords: dict[str, Any]
) -> None:
    single, routed = api.route(model, system, **keywords)
    assert not single
    via_route = distributed.solve_distributed(**routed)
    cache.clear_all()
    direct = solve(model, system, **keywords)
    assert direct == via_route and direct.to_json() == via_route.to_json()
    assert direct.explain() == via_route.explain()


def test_hardware_keyword_still_routes(count_calls: Any) -> None:
    routes = count_calls(api, "route")
    r = solve("Llama2_7B", hardware="DGX_A100", phase="training", devices=8, batch=8)
    assert routes[0] == 1
    assert (
        r.to_dict()
        == solve("Llama2_7B", "DGX_A100", phase="training", devices=8, batch=8).to_dict()
    )


def test_the_result_a_cluster_solve_builds_is_a_frozen_distributed_result() -> None:
    model, system, keywords = CASES[2]
    r = solve(model, system, **keywords)
    same = DistributedResult(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})
    assert type(r) is DistributedResult and r == same and hash(r) == hash(same)
    assert repr(r) == repr(same) and r.to_json() == same.to_json()
    assert pickle.loads(pickle.dumps(r)) == r == copy.deepcopy(r)
    assert dataclasses.replace(r, batch=8).batch == 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.batch = 8  # type: ignore[misc]


def test_a_result_needs_every_field() -> None:
    from mlsysim.solvers.distributed.results import new_distributed_result

    r = solve(*CASES[3][:2], **CASES[3][2])
    values = [getattr(r, f.name) for f in dataclasses.fields(r)]
    assert new_distributed_result(*values) == r
    with pytest.raises(TypeError):
        new_distributed_result(*values[:-1])
    with pytest.raises(TypeError):
        new_distributed_result(*values, None)


@pytest.mark.parametrize(
    ("model", "phase"),
    [
        ("Llama2_7B", "training"),
        ("Llama2_7B", "decode"),
        ("Mixtral_8x7B", "training"),
        ("DeepSeekV3", "training"),
        ("BERT_Base", "training"),
    ],
)
def test_transformer_ops_are_the_lowerings_operations(model: str, phase: str) -> None:
    from mlsysim.solvers.single_node import solver as single_node
    from mlsysim.workload.lowering import model_facts
    from mlsysim.workload.lowering.transformer import lower_transformer, transformer_ops

    spec, _hw, phase, batch, seq_len, rp = single_node.check(
        model, "H100", phase, 3, 256, None, None, {}
    )
    f = model_facts(spec)
    low = lower_transformer(f, phase, batch, seq_len, rp)
    ops = transformer_ops(f, phase, batch, seq_len, rp)
    assert ops == tuple(op for op in low.ops if op.kind != "optimizer")
    assert len(ops) == len(low.ops) - (phase == "training")


def test_a_warm_structure_is_looked_up_once_and_still_checks_its_batch(
    count_calls: Any,
) -> None:
    from mlsysim.core.exceptions import ConfigError

    model, system, keywords = CASES[1]
    first = solve(model, system, **keywords)
    targets = count_calls(distributed, "target")
    plans = count_calls(distributed, "plans")
    again = solve(model, system, **{**keywords, "batch": 3072})
    assert (targets[0], plans[0]) == (0, 0)
    assert again.microbatches == 2 * first.microbatches
    with pytest.raises(ConfigError, match="batch"):
        solve(model, system, **{**keywords, "batch": 1000})  # not a multiple of dp·microbatch
    with pytest.raises(ConfigError, match="seq_len"):
        solve(model, system, **{**keywords, "seq_len": 10**6})


@pytest.mark.parametrize(
    "change",
    [
        {"overlap": 1.0},  # a fraction, not True
        {"overlap": False},
        {"dropout": True},  # a plan option
        {"precision": "fp16"},
        {"plan": ExecutionPlan(weights="bf16")},
        {"devices": 64, "tp": 8, "pp": 1},
    ],
)
def test_a_structure_differing_in_one_argument_is_its_own(change: dict[str, Any]) -> None:
    base: dict[str, Any] = {"phase": "training", "devices": 8, "tp": 8, "batch": 8}
    solve("Llama2_7B", "DGX_A100", **base)
    warm = solve("Llama2_7B", "DGX_A100", **{**base, **change})
    cache.clear_all()
    cold = solve("Llama2_7B", "DGX_A100", **{**base, **change})
    assert warm.to_dict() == cold.to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [({"tp": [8]}, "tp must be an integer"), ({"devices": True}, "devices must be an integer")],
)
def test_a_value_that_does_not_key_a_structure_is_refused_as_before(
    change: dict[str, Any], message: str
) -> None:
    from mlsysim.core.exceptions import ConfigError

    base: dict[str, Any] = {"phase": "training", "devices": 1, "tp": 1, "zero": 1, "batch": 8}
    solve("Llama2_7B", "DGX_A100", **base)  # devices=1 == True: the type keys apart
    with pytest.raises(ConfigError, match=message):
        solve("Llama2_7B", "DGX_A100", **{**base, **change})


def test_a_reloaded_registry_misses_the_structures() -> None:
    model, system, keywords = CASES[0]
    first = solve(model, system, **keywords)
    mlsysim.core.registry.reset()  # new spec objects: a structure of the old ones misses
    again = solve(model, system, **keywords)
    assert again.to_dict() == first.to_dict()
    assert again.model_spec is not first.model_spec
