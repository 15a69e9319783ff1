"""The parts of a distributed sweep and their composition on arrays
(:mod:`mlsysim.solvers.sweeps.distributed` says what is shared and why).

:class:`Memo` keeps what one sweep call computed, keyed by what each part reads: the rank's
lowering and its timing (:func:`lowering_row`), a micro-batch's priced collectives and
activation parts (:func:`microbatch_row`), a structure's step part (:func:`step_index`),
the points' micro-batch splits (:func:`split_points`) and shape checks
(:func:`check_points`). Each part is a row of one of its three float tables; :class:`Rows`
holds the points of one composition group (phase, device, overlap settings) as indices into
those tables and composes their step
(:func:`~mlsysim.solvers.distributed.step.compose_step`) on numpy arrays.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, NamedTuple

from mlsysim.execution.parallel import PARALLEL_KEYWORDS
from mlsysim.solvers.distributed.plans import check_shape, seq_len_of, split_batch
from mlsysim.solvers.distributed.results import utilization
from mlsysim.solvers.distributed.step import PARTS, CommParts, compose_step
from mlsysim.solvers.distributed.timing import optimizer_timing, price
from mlsysim.solvers.single_node.timing import Timed
from mlsysim.solvers.sweeps.distributed_lowering import lowering_row, staged_table
from mlsysim.solvers.sweeps.kernel import WALLS
from mlsysim.workload.lowering.shard import rank_shard
from mlsysim.workload.lowering.sharded import (
    activation_parts,
    microbatch_comms,
    stage_activations,
    static_reads,
    static_share,
)

__all__ = [
    "STRUCTURE",
    "Memo",
    "Points",
    "Rows",
    "check_points",
    "group_of",
    "lowering_row",
    "microbatch_row",
    "plan_reads",
    "points_of",
    "priced",
    "split_points",
    "step_index",
]

_WALL_CODE = tuple(WALLS.index(p) for p in PARTS)
_CAPACITY = WALLS.index("memory_capacity")


class Memo:
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
        "bases",
        "checked",
        "classed",
        "groups",
        "lowered",
        "made",
        "per_microbatch",
        "per_step",
        "plan_classes",
        "points",
        "policies",
        "prices",
        "reads",
        "rp_keys",
        "staged",
        "tables",
        "targets",
    )

    def __init__(self) -> None:
        self.lowered: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        # the lowerings shared across recomputation (distributed_lowering): timed bases,
        # each structure's row, and what each resolved plan is but for its recomputation
        self.bases: dict[tuple[Any, ...], Any] = {}
        self.classed: dict[tuple[Any, ...], int] = {}
        self.plan_classes: dict[int, tuple[Any, Any]] = {}
        self.policies: dict[tuple[Any, ...], Any] = {}
        self.made = 0  # lowerings made
        self.per_microbatch: dict[tuple[Any, ...], int] = {}
        self.per_step: dict[tuple[Any, ...], int] = {}
        self.prices: dict[tuple[Any, ...], CommParts] = {}  # (view, layout, collectives)
        self.targets: dict[tuple[Any, ...], tuple[Any, str, Any, Any]] = {}
        self.points: dict[tuple[Any, ...], Points] = {}
        self.checked: set[tuple[Any, ...]] = set()
        self.rp_keys: dict[int, tuple[Any, Any, Any, tuple[Any, ...]]] = {}
        self.reads: dict[tuple[Any, ...], int] = {}  # what step parts read: each one's number
        self.groups: dict[tuple[Any, ...], Rows] = {}
        self.tables: tuple[list[Any], ...] = ([], [], [])
        # the first table's rows left to fill at once: (row, policy, single, layers …)
        self.staged: list[tuple[Any, ...]] = []

    def arrays(self, np: Any) -> tuple[Any, ...]:
        """The three tables as float64 arrays, one row per part (every row of a table has
        the same fields; read as one flat run of floats, not row by row)."""
        out = []
        for k, t in enumerate(self.tables):
            if k == 0 and self.staged:  # rows filled all at once (distributed_lowering)
                out.append(staged_table(np, self))
                continue
            if not t:
                out.append(np.asarray(t, dtype=np.float64))
                continue
            flat = np.fromiter(chain.from_iterable(t), np.float64)
            out.append(flat.reshape(len(t), len(t[0])))  # (a ragged table cannot reshape)
        return tuple(out)


class Rows:
    """The points of one composition group: per point, its rows in the three tables, its
    micro-batch count, batch and sequence length."""

    def __init__(self, phase: str, dev: Any, overlap: bool, tp_overlap: float, v: int, sch: str):
        self.phase, self.dev, self.overlap, self.tp_overlap = phase, dev, overlap, tp_overlap
        self.v, self.schedule = v, sch
        self.segments: list[Any] = []
        # lists a structure at a time, or whole arrays (a block of structures)
        self.index: tuple[Any, Any, Any] = ([], [], [])
        self.m: Any = []  # per point: micro-batches per step
        self.batch: Any = []
        self.seq: Any = []

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


def group_of(phase: str, dev: Any, par: Any, memo: Memo) -> Rows:
    """The composition group of a structure: its phase, device and overlap settings."""
    chunks, sched = par.chunks, par.effective_schedule
    key = (phase, id(dev), par.overlap, par.tp_overlap, chunks, sched)
    rows = memo.groups.get(key)
    if rows is None:
        rows = memo.groups[key] = Rows(phase, dev, par.overlap, par.tp_overlap, chunks, sched)
    return rows


def plan_reads(rp: Any, pk: Any, memo: Memo) -> tuple[int, int]:
    """What a step part reads of resolved plan ``rp`` below ZeRO-3 and at ZeRO-3
    (:func:`~mlsysim.workload.lowering.sharded.static_reads`, the peaks ``pk`` and the
    engine), each as the call's number for it: equal reads, equal numbers (a key that
    hashes an int, not the engine's efficiencies, at every step part)."""
    ids = memo.reads
    below = ids.setdefault((*static_reads(rp, 0), pk, rp.eff), len(ids))
    return below, ids.setdefault((*static_reads(rp, 3), pk, rp.eff), len(ids))


