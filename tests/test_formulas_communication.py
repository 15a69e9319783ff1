"""Collectives (α–β model) and the pipeline bubble against their published forms."""

from __future__ import annotations

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import DimensionError
from mlsysim.core.formulas import (
    all_gather,
    all_to_all,
    allreduce_bus_bandwidth,
    double_binary_tree_allreduce,
    hierarchical_allreduce,
    pipeline_bubble,
    reduce_scatter,
    ring_allreduce,
    ring_allreduce_s,
    tree_allreduce,
)

M, BW, ALPHA = Q_("1 GB"), Q_("100 GB/s"), Q_("5 us")


@pytest.mark.parametrize("n", [2, 4, 8, 64, 1024])
def test_ring_allreduce_thakur_form(n):
    # Thakur et al. 2005 / Patarasuk & Yuan 2009: 2(N−1)/N·M/β + 2(N−1)α
    t = ring_allreduce(size=M, n=n, bandwidth=BW, latency=ALPHA).to("s").magnitude
    assert t == pytest.approx(2 * (n - 1) / n * 1e9 / 100e9 + 2 * (n - 1) * 5e-6)
    assert ring_allreduce_s(1e9, n, 100e9, 5e-6) == pytest.approx(t)


@pytest.mark.parametrize("n", [2, 3, 8, 64, 4096])
def test_bus_bandwidth_factor_recovers_link_bandwidth(n):
    # nccl-tests PERFORMANCE.md: busbw = algbw · 2(n−1)/n, equal to the link bandwidth for an
    # ideal ring whatever n
    t = ring_allreduce(size=M, n=n, bandwidth=BW)
    busbw = allreduce_bus_bandwidth(size=M, time=t, n=n)
    assert busbw.to("GB/s").magnitude == pytest.approx(100)


def test_half_ring_collectives():
    for fn in (all_gather, reduce_scatter, all_to_all):
        t = fn(size=M, n=8, bandwidth=BW, latency=ALPHA).to("s").magnitude
        assert t == pytest.approx(7 / 8 * 1e-2 + 7 * 5e-6)
    # all-reduce = reduce-scatter + all-gather
    rs = reduce_scatter(size=M, n=8, bandwidth=BW, latency=ALPHA)
    ag = all_gather(size=M, n=8, bandwidth=BW, latency=ALPHA)
    ar = ring_allreduce(size=M, n=8, bandwidth=BW, latency=ALPHA)
    assert ar.to("s").magnitude == pytest.approx((rs + ag).to("s").magnitude)


def test_trees_trade_latency_for_bandwidth():
    small, big = Q_("8 kB"), Q_("1 GB")
    n = 1024
    assert tree_allreduce(size=small, n=n, bandwidth=BW, latency=ALPHA) < ring_allreduce(
        size=small, n=n, bandwidth=BW, latency=ALPHA
    )
    assert tree_allreduce(size=big, n=n, bandwidth=BW, latency=ALPHA) > ring_allreduce(
        size=big, n=n, bandwidth=BW, latency=ALPHA
    )
    dbt = double_binary_tree_allreduce(size=big, n=n, bandwidth=BW, latency=ALPHA)
    assert dbt.to("s").magnitude == pytest.approx(2 * 10 * 5e-6 + 2 * 1e-2)


def test_hierarchical_is_two_rings():
    t = hierarchical_allreduce(
        size=M,
        nodes=4,
        gpus_per_node=8,
        intra_bandwidth=Q_("400 GB/s"),
        inter_bandwidth=Q_("50 GB/s"),
    )
    intra = ring_allreduce(size=M, n=8, bandwidth=Q_("400 GB/s"))
    inter = ring_allreduce(size=M / 8, n=4, bandwidth=Q_("50 GB/s"))
    assert t.to("s").magnitude == pytest.approx((intra + inter).to("s").magnitude)


def test_ring_allreduce_wrong_dimension_names_size():
    with pytest.raises(DimensionError, match="size") as exc:
        ring_allreduce(size=Q_("1 s"), n=8, bandwidth=BW)
    assert "information" in str(exc.value)
    with pytest.raises(DimensionError, match="bandwidth"):
        ring_allreduce(size=M, n=8, bandwidth=Q_("100 GB"))


def test_pipeline_bubble_gpipe_and_interleaved():
    # GPipe (Huang et al. 2019): bubble (K−1)/(M+K−1) of the step
    assert pipeline_bubble(stages=4, microbatches=16) == pytest.approx(3 / 19)
    # Narayanan et al. 2021: bubble time / ideal time = (p−1)/(v·m)
    for p, m, v in [(8, 32, 1), (8, 32, 2), (16, 64, 4)]:
        f = pipeline_bubble(stages=p, microbatches=m, interleave=v)
        assert f / (1 - f) == pytest.approx((p - 1) / (v * m))
    assert pipeline_bubble(stages=1, microbatches=8) == 0.0
