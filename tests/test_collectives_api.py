"""`mlsysim.collective`: fields, algorithm choice, placement on the topology, and errors."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import ConfigError, DimensionError, UnknownNameError
from mlsysim.systems.collectives import ALGORITHMS, collective_json_schema


def test_fields_follow_nccl_tests_definitions() -> None:
    r = mlsysim.collective("all_reduce", "1 GB", "DGX_A100")
    algbw = 1e9 / r.time.to("s").magnitude
    assert r.algbw.to("B/s").magnitude == pytest.approx(algbw)
    assert r.busbw.to("B/s").magnitude == pytest.approx(algbw * 2 * 7 / 8)
    assert r.algorithm == "ring" and r.devices == 8 and r.nodes == 1
    assert r.time_bound < r.time
    data = r.to_dict()
    assert set(data) == set(collective_json_schema()["required"])


def test_ring_bound_is_the_link_and_auto_is_fastest() -> None:
    for op in ALGORITHMS:
        if op == "send_recv":
            continue
        auto = mlsysim.collective(op, "512 MB", "DGX_H100")
        for alg in ALGORITHMS[op]:
            try:
                r = mlsysim.collective(op, "512 MB", "DGX_H100", algorithm=alg)
            except ConfigError:
                continue
            assert auto.time_s <= r.time_s + 1e-12
    ring = mlsysim.collective("all_reduce", "8 GB", "DGX_H100", algorithm="ring")
    assert ring.busbw_bound.to("GB/s").magnitude == pytest.approx(450.0)


def test_small_messages_prefer_the_tree_at_scale() -> None:
    small = mlsysim.collective("all_reduce", "64 kB", "H100_1024", devices=1024)
    assert small.algorithm in ("tree", "hierarchical")
    ring = mlsysim.collective("all_reduce", "64 kB", "H100_1024", devices=1024, algorithm="ring")
    assert small.time < ring.time


def test_inter_node_bandwidth_is_the_nics() -> None:
    # 16 DGX A100 ranks on 2 nodes: ring busbw limited by 8 x 25 GB/s HDR NICs
    r = mlsysim.collective("all_reduce", "8 GB", "SuperPOD_A100", devices=16, algorithm="ring")
    assert r.busbw_bound.to("GB/s").magnitude == pytest.approx(200.0)
    p2p = mlsysim.collective("send_recv", "100 MB", "SuperPOD_A100", devices=16)
    assert p2p.busbw_bound.to("GB/s").magnitude == pytest.approx(25.0)


def test_oversubscribed_pods_tax_all_to_all_more_than_rings() -> None:
    cluster = "Llama3_Cluster"  # 1:7 between 3,072-GPU pods
    a2a_in = mlsysim.collective("all_to_all", "1 GB", cluster, devices=3072)
    a2a_out = mlsysim.collective("all_to_all", "1 GB", cluster, devices=6144)
    assert a2a_out.busbw < a2a_in.busbw / 2
    ring_out = mlsysim.collective("all_reduce", "1 GB", cluster, devices=6144, algorithm="ring")
    ring_in = mlsysim.collective("all_reduce", "1 GB", cluster, devices=3072, algorithm="ring")
    assert ring_out.busbw_bound == ring_in.busbw_bound


def test_sharp_only_where_the_fabric_reduces() -> None:
    r = mlsysim.collective("all_reduce", "1 GB", "H100_1024", devices=64, algorithm="sharp")
    assert r.algorithm == "sharp"
    assert mlsysim.collective("all_reduce", "1 GB", "H100_1024", devices=64).algorithm != "sharp"
    with pytest.raises(ConfigError, match="SHARP"):
        mlsysim.collective("all_reduce", "1 GB", "DGX_H100", algorithm="sharp")


def test_errors() -> None:
    with pytest.raises(UnknownNameError, match="all_reduce"):
        mlsysim.collective("allreduce", "1 GB", "DGX_H100")
    with pytest.raises(ConfigError, match="algorithms"):
        mlsysim.collective("all_gather", "1 GB", "DGX_H100", algorithm="tree")
    with pytest.raises(ConfigError, match="at least 2 devices"):
        mlsysim.collective("all_reduce", "1 GB", "DGX_H100", devices=1)
    with pytest.raises(DimensionError):
        mlsysim.collective("all_reduce", "1 s", "DGX_H100")
    with pytest.raises(ConfigError, match="one device"):
        mlsysim.collective("all_reduce", "1 GB", "H100", devices=8)


def test_every_fabric_has_an_end_to_end_latency_not_an_adapter_figure() -> None:
    adapter_briefs = {
        "sys_nvidia_connectx6_brief",
        "sys_nvidia_connectx7_brief",
        "sys_nvidia_quantum_x800",
    }
    for fabric in mlsysim.Fabrics:
        assert fabric.latency is not None, fabric.id
        assert fabric.source_of("latency") not in adapter_briefs, fabric.id
        assert 0.1 <= fabric.latency.to("us").magnitude <= 50, fabric.id
