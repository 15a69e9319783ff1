"""``mlsysim.serve``: an LLM served with continuous batching at a request rate.

``serve(model, system, *, rate, prompt, output, …)`` runs the steady state of an inference
engine: requests arrive as a Poisson stream, join the running batch at the next iteration
(Orca's iteration-level scheduling, Yu et al. 2022), hold KV-cache blocks while they decode
(PagedAttention, Kwon et al. 2023) and leave when done. Per replica (``tp`` devices; a node
holds ``accelerators // tp`` replicas, each given an equal share of the rate):

1. **Memory.** ``memory_utilization`` of each device, less the weights, the working
   activations of a full iteration and the fp32 logits of ``max_batch`` sequences (engines
   reserve them before sizing the KV cache: :func:`~mlsysim.core.formulas.logits_B`), is the
   KV budget; paged in blocks of ``block_size``
   tokens it holds :func:`~mlsysim.core.formulas.paged_kv_sequences` sequences of the mean
   in-flight context ``prompt + output/2``. ``slots`` = min(that, ``max_batch``).
2. **Steps.** ``scheduler="chunked"`` (Sarathi-Serve, Agrawal et al. 2024; vLLM's chunked
   prefill): each iteration carries the ``n`` running decodes plus prefill chunks up to
   ``max_tokens`` tokens, timed by :meth:`~mlsysim.solvers.steps.ReplicaSteps.mixed`.
   ``scheduler="prefill_first"`` (vLLM's original scheduler): whole prefills run as their own
   iterations and stall the decodes.
3. **Operating point.** Little's law closes the loop: ``n = λ·output·T`` decodes run and
   ``c = λ·prompt·T`` prefill tokens arrive per iteration of length ``T = step(n, c)``; the
   fixed point is found by bisection. Capacity is the rate at which ``n`` reaches the slots
   or the token budget.
4. **Queues.** A request waits for a KV slot (M/M/c over the slots, each held for a
   saturated decode residence, Erlang C) and for its prefill (M/D/1 at the saturated engine's
   full prefill speed: the token budget its decodes leave), then takes its own prefill. A
   queue forms when the engine is full, so both servers run at saturation: the utilization
   of the queue whose limit binds is λ/capacity. TTFT quantiles add the components'
   quantiles (an upper bound on the quantile of the sum). Token gaps are two-valued
   (iterations with and without prefill work); TPOT, a request's mean gap, averages
   ``output − 1`` of them (normal approximation).

Speculative decoding (``draft=``), weight streaming (``offload=``) and a tenant's ``share``
of a device (co-located models splitting its compute, bandwidth and memory) compose in the
step times. :func:`capacity_at_slo` is the largest rate whose TTFT and TPOT percentiles meet
their limits (MLPerf's Server scenario); :func:`capacity_at_tpot` is the rate one replica
sustains within a TPOT target
(:mod:`.fleet` sizes fleets with it).
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core import arguments
from mlsysim.core.constants import (
    DEFAULT_KV_BLOCK_SIZE,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MEMORY_UTILIZATION,
)
from mlsysim.core.exceptions import ConfigError, DimensionError, InfeasibleError
from mlsysim.core.formulas.serving import kv_fragmentation, paged_kv_sequences_n
from mlsysim.core.units import Q_
from mlsysim.solvers.arguments import one_system
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.generation import count_arg, tokens_arg
from mlsysim.solvers.replica import QUANTILES, Replica, closed_loop_rate, latencies
from mlsysim.solvers.serving_result import ServingResult
from mlsysim.solvers.steps import ReplicaSteps, max_context
from mlsysim.systems.offload import offload_tier, tier_facts

__all__ = [
    "SCHEDULERS",
    "ServingSolver",
    "capacity_at_slo",
    "capacity_at_tpot",
    "colocate",
    "serve",
]

#: Schedulers: chunked prefill with stall-free batching, or prefill-first iterations.
SCHEDULERS = ("chunked", "prefill_first")
_BISECT = 60
#: The lowest share of the capacity an SLO search tries, and its relative tolerance.
_SLO_FLOOR = 1e-3
_SLO_RTOL = 1e-4


def _rate(value: Any, where: str) -> float:
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
        lam_sys = None if rate is None else _rate(rate, where)
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
            return ServingResult.infeasible(
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
        limit = _limit(rep, n_star, kv_slots, B_max)
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
            return ServingResult.saturated(lam_sys, **common)
        lam = lam_sys / n_rep
        point = latencies(rep, lam, QUANTILES + ((q_slo,) if q_slo not in QUANTILES else ()))
        return ServingResult.at_rate(lam_sys, point, **common)


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


def _limit(rep: Replica, n: float, kv_slots: float, max_batch: int) -> str:
    """What caps the batch at saturation: the KV cache, max_batch or the token budget."""
    if rep.scheduler == "chunked" and n < rep.slots - 1e-9:
        return "max_tokens"
    return "kv_cache" if kv_slots <= max_batch else "max_batch"


_SOLVER = ServingSolver()


def serve(model: Any = None, system: Any = None, **kwargs: Any) -> ServingResult:
    """Serve ``model`` on ``system`` with continuous batching at ``rate`` requests/s.

    Returns the capacity (requests/s and tokens/s at saturation, with its ideal bound), and
    at the rate: the concurrency, the iteration time, TTFT, TPOT, token-gap and end-to-end
    latency means and percentiles (p50/p90/p99), tokens/s, whether ``slo_ttft``/``slo_tpot``
    hold at ``slo_percentile``, the binding wall and an explanation. Keywords: ``prompt``,
    ``output`` (mean tokens per request, required), ``rate`` (omit for the saturated engine)
    or ``concurrency`` (a closed loop of that many requests in flight),
    ``precision``, ``tp`` and ``replicas``, ``scheduler`` (``"chunked"`` or
    ``"prefill_first"``), ``max_batch``, ``max_tokens``, ``block_size``,
    ``memory_utilization``, ``share`` and ``memory_share`` (a co-located tenant's fraction
    of the device's compute and bandwidth, and of its memory;
    :func:`~mlsysim.solvers.serving.colocate`),
    ``draft``/``acceptance``/``draft_tokens``, ``offload``, and solve's plan options.
    """
    return _SOLVER.solve(model, system, **kwargs)


def colocate(system: Any, tenants: list[dict[str, Any]]) -> tuple[ServingResult, ...]:
    """Several models served on one device at once, each at its own rate.

    Each tenant (a dict of :func:`serve` keywords: ``model``, ``prompt``, ``output``,
    ``rate``, …) gets an equal share of the memory (or its ``memory_share``) and the compute and
    bandwidth the others leave: ``share_i = 1 − Σ_{j≠i} u_j`` with ``u_j = λ_j / X_j`` its
    utilization of the whole device alone (the utilization law, Kleinrock 1975; kernels of
    co-located processes interleave, so each tenant's work queues behind the others').
    A tenant whose rate then reaches its capacity binds on the multi-tenancy wall.
    """
    if not tenants:
        raise ConfigError(
            "colocate needs at least one tenant",
            where="colocate",
            fix="pass tenants=[{'model': 'Llama2_7B', 'prompt': 512, 'output': 256, "
            "'rate': '2 req/s'}, …]",
        )
    n = len(tenants)
    specs = []
    for t in tenants:
        kw = dict(t)
        if "model" not in kw:
            raise ConfigError("every tenant needs a model", where="colocate", fix="add 'model'")
        model = kw.pop("model")
        kw.setdefault("memory_share", 1.0 / n)
        specs.append((model, kw))
    util = []
    for model, kw in specs:
        alone = serve(model, system, **{k: v for k, v in kw.items() if k != "rate"})
        rate = None if kw.get("rate") is None else _rate(kw["rate"], "colocate")
        if not alone.feasible:
            util.append(0.0)
        else:
            util.append(0.0 if rate is None else rate / alone.capacity_rps)
    out = []
    for i, (model, kw) in enumerate(specs):
        others = sum(u for j, u in enumerate(util) if j != i)
        share = max(1e-3, 1.0 - others)
        out.append(serve(model, system, share=min(1.0, share), **kw))
    return tuple(out)


def capacity_at_tpot(
    model: Any, system: Any, *, prompt: int, output: int, tpot: float, **kwargs: Any
) -> tuple[float, float, float, Any]:
    """Requests/s one replica sustains with iterations no longer than ``tpot`` seconds:
    (requests/s, decodes, iteration s, the saturated result). The batch is lowered from the
    engine's limit until the iteration meets the target; InfeasibleError when even one
    sequence's step is slower."""
    r = serve(model, system, prompt=prompt, output=output, replicas=1, **kwargs)
    if not r.feasible:
        r._require_feasible("capacity")
    rep = r.replica
    E = rep.tokens_per_step
    n_star, T_star = r.saturation
    if T_star / E <= tpot:
        return r.capacity_rps, n_star, T_star, r
    ratio = rep.p * E / rep.o

    def step_at(n: float) -> float:
        c = n * ratio if rep.scheduler == "chunked" else 0.0
        return rep.step(n, c)

    if step_at(1.0) / E > tpot:
        raise InfeasibleError(
            f"one {r.system} cannot meet the SLO of {tpot * 1e3:.3g} ms per output token: an "
            f"iteration with one sequence takes {step_at(1.0) / E * 1e3:.3g} ms per token",
            where="serving capacity",
            fix="relax the SLO, use a faster device, tensor parallelism (tp=) or "
            "lower-precision weights",
        )
    lo, hi = 1.0, n_star
    for _ in range(_BISECT):
        mid = 0.5 * (lo + hi)
        if step_at(mid) / E <= tpot:
            lo = mid
        else:
            hi = mid
    T = step_at(lo)
    if rep.scheduler == "chunked":
        return lo * E / (rep.o * T), lo, T, r
    return 1.0 / (rep.o / E * T / lo + rep.prefill()), lo, T, r


