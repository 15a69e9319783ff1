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

Each algorithm is a *term* here (:func:`term`): its formula with every argument but the
message size evaluated for one group and one set of levels, a function of the size.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from mlsysim.core.constants import NCCL_TREE_CORRECTION
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
from mlsysim.systems.protocols import Levels
from mlsysim.systems.topology import Group

__all__ = ["ALGORITHMS", "OPS", "Term", "supported", "term", "terms_of"]

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
#: Seconds of one algorithm under one protocol as a function of the message size (bytes).
Term = Callable[[float], float]


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


def supported(op: str, algorithm: str, grp: Group) -> bool:
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


def term(op: str, algorithm: str, grp: Group, lv: Levels) -> Term:
    """``algorithm``'s seconds for ``op`` on ``grp`` at levels ``lv``, as a function of the
    size: every argument of its formula that does not depend on the size is evaluated here,
    once."""
    return _TERMS[op, algorithm](grp, lv)


def terms_of(op: str, algorithm: str) -> Callable[[Group, Levels], Term]:
    """:func:`term` of ``op`` and ``algorithm`` as a function of the group and the levels
    (a plan makes one term per protocol of each algorithm: one look-up for all of them)."""
    return _TERMS[op, algorithm]
