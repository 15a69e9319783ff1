"""The serving solver: one request rate on an engine with continuous batching, solved.

:class:`ServingSolver` checks the keywords, sizes the KV cache of each replica, finds the
operating point at the rate and its queues, and returns a
:class:`~mlsysim.solvers.serving.result.ServingResult`; the model is described in
:mod:`mlsysim.solvers.serving.serve`, whose :func:`~mlsysim.solvers.serving.serve.serve` calls it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from mlsysim.core import arguments
from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import (
    DEFAULT_KV_BLOCK_SIZE,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MEMORY_UTILIZATION,
)
from mlsysim.core.exceptions import ConfigError, DimensionError
from mlsysim.core.formulas.serving import kv_fragmentation, paged_kv_sequences_n
from mlsysim.solvers.arguments import one_system
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.serving import build as serving_build
from mlsysim.solvers.serving.generation import count_arg, tokens_arg
from mlsysim.solvers.serving.replica import QUANTILES, Replica, closed_loop_rate, latencies
from mlsysim.solvers.serving.result import ServingResult
from mlsysim.solvers.serving.steps import ReplicaSteps, max_context
from mlsysim.systems.offload import offload_tier, tier_facts

__all__ = ["SCHEDULERS", "ServingSolver", "request_rate"]

#: Schedulers: chunked prefill with stall-free batching, or prefill-first iterations.
SCHEDULERS = ("chunked", "prefill_first")


def request_rate(value: Any, where: str) -> float:
    """Requests per second from ``10 req/s``, ``"10 req/s"`` or a frequency ``"10 /s"``."""
    try:
        return arguments.quantity(
            value, "request_rate", "rate", where, example="10 req/s", positive=True
        )
    except DimensionError:  # a frequency (1/s) is a rate of requests too
        return arguments.quantity(value, "frequency", "rate", where, example="10 /s", positive=True)


def _replicas(steps: ReplicaSteps, replicas: Any, where: str) -> int:
    if replicas is not None:
        return count_arg(replicas, "replicas", where)
    sysm = steps.system
    total = 1
    if hasattr(sysm, "node_spec") or (
        hasattr(sysm, "accelerators") and hasattr(sysm, "intra_fabric")
    ):
        total = sysm.accelerators
    if total < steps.tp:
        raise ConfigError(
            f"{getattr(sysm, 'id', sysm)} has {total} accelerators, fewer than tp={steps.tp}",
            where=where,
            fix="lower tp or pass a larger node or cluster",
        )
    return total // steps.tp


class ServingSolver(BaseSolver):
    """Continuous-batching serving at a request rate: capacity, TTFT, TPOT, tails, SLO."""

    name = "serving"
    walls = ("serving", "batching", "tail_latency", "multi_tenancy", "weight_streaming")
    sources = (
        "yu2022orca",
        "kwon2023vllm",
        "agrawal2024sarathi",
        "kleinrock1975",
        "erlang1917",
        "little1961",
        "leviathan2023",
    )

    def solve(
        self,
        model: Any = None,
        system: Any = None,
        *,
        prompt: Any,
        output: Any,
        rate: Any = None,
        concurrency: Any = None,
        precision: str | None = None,
        tp: int = 1,
        replicas: Any = None,
        scheduler: str = "chunked",
        max_batch: Any = DEFAULT_MAX_BATCH.value,
        max_tokens: Any = DEFAULT_MAX_TOKENS.value,
        block_size: Any = DEFAULT_KV_BLOCK_SIZE.value,
        memory_utilization: Any = None,
        kv_fraction: Any = None,
        share: Any = 1.0,
        memory_share: Any = None,
        slo_ttft: Any = None,
        slo_tpot: Any = None,
        slo_percentile: Any = 0.99,
        draft: Any = None,
        acceptance: Any = None,
        draft_tokens: int = 4,
        offload: Any = None,
        hardware: Any = None,
        **plan_options: Any,
    ) -> ServingResult:
        where = "serve"
        system = one_system(system, hardware, where)
        p = tokens_arg(prompt, "prompt", where)
        o = tokens_arg(output, "output", where)
        sched = arguments.choice(scheduler, "scheduler", where, SCHEDULERS)
        B_max = count_arg(_whole(max_batch), "max_batch", where)
        budget = count_arg(_whole(max_tokens), "max_tokens", where)
        block = count_arg(_whole(block_size), "block_size", where)
        if memory_utilization is not None and kv_fraction is not None:
            raise ConfigError(
                "give the KV memory once: memory_utilization= (of the whole device, vLLM's "
                "gpu_memory_utilization) or kv_fraction= (of what the weights and activations "
                "leave, TensorRT-LLM's kv_cache_free_gpu_mem_fraction)",
                where=where,
                fix="drop one of them",
            )
        if kv_fraction is None:
            util = arguments.fraction(
                DEFAULT_MEMORY_UTILIZATION.value
                if memory_utilization is None
                else memory_utilization,
                "memory_utilization",
                where,
                example="0.9",
            )
            free_share = 1.0
        else:
            util = 1.0
            free_share = arguments.fraction(kv_fraction, "kv_fraction", where, example="0.9")
        frac = arguments.fraction(share, "share", where, example="0.5")
        mem_frac = (
            frac
            if memory_share is None
            else arguments.fraction(memory_share, "memory_share", where, example="0.5")
        )
        q_slo = arguments.fraction(slo_percentile, "slo_percentile", where, example="0.99")
        if q_slo >= 1.0:
            raise ConfigError(
                "slo_percentile must be below 1 (the 100th percentile of a queue is unbounded)",
                where=where,
                fix="pass slo_percentile=0.99",
            )
        if rate is not None and concurrency is not None:
            raise ConfigError(
                "give the load once: rate= (open loop, Poisson arrivals) or concurrency= "
                "(closed loop: that many requests always in flight)",
                where=where,
                fix="drop one of rate= and concurrency=",
            )
        lam_sys = None if rate is None else request_rate(rate, where)
        clients = None if concurrency is None else count_arg(concurrency, "concurrency", where)
        ttft_slo = _time(slo_ttft, "slo_ttft", where)
        tpot_slo = _time(slo_tpot, "slo_tpot", where)
        steps = ReplicaSteps(
            model,
            _shared(system, frac, mem_frac),
            tp=tp,
            precision=precision,
            plan_options=plan_options,
            where=where,
        )
        n_rep = _replicas(steps, replicas, where)
        if p + o > max_context(steps.spec):
            raise ConfigError(
                f"prompt + output = {p + o} tokens exceeds {steps.spec.id}'s context of "
                f"{max_context(steps.spec)}",
                where=where,
                fix="shorten the prompt or the output, or use a long-context model",
            )
        d_steps = None
        alpha, gamma = 0.0, 0
        if draft is not None:
            if acceptance is None:
                raise ConfigError(
                    "speculative decoding needs acceptance= (the draft's acceptance rate)",
                    where=where,
                    fix="pass acceptance=0.7 with draft=",
                )
            alpha = arguments.fraction(acceptance, "acceptance", where, low_open=False)
            gamma = count_arg(draft_tokens, "draft_tokens", where)
            d_steps = ReplicaSteps(
                draft,
                steps.system,
                tp=tp,
                precision=precision,
                plan_options=plan_options,
                where=where,
            )
        # memory per device: the KV budget left by the weights, a full iteration's work and the
        # logits the engine reserves for its largest batch
        cap = steps.capacity_B
        usable = cap * util
        act = steps.activations_B(budget if sched == "chunked" else max(B_max, p))
        act += steps.logits_B(B_max)
        weights = steps.weights_B
        draft_B = 0.0 if d_steps is None else d_steps.weights_B + d_steps.activations_B(B_max)
        kv_tok = steps.kv_per_token_B + (0.0 if d_steps is None else d_steps.kv_per_token_B)
        ctx = p + o / 2.0
        streaming = None
        if offload is not None:
            tier = tier_facts(offload_tier(offload, where))
            keep = act + draft_B + kv_tok * ctx * min(B_max, budget)
            plan = steps.plan_offload(tier, keep, usable)
            if plan is not None:
                streaming = (tier, plan)
        resident = weights if streaming is None else streaming[1].resident_B
        kv_budget = (usable - resident - act - draft_B) * free_share
        if kv_budget <= kv_tok * ctx:
            return serving_build.infeasible(
                steps,
                p,
                o,
                lam_sys,
                n_rep,
                sched,
                B_max,
                budget,
                block,
                util,
                frac,
                weights,
                act,
                cap,
                kv_tok,
                max(kv_budget, 0.0),
            )
        kv_slots = paged_kv_sequences_n(kv_budget, kv_tok, ctx, float(block))
        slots = float(min(B_max, kv_slots))
        rep = Replica(steps, d_steps, alpha, gamma, p, o, sched, slots, float(budget))
        held = _held_at_peak(rep)
        if held is not None:
            rep = held
        bound = Replica(
            steps.bound(),
            None if d_steps is None else d_steps.bound(),
            alpha,
            gamma,
            p,
            o,
            sched,
            float(paged_kv_sequences_n(cap - weights, kv_tok, ctx, 1.0)),
            math.inf,
        )
        n_star, T_star, X_star = rep.saturation()
        _, _, X_bound = bound.saturation()
        limit = "gemm_tiles" if held is not None else _limit(rep, n_star, kv_slots, B_max)
        common = dict(
            steps=steps,
            rep=rep,
            p=p,
            o=o,
            replicas=n_rep,
            scheduler=sched,
            max_batch=B_max,
            max_tokens=budget,
            block_size=block,
            memory_utilization=util,
            share=frac,
            kv_fraction=None if kv_fraction is None else free_share,
            weights_B=weights,
            activations_B=act,
            capacity_B=cap,
            kv_per_token_B=kv_tok,
            kv_budget_B=kv_budget,
            kv_slots=kv_slots,
            fragmentation=kv_fragmentation(ctx, block),
            capacity_rps=X_star * n_rep,
            capacity_bound_rps=X_bound * n_rep,
            saturation=(n_star, T_star),
            limit=limit,
            streaming=None if streaming is None else streaming[1],
            streaming_tier=None if streaming is None else streaming[0],
            draft=None if d_steps is None else d_steps.spec.id,
            alpha=alpha,
            gamma=gamma,
            slo=(ttft_slo, tpot_slo, q_slo),
        )
        if clients is not None:
            lam_sys = closed_loop_rate(rep, clients / n_rep, X_star) * n_rep
        if lam_sys is None or lam_sys >= X_star * n_rep:
            return serving_build.saturated(lam_sys, **common)
        lam = lam_sys / n_rep
        point = latencies(rep, lam, QUANTILES + ((q_slo,) if q_slo not in QUANTILES else ()))
        return serving_build.at_rate(lam_sys, point, **common)


def _whole(value: Any) -> Any:
    """Counts from constants arrive as floats; whole floats become ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _time(value: Any, name: str, where: str) -> float | None:
    if value is None:
        return None
    return arguments.quantity(value, "time", name, where, example="200 ms", positive=True)


