"""The rank's lowering row of a distributed sweep: one lowering timed once for every pipeline
depth and recomputation policy that can share it.

A dense model's training stage (:func:`~mlsysim.workload.lowering.sharded.lower_ops`) holds
the same operations whatever the pipeline depth — only how many layers repeat them changes
(:func:`~mlsysim.workload.lowering.sharded.restage`), and a single stage adds the embedding —
and whatever the recomputation policy: a policy only runs some of them once more, each op's
FLOPs, bytes and kernel launches counting one pass times its passes
(:func:`~mlsysim.workload.lowering.recompute.recompute_class` says which policy re-runs which op,
:func:`~mlsysim.workload.lowering.recompute.recompute_passes` how many passes it then runs).
Every field of an op's timing (:func:`~mlsysim.solvers.single_node.timing.time_ops`) is a roofline,
a launch cost or a count of one pass times its passes and repeats — homogeneous of degree one in
both — except the forward share, which divides by the passes. So one lowering (a *base*) is timed
per class of ops (layers, embedding, LM head; by recomputation class), and each structure's stage
timing is those parts scaled by its passes over the base's and by its layers over the base's, summed
(tested to 1e-12 against lowering and timing each policy and depth itself,
``tests/test_recompute_share.py``). The base is lowered under the default policy, whichever
structure comes first, and its own policy's rows are its own op-by-op sums: a sweep under the
default recomputation gives ``solve``'s numbers, not only to rounding. A structure's row is its
policy's parts and its stage's layer counts until the call reads its tables (:func:`staged_table`):
then every such row is filled at once, the same
:func:`~mlsysim.solvers.distributed.timing.scaled_layers` and
:func:`~mlsysim.solvers.distributed.timing.slowest_stage` on arrays, element by element the
arithmetic of one row on floats.

A base is shared by the structures with the same model, shard (tp, cp, ep, sp), micro-batch,
sequence, device peaks and bandwidth, and resolved plan but for its recomputation; a single
stage needs a single stage's base (the embedding is its own). Mixture-of-experts training,
inference, FP8 training (its casts' bytes do not follow their passes) and a plan that cannot
be compared take :func:`_staged_row`, the lowering per resolved plan shared across depths
only.
"""

from __future__ import annotations

import dataclasses
from functools import partial, reduce
from itertools import chain
from operator import add
from typing import Any

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import DEFAULT_RECOMPUTE
from mlsysim.solvers.distributed.timing import (
    head_timing,
    layer_timing,
    scaled_layers,
    slowest_stage,
    split_layer_timing,
)
from mlsysim.solvers.single_node.timing import Timed, rates, time_ops
from mlsysim.workload.lowering.recompute import (
    casts_gemm_inputs,
    recompute_class,
    recompute_passes,
)
from mlsysim.workload.lowering.sharded import lower_ops, replica_flops, restage

__all__ = ["lowering_row", "staged_table"]

_new = tuple.__new__  # NamedTuple construction without its Python-level __new__
_running_sum = partial(reduce, add)  # a field's sum over ops, left to right
#: Per class of resolved plans (equal but for recomputation), the default policy's; and per
#: resolved plan, its class's (or None: a lowering that cannot be shared).
_CANONICAL = DerivedCache("solvers.distributed.solver.plans_default_policy")
_CLASSES = DerivedCache("solvers.distributed.solver.plan_classes")
_CACHE_LIMIT = 4096


def lowering_row(
    facts: Any, phase: str, mb: int, s: int, rp: Any, par: Any, dev: Any, pk: Any, memo: Any
) -> int:
    """The row of the rank's lowering in ``memo``'s first table: the slowest stage's timing,
    its model, hardware and executed FLOPs, inference activations and KV cache, the GEMM
    peak."""
    if phase == "training" and facts.experts <= 1:
        row = _classed_row(facts, mb, s, rp, par, dev, pk, memo)
        if row is not None:
            return row
    return _staged_row(facts, phase, mb, s, rp, par, dev, pk, memo)


