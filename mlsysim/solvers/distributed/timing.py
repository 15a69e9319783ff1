"""One rank's timing and its collectives' prices in a distributed step.

The rank's operations are timed op by op on the device exactly as the single-node solver
times them (:func:`~mlsysim.solvers.single_node.timing.time_ops`): a middle stage's layers, the last
stage's (its layers plus the LM head), the optimizer update on the rank's state shard.
Each collective is priced on its group of the system view
(:func:`~mlsysim.systems.collective_pricing.achievable_collective`), ranks placed TP
innermost, then CP, EP, PP, and DP across nodes, and summed by where it sits in the step."""

from __future__ import annotations

from typing import Any

from mlsysim.core.arrays import select
from mlsysim.core.cache import DerivedCache
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.execution.plan import ResolvedPlan
from mlsysim.solvers.distributed.results import CollectiveTiming
from mlsysim.solvers.distributed.step import CommParts
from mlsysim.solvers.single_node.timing import Peaks, Timed, time_ops
from mlsysim.systems.collective_pricing import achievable_collective
from mlsysim.systems.topology import Group, SystemView

__all__ = [
    "head_timing",
    "layer_timing",
    "optimizer_timing",
    "price",
    "rank_timing",
    "scaled_layers",
    "slowest_stage",
    "split_layer_timing",
]

_new = tuple.__new__  # NamedTuple construction without its Python-level __new__
#: Entries each memo table keeps before it starts afresh (a sweep must not accumulate).
_CACHE_LIMIT = 4096


def _stage(layers: Timed, scale: float, extra: Timed) -> Timed:
    """The layers' timing scaled by ``scale`` (fewer layers) plus ``extra`` (the LM head)."""
    return _new(Timed, [x * scale + y for x, y in zip(layers, extra, strict=True)])


_OPTIMIZER = DerivedCache("solvers.distributed.solver.optimizer_timing")
#: The same timings by the identity of the efficiencies and peaks (each entry holds them).
_OPTIMIZER_BY_ID = DerivedCache("solvers.distributed.solver.optimizer_timing_by_id")


def _time_optimizer(op: Any, pk: Peaks, BW: float, rp: ResolvedPlan) -> Timed:
    """The optimizer update's timing: one op per rank's state shard, the same for every
    micro-batch and sequence length (cached per value of the op, the engine's efficiencies —
    all the timing reads of the plan — the peaks and the bandwidth: the ZeRO stages that
    shard the state alike and the plans that differ only in recomputation share it)."""
    eff = rp.eff
    # by the efficiencies' and peaks' identity first (hashing their values is most of a
    # hit's cost), then by their values (equal ones of another plan)
    fast = (op, id(eff), id(pk), BW)
    held = _OPTIMIZER_BY_ID.get(fast)
    if held is not None and held[0] is eff and held[1] is pk:
        return held[2]
    key = (op, eff, pk, BW)  # (every one a tuple of numbers and names)
    t: Timed | None = _OPTIMIZER.get(key)
    if t is None:
        t = time_ops((op,), pk, BW, eff, step=False)
        if len(_OPTIMIZER) > _CACHE_LIMIT:
            _OPTIMIZER.clear()
        _OPTIMIZER.put(key, t)
    if len(_OPTIMIZER_BY_ID) > _CACHE_LIMIT:
        _OPTIMIZER_BY_ID.clear()
    _OPTIMIZER_BY_ID.put(fast, (eff, pk, t))
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


_GROUPS = DerivedCache("solvers.distributed.solver.groups")
#: Per view, its distinct groups by value (the one object each equal group becomes).
_SAME_GROUPS = DerivedCache("solvers.distributed.solver.same_groups")


def _shape(grp: Group) -> tuple[Any, ...]:
    """What tells two groups of one view apart (its links are the view's), cheaper to hash
    than the group with its links."""
    return (
        grp.n,
        grp.per_node,
        grp.nodes,
        grp.pods,
        grp.nodes_per_pod,
        grp.oversubscription,
        grp.sharp,
        grp.pods_known,
        id(grp.intra),
        id(grp.inter),
    )


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
    interned: dict[tuple[Any, ...], Group] = same[1]
    groups = {}
    for name, members in _MEMBERS.items():
        grp = view.group_of(layout, members)
        groups[name] = interned.setdefault(_shape(grp), grp)
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
    # dp, edp: once per step, behind the backward or the forward pass (the last of each)
    dp_back = dp_fwd = edp_back = edp_fwd = 0.0
    for c in low.comms:
        dim = c.group
        grp = groups[dim]
        t, algorithm = achievable_collective(c.op, c.size, grp)
        call = t + c.host_per_rank * grp.n if c.host_per_rank else t
        sent = c.calls * call
        if dim == "tp":
            tp += sent
        elif dim == "pp":
            pp += sent
            if pp_call is None:
                pp_call = t
        elif dim == "cp":
            cp += sent
        elif dim == "ep":
            ep += sent
        elif c.per == "step":
            hidden = c.hidden
            if dim == "dp":
                if hidden == "backward":
                    dp_back = sent
                elif hidden == "forward":
                    dp_fwd = sent
            elif dim == "edp":
                if hidden == "backward":
                    edp_back = sent
                elif hidden == "forward":
                    edp_fwd = sent
        else:  # ZeRO-3's per-micro-batch gathers and scatters
            z3 += sent
        if rows is not None:
            calls = c.calls * (m if c.per == "microbatch" else 1)
            row = (c.name, dim, c.op, algorithm, c.size, calls, grp.n, grp.nodes, call)
            rows.append(_new(CollectiveTiming, (*row, call * calls, 0.0)))
    pp_first = 0.0 if pp_call is None else pp_call
    return _new(CommParts, (tp, cp, ep, z3, pp, pp_first, dp_back, dp_fwd, edp_back, edp_fwd))


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


def split_layer_timing(low: Any, pk: Peaks, BW: float, rp: ResolvedPlan) -> tuple[Timed, Timed]:
    """A single stage's layers timed as :func:`layer_timing` times them, and without the
    embedding — the part a deeper pipeline's stages scale (:func:`scaled_layers`; the
    first stage holds the embedding, the last does not). Every field of a timing is a sum
    over ops, so the stage's is the embedding's plus the rest's: two passes over the ops
    instead of timing the stage moved to another depth again."""
    emb = tuple(op for op in low.ops if op.name == "embedding")
    rest = time_ops(
        tuple(op for op in low.ops if op.name != "embedding"), pk, BW, rp.eff, None, False
    )
    if not emb:
        return rest, rest
    t_emb = time_ops(emb, pk, BW, rp.eff, None, False)
    return _new(Timed, [x + y for x, y in zip(t_emb, rest, strict=True)]), rest


def slowest_stage(t_layers: Timed, layers: Any, last_layers: Any, head: Timed) -> Timed:
    """The slower of a middle stage (``t_layers``: ``layers`` layers) and the last stage
    (``last_layers`` of those layers plus the LM head's ``head``); element-wise when the
    fields and counts are arrays (a sweep's rows at once), the same arithmetic."""
    t_last = _stage(t_layers, last_layers / layers, head)
    last = t_last.total >= t_layers.total
    if last is True or last is False:  # floats: a Python comparison's result
        return t_last if last else t_layers
    return _new(Timed, [select(last, a, b) for a, b in zip(t_last, t_layers, strict=True)])


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
