"""Collectives beyond the ring: point-to-point, broadcast, in-network reduction, two-level
all-to-all, and the nccl-tests bandwidth definitions.

The α–β (Hockney) model prices a message of M bytes over a link of bandwidth β and
per-message latency α at α + M/β. ``size`` follows nccl-tests' conventions: the per-rank
buffer of an all-reduce, the whole gathered (all-gather) or reduced (reduce-scatter) buffer,
the per-rank send total of an all-to-all, the broadcast buffer, the message of a send/recv.
Each formula has a float fast path (``*_s``: B, count, B/s, s → seconds) for the solvers.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core.constants import NCCL_P2P_PEERS_PER_ROUND
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.formulas._args import choice, count, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "BUS_FACTOR_OPS",
    "broadcast",
    "broadcast_s",
    "bus_bandwidth",
    "bus_factor",
    "hierarchical_all_to_all",
    "hierarchical_all_to_all_s",
    "in_network_allreduce",
    "in_network_allreduce_s",
    "send_recv",
    "send_recv_s",
]

_ZERO_S = from_si(0.0, "s")
_PEERS_PER_ROUND = NCCL_P2P_PEERS_PER_ROUND.value

#: Collective operations with an nccl-tests bus-bandwidth factor.
BUS_FACTOR_OPS = (
    "all_reduce",
    "all_gather",
    "reduce_scatter",
    "all_to_all",
    "broadcast",
    "send_recv",
)


def _mbl(size: Any, bandwidth: Any, latency: Any, where: str) -> tuple[float, float, float]:
    M = positive(si(size, "information", "size"), "size", where, strict=False)
    beta = positive(si(bandwidth, "bandwidth", "bandwidth"), "bandwidth", where)
    alpha = positive(si(latency, "time", "latency"), "latency", where, strict=False)
    return M, beta, alpha


def send_recv_s(size: float, bandwidth: float, latency: float = 0.0) -> float:
    """Float fast path of :func:`send_recv`: bytes, B/s, s → seconds."""
    return latency + size / bandwidth


@formula(
    symbol=r"T = \alpha + \frac{M}{\beta}",
    substituted=r"{{latency}} + \frac{ {{size}} }{ {{bandwidth}} }",
    sources=("hockney1994",),
    citation="Hockney (1994), the α–β model of a point-to-point message",
    result="time",
)
def send_recv(size: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """One message of M bytes between two ranks: T = α + M/β. Source: Hockney 1994."""
    M, beta, alpha = _mbl(size, bandwidth, latency, "send_recv")
    T = send_recv_s(M, beta, alpha)
    return from_si(T, "s")


def broadcast_s(size: float, n: float, bandwidth: float, latency: float = 0.0) -> float:
    """Float fast path of :func:`broadcast`."""
    return size / bandwidth + (n - 1.0) * latency


@formula(
    symbol=r"T = \frac{M}{\beta} + (N - 1)\,\alpha",
    substituted=r"\frac{ {{size}} }{ {{bandwidth}} } + ({{n}} - 1) \cdot {{latency}}",
    sources=("thakur2005", "nccltests"),
    citation="Thakur, Rabenseifner & Gropp (2005): pipelined (chained) broadcast",
    result="time",
)
def broadcast(size: Any, n: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """Pipelined broadcast along a chain (NCCL's ring broadcast), large-message limit.

    The buffer streams through N−1 forwarding ranks in small chunks, so each link carries M
    once and the pipeline fills in N−1 steps: T = M/β + (N−1)α. Source: Thakur et al. 2005.
    """
    M, beta, alpha = _mbl(size, bandwidth, latency, "broadcast")
    N = count(n, "n", "broadcast")
    T = broadcast_s(M, N, beta, alpha)
    return from_si(T, "s")


def in_network_allreduce_s(size: float, n: float, bandwidth: float, latency: float = 0.0) -> float:
    """Float fast path of :func:`in_network_allreduce`."""
    return (1.0 + 1.0 / n) * size / bandwidth + 2.0 * latency


@formula(
    symbol=r"T = \left(1 + \frac{1}{N}\right)\frac{M}{\beta} + 2\,\alpha",
    substituted=(
        r"\left(1 + \frac{1}{ {{n}} }\right) \cdot \frac{ {{size}} }{ {{bandwidth}} }"
        r" + 2 \cdot {{latency}}"
    ),
    sources=("klenk2020", "graham2016"),
    citation="Klenk et al. (2020), NVSwitch in-network reduction (NVLS); Graham et al. "
    "(2016), SHARP",
    result="time",
)
def in_network_allreduce(size: Any, n: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """All-reduce reduced inside the switch (NVLink SHARP, InfiniBand SHARP).

    Reduce-scatter: each rank sends its whole buffer M into the switch and receives its
    reduced 1/N shard; all-gather: it sends that shard once and the switch multicasts every
    shard back. Each direction of a rank's link carries (1 + 1/N)·M, against 2(N−1)/N·M for
    a ring, so the bus bandwidth (nccl-tests) can exceed the link's. Sources: Klenk et al.
    2020 (NVSwitch); Graham et al. 2016 (SHARP).
    """
    M, beta, alpha = _mbl(size, bandwidth, latency, "in_network_allreduce")
    N = count(n, "n", "in_network_allreduce")
    T = in_network_allreduce_s(M, N, beta, alpha)
    return from_si(T, "s")


def hierarchical_all_to_all_s(
    size: float,
    n: float,
    per_node: float,
    intra_bandwidth: float,
    inter_bandwidth: float,
    intra_latency: float = 0.0,
    inter_latency: float = 0.0,
    issue_latency: float = 0.0,
    peers_per_round: float = _PEERS_PER_ROUND,
) -> float:
    """Float fast path of :func:`hierarchical_all_to_all` (bandwidths per device)."""
    g = per_node
    a_post = issue_latency
    T_in = (g - 1.0) / n * size / intra_bandwidth
    T_out = (n - g) / n * size / inter_bandwidth
    L_in = math.ceil((g - 1.0) / peers_per_round) * intra_latency
    L_out = inter_latency + (n - g - 1.0) * a_post if n > g else 0.0
    return max(T_in, T_out) + max(L_in, L_out)


@formula(
    symbol=(
        r"T = \max\left(\frac{g - 1}{N}\frac{M}{\beta_{\mathrm{in}}},\ "
        r"\frac{N - g}{N}\frac{M}{\beta_{\mathrm{out}}}\right) + \max\left("
        r"\left\lceil\frac{g - 1}{P}\right\rceil\alpha_{\mathrm{in}},\ "
        r"\alpha_{\mathrm{out}} + (N - g - 1)\,\alpha_{\mathrm{post}}\right)"
    ),
    substituted=(
        r"\max\left(\frac{ {{per_node}} - 1}{ {{n}} } \cdot \frac{ {{size}} }"
        r"{ {{intra_bandwidth}} },\ \frac{ {{n}} - {{per_node}} }{ {{n}} } \cdot "
        r"\frac{ {{size}} }{ {{inter_bandwidth}} }\right) + \max\left(\left\lceil"
        r"\frac{ {{per_node}} - 1}{ {{peers_per_round}} }\right\rceil \cdot {{intra_latency}},"
        r"\ {{inter_latency}} + ({{n}} - {{per_node}} - 1) \cdot {{issue_latency}}\right)"
    ),
    sources=("sys_nccl_p2p_channels", "nccl_tests_alltoall_busbw", "thakur2005"),
    citation="NCCL's grouped all-to-all (src/graph/paths.cc, src/enqueue.cc): every peer "
    "posted at once over the p2p channels; nccl-tests' all-to-all bus bandwidth (S. "
    "Jeaugey, nccl-tests 130)",
    result="time",
)
def hierarchical_all_to_all(
    size: Any,
    n: Any,
    per_node: Any,
    intra_bandwidth: Any,
    inter_bandwidth: Any,
    intra_latency: Any = _ZERO_S,
    inter_latency: Any = _ZERO_S,
    issue_latency: Any = _ZERO_S,
    peers_per_round: Any = _PEERS_PER_ROUND,
) -> Any:
    """All-to-all over N ranks, g per node, as NCCL runs it: each rank sends M/N to every
    peer in one group of N−1 sends and N−1 receives.

    Bandwidth: the (g−1)/N of M bound for peers in the node crosses the intra-node fabric
    while the (N−g)/N bound elsewhere crosses the rank's NIC, concurrently, so the slower
    link class sets the time; on N/g nodes the bus bandwidth is then about N/(N−g) × the
    NIC's (2× on two nodes, the NIC's with one GPU per node: nccl-tests 130).

    Latency: the group posts every peer at once, spread over the p2p channels, P peers a
    round (``core.constants.NCCL_P2P_PEERS_PER_ROUND``), so the peers in the
    node cost ⌈(g−1)/P⌉ hops of α_in, not g−1. Network transfers are posted by the rank's
    proxy thread one after another: the N−g remote peers cost one network hop α_out plus
    α_post (the network's per-step issue cost; 0 where not given: every remote peer in
    flight at once) for each further peer. The two classes run on different channels,
    concurrently. With g = N and P ≥ N−1 it is (N−1)/N·M/β + α. Sources: NCCL
    src/graph/paths.cc, src/enqueue.cc (v2.18); Thakur et al. 2005 (pairwise exchange).
    """
    where = "hierarchical_all_to_all"
    M = positive(si(size, "information", "size"), "size", where, strict=False)
    N = count(n, "n", where)
    g = count(per_node, "per_node", where)
    b_in = positive(si(intra_bandwidth, "bandwidth", "intra_bandwidth"), "intra_bandwidth", where)
    b_out = positive(si(inter_bandwidth, "bandwidth", "inter_bandwidth"), "inter_bandwidth", where)
    a_in = positive(
        si(intra_latency, "time", "intra_latency"), "intra_latency", where, strict=False
    )
    a_out = positive(
        si(inter_latency, "time", "inter_latency"), "inter_latency", where, strict=False
    )
    a_post = positive(
        si(issue_latency, "time", "issue_latency"), "issue_latency", where, strict=False
    )
    P = count(peers_per_round, "peers_per_round", where)
    if g > N:
        raise ConfigError(
            f"per_node = {g:g} is more than n = {N:g}",
            where=where,
            why="a node holds at most the group's ranks",
            fix="pass per_node ≤ n",
        )
    T = hierarchical_all_to_all_s(M, N, g, b_in, b_out, a_in, a_out, a_post, P)
    return from_si(T, "s")


def bus_factor(op: str, n: float) -> float:
    """nccl-tests' bus-bandwidth correction of collective ``op`` over ``n`` ranks."""
    if op == "all_reduce":
        return 2.0 * (n - 1.0) / n
    if op in ("all_gather", "reduce_scatter", "all_to_all"):
        return (n - 1.0) / n
    return 1.0  # broadcast, send_recv


