"""A rank's lowering is kept per facts and plan objects, counted (not timed): a warm cluster
solve — the same structure again, or another batch at the same micro-batch — lowers no
transformer and builds no share again; other objects (a reloaded registry, a cleared cache,
an equal plan built anew), another micro-batch or sequence, or a NumPy integer lower anew;
the caches are bounded; and every answer equals a cold solve's."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import mlsysim
from mlsysim import solve
from mlsysim.core import cache
from mlsysim.solvers.distributed.results import DistributedResult
from mlsysim.workload.lowering import sharded

#: GPT-3 175B on 1,024 A100s (the warm benchmark's second case): 16 replicas of 96
#: micro-batches of one sequence; batch 3072 doubles the micro-batches, not their size.
MODEL, SYSTEM = "GPT3_175B", "DGX_A100"
KEYWORDS: dict[str, Any] = {
    "phase": "training", "devices": 1024, "tp": 8, "pp": 8, "batch": 1536, "seq_len": 2048,
    "recompute": "full",
}  # fmt: skip


def _cold(**change: Any) -> DistributedResult:
    cache.clear_all()
    return solve(MODEL, SYSTEM, **{**KEYWORDS, **change})


@pytest.mark.parametrize("change", [{}, {"batch": 3072}])
def test_a_warm_solve_at_the_same_microbatch_lowers_nothing_again(
    count_calls: Any, change: dict[str, Any]
) -> None:
    solve(MODEL, SYSTEM, **KEYWORDS)
    ops, shares = count_calls(sharded, "_lower_ops"), count_calls(sharded, "_rank_share")
    warm = solve(MODEL, SYSTEM, **{**KEYWORDS, **change})
    assert (ops[0], shares[0]) == (0, 0)
    assert warm.to_json() == _cold(**change).to_json()
    assert warm.explain() == _cold(**change).explain()


@pytest.mark.parametrize("change", [{"microbatch": 2}, {"seq_len": 1024}])
def test_another_microbatch_or_sequence_is_lowered(
    count_calls: Any, change: dict[str, Any]
) -> None:
    solve(MODEL, SYSTEM, **KEYWORDS)
    ops, shares = count_calls(sharded, "_lower_ops"), count_calls(sharded, "_rank_share")
    warm = solve(MODEL, SYSTEM, **{**KEYWORDS, **change})
    assert (ops[0], shares[0]) == (1, 1)
    assert warm.to_json() == _cold(**change).to_json()


@pytest.mark.parametrize("forget", ["clear_all", "registry"])
def test_new_objects_are_lowered_again(count_calls: Any, forget: str) -> None:
    first = solve(MODEL, SYSTEM, **KEYWORDS)
    ops = count_calls(sharded, "_lower_ops")
    if forget == "clear_all":
        cache.clear_all()
    else:
        mlsysim.core.registry.reset()  # new spec objects: entries of the old ones miss
    again = solve(MODEL, SYSTEM, **KEYWORDS)
    assert ops[0] == 1
    assert again.to_json() == first.to_json()


def _parts() -> tuple[Any, Any, Any]:
    from mlsysim.solvers.distributed import solver as distributed

    solve(MODEL, SYSTEM, **KEYWORDS)
    (entry,) = (e for e in distributed._STRUCTURES.values() if e[0] is mlsysim.Models.GPT3_175B)
    _spec, _phase, _view, facts, par, rp = entry[3]
    return facts, par, rp


def test_an_entry_answers_only_for_the_objects_it_was_filled_from(count_calls: Any) -> None:
    facts, par, rp = _parts()
    kept = sharded.lower_ops(facts, "training", 1, 2048, rp, par)
    assert sharded.lower_ops(facts, "training", 1, 2048, rp, par) is kept
    ops = count_calls(sharded, "_lower_ops")
    equal = dataclasses.replace(par)  # equal, not the same object
    assert sharded.lower_ops(facts, "training", 1, 2048, rp, equal) == kept
    assert ops[0] == 1
    # a NumPy integer is lowered every time and never kept (its arithmetic is not an int's)
    size = len(sharded._OPS)
    sharded.lower_ops(facts, "training", np.int64(1), 2048, rp, par)
    sharded.rank_share(facts, "training", 1, np.int64(2048), rp, par)
    assert ops[0] == 2 and len(sharded._OPS) == size


def test_the_kept_lowerings_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    facts, par, rp = _parts()
    monkeypatch.setattr(sharded, "_LIMIT", 3)
    for s in range(64, 64 * 12, 64):
        sharded.lower_ops(facts, "training", 1, s, rp, par)
        sharded.rank_share(facts, "training", 1, s, rp, par)
        assert len(sharded._OPS) <= 4 and len(sharded._SHARES) <= 4


def test_a_shards_facts_are_dataclasses_replace_of_the_models() -> None:
    """The shard copies the model's facts with its split fields changed by calling the class
    on every field (cheaper than dataclasses.replace's per-field checks): that is replace
    only while every field is an __init__ argument and nothing is derived after it."""
    from mlsysim.workload.lowering import shard
    from mlsysim.workload.lowering.facts import ModelFacts, model_facts

    assert all(f.init for f in dataclasses.fields(ModelFacts))
    assert not hasattr(ModelFacts, "__post_init__")
    facts = model_facts(mlsysim.Models.Mixtral_8x7B)
    changes = {"layers": 8, "heads": 4, "experts": 2, "attn_params": 1.5e8}
    got = shard._replaced(facts, **changes)
    assert got == dataclasses.replace(facts, **changes) and got is not facts
