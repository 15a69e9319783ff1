"""Collective and pipeline formulas against their sources' own numbers and definitions."""

from __future__ import annotations

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import (
    ConfigError,
    DimensionError,
    FormulaDomainError,
    UnknownNameError,
)
from mlsysim.core.formulas import (
    activation_bytes_per_layer,
    activation_bytes_per_layer_B,
    broadcast,
    broadcast_s,
    bus_bandwidth,
    bus_factor,
    double_binary_tree_allreduce,
    double_binary_tree_allreduce_s,
    hierarchical_all_to_all,
    hierarchical_allreduce,
    hierarchical_allreduce_s,
    in_network_allreduce,
    in_network_allreduce_s,
    layer_chunks,
    layer_chunks_n,
    overlap_compute_loss,
    overlap_compute_loss_s,
    pipeline_bubble,
    pipeline_inflight,
    pipeline_inflight_s,
    pipeline_time,
    pipeline_time_s,
    ring_allreduce_s,
    send_recv,
    training_memory,
    training_memory_B,
)


def test_bus_factors_are_nccl_tests_definitions() -> None:
    # NVIDIA nccl-tests PERFORMANCE.md: all-reduce 2(n-1)/n; all-gather, reduce-scatter,
    # all-to-all (n-1)/n; broadcast and send/recv 1
    assert bus_factor("all_reduce", 8) == pytest.approx(1.75)
    for op in ("all_gather", "reduce_scatter", "all_to_all"):
        assert bus_factor(op, 8) == pytest.approx(0.875)
    assert bus_factor("broadcast", 8) == 1.0 and bus_factor("send_recv", 2) == 1.0
    bw = bus_bandwidth(Q_("1 GB"), Q_("2 ms"), 8, "all_gather").to("GB/s").magnitude
    assert bw == pytest.approx(500 * 0.875)
    with pytest.raises(UnknownNameError):
        bus_bandwidth(Q_("1 GB"), Q_("2 ms"), 8, "allreduce")


def test_ring_bus_bandwidth_equals_link_bandwidth() -> None:
    # the ring moves 2(n-1)/n of the buffer per rank: busbw is the link rate whatever n
    for n in (2, 8, 64):
        t = ring_allreduce_s(1e9, n, 450e9)
        assert 1e9 / t * bus_factor("all_reduce", n) == pytest.approx(450e9)


def test_in_network_allreduce_bus_bandwidth_exceeds_the_link() -> None:
    # NVLS: (1 + 1/n)·M per direction (Klenk et al. 2020; NVIDIA's description in
    # NVIDIA/nccl#1506), so the bus-bandwidth bound on 8 GPUs at 450 GB/s is 2(n-1)/(n+1)·β
    t = in_network_allreduce(Q_("1 GB"), 8, Q_("450 GB/s")).to("s").magnitude
    busbw = 1e9 / t * bus_factor("all_reduce", 8)
    assert busbw == pytest.approx(2 * 7 / 9 * 450e9)
    assert busbw > 480e9 > 450e9  # the measured NVLS figure sits between ring and this bound
    assert in_network_allreduce_s(1e9, 8, 450e9) == pytest.approx(t)


def test_send_recv_and_broadcast() -> None:
    assert send_recv(Q_("50 MB"), Q_("25 GB/s"), Q_("2 us")).to("us").magnitude == pytest.approx(
        2002.0
    )
    t = broadcast(Q_("1 GB"), 8, Q_("100 GB/s"), Q_("1 us")).to("ms").magnitude
    assert t == pytest.approx(10.0 + 7e-3)
    assert broadcast_s(1e9, 8, 100e9, 1e-6) * 1e3 == pytest.approx(t)


def test_hierarchical_all_to_all_splits_traffic_by_level() -> None:
    # 64 ranks, 8 per node: 7/64 of the buffer over NVLink, 56/64 over the NIC, concurrently
    t = hierarchical_all_to_all(
        Q_("64 MB"), 64, 8, Q_("450 GB/s"), Q_("50 GB/s"), Q_("0 s"), Q_("0 s")
    )
    assert t.to("s").magnitude == pytest.approx(56 / 64 * 64e6 / 50e9)
    one_node = hierarchical_all_to_all(Q_("64 MB"), 8, 8, Q_("450 GB/s"), Q_("50 GB/s"))
    assert one_node.to("s").magnitude == pytest.approx(7 / 8 * 64e6 / 450e9)


