"""Tile and wave quantization (``mlsysim.core.formulas.kernels``): the sources' numbers, array
safety, and monotonicity — a larger problem is never faster, for one GEMM and for whole solves.

Tolerance: time is compared with a relative slack of 1e-12, float rounding only (the time of
a GEMM is an exact product of waves and a tile's work; sums over a step's ops reorder no
terms between neighbouring sizes). No physical slack is allowed: the model has no mechanism
by which one more token or sequence makes a step faster.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim import Q_, solve
from mlsysim.core.constants import KERNEL_NODE_TIME
from mlsysim.core.exceptions import ConfigError, UnsupportedPrecisionError
from mlsysim.core.formulas.kernels import (
    exposed_launch_overhead,
    gemm_wave_efficiency,
    gemm_wave_fraction,
    graph_launch_overhead,
    graph_launch_overhead_s,
    padded_wave_efficiency,
    padded_wave_fraction,
    wave_efficiency,
    wave_fraction,
)

ROUNDING = 1e-12
US = mlsysim.Q_(1.0, "us")
DEVICES = [h.id for h in mlsysim.Hardware]  # every registry device, MCUs and CPUs too
TILES = [(128.0, 128.0, 256.0), (128.0, 128.0, 0.0), (256.0, 128.0, 64.0), (64.0, 64.0, 32.0)]


def _gemm_time(m: float, n: float, k: float, units: float, tile: tuple[float, ...]) -> float:
    """A GEMM's time in units of one SM's FLOP rate: FLOPs over the busy fraction."""
    eta = gemm_wave_fraction(m, n, k, units, *tile)
    return 2.0 * m * n * k / eta


def test_guide_wave_example() -> None:
    # Matrix Multiplication Background §3.2: 109 tiles on 108 SMs take two waves
    assert wave_efficiency(tiles=109, units=108) == pytest.approx(109 / 216)
    assert padded_wave_efficiency(work=109, tiles=109, units=108) == pytest.approx(109 / 216)


def test_tile_quantization_pads_the_last_tile() -> None:
    # §3.1: a dimension one past a tile multiple launches a whole extra tile. 257 rows on
    # 128-row tiles: 3 row tiles, 12 with N = 512; no split-K: one wave of 108 SMs
    eta = gemm_wave_efficiency(m=257, n=512, k=4096, units=108, tile_k=0)
    assert eta == pytest.approx(257 * 512 / (128 * 128) / 108)
    # a batch-1 GEMM runs on the smallest power-of-two tile side from 8 (cuBLASLt's tiles)
    one = gemm_wave_efficiency(m=1, n=4096, k=4096, units=108, tile_k=0)
    assert one == pytest.approx(1 * 4096 / (8 * 128) / 108)


def test_resnet_stage4_conv_docstring_number() -> None:
    # M = 49 on 64-row tiles, 4 output tiles split 18 ways over K = 4608: 72 of 108 SMs busy
    eta = gemm_wave_efficiency(m=49, n=512, k=4608, units=108)
    assert eta == pytest.approx(49 * 512 * 4608 / (64 * 128 * 256) / 108)


def test_arrays_give_the_scalar_results() -> None:
    ms = [1.0, 7.0, 49.0, 128.0, 129.0, 256.0, 257.0, 4096.0]
    for tile in TILES:
        m_arr: Any = np.array(ms)
        arr: Any = gemm_wave_fraction(m_arr, 512.0, 4608.0, 108.0, *tile)
        assert list(arr) == [gemm_wave_fraction(m, 512.0, 4608.0, 108.0, *tile) for m in ms]
    work: Any = np.array([0.0, 1.0, 1.5, 108.0])
    tiles: Any = np.array([1.0, 1.0, 2.0, 108.0])
    arr = padded_wave_fraction(work, tiles, 108.0)
    assert list(arr) == [
        padded_wave_fraction(w, t, 108.0) for w, t in zip(work, tiles, strict=True)
    ]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    m=st.integers(1, 5000),
    n=st.integers(1, 5000),
    k=st.integers(1, 20000),
    grow=st.integers(1, 300),
    axis=st.sampled_from(["m", "n", "k"]),
    units=st.sampled_from([1.0, 20.0, 40.0, 80.0, 108.0, 132.0, 304.0]),
    tile=st.sampled_from(TILES),
)
def test_gemm_time_never_falls_as_a_dimension_grows(
    m: int, n: int, k: int, grow: int, axis: str, units: float, tile: tuple[float, ...]
) -> None:
    dims = {"m": float(m), "n": float(n), "k": float(k)}
    before = _gemm_time(dims["m"], dims["n"], dims["k"], units, tile)
    dims[axis] += grow
    after = _gemm_time(dims["m"], dims["n"], dims["k"], units, tile)
    assert after >= before * (1.0 - ROUNDING), (axis, m, n, k, grow, before, after)
    # and never beats the unquantized time
    assert before >= 2.0 * m * n * k / units * (1.0 - ROUNDING)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    heads=st.integers(1, 256),
    tokens=st.integers(1, 8192),
    grow=st.integers(1, 300),
    units=st.sampled_from([20.0, 108.0, 132.0]),
)
def test_attention_block_time_never_falls(heads: int, tokens: int, grow: int, units: float) -> None:
    def time(T: float) -> float:  # FLOPs ∝ heads·T² over the padded query blocks' waves
        work = heads * T / 128.0
        tiles = heads * float(np.ceil(T / 128.0))
        return heads * T * T / padded_wave_fraction(work, tiles, units)

    assert time(tokens + grow) >= time(tokens) * (1.0 - ROUNDING)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    device=st.sampled_from(DEVICES),
    model=st.sampled_from(
        ["Llama2_7B", "Llama3_2_1B", "Mixtral_8x7B", "BERT_Base", "ResNet50", "DSCNN_KWS"]
    ),
    phase=st.sampled_from(["prefill", "decode", "inference"]),
    key=st.sampled_from(["batch", "seq_len"]),
    start=st.integers(1, 500),
    span=st.integers(1, 12),
)
def test_solve_time_never_falls_as_tokens_or_batch_grow(
    device: str, model: str, phase: str, key: str, start: int, span: int
) -> None:
    spec = mlsysim.Models[model]
    if spec.kind != "transformer":
        phase, key = "inference", "batch"
    elif spec.task != "llm":
        phase = "inference"
    if key == "seq_len" and spec.kind == "transformer":
        start = min(start, int(spec.transformer.max_seq_len) - span)
    try:  # a device that cannot run the model at all (memory, formats) says so; skip it
        solve(model, device, phase=phase, **{key: start})
    except (ConfigError, UnsupportedPrecisionError):
        assume(False)
    prev = None
    for x in range(start, start + span + 1):
        r = solve(model, device, phase=phase, **{key: x})
        if prev is not None:
            assert r.latency_s >= prev * (1.0 - ROUNDING), (device, model, phase, key, x)
        prev = r.latency_s


# Limits and hand-derived cases. Found by mutation testing: an idle or SM-less device, one SM,
# a single wave, a GEMV, K = 1 and split-K over a whole device had no test of their own.


def test_a_partial_single_wave_leaves_the_other_sms_idle() -> None:
    assert wave_efficiency(54, 108) == pytest.approx(0.5)
    assert wave_efficiency(1, 108) == pytest.approx(1 / 108)
    assert wave_efficiency(108, 108) == 1.0


def test_no_work_or_no_sm_count_is_never_a_loss() -> None:
    # the documented limits: an idle device is not inefficient; without SMs there are no waves
    assert wave_fraction(0.0, 108.0) == 1.0
    assert wave_fraction(5.0, 0.0) == 1.0
    assert padded_wave_fraction(0.0, 0.0, 108.0) == 1.0
    assert padded_wave_fraction(3.0, 4.0, 0.0) == 1.0
    assert gemm_wave_fraction(4096.0, 4096.0, 4096.0, 0.0, 128.0, 128.0, 256.0) == 1.0
    for m, n, k in ((0.0, 128.0, 64.0), (128.0, 0.0, 64.0), (128.0, 128.0, 0.0)):
        assert gemm_wave_fraction(m, n, k, 108.0, 128.0, 128.0, 256.0) == 1.0


def test_one_sm_still_pays_for_padding() -> None:
    # two padded tiles holding one tile of work, one SM: two waves, half of them useful
    assert padded_wave_efficiency(work=1, tiles=2, units=1) == pytest.approx(0.5)
    assert padded_wave_fraction(0.5, 1.0, 108.0) == pytest.approx(0.5 / 108)
    # M = 100 on a 128-row tile, one SM, no split possible: 100/128 of the tile is useful
    eta = gemm_wave_efficiency(m=100, n=128, k=64, units=1, tile_m=128, tile_n=128, tile_k=64)
    assert eta == pytest.approx(100 / 128)


def test_gemv_of_a_decode_step_by_hand() -> None:
    # M = K = 4096, N = 1 on 108 SMs, 128×128 tiles, t_k = 256: N runs on an 8-wide tile
    # (1/8 useful), 32 tiles split 3 ways over 16 K-chunks (the longest split holds 6 of the
    # 16/3), 96 blocks in one wave of 108: η = 1/8 · (16/3)/6 · 96/108
    eta = gemm_wave_efficiency(m=4096, n=1, k=4096, units=108)
    assert eta == pytest.approx(1 / 8 * (16 / 3) / 6 * 96 / 108)


def test_k_of_one_and_split_k_over_the_whole_device() -> None:
    # four full 128×128 output tiles on four SMs, K = 1, no split-K: every SM busy
    assert gemm_wave_fraction(256.0, 256.0, 1.0, 4.0, 128.0, 128.0, 0.0) == pytest.approx(1.0)
    # K = 1 still pays for a padded M: 100 of the tile's 128 rows are useful
    assert gemm_wave_fraction(100.0, 128.0, 1.0, 1.0, 128.0, 128.0, 0.0) == pytest.approx(100 / 128)
    # one output tile with 108 K-chunks of 64 splits 108 ways and fills all 108 SMs
    assert gemm_wave_fraction(128.0, 128.0, 64.0 * 108, 108.0, 128.0, 128.0, 64.0) == pytest.approx(
        1.0
    )
    # K-chunks of a single element split the same way: 4 chunks over 4 SMs
    assert gemm_wave_fraction(128.0, 128.0, 4.0, 4.0, 128.0, 128.0, 1.0) == pytest.approx(1.0)


def test_graph_replay_cost_of_the_measured_numbers() -> None:
    # ahrefs/ocannl #488: ~15 µs per replay and ~0.58 µs per node; 100 nodes -> 73 µs
    t = graph_launch_overhead(nodes=100, per_node=Q_("0.58 us"), per_replay=Q_("15 us"))
    assert t.to("us").magnitude == pytest.approx(73.0)
    assert graph_launch_overhead_s(0.0, 0.58e-6, 15e-6) == pytest.approx(15e-6)


def test_a_kernel_costs_the_device_a_node_time_that_asynchrony_does_not_hide() -> None:
    # ahrefs/ocannl #488, chains of no-op kernels: a CUDA graph replays ~0.58 us a node;
    # asynchronous enqueues of ~2.6-2.8 us each set a stream's pace
    node = KERNEL_NODE_TIME.value * US
    assert KERNEL_NODE_TIME.value == 0.58
    graph = exposed_launch_overhead(kernel=0 * US, launch=0.58 * US, node=node)
    stream = exposed_launch_overhead(kernel=0 * US, launch=2.7 * US, node=node)
    assert graph.to("us").magnitude == pytest.approx(0.58)
    assert 2.6 <= stream.to("us").magnitude <= 2.8
    # a kernel longer than its launch hides the host's enqueue, never the device's node time
    long = exposed_launch_overhead(kernel=10 * US, launch=3 * US, node=node)
    assert long.to("us").magnitude == pytest.approx(0.58)
    assert exposed_launch_overhead(kernel=10 * US, launch=3 * US).magnitude == 0.0
