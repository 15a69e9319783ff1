"""Collectives on the real topology: each algorithm priced over the links a group crosses.

For a :class:`~mlsysim.systems.topology.Group` of N ranks, g per node over k nodes, the
intra-node link gives β_in per device and the NICs β_out per device (the node's NIC
bandwidth over its accelerators). A ring spanning nodes runs g channels, one per rail, so
its per-rank bandwidth is the bottleneck min(β_in, g·β_out); between pods of an
oversubscribed cluster (factor o) a ring hop keeps min(1, nodes-per-pod / o) of β_out —
few of its hops cross the spine — while an all-to-all pays o on the traffic that leaves the
pod. Algorithms (:data:`ALGORITHMS`), each through its :mod:`mlsysim.core.formulas` fast
path:

* ``ring`` — every operation; ``tree`` — NCCL's double binary tree between nodes with a chain
  inside each (all-reduce); ``hierarchical`` — reduce-scatter inside the node, all-reduce of
  M/g across nodes on each rail, all-gather inside (all-reduce, several nodes): only 1/g of
  the buffer crosses the NICs, so on few nodes its bus bandwidth can exceed theirs;
* ``nvls`` — NVLink SHARP reduction inside the NVSwitch (all-reduce; across nodes NCCL's
  NVLS tree: in-switch reduction inside, a ring of M/g between nodes);
* ``sharp`` — InfiniBand SHARP reduction in the switches between nodes (all-reduce; used by
  ``auto`` only where the cluster enables it);
* ``pairwise`` (all-to-all), ``pipelined`` (broadcast), ``p2p`` (send/recv).

Two times come out. The *bound* uses every link's line rate and no latency, and lets the two
phases of a two-level algorithm (intra-node, inter-node) overlap on their own links: no
measurement may beat it. The estimate runs those phases one after the other (libraries
overlap them only in part: NCCL's NVLS tree on 2 H100 nodes reaches 470 GB/s, between the
two pricings). The *achievable* time uses each fabric's recorded efficiency (the collective
library's protocol overhead), its per-step latency α and the library's base latency per
call (and its kernel launch). Where the fabrics record NCCL's figures, a ring or tree is
priced under each of NCCL's protocols (LL, LL128, Simple) with that algorithm's own row of
NCCL's table (``core.constants.NCCL_*``: base latency, per-hop latency, share of the bus
bandwidth, the tree's medium-size correction and the ring's Simple plateau) and the
cheapest protocol is used, as NCCL v2.7.8 chooses; send/recv and all-to-all run LL or
Simple (the cheaper). An all-to-all is NCCL's group of n−1 sends and receives posted at
once (:func:`~mlsysim.core.formulas.collectives.hierarchical_all_to_all`): the slower link
class sets its bandwidth, the peers in the node cost one hop a round of 16, and the remote
peers one network hop plus the network's step latency for each further peer.
NCCL's absolute bus-bandwidth caps (A100's 235 GB/s aside, recorded as the NVLink3
efficiency) are per-generation figures of that release and are not applied. ``auto`` picks
the fastest achievable algorithm the hardware supports; the bound is the best over the
same set.

**Fast path.** Everything but the message size is fixed by the group: its levels, NCCL's
rows for them, each algorithm's bandwidth and mean step latency. :func:`time_collective`
evaluates those once per (group, operation) into a plan (:func:`plan`, cached with the other
derived caches): per algorithm, one *term* per protocol — the algorithm's formula with every
argument but the size bound to a float — and its base latency. Pricing a size is then one
formula call per term and a minimum, with no level, row or quantity built.
:func:`reference_timing` prices step by step (levels, rows, then each row) and is what the
tests hold the fast path to; both evaluate the same terms (:func:`_term`), so the model is
written once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import NCCL_RING_SIMPLE_PLATEAU_BYTES, NCCL_TREE_CORRECTION
from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.core.formulas.collectives import (
    BUS_FACTOR_OPS,
    broadcast_s,
    hierarchical_all_to_all_s,
    in_network_allreduce_s,
    send_recv_s,
)
from mlsysim.core.formulas.communication import (
    all_gather_s,
    double_binary_tree_allreduce_s,
    hierarchical_allreduce_s,
    ring_allreduce_s,
)
from mlsysim.systems.protocols import CALL_BASE, Levels, link_levels, protocol_rows
from mlsysim.systems.topology import Group

__all__ = [
    "ALGORITHMS",
    "OPS",
    "Choice",
    "Term",
    "Timing",
    "achievable_collective",
    "check",
    "plan",
    "plans_made",
    "reference_timing",
    "time_collective",
]

#: Collective operations (nccl-tests names).
OPS = BUS_FACTOR_OPS
#: Algorithms by operation; ``"auto"`` chooses among the ones the hardware supports.
ALGORITHMS: dict[str, tuple[str, ...]] = {
    "all_reduce": ("ring", "tree", "hierarchical", "nvls", "sharp"),
    "all_gather": ("ring",),
    "reduce_scatter": ("ring",),
    "all_to_all": ("pairwise",),
    "broadcast": ("pipelined",),
    "send_recv": ("p2p",),
}
#: In-switch reductions run one protocol (NCCL's NVLS and CollNet: Simple only), priced at
#: the fabric's one recorded latency as before.
_SINGLE_PROTOCOL = frozenset(("nvls", "sharp"))
#: The family of NCCL's tables each algorithm is priced with.
_FAMILY = {"tree": "tree", "pairwise": "p2p", "p2p": "p2p"}
_PLATEAU_BYTES = NCCL_RING_SIMPLE_PLATEAU_BYTES.value
#: Plans each cache keeps before it starts afresh (a sweep must not accumulate).
_CACHE_LIMIT = 65536

#: Seconds of one algorithm under one protocol as a function of the message size (bytes).
Term = Callable[[float], float]


class Timing(NamedTuple):
    """One collective on a group: achievable and bound seconds, and the algorithm used."""

    time: float
    bound: float
    algorithm: str


class Choice(NamedTuple):
    """One algorithm of a plan: its achievable terms and their base latencies (s), and those
    from the ring Simple plateau's size on."""

    algorithm: str
    auto: bool  # ``auto`` may choose it (SHARP only where the cluster enables it)
    single: bool  # one protocol (an in-switch reduction): its one term, no minimum
    rows: tuple[tuple[Term, float], ...]
    plateau_rows: tuple[tuple[Term, float], ...]
    plateau: float  # bytes from which ``plateau_rows`` apply (inf: never)


