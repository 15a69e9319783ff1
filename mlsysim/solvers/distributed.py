"""The distributed solver: one workload over many devices, composed from per-rank lowering,
collectives on the real topology and the pipeline schedule.

1. The system (a node with N devices, or a cluster) becomes a
   :class:`~mlsysim.systems.topology.SystemView`; the parallel plan
   (:class:`~mlsysim.execution.parallel.ParallelPlan`) is checked against the model.
2. One micro-batch of the last pipeline stage on one rank is lowered
   (:func:`~mlsysim.workload.lowering.sharded.lower_rank`) and timed op by op on the device
   exactly as the single-node solver does (roofline per op at the sourced efficiencies plus
   kernel launches, ``mlsysim.hardware.efficiency``).
3. Each collective the rank issues is priced on its group's links
   (:func:`~mlsysim.systems.collectives.time_collective`), ranks placed TP innermost, then
   CP, EP, PP, and DP across nodes.
4. The step composes (training): a micro-batch costs its computation plus the tensor-,
   context- and expert-parallel communication on its critical path; the pipeline runs
   ``m`` of them plus the (p−1)/v bubble (:func:`~mlsysim.core.formulas.pipeline_time_s`);
   pipeline sends hide in the steady state but not in fill and drain; the data-parallel
   gradient reduction overlaps the last micro-batch's backward pass (with ``overlap``); the
   optimizer updates this rank's state shard. Inference: a request crosses every stage in
   turn (TP all-reduces on the critical path); a batch of ``m`` micro-batches pipelines.
5. Memory per device (weights, gradients, optimizer state by ZeRO stage, activations by
   recompute, SP and in-flight micro-batches, KV cache) against capacity; the binding wall
   is ``memory_capacity`` when it does not fit, else the largest of compute, memory
   bandwidth, software overhead, communication and the pipeline bubble.

Everything after argument checking runs on floats; the bound (``step_time_bound``) uses the
ideal roofline per operation and hides all communication, so no measurement may beat it.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import DEFAULT_RECOMPUTE
from mlsysim.core.exceptions import ConfigError
from mlsysim.execution import parallel
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.execution.plan import ExecutionPlan, ResolvedPlan
from mlsysim.hardware.engines import engine_for, family_of
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers import arguments
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.distributed_results import (
    CollectiveTiming,
    Communication,
    DeviceMemory,
    DistributedResult,
)
from mlsysim.solvers.distributed_step import PARTS, CommParts, compose_step
from mlsysim.solvers.timing import Peaks, Timed, peaks, time_ops
from mlsysim.systems.collectives import time_collective
from mlsysim.systems.topology import Group, SystemView, resolve_system
from mlsysim.workload.lowering import PHASES, model_facts
from mlsysim.workload.lowering.sharded import RankLowered, lower_rank

__all__ = [
    "DistributedSolver",
    "check_shape",
    "head_timing",
    "layer_timing",
    "optimizer_timing",
    "parallel_plan",
    "plans",
    "price",
    "rank_timing",
    "resolved_plan",
    "scaled_layers",
    "seq_len_of",
    "slowest_stage",
    "solve_distributed",
    "split_batch",
    "target",
]

#: Sequence length used when none is given (as the single-node solver: 512, capped).
_DEFAULT_SEQ_LEN = 512
#: Entries each memo table keeps before it starts afresh (a sweep must not accumulate).
_CACHE_LIMIT = 4096


#: The keywords ``solve`` takes for a parallel step (besides the single-node ones).
PARALLEL_KEYWORDS = (*parallel.PARALLEL_KEYWORDS, "hardware")

_new = tuple.__new__  # NamedTuple construction without its Python-level __new__

_PLANS = DerivedCache("solvers.distributed.plans")
_RESOLVED = DerivedCache("solvers.distributed.resolved_plans")
_PARALLEL = DerivedCache("solvers.distributed.parallel_plans")


def _resolve(hw: Any, plan: ExecutionPlan, phase: str, family: str) -> ResolvedPlan:
    # by the plan's identity first (the cached plans of _execution_plan: no dataclass hash),
    # then by its value (an equal plan built anew)
    key = (id(hw), id(plan), phase, family)
    hit = _RESOLVED.get(key)
    if hit is not None and hit[0] is hw and hit[1] is plan:
        return hit[2]
    equal = (id(hw), plan, phase, family)
    hit = _RESOLVED.get(equal)
    if hit is not None and hit[0] is hw:
        rp = hit[2]
    else:
        rp = plan.resolve(hw, engine_for(hw, phase, family, plan.engine))
    if len(_RESOLVED) > _CACHE_LIMIT:
        _RESOLVED.clear()
    _RESOLVED.put(equal, (hw, plan, rp))
    _RESOLVED.put(key, (hw, plan, rp))
    return rp


def _execution_plan(
    precision: str | None, recompute: str, options: dict[str, Any]
) -> ExecutionPlan:
    key = (precision, recompute, tuple(sorted(options.items())) if options else ())
    try:
        plan = _PLANS.get(key)
    except TypeError:  # an unhashable option value: let the plan say what is wrong with it
        return ExecutionPlan(weights=precision, recompute=recompute, **options)
    if plan is None:
        plan = ExecutionPlan(weights=precision, recompute=recompute, **options)
        if len(_PLANS) > _CACHE_LIMIT:
            _PLANS.clear()
        _PLANS.put(key, plan)
    return plan


def _parallel_plan(
    devices: int,
    tp: int,
    pp: int,
    dp: int | None,
    cp: int,
    ep: int,
    sp: bool,
    zero: int,
    microbatch: int,
    schedule: str,
    chunks: int,
    overlap: Any,
) -> ParallelPlan:
    # the overlap's type is part of the key: True == 1.0 as numbers, not as meanings
    key = (
        devices,
        tp,
        pp,
        dp,
        cp,
        ep,
        sp,
        zero,
        microbatch,
        schedule,
        chunks,
        type(overlap),
        overlap,
    )
    hit = _PARALLEL.get(key)
    if hit is not None:
        return hit
    if isinstance(overlap, bool):
        ov, frac = overlap, 0.0
    elif isinstance(overlap, int | float):
        ov, frac = True, float(overlap)
    else:
        raise ConfigError(
            f"overlap must be True, False or a fraction in [0, 1], got {overlap!r}",
            where="solve",
            fix="pass overlap=True (default), overlap=False, or e.g. overlap=0.5",
        )
    for name, value in (("tp", tp), ("pp", pp), ("cp", cp)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f"{name} must be an integer ≥ 1, got {value!r}",
                where="solve",
                fix=f"pass {name}=1 or a larger whole number",
            )
    mp = tp * pp * cp
    if dp is None:
        if devices % mp:
            raise ConfigError(
                f"devices={devices} is not a multiple of tp·pp·cp = {tp}·{pp}·{cp} = {mp}",
                where="solve",
                why="the data-parallel degree dp = devices / (tp·pp·cp) must be whole",
                fix=f"pass devices as a multiple of {mp}, or change tp, pp or cp",
            )
        dp = devices // mp
    elif isinstance(dp, int) and not isinstance(dp, bool) and mp * dp != devices:
        raise ConfigError(
            f"tp·pp·cp·dp = {tp}·{pp}·{cp}·{dp} = {mp * dp} ≠ devices={devices}",
            where="solve",
            why="every device holds one rank of every parallel dimension",
            fix=f"pass dp={devices // mp} (or leave dp unset: devices / (tp·pp·cp))"
            if devices % mp == 0
            else f"pass devices={mp * dp}, or change the degrees",
        )
    par = ParallelPlan(
        tp=tp,
        pp=pp,
        dp=dp,
        cp=cp,
        ep=ep,
        sp=sp,
        zero=zero,
        microbatch=microbatch,
        schedule=schedule,
        chunks=chunks,
        overlap=ov,
        tp_overlap=frac,
    )
    if par.dp % par.ep:
        raise ConfigError(
            f"ep={ep} must divide dp={par.dp}",
            where="solve",
            why="expert-parallel groups are carved out of the data-parallel replicas",
            fix=f"pass ep dividing {par.dp}, or raise dp",
        )
    if len(_PARALLEL) > _CACHE_LIMIT:
        _PARALLEL.clear()
    _PARALLEL.put(key, par)
    return par


def _stage(layers: Timed, scale: float, extra: Timed) -> Timed:
    """The layers' timing scaled by ``scale`` (fewer layers) plus ``extra`` (the LM head)."""
    return _new(Timed, [x * scale + y for x, y in zip(layers, extra, strict=True)])


