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
cheapest protocol is used, as NCCL v2.7.8 chooses; send/recv and all-to-all run Simple.
NCCL's absolute bus-bandwidth caps (A100's 235 GB/s aside, recorded as the NVLink3
efficiency) are per-generation figures of that release and are not applied. ``auto`` picks
the fastest achievable algorithm the hardware supports; the bound is the best over the
same set. Bandwidths follow nccl-tests (:func:`bus_factor`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import (
    NCCL_BASE_LATENCY,
    NCCL_LL_INTRA_ACROSS_NODES,
    NCCL_PROTOCOLS,
    NCCL_RING_BANDWIDTH_FACTOR,
    NCCL_RING_SIMPLE_PLATEAU,
    NCCL_RING_SIMPLE_PLATEAU_BYTES,
    NCCL_TREE_BANDWIDTH_FACTOR,
    NCCL_TREE_CORRECTION,
)
from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.core.formulas.collectives import (
    BUS_FACTOR_OPS,
    broadcast_s,
    bus_factor,
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
from mlsysim.hardware.efficiency import KERNEL_OVERHEAD
from mlsysim.systems.topology import Group, Link, SystemView, resolve_system

__all__ = [
    "ALGORITHMS",
    "COLLECTIVE_SCHEMA_VERSION",
    "OPS",
    "CollectiveResult",
    "Timing",
    "collective",
    "collective_json_schema",
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
_US = 1e-6  # seconds per microsecond (the unit of NCCL's latency constants)
#: The collective library's fixed cost per call (s) where it runs one protocol: NCCL's ring
#: base latency, LL protocol (:data:`~mlsysim.core.constants.NCCL_BASE_LATENCY`), plus
#: launching its kernel (:data:`~mlsysim.hardware.efficiency.KERNEL_OVERHEAD`).
_BASE = NCCL_BASE_LATENCY["ring"]["ll"].value * _US + KERNEL_OVERHEAD.value
#: Operations NCCL runs on its ring/tree kernels with a choice of protocol.
_PROTOCOL_OPS = frozenset(("all_reduce", "all_gather", "reduce_scatter", "broadcast"))
#: Point-to-point operations and their protocols: NCCL runs them on Simple, and from v2.14
#: on LL for small messages (citation ``sys_nccl_p2p_protocol``), each at the ring's per-step
#: latency and bandwidth share for it where every link records them; the cheaper is used.
#: The call's fixed cost stays :data:`_BASE` (NCCL's model has no p2p entry).
_P2P_OPS = frozenset(("send_recv", "all_to_all"))
_P2P_PROTOCOLS = frozenset(("ll", "simple"))
#: In-switch reductions run one protocol (NCCL's NVLS and CollNet: Simple only), priced at
#: the fabric's one recorded latency as before.
_SINGLE_PROTOCOL = frozenset(("nvls", "sharp"))
#: The family of NCCL's tables each algorithm is priced with.
_FAMILY = {"tree": "tree", "pairwise": "p2p", "p2p": "p2p"}

COLLECTIVE_SCHEMA_VERSION = "mlsysim.collective/1"


class Timing(NamedTuple):
    """One collective on a group: achievable and bound seconds, and the algorithm used."""

    time: float
    bound: float
    algorithm: str


@dataclass(frozen=True, slots=True)
class _Levels:
    """The group's link parameters for one pricing (peak or achievable)."""

    b_in: float
    b_out: float  # per device, across nodes (ring hop, after the pod penalty)
    b_a2a: float  # per device, across nodes for all-to-all traffic
    a_in: float
    a_out: float
    pipelined: bool  # the bound: a two-level algorithm's phases overlap on their own links
    protocol: str = ""  # NCCL's protocol these levels price ("" where the fabric has one)


def _phases(lv: _Levels, intra: float, inter: float) -> float:
    """Two phases on different links: overlapped for the bound, in turn for the estimate."""
    return max(intra, inter) if lv.pipelined else intra + inter


def _levels(grp: Group, achievable: bool) -> _Levels:
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
    return _Levels(b_in, b_out, b_a2a, a_in, a_out, not achievable)


#: Each group, operation and table family's protocol levels; emptied with the other derived
#: caches.
_PROTOCOL_LEVELS = DerivedCache("collective protocol levels")

#: A protocol's achievable levels, its per-call base latency (s), and for NCCL's ring Simple
#: all-reduce across nodes the (levels, base) of its latency plateau (else None).
_Row = tuple[_Levels, float, "tuple[_Levels, float] | None"]


def _protocol_levels(op: str, grp: Group, real: _Levels, family: str) -> tuple[_Row, ...]:
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
    multi = grp.nodes > 1
    links = [lk for lk in (grp.intra, grp.inter if multi else None) if lk is not None]
    made: tuple[_Row, ...] = ((real, _BASE, None),)
    if not links:
        pass
    elif family == "p2p":
        per_link = [_hop_latencies(lk, "ring") for lk in links]
        if op in _P2P_OPS and all(h is not None for h in per_link):
            rows = _nccl_rows(op, grp, real, "ring", per_link)  # type: ignore[arg-type]
            made = tuple((lv, _BASE, None) for lv, _, _ in rows if lv.protocol in _P2P_PROTOCOLS)
    elif op in _PROTOCOL_OPS:
        per_link = [_hop_latencies(lk, family) for lk in links]
        if all(h is not None for h in per_link):
            made = _nccl_rows(op, grp, real, family, per_link)  # type: ignore[arg-type]
    if len(_PROTOCOL_LEVELS) > 65536:
        _PROTOCOL_LEVELS.clear()
    _PROTOCOL_LEVELS[key] = (grp, made)
    return made


def _hop_latencies(lk: Link, family: str) -> tuple[float | None, ...] | None:
    """A link's per-step latencies (LL, LL128, Simple) for ``family``, or None where NCCL's
    table is not recorded for it (the Simple figure of a ring, the tree's LL figure)."""
    if family == "tree":
        return lk.tree_latency
    if lk.latency_simple is None:
        return None
    return (lk.latency, lk.latency_ll128, lk.latency_simple)


def _nccl_rows(
    op: str, grp: Group, real: _Levels, family: str, per_link: list[tuple[float | None, ...]]
) -> tuple[_Row, ...]:
    """NCCL's per-protocol levels for a ring or tree on ``grp`` (tuning.cc v2.7.8)."""
    multi = grp.nodes > 1
    rows: list[_Row] = []
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
        lv = _Levels(real.b_in * f, real.b_out * f, real.b_a2a * f, a_in, a_out, False, name)
        base = NCCL_BASE_LATENCY[family][name].value * _US
        plateau = None
        if family == "ring" and name == "simple" and multi and op == "all_reduce":
            x = NCCL_RING_SIMPLE_PLATEAU.value
            lv2 = _Levels(lv.b_in, lv.b_out, lv.b_a2a, lv.a_in * x, lv.a_out * x, False, name)
            plateau = (lv2, base * x + KERNEL_OVERHEAD.value)
        rows.append((lv, base + KERNEL_OVERHEAD.value, plateau))
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


def _ring_bw(grp: Group, lv: _Levels) -> float:
    if grp.nodes == 1:
        return lv.b_in
    across = grp.per_node * lv.b_out
    return across if grp.per_node == 1 else min(lv.b_in, across)


def _mean_latency(grp: Group, lv: _Levels, steps: float, inter_steps: float) -> float:
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


def _price(op: str, algorithm: str, M: float, grp: Group, lv: _Levels) -> float:
    n, g, k = float(grp.n), float(grp.per_node), float(grp.nodes)
    ring = _ring_bw(grp, lv)
    if op == "all_reduce":
        if algorithm == "ring":
            alpha = _mean_latency(grp, lv, 2.0 * (n - 1.0), 2.0 * (k - 1.0))
            return ring_allreduce_s(M, n, ring, alpha)
        if algorithm == "tree":
            # NCCL: 2((ranks per node - 1) intra hops + log2i(nodes) inter hops) of latency,
            # and 2M over the tree's bus bandwidth, corrected at medium sizes
            levels = math.ceil(math.log2(n))
            lat = (g - 1.0) * lv.a_in + (int(k).bit_length() - 1) * lv.a_out
            if lv.protocol:
                ring *= NCCL_TREE_CORRECTION[lv.protocol].at(M)
            return double_binary_tree_allreduce_s(M, n, ring, lat / levels)
        if algorithm == "hierarchical":
            if lv.pipelined:
                T_in = ring_allreduce_s(M, g, lv.b_in)
                return max(T_in, ring_allreduce_s(M / g, k, lv.b_out))
            return hierarchical_allreduce_s(M, k, g, lv.b_in, lv.b_out, lv.a_in, lv.a_out)
        if algorithm == "nvls":
            T_in = in_network_allreduce_s(M, g, lv.b_in, lv.a_in)
            if k == 1:
                return T_in
            return _phases(lv, T_in, ring_allreduce_s(M / g, k, lv.b_out, lv.a_out))
        # sharp: reduce-scatter/all-gather inside the node (in the switch where it can), the
        # switches reduce each rail's M/g shard across nodes
        if g > 1 and grp.intra is not None and grp.intra.in_network == "nvls":
            T_in = in_network_allreduce_s(M, g, lv.b_in, lv.a_in)
        elif g > 1:
            T_in = ring_allreduce_s(M, g, lv.b_in, lv.a_in)
        else:
            T_in = 0.0
        return _phases(lv, T_in, in_network_allreduce_s(M / g, k, lv.b_out, lv.a_out))
    if op in ("all_gather", "reduce_scatter"):
        alpha = _mean_latency(grp, lv, n - 1.0, k - 1.0)
        return all_gather_s(M, n, ring, alpha)
    if op == "all_to_all":
        if k == 1:
            return all_gather_s(M, n, lv.b_in, lv.a_in)
        b_in = lv.b_in if g > 1 else 1.0  # no intra-node traffic when g = 1
        return hierarchical_all_to_all_s(M, n, g, b_in, lv.b_a2a, lv.a_in, lv.a_out)
    if op == "broadcast":
        alpha = _mean_latency(grp, lv, n - 1.0, k - 1.0)
        return broadcast_s(M, n, ring, alpha)
    # send_recv: each rank sends M to its neighbour; across nodes the NIC carries it
    if k > 1:
        return send_recv_s(M, lv.b_out, lv.a_out)
    return send_recv_s(M, lv.b_in, lv.a_in)


def _check(op: str, algorithm: str) -> None:
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


#: Priced collectives by (op, size, group, algorithm); emptied by a registry change or clear_all().
_TIMINGS = DerivedCache("collective timings")


def time_collective(op: str, size: float, grp: Group, algorithm: str = "auto") -> Timing:
    """Seconds of collective ``op`` of ``size`` bytes on ``grp`` (float fast path, cached)."""
    key = (op, size, id(grp), algorithm)
    hit = _TIMINGS.get(key)
    if hit is not None and hit[0] is grp:
        return hit[1]
    t = _time_collective(op, size, grp, algorithm)
    if len(_TIMINGS) > 65536:
        _TIMINGS.clear()
    _TIMINGS[key] = (grp, t)
    return t


def _time_collective(op: str, size: float, grp: Group, algorithm: str) -> Timing:
    if grp.n <= 1 or size <= 0.0:
        return Timing(0.0, 0.0, "none")
    peak = _levels(grp, achievable=False)
    real = _levels(grp, achievable=True)
    if algorithm != "auto":
        if not _supported(op, algorithm, grp):
            raise ConfigError(
                f"{algorithm} {op} is not available on this group",
                where="collective",
                why=_unsupported_why(algorithm, grp),
                fix="pass algorithm='auto', or a system whose fabric supports it",
            )
        t = _fastest(op, algorithm, size, grp, real)
        return Timing(t, _price(op, algorithm, size, grp, peak), algorithm)
    best_t = best_b = math.inf
    best = ""
    for name in ALGORITHMS[op]:
        if not _supported(op, name, grp) or (name == "sharp" and not grp.sharp):
            continue
        t = _fastest(op, name, size, grp, real)
        b = _price(op, name, size, grp, peak)
        if t < best_t:
            best_t, best = t, name
        best_b = min(best_b, b)
    return Timing(best_t, best_b, best)


def _fastest(op: str, algorithm: str, size: float, grp: Group, real: _Levels) -> float:
    """Achievable seconds of ``algorithm`` with the fastest protocol for this size (NCCL
    picks the protocol of least modelled time per call)."""
    if algorithm in _SINGLE_PROTOCOL:
        return _price(op, algorithm, size, grp, real) + _BASE
    plateau = algorithm == "ring" and size >= grp.n * NCCL_RING_SIMPLE_PLATEAU_BYTES.value
    best = math.inf
    for lv, base, alt in _protocol_levels(op, grp, real, _FAMILY.get(algorithm, "ring")):
        if plateau and alt is not None:
            lv, base = alt
        t = _price(op, algorithm, size, grp, lv) + base
        if t < best:
            best = t
    return best


def _unsupported_why(algorithm: str, grp: Group) -> str:
    if algorithm == "hierarchical":
        return "hierarchical all-reduce needs several nodes with several of the group's ranks each"
    if algorithm == "nvls":
        fabric = grp.intra.fabric if grp.intra is not None else "no intra-node fabric"
        return f"NVLink SHARP needs an NVSwitch fabric with in-switch reduction ({fabric} has none)"
    fabric = grp.inter.fabric if grp.inter is not None else "no inter-node fabric"
    return f"SHARP needs several nodes on switches that reduce ({fabric})"


@dataclass(frozen=True, slots=True)
class CollectiveResult:
    """One collective on a system. ``time`` is achievable, ``time_bound`` the line-rate bound;
    ``algbw`` = size / time and ``busbw`` = algbw × nccl-tests' factor (Quantities in GB/s)."""

    op: str
    algorithm: str
    size_bytes: float
    devices: int
    nodes: int
    per_node: int
    system: str
    time_s: float
    time_bound_s: float
    notes: tuple[str, ...] = ()

    @property
    def time(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.time_s * 1e6, "us")

    @property
    def time_bound(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.time_bound_s * 1e6, "us")

    def _bw(self, t: float, bus: bool) -> float:
        if t <= 0.0:
            return math.inf
        f = bus_factor(self.op, self.devices) if bus else 1.0
        return self.size_bytes / t * f

    @property
    def algbw_bytes_per_s(self) -> float:
        return self._bw(self.time_s, False)

    @property
    def busbw_bytes_per_s(self) -> float:
        return self._bw(self.time_s, True)

    @property
    def busbw_bound_bytes_per_s(self) -> float:
        return self._bw(self.time_bound_s, True)

    @property
    def algbw(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.algbw_bytes_per_s * 1e-9, "GB/s")

    @property
    def busbw(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.busbw_bytes_per_s * 1e-9, "GB/s")

    @property
    def algbw_bound(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self._bw(self.time_bound_s, False) * 1e-9, "GB/s")

    @property
    def busbw_bound(self) -> Any:
        from mlsysim.core.units import from_si

        return from_si(self.busbw_bound_bytes_per_s * 1e-9, "GB/s")

    def __str__(self) -> str:
        return (
            f"{self.op} of {self.size_bytes * 1e-6:.4g} MB on {self.devices} devices of "
            f"{self.system} ({self.nodes} node{'s' if self.nodes != 1 else ''}): "
            f"{self.algorithm}, {self.time_s * 1e6:.4g} us, algbw "
            f"{self.algbw_bytes_per_s * 1e-9:.4g} GB/s, busbw "
            f"{self.busbw_bytes_per_s * 1e-9:.4g} GB/s (bound "
            f"{self.busbw_bound_bytes_per_s * 1e-9:.4g} GB/s)"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (schema :func:`~mlsysim.systems.collectives.collective_json_schema`)."""

        def q(x: float, unit: str) -> dict[str, Any] | None:
            return {"value": x, "unit": unit} if math.isfinite(x) else None

        return {
            "schema": COLLECTIVE_SCHEMA_VERSION,
            "schema_version": COLLECTIVE_SCHEMA_VERSION,
            "op": self.op,
            "algorithm": self.algorithm,
            "system": self.system,
            "devices": self.devices,
            "nodes": self.nodes,
            "per_node": self.per_node,
            "size": q(self.size_bytes, "B"),
            "time": q(self.time_s * 1e6, "us"),
            "time_bound": q(self.time_bound_s * 1e6, "us"),
            "algbw": q(self.algbw_bytes_per_s * 1e-9, "GB/s"),
            "busbw": q(self.busbw_bytes_per_s * 1e-9, "GB/s"),
            "busbw_bound": q(self.busbw_bound_bytes_per_s * 1e-9, "GB/s"),
            "notes": list(self.notes),
        }


def collective(
    op: str, size: Any, system: Any, devices: int | None = None, algorithm: str = "auto"
) -> CollectiveResult:
    """Time collective ``op`` of ``size`` (bytes as a Quantity or ``"1 GB"``) on ``system``.

    ``system`` is a node or cluster id (or spec); ``devices`` (default: all of it) are the
    first ranks of the system, packed node by node. ``op`` is one of
    :data:`~mlsysim.systems.collectives.OPS`; ``algorithm`` one of
    :data:`~mlsysim.systems.collectives.ALGORITHMS` for it, or ``"auto"`` (the fastest
    achievable).
    The result has ``time``, ``algbw``, ``busbw`` (nccl-tests' definitions) and the
    ``algorithm`` used, plus the line-rate bounds ``time_bound`` and ``busbw_bound``.
    """
    from mlsysim.core.units import si

    _check(op, algorithm)
    M = si(size, "information", "size")
    if M < 0.0:
        raise ConfigError(
            f"size must be non-negative, got {size!r}", where="collective", fix="pass e.g. '1 GB'"
        )
    view: SystemView = resolve_system(system, devices)
    if view.devices < 2:
        raise ConfigError(
            f"a collective needs at least 2 devices, got {view.devices}",
            where="collective",
            fix="pass devices=2 or more, and a node or cluster as the system",
        )
    grp = view.group(view.devices, 1)
    t = time_collective(op, M, grp, algorithm)
    notes = tuple(
        f"{lk.fabric} has no recorded collective efficiency: its achievable bandwidth is the "
        "line rate"
        for lk in (grp.intra, grp.inter if grp.nodes > 1 else None)
        if lk is not None and not lk.efficiency_known
    )
    return CollectiveResult(
        op, t.algorithm, M, view.devices, grp.nodes, grp.per_node, view.id, t.time, t.bound, notes
    )


def collective_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`CollectiveResult.to_dict`."""
    q = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"value": {"type": "number"}, "unit": {"type": "string"}},
                "required": ["value", "unit"],
                "additionalProperties": False,
            },
            {"type": "null"},
        ]
    }
    props: dict[str, Any] = {
        "schema": {"const": COLLECTIVE_SCHEMA_VERSION},
        "schema_version": {"const": COLLECTIVE_SCHEMA_VERSION},
        "op": {"enum": list(OPS)},
        "algorithm": {"type": "string"},
        "system": {"type": "string"},
        "devices": {"type": "integer", "minimum": 2},
        "nodes": {"type": "integer", "minimum": 1},
        "per_node": {"type": "integer", "minimum": 1},
        "size": q,
        "time": q,
        "time_bound": q,
        "algbw": q,
        "busbw": q,
        "busbw_bound": q,
        "notes": {"type": "array", "items": {"type": "string"}},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/collective-1.json",
        "title": "mlsysim collective result",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