def test_all_to_all_bus_bandwidth_is_the_nics_as_nccl_tests_130_states() -> None:
    # S. Jeaugey (nccl-tests 130): busBw = algBw (n-1)/n; with one GPU per node it is the NIC
    # bandwidth, and with NVLink inside the node it is N/(N-1) x the NIC's on N nodes (2x on 2)
    nic, M = 50e9, 1e9

    def busbw(n: int, g: int) -> float:
        t = hierarchical_all_to_all(Q_(M, "B"), n, g, Q_(450e9, "B/s"), Q_(nic, "B/s"))
        return M / t.to("s").magnitude * bus_factor("all_to_all", n) / nic

    assert busbw(16, 1) == pytest.approx(1.0)
    for nodes in (2, 4, 8):
        assert busbw(8 * nodes, 8) == pytest.approx(nodes / (nodes - 1), rel=1.0 / 8)


def test_all_to_all_posts_every_peer_at_once_as_ncclgroup_does() -> None:
    # NCCL (paths.cc, enqueue.cc): the group's peers spread over 32 p2p channels, 2 per peer,
    # 16 peers a round: 8 ranks of a node pay one hop, not 7; 40 ranks in a node pay 3
    a = Q_("3.4 us")
    one = hierarchical_all_to_all(Q_("0 B"), 8, 8, Q_("450 GB/s"), Q_("50 GB/s"), a)
    assert one.to("us").magnitude == pytest.approx(3.4)
    big = hierarchical_all_to_all(Q_("0 B"), 40, 40, Q_("450 GB/s"), Q_("50 GB/s"), a)
    assert big.to("us").magnitude == pytest.approx(3 * 3.4)
    # remote peers: one network step, then the proxy posts each further peer in turn
    t = hierarchical_all_to_all(
        Q_("0 B"), 64, 8, Q_("450 GB/s"), Q_("50 GB/s"), a, Q_("9.6 us"), Q_("2.7 us")
    )
    assert t.to("us").magnitude == pytest.approx(9.6 + 55 * 2.7)
    with pytest.raises(ConfigError, match="per_node"):
        hierarchical_all_to_all(Q_("1 MB"), 4, 8, Q_("450 GB/s"), Q_("50 GB/s"))


def test_fast_paths_match_the_quantity_formulas() -> None:
    t = double_binary_tree_allreduce(Q_("1 GB"), 64, Q_("50 GB/s"), Q_("5 us"))
    assert double_binary_tree_allreduce_s(1e9, 64, 50e9, 5e-6) == pytest.approx(t.magnitude)
    h = hierarchical_allreduce(
        Q_("1 GB"), 16, 8, Q_("450 GB/s"), Q_("50 GB/s"), Q_("2 us"), Q_("10 us")
    )
    assert hierarchical_allreduce_s(1e9, 16, 8, 450e9, 50e9, 2e-6, 10e-6) == pytest.approx(
        h.to("s").magnitude
    )
    a = activation_bytes_per_layer(2048, 1, 12288, 96, tp=8, sp=True, recompute="selective")
    assert activation_bytes_per_layer_B(2048, 1, 12288, 96, 8, True, "selective") == (
        pytest.approx(a.to("B").magnitude)
    )
    tm = training_memory(175e9 / 64, zero_stage=1, dp=8)
    w, g, o = training_memory_B(175e9 / 64, 2.0, 4.0, 12.0, 1, 8)
    assert (w + g + o) == pytest.approx(tm.total.to("B").magnitude)


def test_pipeline_time_bubble_is_narayanan_fraction() -> None:
    # Narayanan et al. 2021: the interleaved bubble is (p-1)/(v·m) of the ideal time
    p, m, v, t = 8, 64, 3, 0.2
    T = pipeline_time(Q_("200 ms"), p, m, v).to("s").magnitude
    T_fast = pipeline_time_s(t, p, m, v)
    assert pytest.approx(T_fast) == T
    assert (T - m * t) / (m * t) == pytest.approx((p - 1) / (v * m))
    # ... and the bubble's share of the step is the existing formula's (p-1)/(v·m + p-1)
    assert (T - m * t) / T == pytest.approx(pipeline_bubble(p, m, v))
    # GPipe and 1F1B share the bubble (p-1)/m
    assert pipeline_time_s(t, p, m) == pytest.approx((m + p - 1) * t)


def test_layer_chunks_is_llama3_405b_split() -> None:
    # Dubey et al. 2024, §3.3.2: 126 layers on 16 stages, one layer fewer on the first and the
    # last, whose first/last chunk holds only the embedding/the loss: one-layer chunks, v = 8
    assert layer_chunks(126, 16) == 8
    assert layer_chunks_n(126.0, 16.0) == 8.0
    assert layer_chunks(126, 8) == 16  # the same split on 8 stages
    with pytest.raises(FormulaDomainError, match="layer_chunks"):
        layer_chunks(126, 12)  # 128 places do not split over 12 stages