@formula(
    symbol=r"B_{\mathrm{bus}} = \frac{M}{T}\,f_{\mathrm{op}}(N)",
    substituted=r"\frac{ {{size}} }{ {{time}} } \cdot {{factor}}",
    sources=("nccltests",),
    citation="NVIDIA nccl-tests, PERFORMANCE.md: algorithm and bus bandwidth",
    result="bandwidth",
    expand=lambda a: {"factor": bus_factor(str(a["op"]), float(a["n"]))},
)
def bus_bandwidth(size: Any, time: Any, n: Any, op: str = "all_reduce") -> Any:
    """Bus bandwidth of a collective: algorithm bandwidth M/T times nccl-tests' factor.

    f = 2(N−1)/N for all-reduce, (N−1)/N for all-gather, reduce-scatter and all-to-all, and
    1 for broadcast and send/recv: the bandwidth a flat point-to-point implementation would
    need on each link, comparable across N (in-network reduction can exceed the link's).
    Source: NVIDIA nccl-tests documentation.
    """
    where = "bus_bandwidth"
    choice(op, "op", where, BUS_FACTOR_OPS)
    M = positive(si(size, "information", "size"), "size", where, strict=False)
    T = positive(si(time, "time", "time"), "time", where)
    N = count(n, "n", where)
    B_bus = M / T * bus_factor(op, N)
    return from_si(B_bus, "B/s")