def _shared(system: Any, share: float, memory: float) -> Any:
    """A tenant's share of a device: its peak rates, bandwidth and memory scaled by ``share``
    (co-located models splitting one device); the device itself at 1."""
    if share >= 1.0 and memory >= 1.0:
        return system
    from mlsysim.hardware.partitions import share_of
    from mlsysim.hardware.registry import HardwareSpec
    from mlsysim.systems.topology import lookup_system

    spec = lookup_system(system)
    if not isinstance(spec, HardwareSpec):
        raise ConfigError(
            f"share= splits one device, but {getattr(spec, 'id', spec)} is a node or cluster",
            where="serve",
            fix="pass a device (e.g. 'H100') with share=, or drop share=",
        )
    return share_of(spec, share, memory)


def _held_at_peak(rep: Replica) -> Replica | None:
    """The replica with its batch held where the full engine serves the most requests/s
    (:meth:`~mlsysim.solvers.serving.replica.Replica.peak_batch`), or None when that is the most the
    slots and the token budget admit. The engine's own batch limit holds it (max_num_seqs,
    TensorRT-LLM's max_batch_size): the KV cache keeps its blocks and the token budget its
    prefill chunks. More KV memory then never gives less capacity."""
    n_max = rep.batch_limit()
    key = _peak_key(rep)
    hit = None if key is None else _PEAKS.get(key)
    held_by = (rep.steps.spec, rep.steps.system, None if rep.draft is None else rep.draft.spec)
    if hit is not None and all(a is b for a, b in zip(hit[0], held_by, strict=True)):
        n = hit[1]
    else:
        n = rep.peak_batch()
        if key is not None:
            if len(_PEAKS) >= _PEAKS_LIMIT:  # a long sweep of engines: stay bounded
                _PEAKS.clear()
            _PEAKS.put(key, (held_by, n))  # the very entries (an edited copy is not a hit)
    if n >= n_max:
        return None
    return replace(rep, slots=n)


