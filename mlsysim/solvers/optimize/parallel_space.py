"""The parallelism search's space: every training configuration worth solving, cut by rule.

A configuration (:data:`Config`) sets each of the :data:`AXES`: tensor, pipeline, data,
context and expert degrees, sequence parallelism, the ZeRO stage, the micro-batch, the
pipeline schedule and its model chunks, and the recomputation policy.
:func:`configurations` generates them for one :class:`ParallelContext` (the search's checked
inputs), cut by construction as :mod:`mlsysim.solvers.optimize.parallel` explains:
divisibility, symmetry, dominance, then memory (weights, gradients and optimizer state per
layout, then activations per micro-batch plan, from the lowering's own memory functions).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from mlsysim.core.constants import RECOMPUTE_POLICIES
from mlsysim.core.exceptions import ConfigError
from mlsysim.execution import parallel
from mlsysim.execution.parallel import SCHEDULES, ParallelPlan
from mlsysim.execution.plan import ExecutionPlan
from mlsysim.hardware.engines import engine_for, family_of
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers import arguments
from mlsysim.solvers.distributed.solver import PARALLEL_KEYWORDS
from mlsysim.systems.topology import resolve_system
from mlsysim.workload.lowering import model_facts
from mlsysim.workload.lowering.sharded import training_activation_bytes, training_state_bytes

__all__ = [
    "AXES",
    "Config",
    "ParallelContext",
    "configurations",
    "divisors",
    "keep",
    "keywords",
]

#: The keywords the search chooses (each may be fixed by the caller): the parallel plan's
#: own keywords but the device count and overlap, and the recomputation policy.
AXES = (
    *(k for k in parallel.PARALLEL_KEYWORDS if k not in ("devices", "overlap")),
    "recompute",
)


#: A configuration: (tp, pp, dp, cp, ep, sp, zero, microbatch, schedule, chunks, recompute).
Config = tuple[int, int, int, int, int, bool, int, int, str, int, str]


def divisors(n: int) -> list[int]:
    """The divisors of ``n``, ascending."""
    small, large = [], []
    d = 1
    while d * d <= n:
        if n % d == 0:
            small.append(d)
            if d * d != n:
                large.append(n // d)
        d += 1
    return small + large[::-1]


def keep(fixed: dict[str, Any], name: str, values: Sequence[Any]) -> list[Any]:
    """``values`` of axis ``name`` that the caller's fixed value (or values) allows."""
    if name not in fixed:
        return list(values)
    want = fixed[name]
    allowed = want if isinstance(want, list | tuple | set | frozenset) else (want,)
    return [v for v in values if any(v == a and type(v) is type(a) for a in allowed)]


def keywords(c: Config) -> dict[str, Any]:
    """The keywords of ``solve`` that configuration ``c`` sets."""
    tp, pp, dp, cp, ep, sp, zero, mb, sched, v, rc = c
    return {
        "tp": tp,
        "pp": pp,
        "dp": dp,
        "cp": cp,
        "ep": ep,
        "sp": sp,
        "zero": zero,
        "microbatch": mb,
        "schedule": sched if sched in SCHEDULES else "1f1b",
        "chunks": v,
        "recompute": rc,
    }


class ParallelContext:
    """The fixed inputs of one parallelism search, checked once: the model, the system's
    view, the batch and sequence, the fixed axes and plan options, and one resolved execution
    plan per recomputation policy the search may use."""

    def __init__(
        self,
        model: Any,
        system: Any,
        devices: Any,
        batch: Any,
        seq_len: Any,
        precision: str | None,
        fixed: dict[str, Any],
    ) -> None:
        where = "optimize_parallelism"
        self.spec = arguments.model(model, where)
        if devices is None:
            raise ConfigError(
                "optimize_parallelism needs devices= (how many accelerators train the model)",
                where=where,
                fix="pass devices=…, e.g. devices=2520",
            )
        self.view = resolve_system(system, devices)
        self.system = system
        self.devices = self.view.devices
        self.batch = arguments.batch(batch, where)
        self.seq_len = arguments.seq_len(seq_len, 1, where)
        self.precision = precision
        self.facts = model_facts(self.spec)
        if self.facts.kind != "transformer":
            raise ConfigError(
                f"{self.spec.id} is a {self.facts.kind} model: the parallelism search covers "
                "transformers (the distributed solver's models)",
                where=where,
                fix="pick a transformer model",
            )
        if self.seq_len > self.facts.max_seq_len:
            raise ConfigError(
                f"seq_len {self.seq_len} exceeds {self.spec.id}'s maximum context of "
                f"{self.facts.max_seq_len} tokens",
                where=where,
                fix=f"pass seq_len ≤ {self.facts.max_seq_len}",
            )
        axes = {k: v for k, v in fixed.items() if k in AXES}
        self.overlap = fixed.get("overlap", True)
        options = {k: v for k, v in fixed.items() if k not in AXES and k != "overlap"}
        if options:
            arguments.check_keywords(options, where, (*PARALLEL_KEYWORDS, *AXES))
            bad = [k for k in options if k in ("devices", "phase", "hardware", "plan")]
            if bad:
                raise ConfigError(
                    f"optimize_parallelism does not take {', '.join(bad)} as a fixed keyword",
                    where=where,
                    fix="pass devices=, batch=, seq_len= and precision= by name; the phase is "
                    "training",
                )
        self.axes = axes
        self.options = options
        recomputes = keep(axes, "recompute", RECOMPUTE_POLICIES)
        hw = self.view.hardware
        family = family_of(self.spec.task)
        self.plans = []
        for rc in recomputes:
            plan = ExecutionPlan(weights=precision, recompute=rc, **options)
            # the engine the distributed solver trains under, so the bound uses its efficiency
            engine = engine_for(hw, "training", family, plan.engine)
            self.plans.append((rc, plan.resolve(hw, engine)))
        self.capacity = device_facts(hw).capacity


