"""The collective library's protocols: each group's link levels, and NCCL's rows for them.

A group's *levels* are the bandwidths and per-step latencies a collective sees on it: the
line rates and no latency for the bound, or the achievable figures (each fabric's recorded
efficiency and latency). Where the fabrics record NCCL's per-protocol figures, the
achievable levels come once per protocol (LL, LL128, Simple) with each algorithm family's
own row of NCCL's table (``core.constants.NCCL_*``, tuning.cc v2.7.8): the ring's or the
tree's base and hop latencies and bandwidth shares, and for point-to-point operations the
LL and Simple protocols NCCL runs them with. :mod:`mlsysim.systems.collectives` prices
every row and keeps the cheapest, as NCCL chooses.
"""

from __future__ import annotations

from typing import NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import (
    NCCL_BASE_LATENCY,
    NCCL_LL_INTRA_ACROSS_NODES,
    NCCL_PROTOCOLS,
    NCCL_RING_BANDWIDTH_FACTOR,
    NCCL_RING_SIMPLE_PLATEAU,
    NCCL_TREE_BANDWIDTH_FACTOR,
)
from mlsysim.hardware.efficiency import KERNEL_OVERHEAD
from mlsysim.systems.topology import Group, Link

__all__ = ["CALL_BASE", "Levels", "Row", "link_levels", "protocol_rows"]

_US = 1e-6  # seconds per microsecond (the unit of NCCL's latency constants)
#: The collective library's fixed cost per call (s) where it runs one protocol: NCCL's ring
#: base latency, LL protocol (:data:`~mlsysim.core.constants.NCCL_BASE_LATENCY`), plus
#: launching its kernel (:data:`~mlsysim.hardware.efficiency.KERNEL_OVERHEAD`).
CALL_BASE = NCCL_BASE_LATENCY["ring"]["ll"].value * _US + KERNEL_OVERHEAD.value
#: Operations NCCL runs on its ring/tree kernels with a choice of protocol.
_PROTOCOL_OPS = frozenset(("all_reduce", "all_gather", "reduce_scatter", "broadcast"))
#: Point-to-point operations and their protocols: NCCL runs them on Simple, and from v2.14
#: on LL for small messages (citation ``sys_nccl_p2p_protocol``), each at the ring's per-step
#: latency and bandwidth share for it where every link records them; the cheaper is used.
#: The call's fixed cost stays :data:`CALL_BASE` (NCCL's model has no p2p entry).
_P2P_OPS = frozenset(("send_recv", "all_to_all"))
_P2P_PROTOCOLS = frozenset(("ll", "simple"))


class Levels(NamedTuple):
    """The group's link parameters for one pricing (peak or achievable)."""

    b_in: float
    b_out: float  # per device, across nodes (ring hop, after the pod penalty)
    b_a2a: float  # per device, across nodes for all-to-all traffic
    a_in: float
    a_out: float
    pipelined: bool  # the bound: a two-level algorithm's phases overlap on their own links
    protocol: str = ""  # NCCL's protocol these levels price ("" where the fabric has one)
    #: per further remote peer of a grouped p2p operation: the proxy posts network transfers
    #: one after another, each at the network's recorded (LL) step latency (0 for the bound)
    a_post: float = 0.0


def link_levels(grp: Group, achievable: bool) -> Levels:
    """``grp``'s levels at the line rate with no latency (the bound), or as achieved (each
    fabric's efficiency and one recorded latency; the pod penalty of oversubscription)."""
    intra, inter = grp.intra, grp.inter
    b_in = a_in = b_out = a_out = b_a2a = 0.0
    if intra is not None:
        b_in = intra.bandwidth * (intra.efficiency if achievable else 1.0)
        a_in = intra.latency if achievable else 0.0
    if inter is not None and grp.nodes > 1:
        b_out = inter.bandwidth * (inter.efficiency if achievable else 1.0)
        a_out = inter.latency if achievable else 0.0
        o = grp.oversubscription
        if o > 1.0 and grp.pods > 1:
            ring_f = min(1.0, grp.nodes_per_pod / o)
            n, g = grp.n, grp.per_node
            n_pod = grp.nodes_per_pod * g
            b_a2a = b_out * (n - g) / ((n_pod - g) + o * (n - n_pod))
        elif o > 1.0 and not grp.pods_known:  # every inter-node byte crosses the tier
            ring_f = 1.0 / o
            b_a2a = b_out / o
        else:
            ring_f = 1.0
            b_a2a = b_out
        b_out *= ring_f
    return Levels(b_in, b_out, b_a2a, a_in, a_out, not achievable, "", a_out)


