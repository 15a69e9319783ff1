"""Distributed configurations of a sweep, evaluated together: the solver's steps, shared where
they can be, and its composition on arrays.

A sweep's distributed points arrive as *segments*: one structure of the grid's outer axes
(model, system, devices, tp, pp, zero, recompute, micro-batch, schedule, …; checked as
``solve()`` checks them: :func:`~mlsysim.solvers.distributed.target`,
:func:`~mlsysim.solvers.distributed.plans`) with arrays of batch and sequence length. Each
point runs the same chain as :func:`~mlsysim.solvers.distributed.solve_distributed`:

1. the rank's operations (:func:`~mlsysim.workload.lowering.sharded.lower_ops`) and their
   timing (:func:`~mlsysim.solvers.distributed.rank_timing`) depend on the shard, the
   micro-batch and the sequence but not on ZeRO, the data-parallel degree or the batch: they
   are lowered and timed once per such *lowering* across the whole call, whatever the
   number of configurations sharing it;
2. the rank's state, collectives and activation parts
   (:func:`~mlsysim.workload.lowering.sharded.rank_share`) and the collectives' prices
   (:func:`~mlsysim.solvers.distributed.price`) once per structure and sequence length;
3. the micro-batch count, the in-flight activations
   (:func:`~mlsysim.workload.lowering.sharded.stage_activations`) and the whole step
   (:func:`~mlsysim.solvers.distributed_step.compose_step`) as numpy arrays over every point
   of the call that shares the phase, device and overlap settings.

Points that ``solve()`` refuses (a batch that does not split, tp not dividing the heads, pp
not dividing the layers, too few micro-batches, …) raise its own error, naming the point;
points that do not fit are computed and marked ``feasible = False``
(``binding_wall = "memory_capacity"``), exactly as ``solve()`` reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from mlsysim.execution.parallel import PARALLEL_KEYWORDS
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers.distributed import (
    check_shape,
    optimizer_timing,
    plans,
    price,
    rank_timing,
    seq_len_of,
    split_batch,
    target,
)
from mlsysim.solvers.distributed_results import utilization
from mlsysim.solvers.distributed_step import PARTS, CommParts, compose_step
from mlsysim.solvers.sweep_kernel import WALLS
from mlsysim.solvers.timing import Timed, peaks
from mlsysim.workload.lowering.sharded import (
    lower_ops,
    rank_share,
    restage,
    stage_activations,
)

__all__ = ["Segment", "evaluate", "lowerings"]

_WALL_CODE = tuple(WALLS.index(p) for p in PARTS)
_CAPACITY = WALLS.index("memory_capacity")


class Segment(NamedTuple):
    """Points of one structure: its routed ``solve`` keywords, batch and sequence arrays (or
    ``None``: solve's default) and where they go in the output (a slice)."""

    keywords: dict[str, Any]
    batch: Any
    seq_len: Any
    dst: slice


#: Lowerings made by the last :func:`evaluate` call (a count for tests: shared work is shared).
lowerings = [0]


def evaluate(segments: Sequence[Segment], out: dict[str, Any]) -> list[tuple[Segment, int]]:
    """Fill ``out``'s result columns at each segment's ``dst``; return the (segment, point)
    pairs ``strict`` asks to re-solve because they do not fit."""
    import numpy as np

    lowered: dict[tuple[Any, ...], tuple[Any, Timed]] = {}
    groups: dict[tuple[Any, ...], _Rows] = {}
    for seg in segments:
        _collect(seg, lowered, groups)
    lowerings[0] = sum(1 for k in lowered if len(k) == 10)
    strict: list[tuple[Segment, int]] = []
    for rows in groups.values():
        cols = rows.compose(np)
        where = np.concatenate([np.arange(seg.dst.start, seg.dst.stop) for seg in rows.segments])
        for name, col in out.items():
            if name in cols:
                col[where] = cols[name]
        at = 0
        for seg in rows.segments:
            n = seg.dst.stop - seg.dst.start
            if seg.keywords.get("strict"):
                bad = np.flatnonzero(~cols["feasible"][at : at + n])
                if len(bad):
                    strict.append((seg, int(bad[0])))
            at += n
    return strict


class _Rows:
    """The per-point inputs of one composition group, gathered as lists then arrays."""

    def __init__(self, phase: str, dev: Any, overlap: bool, tp_overlap: float, v: int, sch: str):
        self.phase, self.dev, self.overlap, self.tp_overlap = phase, dev, overlap, tp_overlap
        self.v, self.schedule = v, sch
        self.segments: list[Segment] = []
        self.scalars: list[tuple[Any, ...]] = []  # one row per (structure, sequence, mb)
        self.index: list[int] = []  # per point: its row
        self.m: list[int] = []  # per point: micro-batches per step
        self.batch: list[int] = []

    def compose(self, np: Any) -> dict[str, Any]:
        rows = np.asarray(self.scalars, dtype=np.float64)
        x = rows[np.asarray(self.index, dtype=np.int64)].T
        m = np.asarray(self.m, dtype=np.float64)
        batch = np.asarray(self.batch, dtype=np.float64)
        t = Timed(*x[0:8])
        c = CommParts(*x[8:18])
        opt = tuple(x[18:22]) if self.phase == "training" else None
        w, g, o = x[22:25]
        acts_parts = (x[25], x[26], x[27])
        act_inf, kv = x[28], x[29]
        s, p, dp, P, devices, nodes = x[30:36]
        flops = (x[36], x[37], x[38])
        training = self.phase == "training"
        acts = stage_activations(acts_parts, p, m, self.v, self.schedule) if training else act_inf
        memory = (w, g, o, acts, kv)
        st = compose_step(
            t,
            c,
            opt,
            m,
            p,
            self.v,
            self.overlap,
            self.tp_overlap,
            self.phase,
            batch,
            s,
            dp,
            flops,
            memory,
            self.dev,
            P,
        )
        feasible = np.asarray(st.feasible)
        codes = np.asarray(_WALL_CODE, dtype=np.int8)[st.wall]
        nan = np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = st.tokens / st.step
            mfu = utilization(st.tokens, st.step, st.model_flops, devices, P)
            hfu = utilization(st.tokens, st.step, st.hardware_flops, devices, P)
        return {
            "latency_s": st.latency,
            "latency_bound_s": st.latency_bound,
            "compute_s": st.compute_s,
            "memory_s": st.memory_s,
            "overhead_s": st.overhead_s,
            "units_per_step": st.tokens,
            "peak_flops_per_s": P,
            "power_w": st.power,
            "weights_bytes": w,
            "gradients_bytes": g,
            "optimizer_bytes": o,
            "activations_bytes": memory[3],
            "kv_cache_bytes": memory[4],
            "memory_bytes": st.memory_total,
            "capacity_bytes": self.dev.capacity,
            "throughput": np.where(feasible, rate, nan),
            "mfu": np.where(feasible, mfu, nan),
            "hfu": np.where(feasible, hfu, nan),
            "step_time_s": st.step,
            "step_time_bound_s": st.bound,
            "tokens_per_step": st.tokens,
            "model_flops_per_step": st.model_flops,
            "hardware_flops_per_step": st.hardware_flops,
            "flops_per_step": st.flops,
            "bubble_fraction": st.bubble_fraction,
            "bubble_s": st.bubble,
            "optimizer_s": st.optimizer_s,
            "devices": devices,
            "nodes": nodes,
            "dp": dp,
            "microbatches": m,
            "seq_len": s,
            "feasible": feasible,
            "binding_wall": np.where(feasible, codes, _CAPACITY),
        }


def _collect(
    seg: Segment, lowered: dict[tuple[Any, ...], tuple[Any, Timed]], groups: dict[Any, _Rows]
) -> None:
    """Check a segment as ``solve()`` would, lower and price what it needs, and add its
    points' rows to their composition group."""
    kw = seg.keywords
    options = {k: v for k, v in kw.items() if k not in _STRUCTURE}
    get = kw.get
    tp, pp, cp, ep, dp = get("tp", 1), get("pp", 1), get("cp", 1), get("ep", 1), get("dp")
    spec, phase, view, facts = target(
        kw["model"], kw["system"], kw["phase"], get("devices"), tp, pp, cp, ep, dp
    )
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
        get("sp", False),
        get("zero", 0),
        get("microbatch", 1),
        get("schedule", "1f1b"),
        get("chunks", 1),
        get("overlap", True),
        get("precision"),
        kw["recompute"],
        get("plan"),
        options,
    )
    training = phase == "training"
    phase_l = "prefill" if phase == "inference" else phase
    dev = device_facts(view.hardware)
    pk = peaks(dev, rp)
    key = (phase, id(dev), par.overlap, par.tp_overlap, par.chunks, par.effective_schedule)
    rows = groups.get(key)
    if rows is None:
        rows = groups[key] = _Rows(
            phase, dev, par.overlap, par.tp_overlap, par.chunks, par.effective_schedule
        )
    rows.segments.append(seg)
    batch = seg.batch.tolist()
    if seg.seq_len is None:
        seqs = [seq_len_of(None, facts, phase)] * len(batch)
    else:
        seqs = seg.seq_len.tolist()
    # micro-batches of each distinct batch (solve's checks and errors), then of each point
    splits: dict[int, tuple[int, int]] = {}
    made: dict[tuple[int, int], int] = {}
    checked: set[tuple[int, int, int]] = set()
    index, micro = rows.index, rows.m
    for bi, si in zip(batch, seqs, strict=True):
        split = splits.get(bi)
        if split is None:
            split = splits[bi] = split_batch(par, bi, training)
        m, mb = split
        if (si, mb, m) not in checked:
            check_shape(spec, facts, par, seq_len_of(si, facts, phase), m, training)
            checked.add((si, mb, m))
        row = made.get((si, mb))
        if row is None:
            row = made[si, mb] = len(rows.scalars)
            rows.scalars.append(_row(facts, phase_l, mb, si, rp, par, view, dev, pk, lowered))
        index.append(row)
        micro.append(m)
    rows.batch.extend(batch)