def check(op: str, algorithm: str) -> None:
    """Raise unless ``op`` is a collective and ``algorithm`` ``"auto"`` or one of its own."""
    if op not in ALGORITHMS:
        raise UnknownNameError(
            "collective", str(op), ALGORITHMS, fix="use one of " + ", ".join(ALGORITHMS)
        )
    if algorithm != "auto" and algorithm not in ALGORITHMS[op]:
        raise ConfigError(
            f"{op} has no algorithm {algorithm!r}",
            where="collective",
            why=f"{op} algorithms: {', '.join(ALGORITHMS[op])}",
            fix="pass algorithm='auto' or one of those",
        )


def _phases(pipelined: bool, intra: float, inter: float) -> float:
    """Two phases on different links: overlapped for the bound, in turn for the estimate."""
    return max(intra, inter) if pipelined else intra + inter


def _ring_bw(grp: Group, lv: Levels) -> float:
    if grp.nodes == 1:
        return lv.b_in
    across = grp.per_node * lv.b_out
    return across if grp.per_node == 1 else min(lv.b_in, across)


def _mean_latency(lv: Levels, steps: float, inter_steps: float) -> float:
    if steps <= 0.0:
        return 0.0
    return ((steps - inter_steps) * lv.a_in + inter_steps * lv.a_out) / steps


def _supported(op: str, algorithm: str, grp: Group) -> bool:
    if algorithm in ("ring", "tree", "pairwise", "pipelined", "p2p"):
        return True
    if algorithm == "hierarchical":
        return grp.nodes > 1 and grp.per_node > 1
    if algorithm == "nvls":
        return grp.intra is not None and grp.intra.in_network == "nvls" and grp.per_node > 1
    if algorithm == "sharp":
        return grp.nodes > 1 and grp.inter is not None and grp.inter.in_network == "sharp"
    return False


# --- each algorithm's term: its formula with every argument but the size evaluated ----------


def _ring_all_reduce(grp: Group, lv: Levels) -> Term:
    n, k = float(grp.n), float(grp.nodes)
    bw = _ring_bw(grp, lv)
    alpha = _mean_latency(lv, 2.0 * (n - 1.0), 2.0 * (k - 1.0))
    return lambda M: ring_allreduce_s(M, n, bw, alpha)