#: Each group, operation and table family's protocol levels; emptied with the other derived
#: caches.
_PROTOCOL_LEVELS = DerivedCache("collective protocol levels")

#: A protocol's achievable levels, its per-call base latency (s), and for NCCL's ring Simple
#: all-reduce across nodes the (levels, base) of its latency plateau (else None).
Row = tuple[Levels, float, "tuple[Levels, float] | None"]


def protocol_rows(op: str, grp: Group, real: Levels, family: str) -> tuple[Row, ...]:
    """The achievable levels and per-call base latency of each protocol the library may use
    for ``op`` on ``grp`` with the algorithms of ``family`` (``"ring"``, ``"tree"`` or
    ``"p2p"``): NCCL's LL, LL128 and Simple where every link the group crosses records
    their per-step latencies for that family (LL128 only where each records one); the
    Simple protocol for point-to-point operations; else the fabric's one latency at its
    recorded efficiency (cached per group, operation and family)."""
    key = (id(grp), op, family)
    hit = _PROTOCOL_LEVELS.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    steps = _steps(op, grp, family)
    made: tuple[Row, ...]
    if steps is None:
        made = ((real, CALL_BASE, None),)
    else:  # NCCL's rows at these levels: the same for every group they are the levels of
        at = (steps, real)  # (numbers and names: equal rows of other links share too)
        shared = _ROWS.get(at)
        if shared is None:
            shared = tuple(_row(real, step) for step in steps)
            if len(_ROWS) > 1024:
                _ROWS.clear()
            _ROWS[at] = shared
        made = shared
    if len(_PROTOCOL_LEVELS) > 1024:  # a sweep must not accumulate (one plan's each)
        _PROTOCOL_LEVELS.clear()
    _PROTOCOL_LEVELS[key] = (grp, made)
    return made


#: Each set of NCCL's rows (:func:`_steps`) at each group's achievable levels.
_ROWS = DerivedCache("collective protocol rows")


class _Step(NamedTuple):
    """One protocol's row of NCCL's table on a pair of links, apart from the group's
    bandwidths: its share of them, its step latencies (s), its base latency per call (s,
    with the kernel launch), and the ring Simple plateau's (latency factor, base) or None."""

    protocol: str
    share: float
    a_in: float
    a_out: float
    base: float
    plateau: tuple[float, float] | None


def _row(real: Levels, st: _Step) -> Row:
    f = st.share
    b_in, b_out, b_a2a = real.b_in * f, real.b_out * f, real.b_a2a * f
    lv = Levels(b_in, b_out, b_a2a, st.a_in, st.a_out, False, st.protocol, real.a_post)
    if st.plateau is None:
        return (lv, st.base, None)
    x, base = st.plateau
    alt = Levels(b_in, b_out, b_a2a, st.a_in * x, st.a_out * x, False, st.protocol, real.a_post)
    return (lv, st.base, (alt, base))


#: NCCL's rows by pair of links, operation, family and the group's shape (nodes > 1, one
#: rank per node): the same for every group on those links of that shape.
_STEPS = DerivedCache("collective protocol steps")


