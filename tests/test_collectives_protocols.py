"""NCCL's protocols (LL, LL128, Simple) against the library's own cost model.

NCCL (src/graph/tuning.cc, v2.7.8; citation ``sys_nccl_tuning_model``) prices a ring
collective per protocol as base latency + intra-node steps × the intra hop latency + the
nNodes − 1 inter-node steps × the network latency + bytes over the protocol's share of the
bus bandwidth, and runs the cheapest. The figures below are typed from that table, not read
from the registry, so a drift in the data fails here.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import mlsysim
from mlsysim.execution.plan import ExecutionPlan
from mlsysim.hardware.efficiency import KERNEL_OVERHEAD

US = 1e-6
LAUNCH = KERNEL_OVERHEAD.value
# DGX A100: NVLink3 300 GB/s x 0.78 (NCCL's 235 GB/s sm80 cap); 8 HDR NICs x 25 GB/s x 0.94
B_IN = 300e9 * 0.78
B_RING = min(B_IN, 8 * 25e9 * 0.94)


def _ring_all_gather(M: float, n: int, k: int) -> dict[str, float]:
    """tuning.cc v2.7.8 for a ring all-gather of M bytes over n ranks on k DGX A100 nodes."""
    intra_steps, inter_steps = (n - 1) - (k - 1), k - 1
    bw = B_RING if k > 1 else B_IN
    moved = (n - 1) / n * M
    ll_intra = 0.47 * (1.8 if k > 1 else 1.0)
    return {
        "ll": (3.6 + intra_steps * ll_intra + inter_steps * 2.7) * US
        + moved / (bw * (0.25 if k > 1 else 1 / 3)),
        "ll128": (10.0 + intra_steps * 1.9 + inter_steps * 4.0) * US + moved / (bw * 0.92),
        "simple": (8.4 + intra_steps * 3.4 + inter_steps * 9.6) * US + moved / bw,
    }


@pytest.mark.parametrize(
    ("size", "devices", "protocol"),
    [
        (8.0, 8, "ll"),  # a few bytes in one node: LL
        (64e3, 16, "ll"),
        (32e6, 16, "ll128"),  # mid-size across nodes: LL128
        (1e9, 8, "simple"),  # a large buffer: Simple (highest latency, full bandwidth)
        (909e6, 1536, "ll128"),  # a ZeRO-3 unit of GPT-3 over 192 nodes
    ],
)
def test_all_gather_is_nccl_cheapest_protocol(size: float, devices: int, protocol: str) -> None:
    k = max(1, devices // 8)
    model = _ring_all_gather(size, devices, k)
    want = min(model.values()) + LAUNCH
    assert min(model, key=model.__getitem__) == protocol
    got = mlsysim.collective("all_gather", f"{size} B", "DGX_A100", devices).time_s
    assert math.isclose(got, want, rel_tol=1e-9), (got, want, model)


def test_ring_latency_charges_the_network_only_on_inter_node_steps() -> None:
    # 1536 ranks, 192 nodes: 1,344 NVLink steps and 191 network steps (NCCL >= 2.7), not
    # 1,535 network steps; for a tiny message the LL protocol's latency is what remains
    got = mlsysim.collective("all_gather", "8 B", "DGX_A100", 1536).time_s
    want = (3.6 + 1344 * 0.47 * 1.8 + 191 * 2.7) * US + LAUNCH
    assert math.isclose(got, want, rel_tol=1e-6)


def test_collective_time_never_falls_as_the_message_grows() -> None:
    for devices in (8, 16, 384):
        last = 0.0
        for e in range(0, 34):
            t = mlsysim.collective("all_reduce", f"{2.0**e} B", "DGX_A100", devices).time_s
            assert t >= last * (1 - 1e-12), (devices, e, t, last)
            last = t


def _zero3(**kw: Any) -> Any:
    args: dict[str, Any] = {"zero": 3, "microbatch": 1, **kw}
    return mlsysim.solve(
        "Llama2_7B", "DGX_A100", phase="training", devices=8, batch=16, seq_len=2048, **args
    )


def test_zero3_gathers_each_shard_unit_every_pass() -> None:
    r = _zero3(recompute="selective")
    rows = {c.name: c for c in r.collectives}
    gather, scatter = rows["dp_param_all_gather"], rows["dp_grad_reduce_scatter"]
    m = 2  # 16 sequences over 8 replicas, one per micro-batch
    units = 32 * (2 + 3) + 2  # fused QKV, output, three gated MLP matrices; embedding, head
    assert scatter.calls == units * m
    assert gather.calls == 2 * units * m  # forward and backward
    assert math.isclose(gather.size_bytes * units, scatter.size_bytes * units)
    full = {c.name: c for c in _zero3(recompute="full").collectives}
    assert full["dp_param_all_gather"].calls == 3 * units * m  # and the recomputed forward


def test_layer_units_pay_fewer_latencies() -> None:
    module = {c.name: c for c in _zero3().collectives}["dp_param_all_gather"]
    layer = {c.name: c for c in _zero3(shard_unit="layer").collectives}["dp_param_all_gather"]
    assert layer.calls == 2 * (32 + 2) * 2
    assert math.isclose(layer.size_bytes * layer.calls, module.size_bytes * module.calls)
    assert layer.total_s < module.total_s
    # a block's recomputation runs inside its backward, while it is gathered (FSDP)
    full = {c.name: c for c in _zero3(shard_unit="layer", recompute="full").collectives}
    assert full["dp_param_all_gather"].calls == layer.calls


def test_shard_unit_is_checked() -> None:
    with pytest.raises(mlsysim.ConfigError, match="shard_unit"):
        ExecutionPlan(shard_unit="tensor")
    with pytest.raises(mlsysim.ConfigError, match="list_collectives"):
        ExecutionPlan(list_collectives=1)  # type: ignore[arg-type]


def test_list_collectives_cost_a_view_and_a_copy_per_rank() -> None:
    # DeepSpeed 0.3-0.5: a Python view per rank (PyTorch's ~5 us op, pytorch#41383) and a copy
    # launch per rank in torch.distributed's list all_gather (3 us, the kernel launch)
    plain = {c.name: c for c in _zero3().collectives}
    listed = {c.name: c for c in _zero3(list_collectives=True).collectives}
    for name in ("dp_param_all_gather", "dp_grad_reduce_scatter"):
        a, b = plain[name], listed[name]
        assert a.calls == b.calls
        # (the list-form reduce-scatter of a unit leaves its norm tensors to calls of their
        # own, tests/test_distributed_zero3_calls.py: a few kB less a call)
        assert math.isclose(b.time_per_call_s - a.time_per_call_s, 8 * (5e-6 + 3e-6), rel_tol=1e-3)
    # only ZeRO-3's gathers and scatters are list-form
    z1 = {c.name: c.time_per_call_s for c in _zero3(list_collectives=True, zero=1).collectives}
    assert z1 == {c.name: c.time_per_call_s for c in _zero3(zero=1).collectives}


@pytest.mark.parametrize("unit", ["module", "layer"])
def test_sweep_prices_zero3_units_as_solve_does(unit: str) -> None:
    kw: dict[str, Any] = {"phase": "training", "devices": 16, "batch": 32, "seq_len": 2048}
    s = mlsysim.sweep(
        model="Llama2_7B",
        system="DGX_A100",
        zero=3,
        recompute=["selective", "full"],
        overlap=[True, False],
        shard_unit=unit,
        **kw,
    )
    for i in range(len(s)):
        row = s.row(i)
        r = mlsysim.solve(
            "Llama2_7B",
            "DGX_A100",
            zero=3,
            recompute=row["recompute"],
            overlap=row["overlap"],
            shard_unit=unit,
            **kw,
        )
        assert math.isclose(row["step_time_s"], r.step_time_s, rel_tol=1e-9), (row, r.step_time_s)


# --- trees and point-to-point: NCCL's own tree table, not the ring's -------------------------
# tuning.cc v2.7.8, Tree row: baseLat 4.4 / 4.4 / 0 us; hwLat NVLink .52 / 1.2 / 28 us,
# network 5.0 / 8.5 / 50 us; busBw x .9, then LL x 1/3.8, LL128 x 0.915 across nodes (7/9 in
# one); treeCorrectionFactor by log2i(bytes >> 6); time = lat + 2M / busBw (ratio .5).
_TREE_BASE = {"ll": 4.4, "ll128": 4.4, "simple": 0.0}
_TREE_NVLINK = {"ll": 0.52, "ll128": 1.2, "simple": 28.0}
_TREE_NET = {"ll": 5.0, "ll128": 8.5, "simple": 50.0}
_TREE_BW = {"ll": 0.9 / 3.8, "ll128": 0.9 * 0.915, "simple": 0.9}
_CORRECTION = {  # treeCorrectionFactor, powers of two from 64 B
    "ll": [1, 1, 1, 1, 0.9, 0.8, 0.7, 0.7, 0.7, 0.7, 0.6, 0.5, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "ll128": [1, 1, 1, 1, 1, 0.9, 0.8, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.5, 0.6, 0.6, 0.7, 0.7],
    "simple": [0.9] * 7 + [0.8, 0.7, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.6, 0.7],
}


def _tree_all_reduce(M: float, n: int, k: int) -> dict[str, float]:
    """tuning.cc v2.7.8 for a tree all-reduce of M bytes over n ranks on k DGX A100 nodes."""
    g = n // k
    out = {}
    for p in ("ll", "ll128", "simple"):
        intra = _TREE_NVLINK[p] * (1.8 if (p == "ll" and k > 1) else 1.0)
        lat = _TREE_BASE[p] + 2 * ((g - 1) * intra + int(math.log2(k)) * _TREE_NET[p])
        log_size = int(M) >> 6
        i = log_size.bit_length() - 1 if log_size else 0
        corr = _CORRECTION[p][i] if i < len(_CORRECTION[p]) else 1.0
        bw = (B_RING if k > 1 else B_IN) * _TREE_BW[p] * corr
        out[p] = lat * US + 2 * M / bw
    return out


@pytest.mark.parametrize(
    ("size", "devices", "protocol"),
    [
        (1e6, 512, "ll128"),  # 1 MB over 64 nodes: LL128
        (8e3, 512, "ll"),  # a few kB: LL
        (4e9, 512, "simple"),  # past the corrected sizes: Simple's full share
        (3e5, 48, "ll128"),  # 6 nodes: log2i(6) = 2 network hops, not 3
    ],
)
def test_tree_all_reduce_is_nccl_tree_table(size: float, devices: int, protocol: str) -> None:
    model = _tree_all_reduce(size, devices, devices // 8)
    assert min(model, key=model.__getitem__) == protocol
    got = mlsysim.collective("all_reduce", f"{size} B", "DGX_A100", devices, "tree").time_s
    assert math.isclose(got, min(model.values()) + LAUNCH, rel_tol=1e-9), (got, model)


def test_tree_is_chosen_where_nccl_would_and_costs_more_than_the_ring_table_gave() -> None:
    # 1 MB over 64 DGX A100 nodes: the ring's 2(n-1) steps cost ms, the tree's log2 hops do not
    r = mlsysim.collective("all_reduce", "1 MB", "DGX_A100", 512)
    assert r.algorithm == "tree"
    tree = min(_tree_all_reduce(1e6, 512, 64).values()) + LAUNCH
    assert math.isclose(r.time_s, tree, rel_tol=1e-9)
    # the ring's hop latencies priced the same tree at 3.6 + 2(7 x 0.47 x 1.8 + 6 x 2.7) us
    # and full bandwidth for LL: NCCL's tree table is dearer at every protocol
    ring_table = (3.6 + 2 * (7 * 0.47 * 1.8 + 6 * 2.7)) * US + 2e6 / (B_RING * 0.25)
    assert r.time_s > ring_table + LAUNCH


def test_tree_bound_is_unchanged_by_protocols() -> None:
    r = mlsysim.collective("all_reduce", "1 GB", "DGX_A100", 512, "tree")
    assert math.isclose(r.time_bound_s, 2 * 1e9 / min(300e9, 8 * 25e9))


def test_ring_simple_all_reduce_pays_nccl_plateau_across_nodes() -> None:
    # ncclTopoGetAlgoTime: Ring/Simple all-reduce, nNodes > 1, nBytes >= nRanks/16 x 64 KiB:
    # lat x 1.9 (NCCL's base and hop latencies; the kernel launch is ours)
    n, k, M = 16, 2, 2e9
    lat = 8.4 + (2 * (n - 1) - 2 * (k - 1)) * 3.4 + 2 * (k - 1) * 9.6
    want = 1.9 * lat * US + 2 * (n - 1) / n * M / B_RING + LAUNCH
    got = mlsysim.collective("all_reduce", f"{M} B", "DGX_A100", n, "ring").time_s
    assert math.isclose(got, want, rel_tol=1e-9)
    # below the threshold (n/16 x 64 KiB = 64 KiB here) Simple pays its plain latency; LL wins
    small = mlsysim.collective("all_reduce", "32 kB", "DGX_A100", n, "ring").time_s
    ll = (3.6 + 28 * 0.47 * 1.8 + 2 * 2.7) * US + 2 * 15 / 16 * 32e3 / (B_RING * 0.25)
    assert math.isclose(small, ll + LAUNCH, rel_tol=1e-9)


@pytest.mark.parametrize(
    ("size", "devices", "want_us"),
    [
        # a small message runs LL (NCCL >= 2.14 below 16 kB): its hop latency, 1/3 of the
        # bandwidth inside a node and 1/4 across nodes
        (8.0, 2, 0.47 + 8 / (B_IN / 3) / US),
        (8.0, 16, 2.7 + 8 / (23.5e9 / 4) / US),
        # a large one runs Simple (v2.7.8 proxy.cc: all p2p): 3.4 / 9.6 us, the full bandwidth
        (64e6, 2, 3.4 + 64e6 / B_IN / US),
        (64e6, 16, 9.6 + 64e6 / 23.5e9 / US),
    ],
)
def test_send_recv_runs_the_cheaper_of_nccl_ll_and_simple(
    size: float, devices: int, want_us: float
) -> None:
    # after the call's fixed cost: the LL ring base latency and the kernel launch
    got = mlsysim.collective("send_recv", f"{size} B", "DGX_A100", devices).time_s
    assert math.isclose(got, (3.6 + want_us) * US + LAUNCH, rel_tol=1e-9)


def test_constants_are_nccl_table() -> None:
    from mlsysim.core import constants as c

    assert [c.NCCL_BASE_LATENCY["ring"][p].value for p in c.NCCL_PROTOCOLS] == [3.6, 10.0, 8.4]
    assert [c.NCCL_BASE_LATENCY["tree"][p].value for p in c.NCCL_PROTOCOLS] == [4.4, 4.4, 0.0]
    for p in c.NCCL_PROTOCOLS:
        table = c.NCCL_TREE_CORRECTION[p]
        assert len(table.values) == 22  # 64 B to 128 MB
        assert [table.at(64.0 * 2**i) for i in range(len(_CORRECTION[p]))] == _CORRECTION[p]
        assert table.at(1.0) == table.values[0] and table.at(2.0**40) == 1.0
    for fabric, want in (("NVLink3", [0.52, 1.2, 28.0]), ("IB_HDR", [5.0, 8.5, 50.0])):
        f = mlsysim.Fabrics[fabric]
        got = [f.tree_latency, f.tree_latency_ll128, f.tree_latency_simple]
        assert [x.to("us").magnitude for x in got] == pytest.approx(want), fabric
