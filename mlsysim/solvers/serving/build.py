"""The :class:`~mlsysim.solvers.serving.result.ServingResult` of a serving solve, built from
what the solver computed: a replica that does not fit (:func:`infeasible`), the saturated
engine (:func:`saturated`) or the engine at a rate below its capacity (:func:`at_rate`).
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.solvers.serving.generation_result import Streaming
from mlsysim.solvers.serving.result import ServingResult

__all__ = ["at_rate", "infeasible", "saturated"]


def _base(steps: Any, **kw: Any) -> dict[str, Any]:
    return {
        "model": steps.spec.id,
        "system": getattr(steps.system, "id", str(steps.system)),
        "tp": steps.tp,
        **kw,
    }


def infeasible(
    steps: Any,
    p: int,
    o: int,
    rate: float | None,
    replicas: int,
    sched: str,
    B_max: int,
    budget: int,
    block: int,
    util: float,
    share: float,
    weights: float,
    act: float,
    cap: float,
    kv_tok: float,
    kv_budget: float,
) -> ServingResult:
    """The result of a replica whose weights and working memory leave no KV cache."""
    r = steps.result("decode", 1, p)
    return ServingResult(
        **_base(steps),
        replicas=replicas,
        precision=r.weights_precision,
        prompt=p,
        output=o,
        scheduler=sched,
        max_batch=B_max,
        max_tokens=budget,
        block_size=block,
        memory_utilization=util,
        share=share,
        feasible=False,
        binding_wall="memory_capacity",
        limit="kv_cache",
        step_wall=r.binding_wall,
        weights_bytes=weights,
        activations_bytes=act,
        capacity_bytes=cap,
        kv_bytes_per_token=kv_tok,
        kv_budget_bytes=kv_budget,
        kv_slots=0.0,
        fragmentation=0.0,
        capacity_rps=0.0,
        capacity_bound_rps=0.0,
        saturation_batch=0.0,
        saturation_step_s=math.inf,
        rate_rps=rate,
    )


def _common(common: dict[str, Any]) -> dict[str, Any]:
    """The fields of a feasible result, from what the solver computed (``common``)."""
    steps, rep = common["steps"], common["rep"]
    n_star, T_star = common["saturation"]
    r = steps.result("decode", max(1, round(n_star)), round(rep.context))
    ttft_slo, tpot_slo, q = common["slo"]
    wall = r.binding_wall
    streaming = common["streaming"]
    if streaming is not None and streaming.stream_s >= steps._t_raw(r):
        wall = "weight_streaming"

    tier = common["streaming_tier"]
    st = (
        None
        if streaming is None
        else Streaming(
            tier.id,
            tier.bound_by,
            tier.bandwidth_Bps,
            streaming.streamed_B,
            streaming.resident_B,
            streaming.stream_s,
        )
    )
    return _base(
        steps,
        replicas=common["replicas"],
        precision=r.weights_precision,
        prompt=common["p"],
        output=common["o"],
        scheduler=common["scheduler"],
        max_batch=common["max_batch"],
        max_tokens=common["max_tokens"],
        block_size=common["block_size"],
        memory_utilization=common["memory_utilization"],
        share=common["share"],
        feasible=True,
        limit=common["limit"],
        step_wall=wall,
        weights_bytes=common["weights_B"],
        activations_bytes=common["activations_B"],
        capacity_bytes=common["capacity_B"],
        kv_bytes_per_token=common["kv_per_token_B"],
        kv_budget_bytes=common["kv_budget_B"],
        kv_slots=common["kv_slots"],
        fragmentation=common["fragmentation"],
        capacity_rps=common["capacity_rps"],
        capacity_bound_rps=common["capacity_bound_rps"],
        saturation_batch=n_star,
        saturation_step_s=T_star,
        slo_ttft_s=ttft_slo,
        slo_tpot_s=tpot_slo,
        slo_percentile=q,
        draft=common["draft"],
        acceptance=common["alpha"] if common["draft"] else None,
        draft_tokens=common["gamma"] if common["draft"] else None,
        streaming=st,
        power_w=r.power_w,
        kv_fraction=common["kv_fraction"],
        replica=rep,
    )


def saturated(rate: float | None, **common: Any) -> ServingResult:
    """The saturated engine: no rate, or a rate at or above the capacity (no steady state)."""
    base = _common(common)
    if base["step_wall"] == "weight_streaming":
        wall = "weight_streaming"
    elif common["share"] < 1.0 and rate is not None:
        wall = "multi_tenancy"
    else:
        wall = "batching"
    met = None if base["slo_ttft_s"] is None and base["slo_tpot_s"] is None else False
    return ServingResult(**base, binding_wall=wall, rate_rps=rate, slo_met=met)


def at_rate(rate: float, point: dict[str, Any], **common: Any) -> ServingResult:
    """The engine at a rate below its capacity: the operating ``point``'s latencies, tails
    and whether the SLO holds."""
    base = _common(common)
    q = base["slo_percentile"]
    met = None
    wall = "serving"
    checks = (
        (base["slo_ttft_s"], point["ttft_s"], point["ttft"]),
        (base["slo_tpot_s"], point["tpot_s"], point["tpot"]),
    )
    if any(slo is not None for slo, _, _ in checks):
        met = all(slo is None or pct.at_s(q) <= slo for slo, _, pct in checks)
        mean_ok = all(slo is None or mean <= slo for slo, mean, _ in checks)
        if not met and mean_ok:
            wall = "tail_latency"
    return ServingResult(
        **base,
        binding_wall=wall,
        rate_rps=rate,
        concurrency=point["concurrency"],
        step_s=point["step_s"],
        prefill_busy=point["prefill_busy"],
        slot_wait_s=point["slot_wait_s"],
        prefill_wait_s=point["prefill_wait_s"],
        ttft_s=point["ttft_s"],
        tpot_s=point["tpot_s"],
        latency_s=point["latency_s"],
        ttft_percentiles=point["ttft"],
        tpot_percentiles=point["tpot"],
        itl_percentiles=point["itl"],
        latency_percentiles=point["latency"],
        idle_fraction=point["idle"],
        slo_met=met,
    )