def _steps(op: str, grp: Group, family: str) -> tuple[_Step, ...] | None:
    """NCCL's protocol rows for ``op`` on ``grp``'s links, or None where the fabric's one
    latency prices it (cached per pair of links, operation, family and shape)."""
    multi = grp.nodes > 1
    intra, inter = grp.intra, (grp.inter if multi else None)
    key = (id(intra), id(inter), op, family, multi, grp.per_node == 1)
    hit = _STEPS.get(key)
    if hit is not None and hit[0] is intra and hit[1] is inter:
        return hit[2]
    links = [lk for lk in (intra, inter) if lk is not None]
    made: tuple[_Step, ...] | None = None
    if not links:
        pass
    elif family == "p2p":
        per_link = [_hop_latencies(lk, "ring") for lk in links]
        if op in _P2P_OPS and all(h is not None for h in per_link):
            rows = _nccl_steps(op, grp, "ring", per_link)  # type: ignore[arg-type]
            made = tuple(
                st._replace(base=CALL_BASE) for st in rows if st.protocol in _P2P_PROTOCOLS
            )
    elif op in _PROTOCOL_OPS:
        per_link = [_hop_latencies(lk, family) for lk in links]
        if all(h is not None for h in per_link):
            made = _nccl_steps(op, grp, family, per_link)  # type: ignore[arg-type]
    if len(_STEPS) > 4096:
        _STEPS.clear()
    _STEPS[key] = (intra, inter, made)
    return made


def _hop_latencies(lk: Link, family: str) -> tuple[float | None, ...] | None:
    """A link's per-step latencies (LL, LL128, Simple) for ``family``, or None where NCCL's
    table is not recorded for it (the Simple figure of a ring, the tree's LL figure)."""
    if family == "tree":
        return lk.tree_latency
    if lk.latency_simple is None:
        return None
    return (lk.latency, lk.latency_ll128, lk.latency_simple)


def _nccl_steps(
    op: str, grp: Group, family: str, per_link: list[tuple[float | None, ...]]
) -> tuple[_Step, ...]:
    """NCCL's per-protocol rows for a ring or tree on ``grp``'s links (tuning.cc v2.7.8)."""
    multi = grp.nodes > 1
    rows: list[_Step] = []
    for i, name in enumerate(NCCL_PROTOCOLS):
        got = [h[i] for h in per_link]
        if any(x is None for x in got):
            continue  # LL128 where a link does not record it: NCCL leaves it off
        lat = [float(x or 0.0) for x in got]
        f = _bandwidth_factor(op, grp, family, name)
        a_in = lat[0] if grp.intra is not None else 0.0
        a_out = lat[-1] if multi else 0.0
        if name == "ll" and multi:
            a_in *= NCCL_LL_INTRA_ACROSS_NODES.value
        base = NCCL_BASE_LATENCY[family][name].value * _US
        plateau = None
        if family == "ring" and name == "simple" and multi and op == "all_reduce":
            x = NCCL_RING_SIMPLE_PLATEAU.value
            plateau = (x, base * x + KERNEL_OVERHEAD.value)
        rows.append(_Step(name, f, a_in, a_out, base + KERNEL_OVERHEAD.value, plateau))
    return tuple(rows)


def _bandwidth_factor(op: str, grp: Group, family: str, protocol: str) -> float:
    """NCCL's share of the bus bandwidth for ``protocol`` on a ring or a tree."""
    multi = grp.nodes > 1
    if family == "tree":
        f = NCCL_TREE_BANDWIDTH_FACTOR["tree"].value
        if protocol == "ll128" and not multi:
            return f * NCCL_TREE_BANDWIDTH_FACTOR["ll128_one_node"].value
        return f * NCCL_TREE_BANDWIDTH_FACTOR[protocol].value
    if protocol == "ll":
        key = "ll" if (multi or op == "all_reduce") else "ll_one_node"
        return NCCL_RING_BANDWIDTH_FACTOR[key].value
    if protocol == "ll128" and multi and grp.per_node == 1:
        return NCCL_RING_BANDWIDTH_FACTOR["ll128_one_rank_per_node"].value
    return NCCL_RING_BANDWIDTH_FACTOR[protocol].value
