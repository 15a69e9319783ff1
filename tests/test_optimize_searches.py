"""Serving and placement searches, and Pareto frontiers.

* serving: every candidate is a ``serving_fleet`` (the seam); the winner is the cheapest that
  meets the SLO, refused precisions / tp say why, a TTFT SLO excludes, an objective the data
  cannot give excludes with the reason (never 0);
* placement: every (system, region) is a ``training_run`` under the system's best plan;
  carbon-aware placement picks the cleanest grid; unknown figures exclude with the run's words;
* pareto: the frontier equals a brute-force dominance check for 2, 3 and 4 objectives, ties
  stay, unknown values are left out with the reason, a bounded search refuses a frontier.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim.core.exceptions import ConfigError, InfeasibleError, UnknownNameError
from mlsysim.solvers.optimize.pareto import frontier, pareto
from mlsysim.solvers.optimize.placement import optimize_placement
from mlsysim.solvers.optimize.serving import optimize_serving

DEMAND = {"slo": "50 ms", "qps": 100, "duration": "30 day", "region": "Quebec"}


@pytest.fixture(scope="module")
def serving() -> mlsysim.solvers.Search:
    return optimize_serving("Llama3_70B", ["H100", "DGX_H100", "DGX_A100"], **DEMAND)


def test_serving_winner_is_the_cheapest_that_meets_the_slo(serving: object) -> None:
    s = serving
    best = s.best  # type: ignore[attr-defined]
    costs = [c.values["cost"] for c in s.ranked]  # type: ignore[attr-defined]
    assert costs == sorted(costs) and best.values["tpot"] <= 50.0
    cfg = s.config  # type: ignore[attr-defined]
    fleet = mlsysim.serving_fleet(
        "Llama3_70B",
        cfg["hardware"],
        precision=cfg["precision"],
        tp=cfg["tp"],
        max_batch=cfg["batch"],
        **DEMAND,
    )
    assert fleet.devices == s.result.devices  # type: ignore[attr-defined]
    assert fleet.cost_per_mtok.magnitude == pytest.approx(best.values["cost"])
    assert ("binds" in best.why or "capped" in best.why) and "runner-up" in s.explanation  # type: ignore[attr-defined]


def test_serving_refusals_say_why(serving: object) -> None:
    reasons = {c.label: c.reason for c in serving.excluded}  # type: ignore[attr-defined]
    assert any("needs a node" in r for r in reasons.values())
    # 70B bf16 on one H100: the serving model says the weights leave no room for a KV cache
    assert any("leaving no room" in r or "does not fit" in r for r in reasons.values())
    # a format the device has no rate for (the T4 has no bf16) is refused with the solver's words
    t4 = optimize_serving("Llama3_8B", "T4", precisions=["bf16", "int4"], tp=1, **DEMAND)
    (refused,) = [c for c in t4.excluded if c.config["precision"] == "bf16"]
    assert "no dense peak rate for precision 'bf16'" in refused.reason


def test_serving_ttft_slo_and_unknown_objective() -> None:
    tight = optimize_serving("Llama3_8B", "DGX_H100", ttft_slo="1 us", **DEMAND)
    assert not tight.feasible and all("TTFT" in c.reason for c in tight.excluded if c.reason)
    with pytest.raises(InfeasibleError):
        _ = tight.config
    # the H100 has no embodied carbon in the registry: carbon is unknown, never 0
    carbon = optimize_serving("Llama3_8B", "DGX_H100", objective="carbon", tp=1, **DEMAND)
    assert not carbon.ranked
    assert all("carbon is unknown" in c.reason for c in carbon.excluded)
    with pytest.raises(UnknownNameError):
        optimize_serving("Llama3_8B", "H100", objective="speed", **DEMAND)


@pytest.fixture(scope="module")
def placement() -> mlsysim.solvers.Search:
    return optimize_placement(
        "Llama3_8B",
        ["DGX_H100", "DGX_A100"],
        regions=["Quebec", "Poland", "Virginia"],
        tokens=1e11,
        devices=64,
        batch=256,
        seq_len=4096,
        objective="operational_carbon",
    )


def test_carbon_aware_placement_picks_the_cleanest_grid(placement: object) -> None:
    s = placement
    assert s.config["region"] == "Quebec"  # type: ignore[attr-defined]
    values = [c.values["operational_carbon"] for c in s.ranked]  # type: ignore[attr-defined]
    assert values == sorted(values) and len(values) == 6
    run = s.result  # type: ignore[attr-defined]
    assert run.carbon.figures["operational"].value == pytest.approx(values[0])
    # the same plan gives the same step time in every region
    times = {c.values["time"] for c in s.ranked if c.config["system"] == "DGX_H100"}  # type: ignore[attr-defined]
    assert len(times) == 1


def test_placement_unknown_figures_exclude_with_the_reason(placement: object) -> None:
    p = placement
    front = pareto(p, "cost", "time", "operational_carbon")
    assert front.size >= 1 and front.dominated + front.size == len(p.ranked)  # type: ignore[attr-defined]
    water = pareto(p, "water", "time")
    assert water.size == 0 and water.excluded
    assert "water is unknown" in water.excluded[0][1]
    with pytest.raises(ConfigError, match="at least one"):
        optimize_placement("Llama3_8B", [], tokens=1e9, batch=8, seq_len=512)


def _dominated(v: list[float], others: list[list[float]]) -> bool:
    return any(all(a <= b for a, b in zip(w, v, strict=True)) and w != v for w in others)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda k: st.lists(st.lists(st.integers(0, 5), min_size=k, max_size=k), max_size=40)
    )
)
def test_frontier_equals_brute_force_dominance(points: list[list[int]]) -> None:
    vecs = [[float(x) for x in p] for p in points]
    want = [i for i, v in enumerate(vecs) if not _dominated(v, vecs)]
    assert frontier(vecs) == want


def test_pareto_on_rows_senses_ties_and_unknowns() -> None:
    rows = [
        {"name": "a", "cost": 1.0, "throughput": 10.0},
        {"name": "b", "cost": 2.0, "throughput": 30.0},
        {"name": "c", "cost": 2.0, "throughput": 20.0},  # dominated by b
        {"name": "d", "cost": 1.0, "throughput": 10.0},  # ties a: both stay
        {"name": "e", "cost": None, "throughput": 99.0},
    ]
    f = pareto(rows, "cost", "throughput")  # throughput is maximized by name
    assert [p["name"] for p in f.points] == ["a", "d", "b"]
    assert f.dominated == 1 and f.excluded == (("name=e", "cost is unknown or not a number"),)
    g = pareto(rows[:4], "min:cost", "min:throughput")
    assert [p["name"] for p in g.points] == ["a", "d"]
    assert f.extremes["throughput"]["name"] == "b"
    for bad in (("cost",), ("cost", "cost"), ("cost", "sideways:x")):
        with pytest.raises(ConfigError):
            pareto(rows, *bad)


def test_pareto_refuses_a_bounded_search_and_reads_an_exhaustive_one() -> None:
    kw = {"devices": 16, "batch": 32, "seq_len": 2048}
    bounded = mlsysim.optimize_parallelism("GPT_22B", "DGX_A100", **kw)
    with pytest.raises(ConfigError, match="exhaustive=True"):
        pareto(bounded, "throughput", "memory")
    full = mlsysim.optimize_parallelism("GPT_22B", "DGX_A100", exhaustive=True, **kw)
    f = pareto(full, "throughput", "memory")
    assert f.size >= 2 and f.senses == ("max", "min")
    best_tput = max(c.values["throughput"] for c in full.ranked)
    assert f.values[0][0] == best_tput
    mems = [v[1] for v in f.values]
    assert mems == sorted(mems, reverse=True)  # less throughput buys less memory
    assert math.isfinite(f.values[-1][1]) and f.to_dict()["schema_version"] == "mlsysim.pareto/1"