#: Keywords of the distributed solver that are not plan options (nor batch, seq_len, strict).
_STRUCTURE = frozenset(
    {
        "batch",
        "seq_len",
        "strict",
        "model",
        "system",
        "phase",
        *PARALLEL_KEYWORDS,
        "precision",
        "recompute",
        "plan",
    }
)


def _row(
    facts: Any,
    phase: str,
    mb: int,
    s: int,
    rp: Any,
    par: Any,
    view: Any,
    dev: Any,
    pk: Any,
    lowered: dict[tuple[Any, ...], tuple[Any, Timed]],
) -> tuple[float, ...]:
    """The float inputs of the composition for one structure, sequence and micro-batch."""
    stages = par.stage_layers(facts.layers)
    # a dense model's training stages share one lowering whatever the pipeline depth ≥ 2
    shared = phase == "training" and facts.experts <= 1 and par.pp > 1
    shape = (id(facts), phase, mb, s, id(rp), par.tp, par.cp, par.ep, par.sp)
    key = (*shape, "stages" if shared else (par.pp, par.chunks))
    base = lowered.get(key)
    if base is None:
        low = lower_ops(facts, phase, mb, s, rp, par)
        base = lowered[key] = (low, rank_timing(low, pk, dev.bandwidth, rp))
        lowered[(*key, stages)] = base
    hit = lowered.get((*key, stages))
    if hit is None:  # the shared lowering on this pipeline's stages
        low = restage(base[0], facts, par)
        hit = lowered[(*key, stages)] = (low, rank_timing(low, pk, dev.bandwidth, rp))
    low, t = hit
    share = rank_share(facts, phase, mb, s, rp, par)
    c = price(share, view, par, 1, None)
    opt = optimizer_timing(share.optimizer, pk, dev.bandwidth, rp) or (0.0, 0.0, 0.0, 0.0)
    return (
        *t,
        *c,
        *opt,
        *share.state,
        *share.activations,
        *low.inference,
        float(s),
        float(par.pp),
        float(par.dp),
        pk.gemm,
        float(view.devices),
        float(view.nodes),
        low.model_flops,
        low.hardware_flops,
        low.flops,
    )