def _tree_all_reduce(grp: Group, lv: Levels) -> Term:
    # NCCL: 2((ranks per node - 1) intra hops + log2i(nodes) inter hops) of latency, and 2M
    # over the tree's bus bandwidth, corrected at medium sizes
    n = float(grp.n)
    bw = _ring_bw(grp, lv)
    levels = math.ceil(math.log2(n))
    lat = (grp.per_node - 1.0) * lv.a_in + (grp.nodes.bit_length() - 1) * lv.a_out
    hop = lat / levels
    if lv.protocol:
        corr = NCCL_TREE_CORRECTION[lv.protocol].at
        return lambda M: double_binary_tree_allreduce_s(M, n, bw * corr(M), hop)
    return lambda M: double_binary_tree_allreduce_s(M, n, bw, hop)


def _hierarchical_all_reduce(grp: Group, lv: Levels) -> Term:
    g, k = float(grp.per_node), float(grp.nodes)
    b_in, b_out = lv.b_in, lv.b_out
    if lv.pipelined:
        return lambda M: max(ring_allreduce_s(M, g, b_in), ring_allreduce_s(M / g, k, b_out))
    a_in, a_out = lv.a_in, lv.a_out
    return lambda M: hierarchical_allreduce_s(M, k, g, b_in, b_out, a_in, a_out)


def _nvls_all_reduce(grp: Group, lv: Levels) -> Term:
    g, k = float(grp.per_node), float(grp.nodes)
    b_in, b_out, a_in, a_out, piped = lv.b_in, lv.b_out, lv.a_in, lv.a_out, lv.pipelined
    if k == 1:
        return lambda M: in_network_allreduce_s(M, g, b_in, a_in)
    return lambda M: _phases(
        piped, in_network_allreduce_s(M, g, b_in, a_in), ring_allreduce_s(M / g, k, b_out, a_out)
    )


def _sharp_all_reduce(grp: Group, lv: Levels) -> Term:
    # reduce-scatter/all-gather inside the node (in the switch where it can), the switches
    # reduce each rail's M/g shard across nodes
    g, k = float(grp.per_node), float(grp.nodes)
    b_in, b_out, a_in, a_out, piped = lv.b_in, lv.b_out, lv.a_in, lv.a_out, lv.pipelined
    if g > 1 and grp.intra is not None and grp.intra.in_network == "nvls":
        inside = in_network_allreduce_s
    elif g > 1:
        inside = ring_allreduce_s
    else:
        return lambda M: _phases(piped, 0.0, in_network_allreduce_s(M / g, k, b_out, a_out))
    return lambda M: _phases(
        piped, inside(M, g, b_in, a_in), in_network_allreduce_s(M / g, k, b_out, a_out)
    )


def _ring_all_gather(grp: Group, lv: Levels) -> Term:  # and reduce-scatter: one ring pass
    n, k = float(grp.n), float(grp.nodes)
    bw = _ring_bw(grp, lv)
    alpha = _mean_latency(lv, n - 1.0, k - 1.0)
    return lambda M: all_gather_s(M, n, bw, alpha)


def _pairwise_all_to_all(grp: Group, lv: Levels) -> Term:
    # NCCL's grouped sends/receives: every peer posted at once over the p2p channels
    n, g, k = float(grp.n), float(grp.per_node), float(grp.nodes)
    b_in = lv.b_in if g > 1 else 1.0  # no intra-node traffic when g = 1
    b_out = lv.b_a2a if k > 1 else 1.0
    a_in, a_out, a_post = lv.a_in, lv.a_out, lv.a_post
    return lambda M: hierarchical_all_to_all_s(M, n, g, b_in, b_out, a_in, a_out, a_post)


def _pipelined_broadcast(grp: Group, lv: Levels) -> Term:
    n, k = float(grp.n), float(grp.nodes)
    bw = _ring_bw(grp, lv)
    alpha = _mean_latency(lv, n - 1.0, k - 1.0)
    return lambda M: broadcast_s(M, n, bw, alpha)


def _p2p_send_recv(grp: Group, lv: Levels) -> Term:
    # each rank sends M to its neighbour; across nodes the NIC carries it
    if grp.nodes > 1:
        b_out, a_out = lv.b_out, lv.a_out
        return lambda M: send_recv_s(M, b_out, a_out)
    b_in, a_in = lv.b_in, lv.a_in
    return lambda M: send_recv_s(M, b_in, a_in)