def _base_plan(rp: Any, memo: Any) -> Any:
    """The plan a base is lowered under for resolved plan ``rp``: ``rp`` under the default
    recomputation (a default sweep's rows are then ``solve``'s own sums), one object per
    class of plans equal but for it (so its identity is the class's, and a row is the same
    whichever structure came first); None for a plan whose
    lowering cannot be shared (FP8 training) or with a field that cannot be hashed. The
    call's memo holds each one it gave, so its identity stays a key for the call."""
    hit = memo.plan_classes.get(id(rp))
    if hit is not None and hit[0] is rp:
        return hit[1]
    known = _CLASSES.get(id(rp))
    if known is not None and known[0] is rp:
        rp0 = known[1]
    else:
        rp0 = _default_policy(rp)
        if len(_CLASSES) > _CACHE_LIMIT:  # a sweep must not accumulate
            _CLASSES.clear()
        _CLASSES.put(id(rp), (rp, rp0))
    memo.plan_classes[id(rp)] = (rp, rp0)
    return rp0


def _default_policy(rp: Any) -> Any:
    if casts_gemm_inputs(rp):  # FP8 training's casts' bytes do not follow their passes
        return None
    plan = rp.plan
    fields = [getattr(rp, name) for name in _names(rp) if name != "plan"]
    # the plan under the default recomputation, as its fields: a new plan only on a miss
    default = [DEFAULT_RECOMPUTE if n == "recompute" else getattr(plan, n) for n in _names(plan)]
    key = (type(plan), *default, *fields)
    try:
        rp0 = _CANONICAL.get(key)
    except TypeError:  # a field that cannot be hashed: no class
        return None
    if rp0 is None:
        plan0 = dataclasses.replace(plan, recompute=DEFAULT_RECOMPUTE)
        rp0 = rp if plan == plan0 else dataclasses.replace(rp, plan=plan0)
        if len(_CANONICAL) > _CACHE_LIMIT:
            _CANONICAL.clear()
        _CANONICAL.put(key, rp0)
    return rp0


#: Each dataclass type's field names (``dataclasses.fields`` builds its tuple per call).
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _names(obj: Any) -> tuple[str, ...]:
    kind = type(obj)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(obj))
    return names


def _classed_row(
    facts: Any, mb: int, s: int, rp: Any, par: Any, dev: Any, pk: Any, memo: Any
) -> int | None:
    """A dense training stage's row from its base (see the module doc), or None when no
    base can serve it."""
    tp, cp, ep, sp, pp = par.tp, par.cp, par.ep, par.sp, par.pp
    exact = (id(facts), mb, s, id(rp), id(dev), tp, cp, ep, sp, pp, par.chunks)
    row: int | None = memo.classed.get(exact)
    if row is not None:
        return row
    rp0 = _base_plan(rp, memo)
    if rp0 is None:
        return None
    # (the device and the plan's class decide the peaks and the bandwidth)
    key = (id(facts), mb, s, id(rp0), id(dev), tp, cp, ep, sp)
    single = pp == 1
    bases = memo.bases
    base = bases.get((*key, True))
    if not single and base is None:
        base = bases.get((*key, False))
    if base is None:
        base = bases[(*key, single)] = _base(facts, mb, s, rp0, par, dev, pk, memo)
    if base is False:
        return None
    mode = rp.plan.recompute
    policy = memo.policies.get((id(base), mode))
    if policy is None:
        policy = _policy(base, facts, mb, s, rp, rp0, par, dev, pk)
        memo.policies[(id(base), mode)] = policy
    stages = par.stage_layers(facts.layers)
    table = memo.tables[0]
    row = memo.classed[exact] = len(table)
    table.append(None)  # its fields come with every such row's at once (staged_rows)
    memo.staged.append((row, policy, single, stages[1], stages[2], pk.gemm))
    return row