def step_index(
    facts: Any,
    training: bool,
    view: Any,
    par: Any,
    rp: Any,
    dev: Any,
    pk: Any,
    reads: tuple[Any, ...],
    memo: Memo,
) -> int:
    """The row of a structure's step part: one per structure's state, whatever its
    micro-batches and sequences (``reads``: what it reads of the resolved plan below ZeRO-3
    and at ZeRO-3)."""
    zero = par.zero
    at = (id(facts), training, id(view), par.tp, par.pp, par.chunks, par.ep, par.dp, par.cp)
    skey = (*at, zero, reads[zero >= 3])
    i_step = memo.per_step.get(skey)
    if i_step is None:
        i_step = memo.per_step[skey] = len(memo.tables[2])
        memo.tables[2].append(_step_row(facts, training, rp, par, view, dev, pk, memo))
    return i_step


def split_points(
    batch: Any, seq: Any, par: Any, facts: Any, phase: str, training: bool, memo: Memo
) -> Points:
    """The points' micro-batches (one per batch: solve's split and its errors), shared by
    the structures with the same replicas, micro-batch and pipeline depth."""
    seqs, b = seq, batch
    pkey: tuple[Any, ...] = (id(facts), phase, par.dp, par.microbatch, par.pp, b.dtype)
    pkey = (*pkey, b.tobytes())
    pkey = (*pkey, None) if seqs is None else (*pkey, seqs.dtype, seqs.tobytes())
    pts = memo.points.get(pkey)
    if pts is None:
        pts = memo.points[pkey] = points_of(batch, seq, par, facts, phase, training)
    return pts


