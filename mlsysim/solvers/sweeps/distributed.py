"""Distributed configurations of a sweep, evaluated together: the solver's steps, shared where
they can be, and its composition on arrays.

A sweep's distributed points arrive as *segments*: one structure of the grid's outer axes
(model, system, devices, tp, pp, zero, recompute, micro-batch, schedule, …; checked as
``solve()`` checks them: :func:`~mlsysim.solvers.distributed.plans.target`,
:func:`~mlsysim.solvers.distributed.plans.plans`) with arrays of batch and sequence length. Each
point runs the same chain as :func:`~mlsysim.solvers.distributed.solver.solve_distributed`:

1. the rank's operations (:func:`~mlsysim.workload.lowering.sharded.lower_ops`) and their
   timing (:func:`~mlsysim.solvers.distributed.timing.rank_timing`) depend on the shard, the
   micro-batch and the sequence but not on ZeRO, the data-parallel degree or the batch: they
   are lowered and timed once per such *lowering* across the whole call, whatever the
   number of configurations sharing it; a dense model's training stages share one across
   pipeline depths and recomputation policies
   (:mod:`~mlsysim.solvers.sweeps.distributed_lowering`: each depth's stage holds the same ops
   repeating its layers, each policy runs some of them once more; the lowering under the default
   recomputation is timed per part and per
   :func:`~mlsysim.workload.lowering.recompute.recompute_class`, and each row scales those
   parts by its layers and its passes, not lowered or timed again);
2. the micro-batch's TP/CP/EP/PP collectives
   (:func:`~mlsysim.workload.lowering.sharded.microbatch_comms`), priced on the rank
   layout's groups (:func:`~mlsysim.solvers.distributed.timing.price`) once per distinct
   set of collectives and layout (:func:`~mlsysim.solvers.sweeps.distributed_parts.priced`), and
   the activation parts (:func:`~mlsysim.workload.lowering.sharded.activation_parts`) once
   per shard, micro-batch, sequence, plan and layout: every ZeRO stage shares them;
3. the data-parallel collectives, the optimizer update and the resident state
   (:func:`~mlsysim.workload.lowering.sharded.static_share`: the parts of
   :func:`~mlsysim.workload.lowering.sharded.rank_share` no micro-batch or sequence changes)
   once per shard, ZeRO stage, layout and what they read of the plan (its formats and
   optimizer, not its recomputation): micro-batches, sequences and recomputations share them;
4. the micro-batch count, the in-flight activations
   (:func:`~mlsysim.workload.lowering.sharded.stage_activations`) and the whole step
   (:func:`~mlsysim.solvers.distributed.step.compose_step`) as numpy arrays over every point
   of the call that shares the phase, device and overlap settings; each point indexes the
   rows of parts 1–3 it uses (the two sets of collectives add field by field: each field
   comes from one set, the other holding 0.0, so the sum is ``price``'s over all of them).

What each shared part reads decides its key, and whoever changes what a part reads updates
it: the lowering reads of the resolved plan everything but its recomputation, whose passes
it takes op by op (``recompute_class``, ``recompute_passes``: a new op built another way
says so there); ``price`` reads of the parallel plan only the rank layout (tp, cp, ep, pp,
dp) and of each collective only its fields; the step part reads what
:func:`~mlsysim.workload.lowering.sharded.static_reads` says.

The points' micro-batch splits and the shape checks are shared too, by the structures with
the same replicas, micro-batch and pipeline depth (splits) or the same degrees the check
reads (checks). Everything shared lives in one call: nothing is kept for the next
(:mod:`mlsysim.solvers.sweeps.distributed_parts` holds the parts and their composition).

Two entries: :func:`evaluate` takes segments one by one (any structure, any cut of its
points); :func:`evaluate_block` takes a range of whole structures of a grid and does no
work per structure: each part is built once per combination of the grid axes it may read,
from one structure that has it, and each structure indexes its rows with numpy. A block
that meets an error hands the structures back to :func:`evaluate`, which raises solve's
error for the first point that has one.

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
from mlsysim.solvers.distributed.plans import (
    ParallelSettings,
    parallel_plan,
    plans,
    resolved_plan,
    target,
)
from mlsysim.solvers.single_node.timing import peaks
from mlsysim.solvers.sweeps.distributed_parts import (
    STRUCTURE,
    Memo,
    Rows,
    check_points,
    group_of,
    lowering_row,
    microbatch_row,
    plan_reads,
    split_points,
    step_index,
)

__all__ = [
    "Fallback",
    "Segment",
    "blocked",
    "evaluate",
    "evaluate_block",
    "lowerings",
    "priced",
]


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

    memo = Memo()
    for seg in segments:
        _collect(seg, memo)
    lowerings[0] = memo.made
    priced[0] = len(memo.prices)
    tables = memo.arrays(np)
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


#: Collective sets priced by the last :func:`evaluate` or :func:`evaluate_block` (equal
#: sets on one rank layout once: :func:`~mlsysim.solvers.sweeps.distributed_parts.priced`).
priced = [0]
#: Structures the last :func:`evaluate_block` evaluated (a count for benchmarks and tests).
blocked = [0]

#: Keywords that choose the model, the system and the phase (a structure's target).
_TARGET = frozenset({"model", "system", "hardware", "phase", "devices"})
#: The parallel plan's keywords besides the devices.
_DEGREES = frozenset(PARALLEL_KEYWORDS) - {"devices"}
#: No parallelism (a target's check of a single device reads none).
_SERIAL = ParallelSettings()
#: Each parallel setting's place in :class:`ParallelSettings`.
_FIELD = {name: k for k, name in enumerate(ParallelSettings._fields)}
_new = tuple.__new__  # NamedTuple construction without its Python-level __new__
#: Degrees the step part (data-parallel collectives, optimizer, resident state) never reads.
_NOT_STEP = frozenset({"microbatch", "sp"})


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
    the target and the degrees but the micro-batch and sp, per class of resolved plans that
    agree on what it reads of them (:func:`~mlsysim.workload.lowering.sharded.static_reads`,
    the peaks and the engine). Each structure then indexes its rows with numpy. Raises
    solve's error of some failing point (the caller finds the first one structure by
    structure) or :class:`Fallback` (a strict point, or a one-device view)."""
    import numpy as np

    G = g1 - g0
    gs = len(batch)
    g = np.arange(g0, g1, dtype=np.int64)
    # (an axis of one value — a fixed keyword — adds nothing to a combination's code)
    digits = [(name, g // stride % n, n) for name, n, stride in axes if n > 1]
    none = np.zeros(G, dtype=np.int64)

    def combos(reads: Callable[[str], bool]) -> tuple[list[int], Any]:
        """A representative structure per combination of the axes ``reads`` accepts, and
        each structure's combination."""
        code = none
        size = 1
        for name, d, n in digits:
            if reads(name):
                code = d if size == 1 else code * n + d
                size *= n
        if size == 1:
            return [g0], none
        first, inverse = _first_of(np, code, size)
        return (first + g0).tolist(), inverse

    memo = Memo()
    target_reps, t_at = combos(lambda a: a in _TARGET)
    t_of = t_at.tolist()
    targets = []
    for r in target_reps:
        kw = routed(r)
        if kw.get("strict"):
            raise Fallback
        made = target(kw["model"], kw["system"], kw["phase"], kw.get("devices"), _SERIAL)
        spec, phase, view, facts = made
        if view.kind == "device" or (phase == "decode" and facts.task != "llm"):
            raise Fallback  # solve's own check of the degrees or the phase decides
        targets.append(made)
    _, p_at = combos(lambda a: a in _TARGET or a in _DEGREES)
    p_of = p_at.tolist()
    pars: dict[int, Any] = {}
    # a structure's parallel settings: the fixed keywords' and, for each degree axis, its
    # value at the structure's digit (routing passes the degrees through as given), each
    # value read from one structure that has it
    fixed = list(ParallelSettings.of(routed(g0)))
    by_digit = []
    for name, d, _ in digits:
        if name in _DEGREES:
            ds = d.tolist()  # (each digit's value read from its first structure)
            values = {x: routed(g0 + ds.index(x))[name] for x in dict.fromkeys(ds)}
            by_digit.append((_FIELD[name], ds, values))

    def par_of(i: int) -> Any:
        """The parallel plan of structure ``g0 + i``'s combination (built when first asked:
        the lowerings' and the step parts' together hold every structure's degrees)."""
        p = p_of[i]
        par = pars.get(p)
        if par is None:
            given = fixed.copy()
            for k, d, values in by_digit:
                given[k] = values[d[i]]
            settings = _new(ParallelSettings, given)
            par = pars[p] = parallel_plan(targets[t_of[i]][2], settings)
        return par

    rp_reps, e_at = combos(lambda a: a not in _DEGREES)
    e_of = e_at.tolist()
    resolved = []
    for r in rp_reps:
        kw = routed(r)
        if kw.get("strict"):
            raise Fallback
        _, phase, view, facts = targets[t_of[r - g0]]
        extra = kw.keys() - STRUCTURE
        options = {k: kw[k] for k in extra} if extra else {}
        rp = resolved_plan(facts, view, phase, kw.get("precision"), kw["recompute"],
                           kw.get("plan"), options)  # fmt: skip
        dev = device_facts(view.hardware)
        pk = peaks(dev, rp)
        resolved.append((rp, dev, pk, plan_reads(rp, pk, memo)))

    # the lowering and micro-batch rows of each point, per combination of all but ZeRO
    low_reps, l_of = combos(lambda a: a != "zero")
    pair = _pairing(np, axes, g0, g1)
    low_reps = pair(low_reps, True)
    lows, mbs, ms, seqs, gids = [], [], [], [], []
    groups: list[Rows] = []
    by_par: dict[int, tuple[Any, int]] = {}  # the splits, checks and group of a plan
    for r in low_reps:
        i = r - g0
        spec, phase, view, facts = targets[t_of[i]]
        rp, dev, pk, _ = resolved[e_of[i]]
        par = par_of(i)
        hit = by_par.get(p_of[i])
        if hit is None:
            training = phase == "training"
            pts = split_points(batch, seq, par, facts, phase, training, memo)
            check_points(spec, facts, par, phase, training, pts, memo)
            rows = group_of(phase, dev, par, memo)
            if rows not in groups:
                groups.append(rows)
            hit = by_par[p_of[i]] = (pts, groups.index(rows))
        pts, gid_r = hit
        phase_l = "prefill" if phase == "inference" else phase
        pairs, which = pts.pairs, pts.which
        if len(pairs) == 1:  # every point the same (sequence, micro-batch): one row each
            (si, mb), n = pairs[0], len(which)
            lows.append([lowering_row(facts, phase_l, mb, si, rp, par, dev, pk, memo)] * n)
            mbs.append([microbatch_row(facts, phase_l, mb, si, rp, par, view, memo)] * n)
        else:
            lo = [lowering_row(facts, phase_l, mb, si, rp, par, dev, pk, memo) for si, mb in pairs]
            mi = [microbatch_row(facts, phase_l, mb, si, rp, par, view, memo) for si, mb in pairs]
            lows.append([lo[j] for j in which])
            mbs.append([mi[j] for j in which])
        ms.append(pts.m)
        seqs.append(pts.seq)
        gids.append(gid_r)
    # the step row of each structure, per combination of the target and the degrees but
    # the micro-batch and sp (the step part reads neither) and per class of the resolved
    # plans that agree on what it reads of them (per target, below ZeRO-3 and at ZeRO-3)
    k_reps, k_of = combos(lambda a: (a in _TARGET or a in _DEGREES) and a not in _NOT_STEP)
    k_reps = pair(k_reps, False)
    step_pars = [par_of(r - g0) for r in k_reps]  # (its micro-batch and sp are not read)
    classes: dict[tuple[Any, ...], int] = {}
    cls = np.empty((2, len(resolved)), dtype=np.int64)
    for e, r in enumerate(rp_reps):
        t = t_of[r - g0]
        for z in (0, 1):
            cls[z, e] = classes.setdefault((t, z, resolved[e][3][z]), len(classes))
    z3 = np.asarray([p.zero >= 3 for p in step_pars], dtype=np.int64)[k_of]
    first, s_of = _first_of(np, k_of * len(classes) + cls[z3, e_at], len(k_reps) * len(classes))
    steps = []
    for i in first.tolist():  # a structure with that combination and class: its parts
        _, phase, view, facts = targets[t_of[i]]
        rp, dev, pk, reads = resolved[e_of[i]]
        par = step_pars[k_of[i]]
        steps.append(step_index(facts, phase == "training", view, par, rp, dev, pk, reads, memo))
    lowerings[0] = memo.made
    priced[0] = len(memo.prices)
    blocked[0] = G
    tables = memo.arrays(np)
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
        # one group: the block's points in order, a slice of the output
        where = slice(at, at + G * gs) if n == G else (at + sel[:, None] * gs + point).ravel()
        for name, col in out.items():
            if name in cols:
                col[where] = cols[name]


def _pairing(
    np: Any, axes: Sequence[tuple[str, int, int]], g0: int, g1: int
) -> Callable[[list[int], bool], list[int]]:
    """Moves representative structures within their combinations so that the lowerings' and
    the step parts' share parallel plans: a lowering reads every degree but the ZeRO stage,
    a step part every degree but the micro-batch and sp (its *variant*), so the lowering of
    the i-th variant is taken at the (i mod stages)-th ZeRO stage and the step part of the
    j-th stage at the j-th variant (where there is one). Per value of the other degrees the
    block builds max(variants, stages) parallel plans, not variants + stages − 1.
    ``pair(reps, lowering)``: ``reps``, each a combination's first structure (its first ZeRO
    stage, or variant, in the block), moved; one the block does not hold stays."""
    shape = {name: (n, stride) for name, n, stride in axes if n > 1}
    zero = shape.get("zero")
    variant = [shape[name] for name in shape if name in _NOT_STEP]
    if zero is None or not variant:
        return lambda reps, lowering: reps
    n_z, s_z = zero

    def pair(reps: list[int], lowering: bool) -> list[int]:
        r = np.asarray(reps, dtype=np.int64)
        if lowering:  # the variant's index, mixed-radix over its axes
            v = r * 0
            for n, stride in variant:
                v = v * n + r // stride % n
            moved = r + s_z * (v % n_z - r // s_z % n_z)
        else:  # the stage's variant: its digits, last axis fastest
            v = r // s_z % n_z
            moved = r
            for n, stride in reversed(variant):
                moved = moved + stride * (v % n - r // stride % n)
                v = v // n
            moved = np.where(v == 0, moved, r)  # more stages than variants: its own
        held = (g0 <= moved) & (moved < g1)
        out: list[int] = np.where(held, moved, r).tolist()
        return out

    return pair


def _first_of(np: Any, code: Any, size: int) -> tuple[Any, Any]:
    """Where each distinct value of ``code`` (integers in ``[0, size)``) first occurs, in
    increasing order of the values, and each element's rank among them: ``np.unique``'s
    ``return_index`` and ``return_inverse``, without its sort when the values are few."""
    n = len(code)
    if size > 4 * n + 64:  # sparse codes: a table of every value would be the larger
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        return first, inverse
    seen = np.full(size, n, dtype=np.int64)
    np.minimum.at(seen, code, np.arange(n, dtype=np.int64))
    present = seen < n
    rank = present.cumsum() - 1
    return seen[present], rank[code]


def _collect(seg: Segment, memo: Memo) -> None:
    """Check a segment as ``solve()`` would, compute what it needs that the call has not
    computed yet, and add its points' rows to their composition group."""
    kw = seg.keywords
    get = kw.get
    settings = ParallelSettings.of(kw)
    model, system, phase, devices = kw["model"], kw["system"], kw["phase"], get("devices")
    tkey = (id(model), id(system), phase, devices)
    hit = memo.targets.get(tkey)
    if hit is None or hit[2].kind == "device":  # (a device's check reads the degrees)
        hit = memo.targets[tkey] = target(model, system, phase, devices, settings)
    spec, phase, view, facts = hit
    extra = kw.keys() - STRUCTURE
    options = {k: kw[k] for k in extra} if extra else {}
    recompute, plan = kw["recompute"], get("plan")
    par, rp = plans(spec, facts, view, phase, settings, get("precision"), recompute, plan, options)
    training = phase == "training"
    phase_l = "prefill" if phase == "inference" else phase
    rk = memo.rp_keys.get(id(rp))
    if rk is None or rk[0] is not rp or rk[1] is not view:
        dev = device_facts(view.hardware)
        pk = peaks(dev, rp)
        # what the step part reads of the resolved plan (recomputation only where it counts)
        rk = memo.rp_keys[id(rp)] = (rp, view, (dev, pk), plan_reads(rp, pk, memo))
    dev, pk = rk[2]
    rows = group_of(phase, dev, par, memo)
    rows.segments.append(seg)
    i_step = step_index(facts, training, view, par, rp, dev, pk, rk[3], memo)
    pts = split_points(seg.batch, seg.seq_len, par, facts, phase, training, memo)
    check_points(spec, facts, par, phase, training, pts, memo)
    lows = [lowering_row(facts, phase_l, mb, si, rp, par, dev, pk, memo) for si, mb in pts.pairs]
    mbs = [microbatch_row(facts, phase_l, mb, si, rp, par, view, memo) for si, mb in pts.pairs]
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