def staged_table(np: Any, memo: Any) -> Any:
    """``memo``'s first table as an array, with the rows :func:`_classed_row` left to fill:
    each its policy's layers scaled to its stage's
    (:func:`~mlsysim.solvers.distributed.timing.scaled_layers`; a single stage's own) and
    the slower of its middle and last stage
    (:func:`~mlsysim.solvers.distributed.timing.slowest_stage`), every row at once on
    arrays: the same arithmetic, element by element, as one row on floats."""
    staged, rows_of = memo.staged, memo.tables[0]
    n = len(staged)
    w = len(Timed._fields)
    # per row: its layers' timing (a single stage's with its embedding), the LM head's, and
    # its counts and GEMM peak, each read as one flat run of floats; a single stage's own
    # layers (× 1.0, exact), a deeper one's scaled to its stage
    srcs, heads, rests, factors, mids, lasts, rows_at = [], [], [], [], [], [], []
    for row, p, one, mid_layers, last_layers, gemm in staged:
        srcs.append(p[2] if one else p[1])
        heads.append(p[3])
        rests.append((*p[4], gemm))
        factors.append(1.0 if one else mid_layers / p[0])
        mids.append(mid_layers)
        lasts.append(last_layers)
        rows_at.append(row)
    src = np.fromiter(chain.from_iterable(srcs), np.float64, n * w).reshape(n, w)
    head = np.fromiter(chain.from_iterable(heads), np.float64, n * w).reshape(n, w)
    rest = np.fromiter(chain.from_iterable(rests), np.float64).reshape(n, -1)
    factor = np.fromiter(factors, np.float64, n)
    mid = np.fromiter(mids, np.float64, n)
    last = np.fromiter(lasts, np.float64, n)
    t_layers = scaled_layers(_new(Timed, src.T), factor)
    t = slowest_stage(t_layers, mid, last, _new(Timed, head.T))
    table = np.empty((len(rows_of), w + rest.shape[1]), dtype=np.float64)
    rows = np.fromiter(rows_at, np.int64, n)
    table[rows, :w] = np.stack(t, axis=1)
    table[rows, w:] = rest
    fixed = [k for k, r in enumerate(rows_of) if r is not None]
    if fixed:  # the rows of other lowerings (_staged_row), as they are
        table[fixed] = np.asarray([rows_of[k] for k in fixed], dtype=np.float64)
    return table


def _policy(
    base: Any, facts: Any, mb: int, s: int, rp: Any, rp0: Any, par: Any, dev: Any, pk: Any
) -> tuple[int, Timed, Timed, Timed, tuple[float, ...]]:
    """A base under ``rp``'s recomputation: its layer count, its layers' timing without
    and with the embedding, the LM head's timing, and the micro-batch's model, hardware and
    executed FLOPs over a replica and its inference memory (none in training). Under the
    base's own policy (``rp0``'s) these are the base's own sums, op by op as ``solve``
    times the stage; under another, its parts scaled by their passes."""
    low, t_emb, rest, head, each, each_head = base
    mode = rp.plan.recompute
    if mode == rp0.plan.recompute:
        # the stage's own sums, op by op: its layers (layer_timing's without the embedding,
        # and with it: a single stage's) and the LM head (head_timing's: the sum, then its
        # once-per-step launch cost added last)
        t_rest = _in_order(
            [t for op, t in zip(low.ops, each, strict=True) if op.name != "embedding"]
        )
        t_whole = _in_order(each) if t_emb is not None else t_rest
        counts = (low.model_flops, low.hardware_flops, low.flops, 0.0, 0.0)
        if len(head) == 1:  # one class: the base timed these very ops, in their order
            ((t, _),) = head.values()
        else:
            t = _in_order(each_head)
        t_head = _new(Timed, (t[0], t[1], t[2] + rp.eff.step_overhead, *t[3:]))
        return low.layers, t_rest, t_whole, t_head, counts
    t_rest, lf = _combined(rest, mode)
    t_whole = t_rest if t_emb is None else _sum(t_emb, t_rest)
    t_head, hf = _combined(head, mode)
    # the LM head's ops carry the step's once-per-step launch cost (as head_timing's)
    t_head = t_head._replace(overhead=t_head.overhead + rp.eff.step_overhead)
    # executed FLOPs over a replica: every layer once on each TP/CP rank (lower_ops's sum)
    flops = (lf * (float(facts.layers) / low.layers) + hf) * float(par.tp * par.cp)
    _, model, hardware = replica_flops(facts, "training", mb, s, rp)
    return low.layers, t_rest, t_whole, t_head, (model, hardware, flops, 0.0, 0.0)