def check_points(
    spec: Any, facts: Any, par: Any, phase: str, training: bool, pts: Points, memo: Memo
) -> None:
    """The shape checks (solve's own, in point order), shared by the structures whose check
    reads the same degrees."""
    ckey: tuple[Any, ...] = (
        id(facts),
        phase,
        par.tp,
        par.pp,
        par.chunks,
        par.ep,
        par.dp,
        par.cp,
        par.sp,
    )
    ckey = (*ckey, par.effective_schedule)
    checked = memo.checked
    for s_m in pts.checks:
        if (ckey, s_m) not in checked:
            check_shape(spec, facts, par, seq_len_of(s_m[0], facts, phase), s_m[1], training)
            checked.add((ckey, s_m))


class Points(NamedTuple):
    """A segment's points as the solver splits them: per point its micro-batch count,
    batch, sequence length and distinct (sequence, micro-batch) pair; the distinct
    (sequence, micro-batch count) shapes to check."""

    m: list[int]
    batch: list[int]
    seq: list[int]
    which: list[int]
    pairs: list[tuple[int, int]]
    checks: list[tuple[int, int]]


def points_of(b: Any, seq: Any, par: Any, facts: Any, phase: str, training: bool) -> Points:
    batch = b.tolist()
    seqs = [seq_len_of(None, facts, phase)] * len(batch) if seq is None else seq.tolist()
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
    return Points(ms, batch, seqs, which, list(pairs), list(checks))


#: Keywords of the distributed solver that are not plan options (nor batch, seq_len, strict).
STRUCTURE = frozenset(
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


class _Comms(NamedTuple):
    comms: tuple[Any, ...]


def microbatch_row(
    facts: Any, phase: str, mb: int, s: int, rp: Any, par: Any, view: Any, memo: Memo
) -> int:
    """The row of one micro-batch's priced collectives and activation parts."""
    tp, cp, ep, pp, sp, chunks, dp = par.tp, par.cp, par.ep, par.pp, par.sp, par.chunks, par.dp
    key = (id(facts), phase, mb, s, id(rp), id(view), tp, cp, ep, pp, sp, chunks, dp)
    row = memo.per_microbatch.get(key)
    if row is None:
        shard = rank_shard(facts, par)
        c = priced(microbatch_comms(facts, phase, mb, s, rp, par, shard), view, par, memo)
        acts = activation_parts(facts, mb, s, rp, par, shard) if phase == "training" else _ZEROS
        table = memo.tables[1]
        row = memo.per_microbatch[key] = len(table)
        table.append((*c, *acts))
    return row


_ZEROS = (0.0, 0.0, 0.0)
_new = tuple.__new__  # NamedTuple construction without its Python-level __new__
#: No collectives: every part of the step's communication 0.0 (what ``price`` sums of none).
_SILENT = CommParts(*(0.0,) * len(CommParts._fields))


def priced(comms: tuple[Any, ...], view: Any, par: Any, memo: Memo) -> CommParts:
    """:func:`~mlsysim.solvers.distributed.timing.price` of the collectives ``comms`` on
    ``view`` for one micro-batch, once per call for equal collectives on the same rank
    layout: ``price`` reads of the plan only the layout its groups are placed by (tp, cp,
    ep, pp, dp), and of each collective only its fields, so structures whose recomputation,
    ZeRO stage or micro-batch issue the same collectives share one pricing (none: zeros)."""
    if not comms:
        return _SILENT
    key = (id(view), par.tp, par.cp, par.ep, par.pp, par.dp, comms)
    c = memo.prices.get(key)
    if c is None:
        c = memo.prices[key] = price(_new(_Comms, (comms,)), view, par, 1, None)
    return c


def _step_row(
    facts: Any, training: bool, rp: Any, par: Any, view: Any, dev: Any, pk: Any, memo: Memo
) -> tuple[float, ...]:
    """The step part's row: priced data-parallel collectives, the optimizer update's
    (time, bound, FLOPs, bytes), the resident state, and pp, dp, devices, nodes."""
    st = static_share(facts, par, rp, training)
    c = priced(st.dp_comms, view, par, memo)
    opt = optimizer_timing(st.optimizer, pk, dev.bandwidth, rp) or (0.0, 0.0, 0.0, 0.0)
    degrees = (float(par.pp), float(par.dp), float(view.devices), float(view.nodes))
    return (*c, *opt, *st.state, *degrees)
