"""The collective library's cost model (NCCL ``src/graph/tuning.cc`` v2.7.8): per-protocol base
latencies, bandwidth shares, the ring's plateau, point-to-point rounds and the tree's
medium-size corrections.
"""

from __future__ import annotations

from mlsysim.core.constants.sourced import Constant, SizeTable
from mlsysim.core.constants.sourced import sourced as _c

__all__ = [
    "NCCL_BASE_LATENCY",
    "NCCL_COLLECTIVE_SMS",
    "NCCL_LL_INTRA_ACROSS_NODES",
    "NCCL_P2P_PEERS_PER_ROUND",
    "NCCL_PROTOCOLS",
    "NCCL_RING_BANDWIDTH_FACTOR",
    "NCCL_RING_SIMPLE_PLATEAU",
    "NCCL_RING_SIMPLE_PLATEAU_BYTES",
    "NCCL_TREE_BANDWIDTH_FACTOR",
    "NCCL_TREE_CORRECTION",
]

# --- the collective library's cost model (NCCL src/graph/tuning.cc v2.7.8) ------------------
_NCCL = "sys_nccl_tuning_model"
#: NCCL's protocols, in the order of its tables: LL sends 4 bytes of data with each 4-byte
#: flag, LL128 120 of every 128 bytes, Simple whole buffers behind a fence.
NCCL_PROTOCOLS: tuple[str, ...] = ("ll", "ll128", "simple")
#: NCCL's fixed latency per call (``baseLat``), by algorithm and protocol.
NCCL_BASE_LATENCY: dict[str, dict[str, Constant]] = {
    "ring": {
        "ll": _c(3.6, "us", _NCCL, "baseLat[Ring][LL]"),
        "ll128": _c(10.0, "us", _NCCL, "baseLat[Ring][LL128]"),
        "simple": _c(8.4, "us", _NCCL, "baseLat[Ring][Simple]"),
    },
    "tree": {
        "ll": _c(4.4, "us", _NCCL, "baseLat[Tree][LL]"),
        "ll128": _c(4.4, "us", _NCCL, "baseLat[Tree][LL128]"),
        "simple": _c(0.0, "us", _NCCL, "baseLat[Tree][Simple]: its chunk latency is in hwLat"),
    },
}
#: Share of the ring's bus bandwidth each protocol keeps: LL 1/4 for every all-reduce and
#: across nodes (1/3 otherwise), LL128 0.92 (0.7 with one rank per node), Simple 1.
NCCL_RING_BANDWIDTH_FACTOR: dict[str, Constant] = {
    "ll": _c(1.0 / 4.0, "", _NCCL, "Ring/LL across nodes or for all-reduce: busBw x 1/4"),
    "ll_one_node": _c(1.0 / 3.0, "", _NCCL, "Ring/LL inside one node, not all-reduce: x 1/3"),
    "ll128": _c(0.92, "", _NCCL, "Ring/LL128: busBw x 0.92 (120/128)"),
    "ll128_one_rank_per_node": _c(0.7, "", _NCCL, "Ring/LL128 with ppn < 2: busBw x 0.7"),
    "simple": _c(1.0, "", _NCCL, "Ring/Simple: the full bus bandwidth"),
}
#: Share of the bus bandwidth a double binary tree keeps (``busBw * .9``), and each protocol's
#: further share on it: LL 1/3.8, LL128 7/9 inside one node and 0.915 across nodes.
NCCL_TREE_BANDWIDTH_FACTOR: dict[str, Constant] = {
    "tree": _c(0.9, "", _NCCL, "Tree: busBw x .9"),
    "ll": _c(1.0 / 3.8, "", _NCCL, "Tree/LL: busBw x 1/3.8"),
    "ll128_one_node": _c(7.0 / 9.0, "", _NCCL, "Tree/LL128 inside one node: x 7/9"),
    "ll128": _c(0.915, "", _NCCL, "Tree/LL128 across nodes: x 0.915"),
    "simple": _c(1.0, "", _NCCL, "Tree/Simple: no further share"),
}
#: NCCL's factor on LL's intra-node step latency when the group spans nodes (every algorithm).
NCCL_LL_INTRA_ACROSS_NODES = _c(1.8, "", _NCCL, "intraLat *= 1.8 for LL when nNodes > 1")
#: The ring's Simple all-reduce across nodes pays its latency 1.9 times once the message
#: reaches nRanks/16 x 64 KiB ("plateau effect of ring", ``ncclTopoGetAlgoTime``).
NCCL_RING_SIMPLE_PLATEAU = _c(1.9, "", _NCCL, "Ring/Simple all-reduce, nNodes > 1: lat x 1.9")
#: Bytes per rank from which the plateau applies: nBytes >= nRanks / 16 x 65536.
NCCL_RING_SIMPLE_PLATEAU_BYTES = _c(65536.0 / 16.0, "B", _NCCL, "nRanks/16.0*65536 bytes")
#: Peers one rank's grouped point-to-point operations (an all-to-all) reach at once: NCCL
#: spreads the peers of a group over its p2p channels (NCCL_MAX_P2P_NCHANNELS, MAXCHANNELS =
#: 32 by default), each peer on NCCL_NCHANNELS_PER_NET_PEER = 2 of them, and each channel
#: serves its peers in turn: 32 / 2 = 16 peers per round.
NCCL_P2P_PEERS_PER_ROUND = _c(
    32.0 / 2.0, "", "sys_nccl_p2p_channels", "p2pnChannels / p2pnChannelsPerPeer = 32 / 2"
)


#: NCCL's correction of a tree's bandwidth at medium sizes ("trees are not perfectly
#: sticking to the model for medium sizes"), per protocol, powers of two from 64 B.
NCCL_TREE_CORRECTION: dict[str, SizeTable] = {
    "ll": SizeTable(
        (
            *(1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.7, 0.7, 0.7, 0.7, 0.6),
            *(0.5, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0),
        ),
        64.0,
        _NCCL,
        "treeCorrectionFactor[LL]",
    ),
    "ll128": SizeTable(
        (
            *(1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.8, 0.8, 0.7, 0.6),
            *(0.6, 0.6, 0.5, 0.6, 0.6, 0.7, 0.7, 0.8, 0.9, 0.9, 1.0),
        ),
        64.0,
        _NCCL,
        "treeCorrectionFactor[LL128]",
    ),
    "simple": SizeTable(
        (
            *(0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.7, 0.6, 0.6),
            *(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.6, 0.7, 0.8, 0.9),
        ),
        64.0,
        _NCCL,
        "treeCorrectionFactor[Simple]",
    ),
}

#: SMs a collective's CTAs hold while it runs (one CTA per channel, an SM each, shared with no
#: compute kernel): the fewest that reach the bandwidth of a DGX with 8 NICs (S. Jeaugey).
NCCL_COLLECTIVE_SMS = _c(
    16, "", "jeaugey2023_nccl_sms", "16 SMs on a DGX with 8 NICs (190 GB/s); 2 with one PCI NIC"
)