_Parts = dict[str, tuple[Timed, float]]


def _base(facts: Any, mb: int, s: int, rp: Any, par: Any, dev: Any, pk: Any, memo: Any) -> Any:
    """One lowering, timed per part: (ops, the embedding's timing or None, the layers' and
    the LM head's timing per recomputation class with that class's passes, and each op's
    own timing, the layers' and the LM head's); False when its ops do not scale (an op of
    no class, or layers not all repeated by the stage's count). Each op is timed once: a
    part's timing is its ops' timings summed in their order (:func:`_in_order`)."""
    low = lower_ops(facts, "training", mb, s, rp, par)
    memo.made += 1
    emb: list[int] = []
    rest: dict[str, list[int]] = {}  # each class's ops (their places)
    head: dict[str, list[int]] = {}
    rest_passes: dict[str, float] = {}  # each class's passes
    head_passes: dict[str, float] = {}
    for ops, into, passes in ((low.ops, rest, rest_passes), (low.head_ops, head, head_passes)):
        for k, op in enumerate(ops):
            cls = recompute_class(op)
            if cls is None:
                return False
            if op.name == "embedding" and into is rest:
                emb.append(k)
                continue
            if into is rest and op.repeat != low.layers:
                return False
            if passes.setdefault(cls, op.passes) != op.passes:
                return False
            into.setdefault(cls, []).append(k)
    BW, eff = dev.bandwidth, rp.eff
    r = rates(pk, BW, eff)
    each = [time_ops((op,), pk, BW, eff, None, False, r) for op in low.ops]
    each_head = [time_ops((op,), pk, BW, eff, None, False, r) for op in low.head_ops]
    t_emb = _in_order([each[k] for k in emb]) if emb else None

    def timed(groups: dict[str, list[int]], of: list[Timed], p: dict[str, float]) -> _Parts:
        return {c: (_in_order([of[k] for k in at]), p[c]) for c, at in groups.items()}

    rest_t, head_t = timed(rest, each, rest_passes), timed(head, each_head, head_passes)
    return low, t_emb, rest_t, head_t, each, each_head


def _in_order(parts: list[Timed]) -> Timed:
    """The timing of ops timed one by one (each :func:`time_ops` of that op alone), summed
    in their order: :func:`time_ops` of them all, to the last bit — it adds each op's share
    of every field to a running sum from 0.0 in the same order, and an op's share of a field
    it does not add to (a memory-bound op's compute, a GEMM's attention) is 0.0 here, which
    leaves a sum as it is."""
    if not parts:
        return _new(Timed, (0.0,) * len(Timed._fields))
    # each field's running sum, left to right from the first op's (not Python's sum: its
    # float summation may compensate)
    return _new(Timed, tuple(map(_running_sum, zip(*parts, strict=True))))