_OPTIMIZER = DerivedCache("solvers.distributed.optimizer_timing")


def _time_optimizer(op: Any, pk: Peaks, BW: float, rp: ResolvedPlan) -> Timed:
    """The optimizer update's timing: one op per rank's state shard, the same for every
    micro-batch and sequence length (cached per op and resolved plan)."""
    key = (id(op), id(rp), pk, BW)
    hit = _OPTIMIZER.get(key)
    if hit is not None and hit[0] is op and hit[1] is rp:
        return hit[2]
    t = time_ops((op,), pk, BW, rp.eff, step=False)
    if len(_OPTIMIZER) > _CACHE_LIMIT:
        _OPTIMIZER.clear()
    _OPTIMIZER.put(key, (op, rp, t))
    return t


def _layout(par: ParallelPlan) -> tuple[int, ...]:
    """Rank layout, innermost first: TP, CP, EP, PP, then the rest of DP."""
    return (par.tp, par.cp, par.ep, par.pp, par.dp // par.ep)


_MEMBERS: dict[str, tuple[bool, ...]] = {
    "tp": (True, False, False, False, False),
    "cp": (False, True, False, False, False),
    "ep": (False, False, True, False, False),
    "pp": (False, False, False, True, False),
    "dp": (False, True, True, False, True),  # dense gradients: all replicas (× CP)
    "edp": (False, True, False, False, True),  # expert gradients: replicas of one expert shard
}


_GROUPS = DerivedCache("solvers.distributed.groups")
#: Per view, its distinct groups by value (the one object each equal group becomes).
_SAME_GROUPS = DerivedCache("solvers.distributed.same_groups")


def _groups(view: SystemView, par: ParallelPlan) -> dict[str, Group]:
    """Each parallel dimension's group placed on ``view`` (cached per view and layout)."""
    layout = _layout(par)
    key = (id(view), layout)
    hit = _GROUPS.get(key)
    if hit is not None and hit[0] is view:
        return hit[1]
    # equal groups of different layouts are one object, so a collective priced on one
    # (priced collectives are cached per group object) is priced once for all of them
    same = _SAME_GROUPS.get(id(view))
    if same is None or same[0] is not view:
        same = (view, {})
        if len(_SAME_GROUPS) > _CACHE_LIMIT:
            _SAME_GROUPS.clear()
        _SAME_GROUPS.put(id(view), same)
    interned: dict[Group, Group] = same[1]
    groups = {}
    for name, members in _MEMBERS.items():
        grp = view.group_of(layout, members)
        groups[name] = interned.setdefault(grp, grp)
    if len(_GROUPS) > _CACHE_LIMIT:
        _GROUPS.clear()
    _GROUPS.put(key, (view, groups))
    return groups


def price(
    low: Any, view: SystemView, par: ParallelPlan, m: int, rows: list[CollectiveTiming] | None
) -> CommParts:
    """Each collective of ``low.comms`` timed on its group of ``view``, summed by where it
    sits in the step; ``rows``, when given, receives each one's report row for ``m``
    micro-batches."""
    groups = _groups(view, par)
    tp = cp = ep = z3 = pp = 0.0
    pp_call: float | None = None
    step: dict[tuple[str, str], float] = {}
    for c in low.comms:
        dim = c.group
        grp = groups[dim]
        t = time_collective(c.op, c.size, grp)
        call = t.time + c.host_per_rank * grp.n if c.host_per_rank else t.time
        sent = c.calls * call
        if dim == "tp":
            tp += sent
        elif dim == "pp":
            pp += sent
            if pp_call is None:
                pp_call = t.time
        elif dim == "cp":
            cp += sent
        elif dim == "ep":
            ep += sent
        elif c.per == "step":  # dp, edp: once per step, behind the backward or forward pass
            step[dim, c.hidden] = sent
        else:  # ZeRO-3's per-micro-batch gathers and scatters
            z3 += sent
        if rows is not None:
            calls = c.calls * (m if c.per == "microbatch" else 1)
            row = (c.name, dim, c.op, t.algorithm, c.size, calls, grp.n, grp.nodes, call)
            rows.append(_new(CollectiveTiming, (*row, call * calls, 0.0)))
    return _new(
        CommParts,
        (
            tp,
            cp,
            ep,
            z3,
            pp,
            0.0 if pp_call is None else pp_call,
            step.get(("dp", "backward"), 0.0),
            step.get(("dp", "forward"), 0.0),
            step.get(("edp", "backward"), 0.0),
            step.get(("edp", "forward"), 0.0),
        ),
    )


class DistributedSolver(BaseSolver):
    """A workload over several devices: per-rank roofline, collectives on the topology,
    the pipeline schedule and memory per device."""

    name = "distributed"
    walls = (
        "compute",
        "memory_bandwidth",
        "memory_capacity",
        "software_overhead",
        "communication",
    )
    sources = (
        "narayanan2021",
        "korthikanti2022",
        "rajbhandari2020",
        "thakur2005",
        "williams2009",
    )

    def solve(self, model: Any = None, system: Any = None, **kwargs: Any) -> DistributedResult:
        """See ``solve_distributed()``."""
        return solve_distributed(model, system, **kwargs)


def seq_len_of(seq_len: int | None, facts: Any, phase: str) -> int:
    if seq_len is None:
        return min(_DEFAULT_SEQ_LEN, facts.max_seq_len)
    if (
        isinstance(seq_len, bool)
        or not isinstance(seq_len, int)
        or seq_len < (0 if phase == "decode" else 1)
    ):
        raise ConfigError(
            f"seq_len must be a whole number of tokens, got {seq_len!r}",
            where="solve",
            fix="pass e.g. seq_len=2048",
        )
    return seq_len


def solve_distributed(
    model: Any = None,
    system: Any = None,
    *,
    phase: str,
    batch: int = 1,
    seq_len: int | None = None,
    precision: str | None = None,
    devices: int | None = None,
    tp: int = 1,
    pp: int = 1,
    dp: int | None = None,
    cp: int = 1,
    ep: int = 1,
    sp: bool = False,
    zero: int = 0,
    microbatch: int = 1,
    schedule: str = "1f1b",
    chunks: int = 1,
    recompute: str = DEFAULT_RECOMPUTE,
    overlap: Any = True,
    plan: ExecutionPlan | None = None,
    strict: bool = False,
    **plan_options: Any,
) -> DistributedResult:
    """One step of ``model`` over ``devices`` of ``system`` (node or cluster; see module doc)."""
    if plan_options:
        arguments.check_keywords(plan_options, "solve", PARALLEL_KEYWORDS)
    spec, phase, view, facts = target(model, system, phase, devices, tp, pp, cp, ep, dp)
    batch = arguments.batch(batch)
    s = seq_len_of(seq_len, facts, phase)
    par, rp = plans(
        spec,
        facts,
        view,
        phase,
        tp,
        pp,
        dp,
        cp,
        ep,
        sp,
        zero,
        microbatch,
        schedule,
        chunks,
        overlap,
        precision,
        recompute,
        plan,
        plan_options,
    )
    training = phase == "training"
    m, mb = split_batch(par, batch, training)
    check_shape(spec, facts, par, s, m, training)
    low = lower_rank(facts, "prefill" if phase == "inference" else phase, mb, s, rp, par, m)
    result = _compose(spec, view, phase, batch, s, rp, par, m, mb, low)
    if strict and not result.feasible:
        result._require_feasible("step time")
    return result


def target(
    model: Any, system: Any, phase: str, devices: int | None, *degrees: Any
) -> tuple[Any, str, SystemView, Any]:
    """The model spec, the phase, the system view and the model's facts, checked."""
    spec = arguments.model(model)
    phase = arguments.phase(phase, PHASES)
    view = resolve_system(system, devices)
    tp, pp, cp, ep, dp = degrees
    if view.kind == "device" and (tp * pp * cp > 1 or (dp or 1) > 1 or ep > 1):
        raise ConfigError(
            f"{view.id} is one device: tp={tp}, pp={pp}, cp={cp}, ep={ep}, dp={dp} need several",
            where="solve",
            fix="pass a node (e.g. 'DGX_H100') or a cluster as the system, with devices=N",
        )
    facts = model_facts(spec)
    if facts.kind != "transformer":
        raise ConfigError(
            f"{spec.id} is a {facts.kind} model: the distributed solver lowers transformers",
            where="solve",
            fix="solve it on one device, or pick a transformer model",
        )
    return spec, phase, view, facts


def plans(
    spec: Any,
    facts: Any,
    view: SystemView,
    phase: str,
    tp: int,
    pp: int,
    dp: int | None,
    cp: int,
    ep: int,
    sp: bool,
    zero: int,
    microbatch: int,
    schedule: str,
    chunks: int,
    overlap: Any,
    precision: str | None,
    recompute: str,
    plan: ExecutionPlan | None,
    plan_options: dict[str, Any],
) -> tuple[ParallelPlan, ResolvedPlan]:
    """The parallel plan and the execution plan resolved on the system's device, checked."""
    if phase == "decode" and facts.task != "llm":
        raise ConfigError(
            f"{spec.id} is an {facts.task} model: it has no decode phase",
            where="solve",
            fix="use phase='inference' or 'training'",
        )
    par = _parallel_plan(
        view.devices, tp, pp, dp, cp, ep, sp, zero, microbatch, schedule, chunks, overlap
    )
    return par, resolved_plan(facts, view, phase, precision, recompute, plan, plan_options)


def parallel_plan(view: SystemView, *degrees: Any) -> ParallelPlan:
    """The parallel plan of ``degrees`` (tp, pp, dp, cp, ep, sp, zero, microbatch, schedule,
    chunks, overlap) on ``view``'s devices, checked (:func:`plans`' first part)."""
    return _parallel_plan(view.devices, *degrees)


def resolved_plan(
    facts: Any,
    view: SystemView,
    phase: str,
    precision: str | None,
    recompute: str,
    plan: ExecutionPlan | None,
    plan_options: dict[str, Any],
) -> ResolvedPlan:
    """The execution plan resolved on ``view``'s device, checked (:func:`plans`' second
    part: it reads no parallel degree)."""
    if plan is None:
        plan = _execution_plan(precision, recompute, plan_options)
    elif precision is not None or plan_options:
        raise ConfigError(
            "pass either plan= or precision/plan options, not both",
            where="solve",
            fix="put the precision and options into the ExecutionPlan",
        )
    phase_l = "prefill" if phase == "inference" else phase
    return _resolve(view.hardware, plan, phase_l, family_of(facts.task))


def split_batch(par: ParallelPlan, batch: int, training: bool) -> tuple[int, int]:
    """Micro-batches per step and the micro-batch size of global ``batch`` (checked)."""
    if training:
        return par.microbatches(batch), par.microbatch
    if batch % par.dp:
        raise ConfigError(
            f"batch {batch} does not split over dp={par.dp} replicas",
            where="solve",
            why="batch is the global batch in sequences; each data-parallel replica serves "
            "a whole share of it",
            fix=f"pass a batch that is a multiple of {par.dp} (e.g. batch={par.dp}), or "
            f"fewer devices, or split the model (tp/pp) instead",
        )
    per_replica = batch // par.dp
    mb = min(par.microbatch, per_replica) if par.pp > 1 else per_replica
    if per_replica % mb:
        raise ConfigError(
            f"{per_replica} sequences per replica do not split into micro-batches of {mb}",
            where="solve",
            fix="pass a microbatch dividing batch / dp",
        )
    return per_replica // mb, mb


def check_shape(spec: Any, facts: Any, par: ParallelPlan, s: int, m: int, training: bool) -> None:
    """The plan against the model's shape and context (raises ConfigError)."""
    par.check_model(
        spec.id,
        heads=facts.heads,
        kv_heads=facts.kv_heads,
        layers=facts.layers,
        experts=facts.experts,
        seq_len=s,
        microbatches=m,
        training=training,
    )
    if s > facts.max_seq_len:
        raise ConfigError(
            f"seq_len {s} exceeds {spec.id}'s maximum context of {facts.max_seq_len} tokens",
            where="solve",
            fix=f"pass seq_len ≤ {facts.max_seq_len}",
        )


def rank_timing(
    low: Any, pk: Peaks, BW: float, rp: ResolvedPlan, head: Timed | None = None
) -> Timed:
    """The slowest stage's timing of one micro-batch: the middle stage's ``low.ops`` or the
    last stage's (``last_layers`` of them plus the LM head's ``head_ops``, whose timing
    :func:`head_timing` gives, or ``head`` when the caller has it)."""
    t_layers = time_ops(low.ops, pk, BW, rp.eff, step=False)  # (layer_timing, inline)
    if head is None:
        head = head_timing(low, pk, BW, rp)
    return slowest_stage(t_layers, low.layers, low.last_layers, head)


def layer_timing(low: Any, pk: Peaks, BW: float, rp: ResolvedPlan) -> Timed:
    """The timing of a middle stage's layers (``low.ops``, ``low.layers`` of them)."""
    return time_ops(low.ops, pk, BW, rp.eff, step=False)


def slowest_stage(t_layers: Timed, layers: int, last_layers: int, head: Timed) -> Timed:
    """The slower of a middle stage (``t_layers``: ``layers`` layers) and the last stage
    (``last_layers`` of those layers plus the LM head's ``head``)."""
    t_last = _stage(t_layers, last_layers / layers, head)
    return t_last if t_last.total >= t_layers.total else t_layers


def scaled_layers(t_layers: Timed, factor: float) -> Timed:
    """A middle stage's timing with ``factor`` times its layers: every op of a stage is
    timed per instance times its repeat (the stage's layer count), so each part scales."""
    return _new(Timed, [x * factor for x in t_layers])


def head_timing(low: Any, pk: Peaks, BW: float, rp: ResolvedPlan) -> Timed:
    """The timing of the LM head's ops (``low.head_ops``) on the last stage."""
    # the head's ops carry the step's once-per-step launch cost (a graph replay)
    return time_ops(low.head_ops, pk, BW, rp.eff)


def optimizer_timing(
    op: Any, pk: Peaks, BW: float, rp: ResolvedPlan
) -> tuple[float, float, float, float] | None:
    """The optimizer update's (time, bound, FLOPs, bytes), or None (inference)."""
    if op is None:
        return None
    ot = _time_optimizer(op, pk, BW, rp)
    return ot.total, ot.bound, ot.flops, ot.bytes


def _compose(
    spec: Any,
    view: SystemView,
    phase: str,
    batch: int,
    s: int,
    rp: ResolvedPlan,
    par: ParallelPlan,
    m: int,
    mb: int,
    low: RankLowered,
) -> DistributedResult:
    dev = device_facts(view.hardware)
    pk = peaks(dev, rp)
    P = pk.gemm
    BW = dev.bandwidth
    t = rank_timing(low, pk, BW, rp)
    priced: list[CollectiveTiming] = []
    parts = price(low, view, par, m, priced)
    mem = low.memory
    st = compose_step(
        t,
        parts,
        optimizer_timing(low.optimizer, pk, BW, rp),
        m,
        par.pp,
        par.chunks,
        par.overlap,
        par.tp_overlap,
        phase,
        batch,
        s,
        par.dp,
        (low.model_flops, low.hardware_flops, low.flops),
        mem,
        dev,
        P,
    )
    communication = _new(
        Communication, (st.tp_s, st.cp_s, st.ep_s, st.pp_s, st.dp_s, st.overlapped_s)
    )
    rows = tuple(_with_exposed(priced, communication, m))
    memory = DeviceMemory(
        mem.weights, mem.gradients, mem.optimizer, mem.activations, mem.kv_cache, dev.capacity
    )
    wall = PARTS[st.wall] if st.feasible else "memory_capacity"
    power = st.power
    return DistributedResult(
        model=spec.id,
        system=view.id,
        hardware=view.hardware.id,
        phase=phase,
        devices=view.devices,
        nodes=view.nodes,
        batch=batch,
        seq_len=s,
        precision=rp.activations,
        weights_precision=rp.weights,
        tp=par.tp,
        pp=par.pp,
        dp=par.dp,
        cp=par.cp,
        ep=par.ep,
        sp=par.sp,
        zero=par.zero,
        microbatch=mb,
        schedule=par.effective_schedule,
        chunks=par.chunks,
        microbatches=m,
        feasible=st.feasible,
        binding_wall=wall,
        step_time_s=st.step,
        step_time_bound_s=st.bound,
        latency_s=st.latency,
        latency_bound_s=st.latency_bound,
        tokens_per_step=st.tokens,
        model_flops_per_step=st.model_flops,
        hardware_flops_per_step=st.hardware_flops,
        flops_per_step=st.flops,
        peak_flops_per_s=P,
        power_w=None if power != power else power,  # NaN: no TDP
        bubble_fraction=st.bubble_fraction,
        compute_s=st.compute_s,
        memory_s=st.memory_s,
        overhead_s=st.overhead_s,
        bubble_s=st.bubble,
        optimizer_s=st.optimizer_s,
        memory=memory,
        communication=communication,
        collectives=rows,
        notes=_notes(view, rp),
        engine=rp.engine,
        model_spec=spec,
    )


_NOTES = DerivedCache("solvers.distributed.notes")


def _notes(view: SystemView, rp: ResolvedPlan) -> tuple[str, ...]:
    """The plan's notes and the fabrics without a recorded efficiency (per view and plan)."""
    key = (id(view), id(rp))
    hit = _NOTES.get(key)
    if hit is not None and hit[0] is view and hit[1] is rp:
        return hit[2]
    notes = tuple(
        f"{lk.fabric} has no recorded collective efficiency: its achievable bandwidth is the "
        "line rate"
        for lk in (view.intra, view.inter)
        if lk is not None and not lk.efficiency_known
    )
    if rp.notes:
        notes = (*rp.notes, *notes)
    if len(_NOTES) > _CACHE_LIMIT:
        _NOTES.clear()
    _NOTES.put(key, (view, rp, notes))
    return notes


#: The exposed-time field of :class:`Communication` each collective group reports into.
_EXPOSED = {"tp": "tp_s", "cp": "cp_s", "ep": "ep_s", "pp": "pp_s", "dp": "dp_s", "edp": "dp_s"}


def _with_exposed(
    rows: list[CollectiveTiming], comm: Communication, m: int
) -> list[CollectiveTiming]:
    """Share each dimension's exposed time among its collectives in proportion to their time."""
    totals: dict[str, float] = {}
    for r in rows:
        key = _EXPOSED[r.group]
        totals[key] = totals.get(key, 0.0) + r.total_s
    out = []
    for r in rows:
        key = _EXPOSED[r.group]
        exposed = getattr(comm, key)
        share = r.total_s / totals[key] if totals[key] > 0 else 0.0
        out.append(_new(CollectiveTiming, (*r[:-1], exposed * share)))
    return out