_TERMS: dict[tuple[str, str], Callable[[Group, Levels], Term]] = {
    ("all_reduce", "ring"): _ring_all_reduce,
    ("all_reduce", "tree"): _tree_all_reduce,
    ("all_reduce", "hierarchical"): _hierarchical_all_reduce,
    ("all_reduce", "nvls"): _nvls_all_reduce,
    ("all_reduce", "sharp"): _sharp_all_reduce,
    ("all_gather", "ring"): _ring_all_gather,
    ("reduce_scatter", "ring"): _ring_all_gather,
    ("all_to_all", "pairwise"): _pairwise_all_to_all,
    ("broadcast", "pipelined"): _pipelined_broadcast,
    ("send_recv", "p2p"): _p2p_send_recv,
}


def _term(op: str, algorithm: str, grp: Group, lv: Levels) -> Term:
    """``algorithm``'s seconds for ``op`` on ``grp`` at levels ``lv``, as a function of the
    size: every argument of its formula that does not depend on the size is evaluated here,
    once."""
    return _TERMS[op, algorithm](grp, lv)


# --- the fast path: one plan per group and operation ----------------------------------------

#: Each group and operation's plan, and its bounds; emptied by a registry change or
#: clear_all().
_PLANS = DerivedCache("collective plans")
_BOUNDS = DerivedCache("collective bound plans")
#: Plans made (counted for the tests: a size priced on a planned group makes none).
plans_made = [0]
#: Operations whose terms are another's: reduce-scatter is all-gather's one ring pass.
_SAME_TERMS = {"reduce_scatter": "all_gather"}


def _choice(op: str, algorithm: str, grp: Group, real: Levels) -> Choice:
    auto = algorithm != "sharp" or grp.sharp
    if algorithm in _SINGLE_PROTOCOL:
        rows = ((_term(op, algorithm, grp, real), CALL_BASE),)
        return Choice(algorithm, auto, True, rows, rows, math.inf)
    below: list[tuple[Term, float]] = []
    above: list[tuple[Term, float]] = []
    for lv, base, alt in protocol_rows(op, grp, real, _FAMILY.get(algorithm, "ring")):
        row = (_term(op, algorithm, grp, lv), base)
        below.append(row)
        above.append(row if alt is None else (_term(op, algorithm, grp, alt[0]), alt[1]))
    plateau = grp.n * _PLATEAU_BYTES if algorithm == "ring" else math.inf
    return Choice(algorithm, auto, False, tuple(below), tuple(above), plateau)


def plan(op: str, grp: Group) -> tuple[Choice, ...]:
    """The algorithms ``grp`` supports for ``op`` (in :data:`ALGORITHMS`' order), each with
    its achievable terms (cached per group object and operation)."""
    op = _SAME_TERMS.get(op, op)
    key = (id(grp), op)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    plans_made[0] += 1
    real = link_levels(grp, achievable=True)
    made = tuple(
        _choice(op, name, grp, real) for name in ALGORITHMS[op] if _supported(op, name, grp)
    )
    if len(_PLANS) > _CACHE_LIMIT:
        _PLANS.clear()
    _PLANS.put(key, (grp, made))
    return made


def _bounds(op: str, grp: Group) -> tuple[Term, ...]:
    """The line-rate bound's term of each algorithm of ``plan(op, grp)`` (cached alike)."""
    op = _SAME_TERMS.get(op, op)
    key = (id(grp), op)
    hit = _BOUNDS.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    peak = link_levels(grp, achievable=False)
    made = tuple(_term(op, ch.algorithm, grp, peak) for ch in plan(op, grp))
    if len(_BOUNDS) > _CACHE_LIMIT:
        _BOUNDS.clear()
    _BOUNDS.put(key, (grp, made))
    return made


def _achievable(ch: Choice, M: float) -> float:
    """Achievable seconds of ``ch`` with the fastest protocol for ``M`` bytes (NCCL picks the
    protocol of least modelled time per call)."""
    if ch.single:
        term, base = ch.rows[0]
        return term(M) + base
    best = math.inf
    for term, base in ch.plateau_rows if ch.plateau <= M else ch.rows:
        t = term(M) + base
        if t < best:
            best = t
    return best


#: Priced collectives by (op, size, group, algorithm), and the solvers' achievable-only
#: prices by (op, size, group); emptied by a registry change or clear_all().
_TIMINGS = DerivedCache("collective timings")
_ACHIEVED = DerivedCache("collective achievable times")


def time_collective(op: str, size: float, grp: Group, algorithm: str = "auto") -> Timing:
    """Seconds of collective ``op`` of ``size`` bytes on ``grp`` (float fast path, cached)."""
    key = (op, size, id(grp), algorithm)
    hit = _TIMINGS.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    t = _timing(op, size, grp, algorithm)
    if len(_TIMINGS) > _CACHE_LIMIT:
        _TIMINGS.clear()
    _TIMINGS[key] = (grp, t)
    return t


