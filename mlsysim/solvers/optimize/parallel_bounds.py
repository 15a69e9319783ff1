"""Bounds on a parallel configuration's throughput that cost no solve, for branch and bound.

:func:`throughput_bound` bounds every configuration from the GEMM work of its slowest stage
at the device's peak; :func:`sibling_bounds` bounds the siblings of a solved configuration
(the same micro-batch work under another ZeRO stage, schedule or chunking) from its solved
micro-batch. The parallelism search (:mod:`mlsysim.solvers.optimize.parallel`) solves a
configuration only while its bound can still reach the ranks it keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.formulas.parallelism import pipeline_time_s
from mlsysim.core.formulas.performance import hardware_flops_per_token_F
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers.optimize.parallel_space import Config, ParallelContext

__all__ = ["sibling_bounds", "throughput_bound"]

#: The throughput bound's margin for uneven shards (floors of ffn/tp and the like).
_MARGIN = 0.99


def throughput_bound(ctx: ParallelContext) -> Callable[[Config], float]:
    """An upper bound on each configuration's throughput that costs no solve.

    A micro-batch takes at least its GEMM FLOPs on the slowest stage's rank — the whole
    model's per-token training FLOPs
    (:func:`~mlsysim.core.formulas.hardware_flops_per_token_F` without the attention
    term, the recomputed forward included) over tp·cp·pp ranks — at the device's peak
    times the sourced GEMM efficiency; the step takes at least the pipeline over such
    micro-batches (:func:`~mlsysim.core.formulas.pipeline_time_s`); communication and the
    optimizer only add. A 1 % margin covers uneven shards. With 2:4 sparsity there is no
    bound.
    """
    f, B, s = ctx.facts, ctx.batch, ctx.seq_len
    dev = device_facts(ctx.view.hardware)
    rate: dict[str, float] = {}
    for rc, rp in ctx.plans:
        if rp.sparse:
            return lambda c: float("inf")
        N, N_head = f.flop_params, f.flop_params_head
        F = hardware_flops_per_token_F(N, f.layers, f.heads, f.attn_head_dim, 0.0, rc, N_head)
        rate[rc] = F * s / (dev.dense[rp.activations] * rp.eff.gemm)
    tokens = float(B) * s

    def bound(c: Config) -> float:
        tp, pp, dp, cp, _, _, _, mb, _, v, rc = c
        t_mb = rate[rc] * mb / (tp * cp * pp) * _MARGIN
        return tokens / pipeline_time_s(t_mb, pp, B // (dp * mb), v)

    return bound


def sibling_bounds(
    ctx: ParallelContext, survivors: list[Config]
) -> tuple[Callable[[Any], Any], Callable[[Any, int], float], Callable[[int], Any]]:
    """Siblings whose micro-batch is the same work: (learn, refine, group) for the search.

    Plans that differ only in ZeRO stage, schedule or model chunks (with the same layers
    on every stage) lower and time the same micro-batch with the same tensor-, context-
    and expert-parallel collectives; they differ in data-parallel traffic, the optimizer
    step and the bubble. One solved member gives the others a bound: its micro-batch
    (computation plus those collectives, :class:`~mlsysim.solvers.distributed.results.
    DistributedResult` fields) in the pipeline over their own micro-batches and chunks,
    plus the pipeline sends that cannot hide.
    """
    L = ctx.facts.layers
    stages: dict[tuple[int, int], tuple[int, int, int]] = {}
    tokens = float(ctx.batch) * ctx.seq_len
    overlap = ctx.overlap is not False

    def split(pp: int, v: int) -> tuple[int, int, int]:
        hit = stages.get((pp, v))
        if hit is None:
            hit = stages[(pp, v)] = ParallelPlan(
                pp=pp, chunks=v, schedule=("interleaved" if v > 1 else "1f1b")
            ).stage_layers(L)
        return hit

    def group(i: int) -> Any:
        tp, pp, _dp, cp, ep, sp, _, mb, _, v, rc = survivors[i]
        return (tp, cp, pp, ep, sp, mb, rc, split(pp, v))

    def learn(r: Any) -> Any:
        if isinstance(r, MlsysimError) or not r.feasible:
            return None
        c = r.communication
        work = r.compute_s + r.memory_s - r.optimizer_s + r.overhead_s
        u = (work + c.tp_s + c.cp_s + c.ep_s) / r.microbatches
        return (u, c.pp_s if overlap else 0.0)

    def refine(lesson: Any, i: int) -> float:
        if lesson is None:
            return float("inf")
        u, pp_s = lesson
        _, pp, dp, _, _, _, _, mb, _, v, _ = survivors[i]
        step = pipeline_time_s(u, pp, ctx.batch // (dp * mb), v) + pp_s
        return tokens / step * (1.0 + 1e-9)

    return learn, refine, group
