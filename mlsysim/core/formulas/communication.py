"""Communication: collectives in the α–β (latency–bandwidth) model, and the pipeline bubble.

A message of M bytes over a link of bandwidth β with per-message latency α costs α + M/β.
``size`` is the per-rank buffer (all-reduce, reduce-scatter input, all-gather output, all-to-all
send total). Each formula has a float fast path (``*_s``: B, count, B/s, s → seconds) for the
solver's hot loops; the Quantity version checks dimensions and wraps the result.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core.formulas._args import count, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "all_gather",
    "all_gather_s",
    "all_to_all",
    "allreduce_bus_bandwidth",
    "double_binary_tree_allreduce",
    "double_binary_tree_allreduce_s",
    "hierarchical_allreduce",
    "hierarchical_allreduce_s",
    "overlap_compute_loss",
    "overlap_compute_loss_s",
    "pipeline_bubble",
    "reduce_scatter",
    "ring_allreduce",
    "ring_allreduce_s",
    "tree_allreduce",
    "tree_allreduce_s",
]

_ZERO_S = from_si(0.0, "s")
_THAKUR = ("thakur2005",)


def _abn(size: Any, n: Any, bandwidth: Any, latency: Any, where: str) -> tuple[float, ...]:
    M = positive(si(size, "information", "size"), "size", where, strict=False)
    N = count(n, "n", where)
    beta = positive(si(bandwidth, "bandwidth", "bandwidth"), "bandwidth", where)
    alpha = positive(si(latency, "time", "latency"), "latency", where, strict=False)
    return M, N, beta, alpha


def ring_allreduce_s(size: float, n: float, bandwidth: float, latency: float = 0.0) -> float:
    """Float fast path of :func:`ring_allreduce`: bytes, ranks, B/s, s → seconds."""
    return 2.0 * (n - 1.0) / n * size / bandwidth + 2.0 * (n - 1.0) * latency


@formula(
    symbol=r"T = 2\,\frac{N - 1}{N}\,\frac{M}{\beta} + 2\,(N - 1)\,\alpha",
    substituted=(
        r"2 \cdot \frac{ {{n}} - 1}{ {{n}} } \cdot \frac{ {{size}} }{ {{bandwidth}} }"
        r" + 2 \cdot ({{n}} - 1) \cdot {{latency}}"
    ),
    sources=("thakur2005", "patarasuk2009"),
    citation="Thakur, Rabenseifner & Gropp (2005); Patarasuk & Yuan (2009)",
    result="time",
)
def ring_allreduce(size: Any, n: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """Ring all-reduce time 2(N−1)/N·M/β + 2(N−1)·α: reduce-scatter then all-gather.

    Bandwidth-optimal: each rank sends 2(N−1)/N of its buffer. Sources: Thakur et al. 2005;
    Patarasuk & Yuan 2009.
    """
    M, N, beta, alpha = _abn(size, n, bandwidth, latency, "ring_allreduce")
    T = ring_allreduce_s(M, N, beta, alpha)
    return from_si(T, "s")


def tree_allreduce_s(size: float, n: float, bandwidth: float, latency: float = 0.0) -> float:
    """Float fast path of :func:`tree_allreduce`."""
    return 2.0 * math.ceil(math.log2(n)) * (latency + size / bandwidth)


@formula(
    symbol=r"T = 2\,\lceil \log_2 N \rceil \left(\alpha + \frac{M}{\beta}\right)",
    substituted=(
        r"2 \cdot \lceil \log_2 {{n}} \rceil \left({{latency}} + "
        r"\frac{ {{size}} }{ {{bandwidth}} }\right)"
    ),
    sources=_THAKUR,
    citation="Thakur, Rabenseifner & Gropp (2005): binomial-tree reduce + broadcast",
    result="time",
)
def tree_allreduce(size: Any, n: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """Binomial-tree all-reduce (reduce then broadcast), 2⌈log₂N⌉(α + M/β).

    Latency-optimal for small messages; sends the whole buffer at every level. Source: Thakur
    et al. 2005.
    """
    M, N, beta, alpha = _abn(size, n, bandwidth, latency, "tree_allreduce")
    T = tree_allreduce_s(M, N, beta, alpha)
    return from_si(T, "s")


def double_binary_tree_allreduce_s(
    size: float, n: float, bandwidth: float, latency: float = 0.0
) -> float:
    """Float fast path of :func:`double_binary_tree_allreduce`."""
    return 2.0 * math.ceil(math.log2(n)) * latency + 2.0 * size / bandwidth


@formula(
    symbol=r"T \approx 2\,\lceil \log_2 N \rceil\,\alpha + 2\,\frac{M}{\beta}",
    substituted=(
        r"2 \cdot \lceil \log_2 {{n}} \rceil \cdot {{latency}} + 2 \cdot "
        r"\frac{ {{size}} }{ {{bandwidth}} }"
    ),
    sources=("sanders2009",),
    citation="Sanders, Speck & Träff (2009), two-tree reduction and broadcast (NCCL trees)",
    result="time",
)
def double_binary_tree_allreduce(size: Any, n: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """Double-binary-tree all-reduce, large-message asymptote 2⌈log₂N⌉α + 2M/β.

    Two complementary trees each carry half the data, pipelined, so bandwidth use is full (as
    a ring) while latency grows as log N. Source: Sanders, Speck & Träff 2009.
    """
    M, N, beta, alpha = _abn(size, n, bandwidth, latency, "double_binary_tree_allreduce")
    T = double_binary_tree_allreduce_s(M, N, beta, alpha)
    return from_si(T, "s")


def hierarchical_allreduce_s(
    size: float,
    nodes: float,
    gpus_per_node: float,
    intra_bandwidth: float,
    inter_bandwidth: float,
    intra_latency: float = 0.0,
    inter_latency: float = 0.0,
) -> float:
    """Float fast path of :func:`hierarchical_allreduce` (``inter_bandwidth`` per device)."""
    T_in = ring_allreduce_s(size, gpus_per_node, intra_bandwidth, intra_latency)
    T_out = ring_allreduce_s(size / gpus_per_node, nodes, inter_bandwidth, inter_latency)
    return T_in + T_out


@formula(
    symbol=(
        r"T = 2\,\frac{g - 1}{g}\,\frac{M}{\beta_{\mathrm{in}}} + 2\,(g - 1)\,\alpha_{\mathrm{in}}"
        r" + 2\,\frac{k - 1}{k}\,\frac{M / g}{\beta_{\mathrm{out}}} + 2\,(k - 1)\,"
        r"\alpha_{\mathrm{out}}"
    ),
    substituted=(
        r"2 \cdot \frac{ {{gpus_per_node}} - 1}{ {{gpus_per_node}} } \cdot "
        r"\frac{ {{size}} }{ {{intra_bandwidth}} } + 2 \cdot ({{gpus_per_node}} - 1)"
        r" \cdot {{intra_latency}} + 2 \cdot \frac{ {{nodes}} - 1}{ {{nodes}} } \cdot "
        r"\frac{ {{size}} / {{gpus_per_node}} }{ {{inter_bandwidth}} } + 2 \cdot "
        r"({{nodes}} - 1) \cdot {{inter_latency}}"
    ),
    sources=("jia2018", "thakur2005"),
    citation="Jia et al. (2018), hierarchical all-reduce; ring steps per Thakur et al. (2005)",
    result="time",
)
def hierarchical_allreduce(
    size: Any,
    nodes: Any,
    gpus_per_node: Any,
    intra_bandwidth: Any,
    inter_bandwidth: Any,
    intra_latency: Any = _ZERO_S,
    inter_latency: Any = _ZERO_S,
) -> Any:
    """Two-level all-reduce: ring reduce-scatter in the node, ring all-reduce of M/g across
    the k nodes, ring all-gather in the node. Source: Jia et al. 2018.
    """
    where = "hierarchical_allreduce"
    M = positive(si(size, "information", "size"), "size", where, strict=False)
    k = count(nodes, "nodes", where)
    g = count(gpus_per_node, "gpus_per_node", where)
    beta_in = positive(
        si(intra_bandwidth, "bandwidth", "intra_bandwidth"), "intra_bandwidth", where
    )
    beta_out = positive(
        si(inter_bandwidth, "bandwidth", "inter_bandwidth"), "inter_bandwidth", where
    )
    alpha_in = positive(
        si(intra_latency, "time", "intra_latency"), "intra_latency", where, strict=False
    )
    alpha_out = positive(
        si(inter_latency, "time", "inter_latency"), "inter_latency", where, strict=False
    )
    T = hierarchical_allreduce_s(M, k, g, beta_in, beta_out, alpha_in, alpha_out)
    return from_si(T, "s")


# all-gather and reduce-scatter move the same bytes in the ring: one pass of N−1 steps
_ONE_PASS_SYMBOL = r"T = \frac{N - 1}{N}\,\frac{M}{\beta} + (N - 1)\,\alpha"
_ONE_PASS_SUBSTITUTED = (
    r"\frac{ {{n}} - 1}{ {{n}} } \cdot \frac{ {{size}} }{ {{bandwidth}} } + "
    r"({{n}} - 1) \cdot {{latency}}"
)


def all_gather_s(size: float, n: float, bandwidth: float, latency: float = 0.0) -> float:
    """Float fast path of ring all-gather / reduce-scatter / pairwise all-to-all."""
    return (n - 1.0) / n * size / bandwidth + (n - 1.0) * latency


@formula(
    symbol=_ONE_PASS_SYMBOL,
    substituted=_ONE_PASS_SUBSTITUTED,
    sources=_THAKUR,
    citation="Thakur, Rabenseifner & Gropp (2005): ring all-gather",
    result="time",
)
def all_gather(size: Any, n: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """Ring all-gather of an M-byte result per rank: (N−1)/N·M/β + (N−1)α. Source: Thakur."""
    M, N, beta, alpha = _abn(size, n, bandwidth, latency, "all_gather")
    return from_si(all_gather_s(M, N, beta, alpha), "s")


@formula(
    symbol=_ONE_PASS_SYMBOL,
    substituted=_ONE_PASS_SUBSTITUTED,
    sources=_THAKUR,
    citation="Thakur, Rabenseifner & Gropp (2005): ring reduce-scatter",
    result="time",
)
def reduce_scatter(size: Any, n: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """Ring reduce-scatter of an M-byte input per rank: (N−1)/N·M/β + (N−1)α. Source: Thakur."""
    M, N, beta, alpha = _abn(size, n, bandwidth, latency, "reduce_scatter")
    return from_si(all_gather_s(M, N, beta, alpha), "s")


@formula(
    symbol=r"T = (N - 1)\left(\alpha + \frac{M / N}{\beta}\right)",
    substituted=(
        r"({{n}} - 1) \left({{latency}} + \frac{ {{size}} / {{n}} }{ {{bandwidth}} }"
        r"\right)"
    ),
    sources=_THAKUR,
    citation="Thakur, Rabenseifner & Gropp (2005): pairwise-exchange all-to-all",
    result="time",
)
def all_to_all(size: Any, n: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """Pairwise all-to-all where each rank sends M bytes split evenly over N ranks.

    N−1 steps of (α + M/(Nβ)). Source: Thakur et al. 2005.
    """
    M, N, beta, alpha = _abn(size, n, bandwidth, latency, "all_to_all")
    return from_si(all_gather_s(M, N, beta, alpha), "s")


def overlap_compute_loss_s(overlap: float, comm_units: float, units: float) -> float:
    """Float fast path of :func:`overlap_compute_loss` (s, count, count → s)."""
    T_o = overlap
    f_c = comm_units / units
    return f_c * T_o


@formula(
    symbol=r"\Delta T = \frac{N_c}{N_{SM}}\,T_o",
    substituted=r"\frac{ {{comm_units}} }{ {{units}} } \cdot {{overlap}}",
    sources=("jeaugey2023_nccl_sms", "lee2025_overlap"),
    citation="Jeaugey (NVIDIA/nccl#689, 2023): one NCCL CTA per channel holds an SM",
    result="time",
)
def overlap_compute_loss(overlap: Any, comm_units: Any, units: Any) -> Any:
    """Computation lost while a collective overlaps it: ΔT = N_c/N_SM · T_o.

    A collective library runs one thread block (CTA) per channel, and an NCCL CTA holds its
    SM to itself — "NCCL CTAs won't share an SM with compute kernels"; it uses the fewest
    SMs that reach the platform's bandwidth, 16 on a DGX with 8 NICs (S. Jeaugey, NVIDIA,
    NVIDIA/nccl issue 689). Compute kernels beside a collective of duration ``overlap`` run
    on the other N_SM − N_c SMs, so a compute-bound step loses the work of N_c SMs over
    T_o: 16 of an A100's 108 SMs over 10 ms of overlap cost 1.48 ms. It leaves out the
    HBM bandwidth the collective also takes, so it is a lower bound of the measured
    slowdown (Lee et al. 2025: 18.9 % on average, up to 40 %, on A100, H100, MI250)."""
    where = "overlap_compute_loss"
    T_o = positive(si(overlap, "time", "overlap"), "overlap", where, strict=False)
    N_c = count(comm_units, "comm_units", where, minimum=0)
    N_sm = count(units, "units", where)
    return from_si(overlap_compute_loss_s(T_o, N_c, N_sm), "s")


@formula(
    symbol=r"B_{\mathrm{bus}} = \frac{M}{T}\cdot\frac{2\,(N - 1)}{N}",
    substituted=r"\frac{ {{size}} }{ {{time}} } \cdot \frac{2 \cdot ({{n}} - 1)}{ {{n}} }",
    sources=("nccltests",),
    citation="NVIDIA nccl-tests, PERFORMANCE.md: bus bandwidth of all-reduce",
    result="bandwidth",
)
def allreduce_bus_bandwidth(size: Any, time: Any, n: Any) -> Any:
    """All-reduce bus bandwidth: algorithm bandwidth M/T times 2(N−1)/N (nccl-tests).

    Comparable to link peak bandwidth whatever N is. Source: NVIDIA nccl-tests documentation.
    """
    where = "allreduce_bus_bandwidth"
    M = positive(si(size, "information", "size"), "size", where, strict=False)
    T = positive(si(time, "time", "time"), "time", where)
    N = count(n, "n", where)
    B_bus = M / T * 2.0 * (N - 1.0) / N
    return from_si(B_bus, "B/s")


@formula(
    symbol=r"f_{\mathrm{bubble}} = \frac{p - 1}{v\,m + p - 1}",
    substituted=r"\frac{ {{stages}} - 1}{ {{interleave}} \cdot {{microbatches}} + {{stages}} - 1}",
    sources=("huang2019", "narayanan2021"),
    citation="Huang et al. (2019), GPipe; Narayanan et al. (2021), interleaved 1F1B",
    result="dimensionless",
)
def pipeline_bubble(stages: Any, microbatches: Any, interleave: Any = 1) -> float:
    """Pipeline bubble as a fraction of step time, (p−1)/(v·m + p − 1).

    p stages, m micro-batches, v model chunks per stage (interleaved schedule; v = 1 is GPipe /
    1F1B). Sources: Huang et al. 2019 (GPipe); Narayanan et al. 2021 (Megatron-LM).
    """
    where = "pipeline_bubble"
    p = count(stages, "stages", where)
    m = count(microbatches, "microbatches", where)
    v = count(interleave, "interleave", where)
    f = (p - 1.0) / (v * m + p - 1.0)
    return f