def _timing(op: str, size: float, grp: Group, algorithm: str) -> Timing:
    if grp.n <= 1 or size <= 0.0:
        return Timing(0.0, 0.0, "none")
    choices = plan(op, grp)
    bounds = _bounds(op, grp)
    if algorithm != "auto":
        for ch, bound in zip(choices, bounds, strict=True):
            if ch.algorithm == algorithm:
                return Timing(_achievable(ch, size), bound(size), algorithm)
        raise _unsupported(op, algorithm, grp)
    best_t = best_b = math.inf
    best = ""
    for ch, bound in zip(choices, bounds, strict=True):
        if not ch.auto:
            continue
        t = _achievable(ch, size)
        b = bound(size)
        if t < best_t:
            best_t, best = t, ch.algorithm
        best_b = min(best_b, b)
    return Timing(best_t, best_b, best)


def achievable_collective(op: str, size: float, grp: Group) -> tuple[float, str]:
    """The achievable seconds of ``op`` of ``size`` bytes on ``grp`` and the algorithm
    ``auto`` picks — :func:`time_collective`'s ``time`` and ``algorithm``, without the
    bound (what a solver's step needs; cached apart)."""
    key = (op, size, id(grp))
    hit = _ACHIEVED.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    made = (0.0, "none")
    if grp.n > 1 and size > 0.0:
        best_t, best = math.inf, ""
        for ch in plan(op, grp):
            if ch.auto:
                t = _achievable(ch, size)
                if t < best_t:
                    best_t, best = t, ch.algorithm
        made = (best_t, best)
    if len(_ACHIEVED) > _CACHE_LIMIT:
        _ACHIEVED.clear()
    _ACHIEVED[key] = (grp, made)
    return made


# --- the reference: step by step, nothing planned --------------------------------------------


def reference_timing(op: str, size: float, grp: Group, algorithm: str = "auto") -> Timing:
    """:func:`time_collective` priced step by step — the group's levels, NCCL's rows for
    each algorithm, then each row — with nothing planned or cached (the fast path's
    reference in the tests; slower)."""
    if grp.n <= 1 or size <= 0.0:
        return Timing(0.0, 0.0, "none")
    peak = link_levels(grp, achievable=False)
    real = link_levels(grp, achievable=True)
    if algorithm != "auto":
        if not _supported(op, algorithm, grp):
            raise _unsupported(op, algorithm, grp)
        t = _fastest(op, algorithm, size, grp, real)
        return Timing(t, _term(op, algorithm, grp, peak)(size), algorithm)
    best_t = best_b = math.inf
    best = ""
    for name in ALGORITHMS[op]:
        if not _supported(op, name, grp) or (name == "sharp" and not grp.sharp):
            continue
        t = _fastest(op, name, size, grp, real)
        b = _term(op, name, grp, peak)(size)
        if t < best_t:
            best_t, best = t, name
        best_b = min(best_b, b)
    return Timing(best_t, best_b, best)


def _fastest(op: str, algorithm: str, size: float, grp: Group, real: Levels) -> float:
    if algorithm in _SINGLE_PROTOCOL:
        return _term(op, algorithm, grp, real)(size) + CALL_BASE
    plateau = algorithm == "ring" and size >= grp.n * _PLATEAU_BYTES
    best = math.inf
    for lv, base, alt in protocol_rows(op, grp, real, _FAMILY.get(algorithm, "ring")):
        if plateau and alt is not None:
            lv, base = alt
        t = _term(op, algorithm, grp, lv)(size) + base
        if t < best:
            best = t
    return best


def _unsupported(op: str, algorithm: str, grp: Group) -> ConfigError:
    if algorithm == "hierarchical":
        why = "hierarchical all-reduce needs several nodes with several of the group's ranks each"
    elif algorithm == "nvls":
        fabric = grp.intra.fabric if grp.intra is not None else "no intra-node fabric"
        why = f"NVLink SHARP needs an NVSwitch fabric with in-switch reduction ({fabric} has none)"
    else:
        fabric = grp.inter.fabric if grp.inter is not None else "no inter-node fabric"
        why = f"SHARP needs several nodes on switches that reduce ({fabric})"
    return ConfigError(
        f"{algorithm} {op} is not available on this group",
        where="collective",
        why=why,
        fix="pass algorithm='auto', or a system whose fabric supports it",
    )