#: The held batch of each engine setup (the search times a step per GEMM tile boundary), so
#: calls that vary only the rate (capacity_at_slo's bisection, a sweep of rates) search once.
_PEAKS = DerivedCache("serving.peak_batch")
_PEAKS_LIMIT = 4096


def _peak_key(rep: Replica) -> tuple[Any, ...] | None:
    """What the held batch depends on, or None when that is not a plain registry setup (a
    tenant's share of a device, streamed weights, unhashable plan options)."""
    steps, draft = rep.steps, rep.draft
    if steps.offload is not None or not isinstance(getattr(steps.system, "id", None), str):
        return None
    if draft is not None and draft.offload is not None:
        return None
    key = (
        steps.spec.id,
        id(steps.spec),
        steps.system.id,
        id(steps.system),
        steps.tp,
        steps.precision,
        tuple(sorted(steps.options.items())),
        None if draft is None else draft.spec.id,
        rep.alpha,
        rep.gamma,
        rep.p,
        rep.o,
        rep.scheduler,
        rep.slots,
        rep.budget,
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _limit(rep: Replica, n: float, kv_slots: float, max_batch: int) -> str:
    """What caps the batch at saturation: the KV cache, max_batch or the token budget."""
    if rep.scheduler == "chunked" and n < rep.slots - 1e-9:
        return "max_tokens"
    return "kv_cache" if kv_slots <= max_batch else "max_batch"