def capacity_at_slo(
    model: Any,
    system: Any,
    *,
    prompt: int,
    output: int,
    slo_ttft: Any,
    slo_tpot: Any,
    slo_percentile: Any = 0.99,
    **kwargs: Any,
) -> tuple[float, ServingResult]:
    """The largest request rate whose TTFT and TPOT percentiles stay within their limits:
    (requests/s over the system, the result at that rate). This is what an MLPerf Inference
    Server run reports: LoadGen's target QPS raised until the 99th-percentile TTFT and TPOT
    meet the benchmark's limits (llama2-70b: 2,000 ms and 200 ms, ``loadgen/mlperf.conf``).
    Both percentiles rise with the rate, so the rate is bisected between 0 and the capacity;
    InfeasibleError when the limits fail even as the rate tends to 0."""
    base = serve(model, system, prompt=prompt, output=output, **kwargs)
    if not base.feasible:
        base._require_feasible("capacity within an SLO")

    def holds(rate: float) -> ServingResult | None:
        r = serve(
            model,
            system,
            prompt=prompt,
            output=output,
            rate=Q_(rate, "req/s"),
            slo_ttft=slo_ttft,
            slo_tpot=slo_tpot,
            slo_percentile=slo_percentile,
            **kwargs,
        )
        return r if r.slo_met else None

    cap = base.capacity_rps
    lo, hi = 0.0, cap
    best = holds(cap * _SLO_FLOOR)
    if best is None:
        raise InfeasibleError(
            f"{base.system} cannot meet the SLO (TTFT {slo_ttft}, TPOT {slo_tpot} at the "
            f"{slo_percentile} quantile) even at {cap * _SLO_FLOOR:.3g} requests/s",
            where="serving capacity within an SLO",
            fix="relax the SLO, use a faster device, tensor parallelism (tp=) or "
            "lower-precision weights",
        )
    lo = cap * _SLO_FLOOR
    for _ in range(_BISECT):
        if hi - lo <= _SLO_RTOL * hi:
            break
        mid = 0.5 * (lo + hi)
        r = holds(mid)
        if r is None:
            hi = mid
        else:
            lo, best = mid, r
    return lo, best
