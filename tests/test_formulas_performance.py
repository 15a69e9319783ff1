"""Performance formulas against datasheet and paper figures (shared/reference/validation.md)."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.core.formulas import (
    amdahl,
    arithmetic_intensity,
    attainable_flops,
    gustafson,
    hfu,
    little,
    mfu,
    ridge_point,
    roofline_time,
    transformer_flops_per_token,
    weights_bytes,
)

H100 = mlsysim.Hardware.H100
A100 = mlsysim.Hardware.A100
LLAMA2_7B = mlsysim.Models.Llama2_7B


def test_h100_ridge_point_from_datasheet():
    # H100 SXM datasheet: 989.4 TFLOP/s dense BF16, 3.35 TB/s HBM3 -> 295 FLOP/B
    assert ridge_point(hw=H100, precision="bf16").to("FLOP/B").magnitude == pytest.approx(
        989.4 / 3.35, rel=1e-9
    )


def test_llama2_7b_decode_on_a100_is_memory_bound_at_6_6_ms():
    # validation.md: 13.48 GB / 2.039 TB/s ≈ 6.6 ms/token ideal (≈151 tok/s)
    weights = weights_bytes(model=LLAMA2_7B, precision="fp16")
    flops = Q_(2 * 6.74e9, "FLOP")
    t = roofline_time(flops=flops, bytes=weights, hw=A100, precision="fp16")
    assert t.bound == "memory"
    assert t.time.to("ms").magnitude == pytest.approx(6.6, rel=0.01)
    # measured decode rates (vLLM 90.5, TensorRT-LLM 85.0, Optimum-NVIDIA 109.1 tok/s) never
    # beat the bound
    for measured in (90.5, 85.0, 109.1):
        assert 1 / measured > t.time.to("s").magnitude


def test_llama2_7b_prefill_512_on_a100_is_compute_bound_at_22_ms():
    # validation.md: 2·6.74e9·512 / 312e12 ≈ 22.1 ms ideal
    t = roofline_time(
        flops=Q_(2 * 6.74e9 * 512, "FLOP"),
        bytes=weights_bytes(model=LLAMA2_7B, precision="fp16"),
        hw=A100,
        precision="fp16",
    )
    assert t.bound == "compute"
    assert t.time.to("ms").magnitude == pytest.approx(22.1, rel=0.01)
    assert t.time == max(t.compute_time, t.memory_time)


def test_attainable_flops_is_the_roofline():
    ridge = ridge_point(hw=H100)
    below = attainable_flops(intensity=ridge / 2, hw=H100)
    above = attainable_flops(intensity=ridge * 2, hw=H100)
    assert below.to("TFLOP/s").magnitude == pytest.approx(989.4 / 2)
    assert above.to("TFLOP/s").magnitude == pytest.approx(989.4)
    assert arithmetic_intensity(flops=Q_("2 GFLOP"), bytes=Q_("1 GB")).magnitude == 2


def test_amdahl_limit_is_one_over_serial_fraction():
    assert amdahl(p=0.95, speedup=1e12) == pytest.approx(20.0, rel=1e-9)
    assert amdahl(p=0.95, speedup=247) == pytest.approx(1 / (0.05 + 0.95 / 247))
    assert amdahl(p=0.0, speedup=100) == 1.0


def test_gustafson_1988_scaled_speedups_on_1024_processors():
    # Gustafson (1988): speedups 1021, 1020 and 1016 with serial fractions ≈ 0.3 %, 0.4 %, 0.8 %
    assert gustafson(p=1 - 0.003, n=1024) == pytest.approx(1021, abs=0.5)
    assert gustafson(p=1 - 0.004, n=1024) == pytest.approx(1020, abs=0.5)
    assert gustafson(p=1 - 0.008, n=1024) == pytest.approx(1016, abs=0.5)


def test_little():
    assert little(arrival_rate=Q_("100 req/s"), latency=Q_("50 ms")).to("request").magnitude == (
        pytest.approx(5.0)
    )


def test_palm_540b_mfu():
    # PaLM (Chowdhery et al. 2022) Table 3 / App. B: 540B, L=118, H=48, Q=256, T=2048,
    # 238.3K tokens/s on 6144 TPU v4 (275 TFLOP/s bf16) -> MFU 46.2 %
    c = transformer_flops_per_token(
        params=540.35e9, layers=118, heads=48, head_dim=256, seq_len=2048
    )
    peak = 6144 * mlsysim.Hardware.TPUv4.peak_flops("bf16")
    u = mfu(throughput=Q_("238.3e3 token/s"), flops_per_token=c, peak=peak)
    assert u == pytest.approx(0.462, abs=0.002)


def test_korthikanti_175b_mfu():
    # Korthikanti et al. 2022: 175B GPT, 64 A100, global batch 64, seq 2048, 13.75 s per step
    # (SP + selective recompute) -> MFU 51.4 %
    c = transformer_flops_per_token(params=175e9, layers=96, heads=96, head_dim=128, seq_len=2048)
    throughput = Q_(64 * 2048 / 13.75, "token/s")
    u = mfu(throughput=throughput, flops_per_token=c, peak=64 * A100.peak_flops("bf16"))
    assert u == pytest.approx(0.514, abs=0.005)


def test_hfu_counts_the_recomputed_forward():
    # PaLM App. B: full rematerialization runs the forward twice: 8N + 16LHQT vs 6N + 12LHQT
    kw = dict(params=540e9, layers=118, heads=48, head_dim=256, seq_len=2048)
    model = transformer_flops_per_token(**kw)
    hw = transformer_flops_per_token(**kw, recompute="full")
    assert (hw / model).to("").magnitude == pytest.approx(4 / 3)
    peak = Q_("1 EFLOP/s")
    rate = Q_("1e5 token/s")
    assert hfu(throughput=rate, hardware_flops_per_token=hw, peak=peak) == pytest.approx(
        4 / 3 * mfu(throughput=rate, flops_per_token=model, peak=peak)
    )
