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
   number of configurations sharing it (a dense model's pipeline depths ≥ 2 share one, moved
   to each depth's stages by :func:`~mlsysim.workload.lowering.sharded.restage`, its layers'
   timing scaled to the stage's layer count by
   :func:`~mlsysim.solvers.distributed.scaled_layers`, not timed again);
2. the micro-batch's TP/CP/EP/PP collectives
   (:func:`~mlsysim.workload.lowering.sharded.microbatch_comms`), priced on the rank
   layout's groups (:func:`~mlsysim.solvers.distributed.price`), and the activation parts
   (:func:`~mlsysim.workload.lowering.sharded.activation_parts`) once per shard, micro-batch,
   sequence, plan and layout: every ZeRO stage shares them;
3. the data-parallel collectives, the optimizer update and the resident state
   (:func:`~mlsysim.workload.lowering.sharded.static_share`: the parts of
   :func:`~mlsysim.workload.lowering.sharded.rank_share` no micro-batch or sequence changes)
   once per shard, ZeRO stage, layout and what they read of the plan (its formats and
   optimizer, not its recomputation): micro-batches, sequences and recomputations share them;
4. the micro-batch count, the in-flight activations
   (:func:`~mlsysim.workload.lowering.sharded.stage_activations`) and the whole step
   (:func:`~mlsysim.solvers.distributed_step.compose_step`) as numpy arrays over every point
   of the call that shares the phase, device and overlap settings; each point indexes the
   rows of parts 1–3 it uses (the two sets of collectives add field by field: each field
   comes from one set, the other holding 0.0, so the sum is ``price``'s over all of them).

The points' micro-batch splits and the shape checks are shared too, by the structures with
the same replicas, micro-batch and pipeline depth (splits) or the same degrees the check
reads (checks). Everything shared lives in one call: nothing is kept for the next.

Points that ``solve()`` refuses (a batch that does not split, tp not dividing the heads, pp
not dividing the layers, too few micro-batches, …) raise its own error, naming the point;
points that do not fit are computed and marked ``feasible = False``
(``binding_wall = "memory_capacity"``), exactly as ``solve()`` reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from mlsysim.execution.parallel import PARALLEL_KEYWORDS
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers.distributed import (
    check_shape,
    head_timing,
    layer_timing,
    optimizer_timing,
    parallel_plan,
    plans,
    price,
    resolved_plan,
    scaled_layers,
    seq_len_of,
    slowest_stage,
    split_batch,
    target,
)
from mlsysim.solvers.distributed_results import utilization
from mlsysim.solvers.distributed_step import PARTS, CommParts, compose_step
from mlsysim.solvers.sweep_kernel import WALLS
from mlsysim.solvers.timing import Timed, peaks
from mlsysim.workload.lowering.sharded import (
    activation_parts,
    lower_ops,
    microbatch_comms,
    restage,
    stage_activations,
    static_reads,
    static_share,
)

__all__ = ["Fallback", "Segment", "evaluate", "evaluate_block", "lowerings", "priced"]

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

    memo = _Memo()
    for seg in segments:
        _collect(seg, memo)
    lowerings[0] = sum(1 for k in memo.lowered if len(k) == 10)
    priced[0] = len(memo.per_microbatch) + len(memo.per_step)
    tables = tuple(np.asarray(t, dtype=np.float64) for t in memo.tables)
    strict: list[tuple[Segment, int]] = []
    for rows in memo.groups.values():
        cols = rows.compose(np, tables)
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


#: Collective pricings (micro-batch sets plus step sets) made by the last :func:`evaluate`.
priced = [0]

#: Keywords that choose the model, the system and the phase (a structure's target).
_TARGET = frozenset({"model", "system", "hardware", "phase", "devices"})
#: The parallel plan's keywords besides the devices.
_DEGREES = frozenset(PARALLEL_KEYWORDS) - {"devices"}


class Fallback(Exception):
    """:func:`evaluate_block` cannot take these structures: evaluate them one by one."""


def evaluate_block(
    routed: Callable[[int], dict[str, Any]],
    axes: Sequence[tuple[str, int, int]],
    g0: int,
    g1: int,
    batch: Any,
    seq: Any,
    out: dict[str, Any],
    at: int,
) -> None:
    """Structures ``g0 … g1 − 1`` of a grid, whole, into ``out`` from ``at`` on: the same
    parts and composition as :func:`evaluate`, without any work per structure. Each
    structure's points are ``batch`` × ``seq`` (per point; ``seq`` may be ``None``);
    ``axes`` are the grid's (name, length, stride) row-major over its structures, and
    ``routed(g)`` structure ``g``'s routed ``solve`` keywords.

    Every part is computed for the combinations of the axes it may read, each from one
    structure that has it: the target for the model, system, phase and devices; the parallel
    plan for those and the degrees; the resolved plan for the target and every other option;
    the lowering and micro-batch part for every axis but the ZeRO stage; the step part for
    every axis but the micro-batch. Each structure then indexes its rows with numpy. Raises
    solve's error of some failing point (the caller finds the first one structure by
    structure) or :class:`Fallback` (a strict point, or a one-device view)."""
    import numpy as np

    G = g1 - g0
    gs = len(batch)
    g = np.arange(g0, g1, dtype=np.int64)
    digits = [(name, g // stride % n, n) for name, n, stride in axes]

    def combos(reads: Callable[[str], bool]) -> tuple[list[int], Any]:
        """A representative structure per combination of the axes ``reads`` accepts, and
        each structure's combination."""
        code = np.zeros(G, dtype=np.int64)
        for name, d, n in digits:
            if reads(name):
                code = code * n + d
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        return [g0 + int(i) for i in first], inverse

    memo = _Memo()
    target_reps, t_of = combos(lambda a: a in _TARGET)
    targets = []
    for r in target_reps:
        kw = routed(r)
        if kw.get("strict"):
            raise Fallback
        made = target(kw["model"], kw["system"], kw["phase"], kw.get("devices"), 1, 1, 1, 1, None)
        spec, phase, view, facts = made
        if view.kind == "device" or (phase == "decode" and facts.task != "llm"):
            raise Fallback  # solve's own check of the degrees or the phase decides
        targets.append(made)
    par_reps, p_of = combos(lambda a: a in _TARGET or a in _DEGREES)
    pars = []
    for r in par_reps:
        kw = routed(r)
        get = kw.get
        degrees = (get("tp", 1), get("pp", 1), get("dp"), get("cp", 1), get("ep", 1))
        degrees += (get("sp", False), get("zero", 0), get("microbatch", 1))
        degrees += (get("schedule", "1f1b"), get("chunks", 1), get("overlap", True))
        pars.append(parallel_plan(targets[t_of[r - g0]][2], *degrees))
    rp_reps, e_of = combos(lambda a: a not in _DEGREES)
    resolved = []
    for r in rp_reps:
        kw = routed(r)
        if kw.get("strict"):
            raise Fallback
        _, phase, view, facts = targets[t_of[r - g0]]
        extra = kw.keys() - _STRUCTURE
        options = {k: kw[k] for k in extra} if extra else {}
        rp = resolved_plan(facts, view, phase, kw.get("precision"), kw["recompute"],
                           kw.get("plan"), options)  # fmt: skip
        dev = device_facts(view.hardware)
        pk = peaks(dev, rp)
        reads = tuple((*static_reads(rp, z), pk, rp.eff) for z in (0, 3))
        resolved.append((rp, dev, pk, reads))

    def parts(r: int) -> tuple[Any, ...]:
        i = r - g0
        return (*targets[t_of[i]], pars[p_of[i]], *resolved[e_of[i]])

    # the lowering and micro-batch rows of each point, per combination of all but ZeRO
    low_reps, l_of = combos(lambda a: a != "zero")
    seg = Segment({}, batch, seq, slice(0, 0))
    lows, mbs, ms, seqs, gids = [], [], [], [], []
    groups: list[_Rows] = []
    for r in low_reps:
        spec, phase, view, facts, par, rp, dev, pk, _ = parts(r)
        training = phase == "training"
        pts = _split(seg, par, facts, phase, training, memo)
        _check_points(spec, facts, par, phase, training, pts, memo)
        phase_l = "prefill" if phase == "inference" else phase
        lo = [_lowering(facts, phase_l, mb, si, rp, par, dev, pk, memo) for si, mb in pts.pairs]
        mi = [_microbatch(facts, phase_l, mb, si, rp, par, view, memo) for si, mb in pts.pairs]
        lows.append([lo[j] for j in pts.which])
        mbs.append([mi[j] for j in pts.which])
        ms.append(pts.m)
        seqs.append(pts.seq)
        rows = _group_of(phase, dev, par, memo)
        if rows not in groups:
            groups.append(rows)
        gids.append(groups.index(rows))
    # the step row of each structure, per combination of all but the micro-batch
    step_reps, s_of = combos(lambda a: a != "microbatch")
    steps = []
    for r in step_reps:
        spec, phase, view, facts, par, rp, dev, pk, reads = parts(r)
        steps.append(_step_index(facts, phase == "training", view, par, rp, dev, pk, reads, memo))
    lowerings[0] = sum(1 for k in memo.lowered if len(k) == 10)
    priced[0] = len(memo.per_microbatch) + len(memo.per_step)
    tables = tuple(np.asarray(t, dtype=np.float64) for t in memo.tables)
    low_at = np.asarray(lows, dtype=np.int64)[l_of]  # (structures, points)
    mb_at = np.asarray(mbs, dtype=np.int64)[l_of]
    m_at = np.asarray(ms, dtype=np.float64)[l_of]
    seq_at = np.asarray(seqs, dtype=np.float64)[l_of]
    step_at = np.asarray(steps, dtype=np.int64)[s_of]
    gid = np.asarray(gids, dtype=np.int64)[l_of]
    b = np.asarray(batch, dtype=np.float64)
    point = np.arange(gs, dtype=np.int64)
    for k, rows in enumerate(groups):
        sel = np.flatnonzero(gid == k) if len(groups) > 1 else np.arange(G)
        n = len(sel)
        rows.index = (low_at[sel].ravel(), mb_at[sel].ravel(), np.repeat(step_at[sel], gs))
        rows.m, rows.seq = m_at[sel].ravel(), seq_at[sel].ravel()
        rows.batch = np.tile(b, n)
        cols = rows.compose(np, tables)
        where = (at + sel[:, None] * gs + point).ravel()
        for name, col in out.items():
            if name in cols:
                col[where] = cols[name]


class _Memo:
    """What one :func:`evaluate` call has computed, keyed by what each part depends on, and
    its three tables of float rows (one row per distinct part):

    * ``lowering`` — the slowest stage's timing, its FLOPs, inference activations and KV
      cache, the GEMM peak: per shard, micro-batch, sequence, resolved plan and stages;
    * ``microbatch`` — the priced TP/CP/EP/PP collectives of a micro-batch and the
      activation parts: per shard, micro-batch, sequence, resolved plan and rank layout
      (shared by ZeRO stages);
    * ``step`` — the priced data-parallel collectives, the optimizer update's timing, the
      resident state and the plan's degrees: per shard, ZeRO stage, rank layout and what the
      state reads of the plan (shared by micro-batches, sequences and recomputation).

    Nothing outlives the call."""

    __slots__ = (
        "checked",
        "groups",
        "lowered",
        "per_microbatch",
        "per_step",
        "points",
        "rp_keys",
        "tables",
        "targets",
    )

    def __init__(self) -> None:
        self.lowered: dict[tuple[Any, ...], tuple[Any, int, Timed, Timed]] = {}
        self.per_microbatch: dict[tuple[Any, ...], int] = {}
        self.per_step: dict[tuple[Any, ...], int] = {}
        self.targets: dict[tuple[Any, ...], tuple[Any, str, Any, Any]] = {}
        self.points: dict[tuple[Any, ...], _Points] = {}
        self.checked: set[tuple[Any, ...]] = set()
        self.rp_keys: dict[int, tuple[Any, Any, Any, tuple[Any, ...]]] = {}
        self.groups: dict[tuple[Any, ...], _Rows] = {}
        self.tables: tuple[list[tuple[float, ...]], ...] = ([], [], [])


class _Rows:
    """The points of one composition group: per point, its rows in the three tables, its
    micro-batch count, batch and sequence length."""

    def __init__(self, phase: str, dev: Any, overlap: bool, tp_overlap: float, v: int, sch: str):
        self.phase, self.dev, self.overlap, self.tp_overlap = phase, dev, overlap, tp_overlap
        self.v, self.schedule = v, sch
        self.segments: list[Segment] = []
        self.index: tuple[list[int], list[int], list[int]] = ([], [], [])
        self.m: list[int] = []  # per point: micro-batches per step
        self.batch: list[int] = []
        self.seq: list[int] = []

    def compose(self, np: Any, tables: tuple[Any, ...]) -> dict[str, Any]:
        lw, mc, sc = (
            t[np.asarray(i, dtype=np.int64)].T for t, i in zip(tables, self.index, strict=True)
        )
        m = np.asarray(self.m, dtype=np.float64)
        batch = np.asarray(self.batch, dtype=np.float64)
        s = np.asarray(self.seq, dtype=np.float64)
        t = Timed(*lw[0:8])
        flops = (lw[8], lw[9], lw[10])
        act_inf, kv, P = lw[11], lw[12], lw[13]
        # each field comes from one side (the other holds 0.0): the sum is solve's value
        c = CommParts(*(mc[0:10] + sc[0:10]))
        acts_parts = (mc[10], mc[11], mc[12])
        opt = tuple(sc[10:14]) if self.phase == "training" else None
        w, g, o = sc[14:17]
        p, dp, devices, nodes = sc[17:21]
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


def _collect(seg: Segment, memo: _Memo) -> None:
    """Check a segment as ``solve()`` would, compute what it needs that the call has not
    computed yet, and add its points' rows to their composition group."""
    kw = seg.keywords
    get = kw.get
    tp, pp, cp, ep, dp = get("tp", 1), get("pp", 1), get("cp", 1), get("ep", 1), get("dp")
    model, system, phase, devices = kw["model"], kw["system"], kw["phase"], get("devices")
    tkey = (id(model), id(system), phase, devices)
    hit = memo.targets.get(tkey)
    if hit is None or hit[2].kind == "device":  # (a device's check reads the degrees)
        hit = memo.targets[tkey] = target(model, system, phase, devices, tp, pp, cp, ep, dp)
    spec, phase, view, facts = hit
    extra = kw.keys() - _STRUCTURE
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
        {k: kw[k] for k in extra} if extra else {},
    )
    training = phase == "training"
    phase_l = "prefill" if phase == "inference" else phase
    rk = memo.rp_keys.get(id(rp))
    if rk is None or rk[0] is not rp or rk[1] is not view:
        dev = device_facts(view.hardware)
        pk = peaks(dev, rp)
        # what the step part reads of the resolved plan (recomputation only where it counts)
        reads = tuple((*static_reads(rp, z), pk, rp.eff) for z in (0, 3))  # ZeRO < 3, ZeRO-3
        rk = memo.rp_keys[id(rp)] = (rp, view, (dev, pk), reads)
    dev, pk = rk[2]
    rows = _group_of(phase, dev, par, memo)
    rows.segments.append(seg)
    i_step = _step_index(facts, training, view, par, rp, dev, pk, rk[3], memo)
    pts = _split(seg, par, facts, phase, training, memo)
    _check_points(spec, facts, par, phase, training, pts, memo)
    lows = [_lowering(facts, phase_l, mb, si, rp, par, dev, pk, memo) for si, mb in pts.pairs]
    mbs = [_microbatch(facts, phase_l, mb, si, rp, par, view, memo) for si, mb in pts.pairs]
    i_low, i_mb, i_st = rows.index
    n = len(pts.m)
    if len(lows) == 1:
        i_low += lows * n
        i_mb += mbs * n
    else:
        i_low += [lows[j] for j in pts.which]
        i_mb += [mbs[j] for j in pts.which]
    i_st += [i_step] * n
    rows.m += pts.m
    rows.batch += pts.batch
    rows.seq += pts.seq


def _group_of(phase: str, dev: Any, par: Any, memo: _Memo) -> _Rows:
    """The composition group of a structure: its phase, device and overlap settings."""
    chunks, sched = par.chunks, par.effective_schedule
    key = (phase, id(dev), par.overlap, par.tp_overlap, chunks, sched)
    rows = memo.groups.get(key)
    if rows is None:
        rows = memo.groups[key] = _Rows(phase, dev, par.overlap, par.tp_overlap, chunks, sched)
    return rows


def _step_index(
    facts: Any,
    training: bool,
    view: Any,
    par: Any,
    rp: Any,
    dev: Any,
    pk: Any,
    reads: tuple[Any, Any],
    memo: _Memo,
) -> int:
    """The row of a structure's step part: one per structure's state, whatever its
    micro-batches and sequences (``reads``: what it reads of the resolved plan below ZeRO-3
    and at ZeRO-3)."""
    skey: tuple[Any, ...] = (id(facts), training, id(view), par.tp, par.pp, par.chunks)
    skey = (*skey, par.ep, par.dp, par.cp, par.zero, reads[par.zero >= 3])
    i_step = memo.per_step.get(skey)
    if i_step is None:
        i_step = memo.per_step[skey] = len(memo.tables[2])
        memo.tables[2].append(_step_row(facts, training, rp, par, view, dev, pk))
    return i_step


def _split(seg: Segment, par: Any, facts: Any, phase: str, training: bool, memo: _Memo) -> _Points:
    """The points' micro-batches (one per batch: solve's split and its errors), shared by
    the structures with the same replicas, micro-batch and pipeline depth."""
    seqs = seg.seq_len
    b = seg.batch
    pkey: tuple[Any, ...] = (id(facts), phase, par.dp, par.microbatch, par.pp, b.dtype)
    pkey = (*pkey, b.tobytes())
    pkey = (*pkey, None) if seqs is None else (*pkey, seqs.dtype, seqs.tobytes())
    pts = memo.points.get(pkey)
    if pts is None:
        pts = memo.points[pkey] = _points(seg, par, facts, phase, training)
    return pts


def _check_points(
    spec: Any, facts: Any, par: Any, phase: str, training: bool, pts: _Points, memo: _Memo
) -> None:
    """The shape checks (solve's own, in point order), shared by the structures whose check
    reads the same degrees."""
    ckey = (id(facts), phase, par.tp, par.pp, par.chunks, par.ep, par.dp, par.cp, par.sp)
    ckey = (*ckey, par.effective_schedule)
    checked = memo.checked
    for s_m in pts.checks:
        if (ckey, s_m) not in checked:
            check_shape(spec, facts, par, seq_len_of(s_m[0], facts, phase), s_m[1], training)
            checked.add((ckey, s_m))


class _Points(NamedTuple):
    """A segment's points as the solver splits them: per point its micro-batch count,
    batch, sequence length and distinct (sequence, micro-batch) pair; the distinct
    (sequence, micro-batch count) shapes to check."""

    m: list[int]
    batch: list[int]
    seq: list[int]
    which: list[int]
    pairs: list[tuple[int, int]]
    checks: list[tuple[int, int]]


def _points(seg: Segment, par: Any, facts: Any, phase: str, training: bool) -> _Points:
    batch = seg.batch.tolist()
    if seg.seq_len is None:
        seqs = [seq_len_of(None, facts, phase)] * len(batch)
    else:
        seqs = seg.seq_len.tolist()
    splits: dict[int, tuple[int, int]] = {}
    pairs: dict[tuple[int, int], int] = {}
    checks: dict[tuple[int, int], None] = {}
    ms, which = [], []
    for bi, si in zip(batch, seqs, strict=True):
        split = splits.get(bi)
        if split is None:
            split = splits[bi] = split_batch(par, bi, training)
        m, mb = split
        checks[si, m] = None
        ms.append(m)
        which.append(pairs.setdefault((si, mb), len(pairs)))
    return _Points(ms, batch, seqs, which, list(pairs), list(checks))


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


def _lowering(
    facts: Any, phase: str, mb: int, s: int, rp: Any, par: Any, dev: Any, pk: Any, memo: _Memo
) -> int:
    """The row of the rank's lowering: timing, FLOPs, inference memory, peak."""
    lowered = memo.lowered
    pp, chunks = par.pp, par.chunks
    exact = (id(facts), phase, mb, s, id(rp), par.tp, par.cp, par.ep, par.sp, pp, chunks)
    hit = lowered.get(exact)
    if hit is not None:
        return hit[1]
    stages = par.stage_layers(facts.layers)
    # a dense model's training stages share one lowering whatever the pipeline depth ≥ 2
    shared = phase == "training" and facts.experts <= 1 and pp > 1
    key = (*exact[:9], "stages" if shared else (pp, chunks))
    base = lowered.get(key)
    BW = dev.bandwidth
    if base is None:
        low = lower_ops(facts, phase, mb, s, rp, par)
        head = head_timing(low, pk, BW, rp)
        t_layers = layer_timing(low, pk, BW, rp)
        t = slowest_stage(t_layers, low.layers, low.last_layers, head)
        base = lowered[key] = (low, _add_lowering(low, t, pk, memo), head, t_layers)
        lowered[(*key, stages)] = base
    else:
        hit = lowered.get((*key, stages))
        if hit is None:  # the shared lowering on this pipeline's stages (the same head ops)
            low0, _, head, t0 = base
            low = restage(low0, facts, par)
            t_layers = scaled_layers(t0, low.layers / low0.layers)
            t = slowest_stage(t_layers, low.layers, low.last_layers, head)
            hit = lowered[(*key, stages)] = (low, _add_lowering(low, t, pk, memo), head, t_layers)
        base = hit
    lowered[exact] = base
    return base[1]


def _add_lowering(low: Any, t: Timed, pk: Any, memo: _Memo) -> int:
    table = memo.tables[0]
    table.append((*t, low.model_flops, low.hardware_flops, low.flops, *low.inference, pk.gemm))
    return len(table) - 1


class _Comms(NamedTuple):
    comms: tuple[Any, ...]


def _microbatch(
    facts: Any, phase: str, mb: int, s: int, rp: Any, par: Any, view: Any, memo: _Memo
) -> int:
    """The row of one micro-batch's priced collectives and activation parts."""
    key: tuple[Any, ...] = (id(facts), phase, mb, s, id(rp), id(view), par.tp, par.cp, par.ep)
    key = (*key, par.pp, par.sp)
    key = (*key, par.chunks, par.dp)
    row = memo.per_microbatch.get(key)
    if row is None:
        comms = microbatch_comms(facts, phase, mb, s, rp, par)
        c = price(_Comms(comms), view, par, 1, None)
        acts = activation_parts(facts, mb, s, rp, par) if phase == "training" else _ZEROS
        table = memo.tables[1]
        row = memo.per_microbatch[key] = len(table)
        table.append((*c, *acts))
    return row


_ZEROS = (0.0, 0.0, 0.0)


def _step_row(
    facts: Any, training: bool, rp: Any, par: Any, view: Any, dev: Any, pk: Any
) -> tuple[float, ...]:
    """The step part's row: priced data-parallel collectives, the optimizer update's
    (time, bound, FLOPs, bytes), the resident state, and pp, dp, devices, nodes."""
    st = static_share(facts, par, rp, training)
    c = price(_Comms(st.dp_comms), view, par, 1, None)
    opt = optimizer_timing(st.optimizer, pk, dev.bandwidth, rp) or (0.0, 0.0, 0.0, 0.0)
    degrees = (float(par.pp), float(par.dp), float(view.devices), float(view.nodes))
    return (*c, *opt, *st.state, *degrees)