def configurations(ctx: ParallelContext, counts: dict[str, int]) -> Iterator[Config]:
    """Every configuration worth solving, cut as the module doc says (``counts`` says how many
    each rule cut)."""
    f, D, B, s = ctx.facts, ctx.devices, ctx.batch, ctx.seq_len
    fx = ctx.axes
    L, heads, kv = f.layers, f.heads, f.kv_heads
    cap = ctx.capacity
    n_rc = len(ctx.plans)
    if not n_rc:
        return
    rp_state = ctx.plans[0][1]
    tps = [t for t in divisors(D) if heads % t == 0 and (kv % t == 0 or t % kv == 0)]
    for tp in keep(fx, "tp", tps):
        sps = keep(fx, "sp", (False, True) if tp > 1 and s % tp == 0 else (False,))
        cps = [c for c in divisors(D // tp) if c == 1 or s % (2 * c) == 0]
        for cp in keep(fx, "cp", cps):
            pps = [p for p in divisors(D // (tp * cp)) if p <= L]
            for pp in keep(fx, "pp", pps):
                dp = D // (tp * cp * pp)
                if B % dp or not keep(fx, "dp", [dp]):
                    continue
                chunks = [v for v in divisors(L + 2) + divisors(L) if v == 1 or pp > 1]
                chunks = sorted({v for v in chunks if L % (pp * v) == 0 or (L + 2) % (pp * v) == 0})
                eps = [1]
                if f.experts > 1:
                    eps = [e for e in divisors(f.experts) if dp % e == 0]
                zeros = (0, 1, 2, 3) if dp * cp > 1 else (0,)
                mbs = keep(fx, "microbatch", divisors(B // dp))
                for ep in keep(fx, "ep", eps):
                    for v in keep(fx, "chunks", chunks):
                        plans = _micro_plans(fx, pp, v, mbs, B // dp)
                        if not plans:
                            continue
                        leaves = len(plans) * len(sps) * n_rc
                        for zero in keep(fx, "zero", zeros):
                            counts["generated"] += leaves
                            base = ParallelPlan(
                                tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, zero=zero, chunks=v
                            )
                            state = training_state_bytes(f, base, rp_state)
                            if state > cap:
                                counts["pruned_by_state_memory"] += leaves
                                continue
                            yield from _leaves(ctx, counts, base, plans, sps, state, B // dp)


def _micro_plans(
    fx: dict[str, Any], pp: int, v: int, mbs: list[int], per_replica: int
) -> list[tuple[int, str]]:
    """(microbatch, schedule) pairs the pipeline can run, GPipe only where 1F1B cannot."""
    out = []
    for mb in mbs:
        m = per_replica // mb
        if pp == 1:
            scheds = ["1f1b"]
        elif v > 1:
            scheds = ["interleaved"] if m >= pp and m % pp == 0 else []
        elif "schedule" in fx:
            scheds = ["gpipe"] + (["1f1b"] if m >= pp else [])
        else:
            scheds = ["1f1b"] if m >= pp else ["gpipe"]
        for sch in keep(fx, "schedule", scheds) if pp > 1 else scheds:
            out.append((mb, sch))
    return out


def _leaves(
    ctx: ParallelContext,
    counts: dict[str, int],
    base: ParallelPlan,
    plans: list[tuple[int, str]],
    sps: list[bool],
    state: float,
    per_replica: int,
) -> Iterator[Config]:
    f, s, cap = ctx.facts, ctx.seq_len, ctx.capacity
    n_rc = len(ctx.plans)
    # Activations grow with the micro-batch (b·min(p, m) = min(p·b, batch/dp) in flight,
    # or all of a replica's batch under GPipe), so along the micro-batches (ascending) of
    # one schedule the lightest recomputation that fits never gets lighter, and once
    # none fits, none will: each (schedule, sp) keeps where its search stands.
    pars: dict[tuple[str, bool], ParallelPlan] = {}  # the activations read no micro-batch size
    first: dict[tuple[str, bool], int] = {}
    for mb, sched in plans:
        m = per_replica // mb
        for sp in sps:
            key = (sched, sp)
            par = pars.get(key)
            if par is None:
                par = pars[key] = replace(base, sp=sp, schedule=sched)
            start = first.get(key, 0)
            counts["pruned_by_activation_memory"] += start
            for i in range(start, n_rc):
                rc, rp = ctx.plans[i]
                acts = training_activation_bytes(f, par, mb, s, rp, m)
                if state + acts <= cap:
                    first[key] = i
                    counts["pruned_by_activation_memory"] += i - start
                    counts["dominated"] += n_rc - 1 - i
                    yield (
                        base.tp,
                        base.pp,
                        base.dp,
                        base.cp,
                        base.ep,
                        sp,
                        base.zero,
                        mb,
                        sched,
                        base.chunks,
                        rc,
                    )
                    break
            else:
                first[key] = n_rc
                counts["pruned_by_activation_memory"] += n_rc - start
