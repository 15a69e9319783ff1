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
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.execution.plan import ExecutionPlan, ResolvedPlan
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers import arguments
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.distributed.plans import (
    PARALLEL_KEYWORDS,
    ParallelSettings,
    check_shape,
    plans,
    seq_len_of,
    split_batch,
    target,
)
from mlsysim.solvers.distributed.results import (
    CollectiveTiming,
    Communication,
    DeviceMemory,
    DistributedResult,
    new_distributed_result,
)
from mlsysim.solvers.distributed.step import PARTS, compose_step
from mlsysim.solvers.distributed.timing import optimizer_timing, price, rank_timing
from mlsysim.solvers.single_node.timing import Peaks, peaks
from mlsysim.systems.topology import SystemView
from mlsysim.workload.lowering.sharded import RankLowered, lower_rank

__all__ = ["PARALLEL_KEYWORDS", "DistributedSolver", "solve_distributed", "solve_parallel"]

#: Entries each memo table keeps before it starts afresh (a sweep must not accumulate).
_CACHE_LIMIT = 4096
_new = tuple.__new__  # NamedTuple construction without its Python-level __new__


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
    parallel = (tp, pp, dp, cp, ep, sp, zero, microbatch, schedule, chunks, overlap)
    return solve_parallel(
        model, system, phase, batch, seq_len, precision, devices, parallel, recompute, plan,
        strict, plan_options,
    )  # fmt: skip


def solve_parallel(
    model: Any,
    system: Any,
    phase: str,
    batch: int,
    seq_len: int | None,
    precision: str | None,
    devices: int | None,
    parallel: tuple[Any, ...],
    recompute: str,
    plan: ExecutionPlan | None,
    strict: bool,
    plan_options: dict[str, Any],
) -> DistributedResult:
    """:func:`solve_distributed` with its arguments in order and the parallel keywords as
    one tuple in :class:`~mlsysim.solvers.distributed.plans.ParallelSettings`' order (``tp,
    pp, dp, cp, ep, sp, zero, microbatch, schedule, chunks, overlap``): ``mlsysim.solve``
    calls it so, with no keyword dictionary built and unpacked twice on the way."""
    if plan_options:
        arguments.check_keywords(plan_options, "solve", PARALLEL_KEYWORDS)
    settings = _new(ParallelSettings, parallel)
    key = _structure_key(model, system, phase, devices, settings, precision, recompute, plan)
    hit = None
    if key is not None and not plan_options:  # (plan options: the plans' own caches key them)
        try:
            hit = _STRUCTURES.get(key)
        except TypeError:  # a value that does not hash: the checks say what is wrong with it
            key = None
    if hit is not None and hit[0] is model and hit[1] is system and hit[2] is plan:
        spec, phase, view, facts, par, rp = hit[3]
        batch = arguments.batch(batch)
        s = seq_len_of(seq_len, facts, phase)
    else:
        spec, phase, view, facts = target(model, system, phase, devices, settings)
        batch = arguments.batch(batch)
        s = seq_len_of(seq_len, facts, phase)
        par, rp = plans(
            spec, facts, view, phase, settings, precision, recompute, plan, plan_options
        )
        if key is not None and not plan_options:  # (a key left here hashes)
            if len(_STRUCTURES) > _CACHE_LIMIT:
                _STRUCTURES.clear()
            _STRUCTURES.put(key, (model, system, plan, (spec, phase, view, facts, par, rp)))
    training = phase == "training"
    m, mb = split_batch(par, batch, training)
    check_shape(spec, facts, par, s, m, training)
    low = lower_rank(facts, "prefill" if phase == "inference" else phase, mb, s, rp, par, m)
    result = _compose(spec, view, phase, batch, s, rp, par, m, mb, low)
    if strict and not result.feasible:
        result._require_feasible("step time")
    return result


#: What :func:`~mlsysim.solvers.distributed.plans.target` and
#: :func:`~mlsysim.solvers.distributed.plans.plans` made of a solve's model and system objects,
#: plan and scalar arguments (the spec, phase, view, model facts, parallel and resolved plans):
#: a warm solve of a structure looks them up once instead of once per part.
_STRUCTURES = DerivedCache("solvers.distributed.solver.structures")