def test_pipeline_time_is_llama3_bubble_ratio() -> None:
    # Dubey et al. 2024, §3.3.2: "Overall pipeline bubble ratio is (PP-1)/(V*M)"; Table 4's
    # PP 16 with 32 (8K GPUs) and 16 (16K GPUs) sequences per data-parallel group
    t = 0.1
    for m in (32, 16):
        T = pipeline_time_s(t, 16, m, 8)
        assert (T - m * t) / (m * t) == pytest.approx(15 / (8 * m))
    assert (pipeline_time_s(t, 16, 16, 8) - 1.6) / 1.6 == pytest.approx(0.1171875)


def test_pipeline_inflight_reproduces_korthikanti_interleaving() -> None:
    # Korthikanti et al. 2022, Fig. 1: 175B, p=8, v=3 holds 12.35 GiB where the 22B-like
    # 1F1B count (34·sbh/t · L) gives 9.56 GiB — a factor 1 + (p-1)/(p·v) = 1.292
    assert pipeline_inflight(8, 64, 3, "interleaved") / 8 == pytest.approx(12.35 / 9.56, rel=3e-3)
    assert pipeline_inflight(8, 64, 1, "1f1b") == 8  # the first stage holds p micro-batches
    assert pipeline_inflight(8, 4, 1, "1f1b") == 4  # ... or all of them when fewer
    assert pipeline_inflight(8, 64, 1, "gpipe") == 64  # GPipe keeps every micro-batch
    assert pipeline_inflight_s(8, 64, 3, "interleaved") == pytest.approx(8 * (1 + 7 / 24))
    with pytest.raises(UnknownNameError):
        pipeline_inflight(8, 64, 1, "zero-bubble")


def test_pipeline_inflight_interleaved_never_exceeds_the_step() -> None:
    # Megatron-LM's interleaved schedule: rank 0 warms up with 2(p-1) + (v-1)·p chunk
    # forwards, p + (p-1)/v micro-batches' worth; with m = p the step has only m·v chunk
    # forwards, and it runs them all first: m in flight (Llama 3 405B on 16K GPUs: 16, 16, 8)
    assert pipeline_inflight(16, 16, 8, "interleaved") == 16
    assert pipeline_inflight(16, 32, 8, "interleaved") == pytest.approx(16 + 15 / 8)
    assert pipeline_inflight(8, 8, 3, "interleaved") == 8


def test_dimensions_are_checked() -> None:
    with pytest.raises(DimensionError):
        send_recv(Q_("1 s"), Q_("25 GB/s"))
    with pytest.raises(DimensionError):
        pipeline_time(Q_("1 GB"), 8, 64)


def test_overlap_compute_loss_is_the_sms_the_collective_holds() -> None:
    # Jeaugey (NVIDIA/nccl#689): 16 SMs on a DGX with 8 NICs, CTAs that share no SM; an
    # A100 has 108 SMs, an H100 SXM 132: over 10 ms of overlap they lose 1.48 and 1.21 ms
    assert overlap_compute_loss(Q_("10 ms"), 16, 108).to("ms").magnitude == pytest.approx(
        10.0 * 16 / 108
    )
    assert overlap_compute_loss_s(0.010, 16, 132) == pytest.approx(0.010 * 16 / 132)
    assert overlap_compute_loss_s(0.010, 0, 132) == 0.0  # no collective beside it
    # the SM share alone is a lower bound of the slowdown Lee et al. 2025 measured (18.9 %
    # on average over A100, H100, MI250, MI210): the HBM bandwidth taken is not charged
    assert overlap_compute_loss_s(1.0, 16, 132) < overlap_compute_loss_s(1.0, 16, 108) < 0.189
    with pytest.raises(DimensionError):
        overlap_compute_loss(Q_("10 GB"), 16, 108)


def test_hidden_tensor_parallel_collectives_cost_the_sms_they_hold() -> None:
    # TP 8 on one DGX A100 (no data parallelism): hiding every TP collective (overlap = 1.0)
    # saves its time but the GEMMs beside it lose 16 of 108 SMs for as long: the step is
    # shorter than the exposed one (overlap = 0.0) by (1 − 16/108) of what was hidden
    import mlsysim

    kw = dict(model="GPT_22B", system="DGX_A100", phase="training", seq_len=2048, tp=8, batch=8)
    exposed = mlsysim.solve(**kw, overlap=0.0)
    hidden = mlsysim.solve(**kw, overlap=1.0)
    T_o = hidden.communication.overlapped_s
    assert exposed.communication.overlapped_s == 0.0 and T_o > 0.0
    saved = exposed.step_time_s - hidden.step_time_s
    assert saved == pytest.approx(T_o - overlap_compute_loss_s(T_o, 16, 108), rel=1e-9)