def _combined(parts: _Parts, mode: str) -> tuple[Timed, float]:
    """The parts' timing under recomputation ``mode`` (each class scaled by its passes over
    the base's; the forward share is a pass's, unscaled) and its executed FLOPs."""
    out: Timed | None = None
    flops = 0.0
    for cls, (t, passes) in parts.items():
        r = recompute_passes(cls, mode) / passes
        if r != 1.0:
            c, m, o, b, f, n, fwd, a = t
            t = _new(Timed, (c * r, m * r, o * r, b * r, f * r, n * r, fwd, a * r))
        flops += t.flops
        out = t if out is None else _sum(out, t)
    assert out is not None  # a training stage has layers and an LM head
    return out, flops


def _sum(a: Timed, b: Timed) -> Timed:
    return _new(Timed, tuple(map(add, a, b)))


def _staged_row(
    facts: Any, phase: str, mb: int, s: int, rp: Any, par: Any, dev: Any, pk: Any, memo: Any
) -> int:
    """The row of the rank's lowering per resolved plan.

    A dense model's training stages share one lowering whatever the pipeline depth: a
    deeper pipeline's is the first one lowered on its stages
    (:func:`~mlsysim.workload.lowering.sharded.restage` says how: the same ops repeating
    the stage's layers, the same FLOPs, tokens and memory), its layers' timing scaled from
    the first deeper stage lowered or from a single stage's layers without its embedding
    (a single stage's embedding does not scale: it is timed apart,
    :func:`~mlsysim.solvers.distributed.timing.split_layer_timing`); a single stage is
    lowered itself unless it came first."""
    lowered = memo.lowered
    pp, chunks = par.pp, par.chunks
    exact = (id(facts), phase, mb, s, id(rp), par.tp, par.cp, par.ep, par.sp, pp, chunks)
    hit = lowered.get(exact)
    if hit is not None:
        return int(hit[1])
    stages = par.stage_layers(facts.layers)
    shared = phase == "training" and facts.experts <= 1
    key = (*exact[:9], "stages" if shared else (pp, chunks))
    base = lowered.get(key)
    BW = dev.bandwidth
    if base is None or (pp == 1 and (*key, stages) not in lowered):
        low = lower_ops(facts, phase, mb, s, rp, par)
        memo.made += 1
        head = head_timing(low, pk, BW, rp)
        if (
            shared
            and pp == 1
            and all(op.repeat == low.layers for op in low.ops if op.name != "embedding")
        ):
            # a deeper stage's layers scale this one's without its embedding
            t_layers, t_moved = split_layer_timing(low, pk, BW, rp)
            lowered.setdefault((*key, "scaled"), (low, t_moved))
        else:
            t_layers = layer_timing(low, pk, BW, rp)
        t = slowest_stage(t_layers, low.layers, low.last_layers, head)
        hit = (low, _add_lowering(low, t, pk, memo), head)
        if base is None:
            base = lowered[key] = hit
        if pp > 1:  # every op repeats the stage's layers: its timing scales
            lowered[(*key, "scaled")] = (low, t_layers)
    else:
        hit = lowered.get((*key, stages))
        if hit is None:  # the shared lowering on this pipeline's stages (the same head ops)
            low0, _, head = base
            scalable = lowered.get((*key, "scaled"))
            if scalable is None:  # from a single stage: its layers without the embedding
                moved = restage(low0, facts, par)
                t_layers = layer_timing(moved, pk, BW, rp)
                lowered[(*key, "scaled")] = (moved, t_layers)
            else:
                t_layers = scaled_layers(scalable[1], stages[1] / scalable[0].layers)
            t = slowest_stage(t_layers, stages[1], stages[2], head)
            # its FLOPs, tokens and memory are the shared lowering's (restage's sums)
            hit = (low0, _add_lowering(low0, t, pk, memo), head)
    lowered[(*key, stages)] = hit
    lowered[exact] = hit
    return int(hit[1])


def _add_lowering(low: Any, t: Timed, pk: Any, memo: Any) -> int:
    table = memo.tables[0]
    table.append((*t, low.model_flops, low.hardware_flops, low.flops, *low.inference, pk.gemm))
    return len(table) - 1
