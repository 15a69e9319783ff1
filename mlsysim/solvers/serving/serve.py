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
   ``max_tokens`` tokens, timed by :meth:`~mlsysim.solvers.serving.steps.ReplicaSteps.mixed`.
   ``scheduler="prefill_first"`` (vLLM's original scheduler): whole prefills run as their own
   iterations and stall the decodes.
3. **Operating point.** Little's law closes the loop: ``n = λ·output·T`` decodes run and
   ``c = λ·prompt·T`` prefill tokens arrive per iteration of length ``T = step(n, c)``; the
   fixed point is found by bisection. Capacity is the best rate of any batch the engine can
   hold: ``n`` at the slots or the token budget, or held just below a GEMM tile boundary
   when one more decode would pad the iteration's GEMMs into another row of tiles and serve
   fewer requests/s (limit ``gemm_tiles``), so more KV memory never gives less capacity.
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
(:mod:`~mlsysim.solvers.run.fleet` sizes fleets with it).
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.exceptions import ConfigError, InfeasibleError
from mlsysim.core.units import Q_
from mlsysim.solvers.serving.result import ServingResult
from mlsysim.solvers.serving.solver import SCHEDULERS, ServingSolver, request_rate

__all__ = [
    "SCHEDULERS",
    "ServingSolver",
    "capacity_at_slo",
    "capacity_at_tpot",
    "colocate",
    "serve",
]

#: Bisection steps of the capacity searches.
_BISECT = 60
#: The lowest share of the capacity an SLO search tries, and its relative tolerance.
_SLO_FLOOR = 1e-3
_SLO_RTOL = 1e-4


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
    :func:`~mlsysim.solvers.serving.serve.colocate`),
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
        rate = None if kw.get("rate") is None else request_rate(kw["rate"], "colocate")
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
