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
same set. Bandwidths follow nccl-tests (:func:`bus_factor`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import NCCL_RING_SIMPLE_PLATEAU_BYTES, NCCL_TREE_CORRECTION
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
from mlsysim.systems.protocols import CALL_BASE, Levels, link_levels, protocol_rows
from mlsysim.systems.topology import Group, SystemView, resolve_system

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


def _phases(lv: Levels, intra: float, inter: float) -> float:
    """Two phases on different links: overlapped for the bound, in turn for the estimate."""
    return max(intra, inter) if lv.pipelined else intra + inter


def _ring_bw(grp: Group, lv: Levels) -> float:
    if grp.nodes == 1:
        return lv.b_in
    across = grp.per_node * lv.b_out
    return across if grp.per_node == 1 else min(lv.b_in, across)


def _mean_latency(grp: Group, lv: Levels, steps: float, inter_steps: float) -> float:
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


def _price(op: str, algorithm: str, M: float, grp: Group, lv: Levels) -> float:
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
        # NCCL's grouped sends/receives: every peer posted at once over the p2p channels
        b_in = lv.b_in if g > 1 else 1.0  # no intra-node traffic when g = 1
        b_out = lv.b_a2a if k > 1 else 1.0
        return hierarchical_all_to_all_s(M, n, g, b_in, b_out, lv.a_in, lv.a_out, lv.a_post)
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
    peak = link_levels(grp, achievable=False)
    real = link_levels(grp, achievable=True)
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


def _fastest(op: str, algorithm: str, size: float, grp: Group, real: Levels) -> float:
    """Achievable seconds of ``algorithm`` with the fastest protocol for this size (NCCL
    picks the protocol of least modelled time per call)."""
    if algorithm in _SINGLE_PROTOCOL:
        return _price(op, algorithm, size, grp, real) + CALL_BASE
    plateau = algorithm == "ring" and size >= grp.n * NCCL_RING_SIMPLE_PLATEAU_BYTES.value
    best = math.inf
    for lv, base, alt in protocol_rows(op, grp, real, _FAMILY.get(algorithm, "ring")):
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