def _structure_key(
    model: Any,
    system: Any,
    phase: Any,
    devices: Any,
    settings: ParallelSettings,
    precision: Any,
    recompute: Any,
    plan: Any,
) -> tuple[Any, ...] | None:
    """The key of a solve's structure in :data:`_STRUCTURES`, or None where it has none: a
    model or system given by name (what a name means changes with the registry). Each
    value's type is part of the key: ``True == 1 == 1.0`` as numbers, not as meanings
    (``devices=True`` is refused, ``overlap=1.0`` is a fraction). A key may not hash (a
    list where a degree goes): the caller's lookup says so."""
    if type(model) is str or type(system) is str:
        return None
    scalars = (phase, devices, precision, recompute, *settings)
    return (id(model), id(system), id(plan), scalars, tuple(map(type, scalars)))


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
    dev, pk, notes = _on_device(view, rp)
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
    rows = _with_exposed(priced, communication, m)
    memory = _new(
        DeviceMemory,
        (mem.weights, mem.gradients, mem.optimizer, mem.activations, mem.kv_cache, dev.capacity),
    )
    wall = PARTS[st.wall] if st.feasible else "memory_capacity"
    power = st.power
    return new_distributed_result(  # DistributedResult's fields, in their order
        spec.id,  # model
        view.id,  # system
        view.hardware.id,  # hardware
        phase,
        view.devices,  # devices
        view.nodes,  # nodes
        batch,
        s,  # seq_len
        rp.activations,  # precision
        rp.weights,  # weights_precision
        par.tp,  # tp
        par.pp,  # pp
        par.dp,  # dp
        par.cp,  # cp
        par.ep,  # ep
        par.sp,  # sp
        par.zero,  # zero
        mb,  # microbatch
        par.effective_schedule,  # schedule
        par.chunks,  # chunks
        m,  # microbatches
        st.feasible,  # feasible
        wall,  # binding_wall
        st.step,  # step_time_s
        st.bound,  # step_time_bound_s
        st.latency,  # latency_s
        st.latency_bound,  # latency_bound_s
        st.tokens,  # tokens_per_step
        st.model_flops,  # model_flops_per_step
        st.hardware_flops,  # hardware_flops_per_step
        st.flops,  # flops_per_step
        P,  # peak_flops_per_s
        None if power != power else power,  # power_w (NaN: no TDP)
        st.bubble_fraction,  # bubble_fraction
        st.compute_s,  # compute_s
        st.memory_s,  # memory_s
        st.overhead_s,  # overhead_s
        st.bubble,  # bubble_s
        st.optimizer_s,  # optimizer_s
        memory,
        communication,
        rows,  # collectives
        notes,
        rp.engine,  # engine
        spec,  # model_spec
    )


_ON_DEVICE = DerivedCache("solvers.distributed.solver.on_device")


def _on_device(view: SystemView, rp: ResolvedPlan) -> tuple[Any, Peaks, tuple[str, ...]]:
    """The device's facts, its peaks under the plan, and the notes of a result: the plan's
    and the fabrics without a recorded efficiency (per view and plan: one lookup a solve)."""
    key = (id(view), id(rp))
    hit = _ON_DEVICE.get(key)
    if hit is not None and hit[0] is view and hit[1] is rp:
        return hit[2]
    dev = device_facts(view.hardware)
    notes = tuple(
        f"{lk.fabric} has no recorded collective efficiency: its achievable bandwidth is the "
        "line rate"
        for lk in (view.intra, view.inter)
        if lk is not None and not lk.efficiency_known
    )
    if rp.notes:
        notes = (*rp.notes, *notes)
    made = (dev, peaks(dev, rp), notes)
    if len(_ON_DEVICE) > _CACHE_LIMIT:
        _ON_DEVICE.clear()
    _ON_DEVICE.put(key, (view, rp, made))
    return made


#: The exposed-time field of :class:`Communication` each collective group reports into.
_EXPOSED = {"tp": "tp_s", "cp": "cp_s", "ep": "ep_s", "pp": "pp_s", "dp": "dp_s", "edp": "dp_s"}


def _with_exposed(
    rows: list[CollectiveTiming], comm: Communication, m: int
) -> tuple[CollectiveTiming, ...]:
    """Share each dimension's exposed time among its collectives in proportion to their time."""
    if not rows:
        return ()
    exposed = dict(zip(_EXPOSED, map(comm.__getattribute__, _EXPOSED.values()), strict=True))
    totals = dict.fromkeys(_EXPOSED.values(), 0.0)
    for r in rows:
        totals[_EXPOSED[r.group]] += r.total_s
    out = []
    for r in rows:
        total = totals[_EXPOSED[r.group]]
        share = r.total_s / total if total > 0 else 0.0
        out.append(_new(CollectiveTiming, (*r[:-1], exposed[r.group] * share)))
    return tuple(out)
