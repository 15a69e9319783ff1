"""MoE as it runs (issue 15, deliverable 3): the experts a decode step reads at a batch, the
load-imbalance factor on the expert-parallel critical path, and the all-to-all it drives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlsysim import solve
from mlsysim.core.exceptions import ConfigError, FormulaDomainError
from mlsysim.core.formulas.kernels import (
    gemm_tile_rows,
    gemm_wave_fraction,
    grouped_gemm_wave_fraction,
)
from mlsysim.core.formulas.moe import distinct_experts, expected_expert_tiles, expert_row_tiles


def _weights_read(batch: int) -> float:
    r = solve("Mixtral_8x7B", "H100", phase="decode", batch=batch, seq_len=8, precision="fp8")
    return float(r.to_dict()["bytes"]["value"])


def test_decode_reads_the_expected_distinct_experts() -> None:
    # Mixtral: 2 of 8 experts per token; D = 2, 3.5, 4.625 for 1, 2, 3 tokens (all 8 at 64).
    # Bytes = shared + D(batch) x one expert + a few MB per token of activations and KV, so
    # the growth between batches follows D, at one expert's weights per distinct expert.
    b1, b2, b3 = _weights_read(1), _weights_read(2), _weights_read(3)
    d1, d2, d3 = (distinct_experts(8, 2, n) for n in (1, 2, 3))
    assert (d1, d2, d3) == (2.0, 3.5, 4.625)
    assert round(distinct_experts(8, 2, 64), 3) == 8.0
    per_expert = (b2 - b1) / (d2 - d1)
    assert (b3 - b2) / (d3 - d2) == pytest.approx(per_expert, rel=0.01)
    # one expert of Mixtral is 3 x 4096 x 14336 x 32 layers of fp8 weights = 5.64 GB
    assert per_expert == pytest.approx(3 * 4096 * 14336 * 32, rel=0.01)


def _ep_training(**kw: object) -> object:
    return solve(
        model="Mixtral_8x7B",
        system="DGX_H100",
        phase="training",
        seq_len=1024,
        batch=8,
        **kw,  # type: ignore[arg-type]
    )


def test_imbalance_sets_the_expert_parallel_critical_path() -> None:
    balanced = _ep_training(ep=8, expert_imbalance=1.0)
    default = _ep_training(ep=8)
    skewed = _ep_training(ep=8, expert_imbalance=2.0)
    t = [r.step_time_s for r in (balanced, default, skewed)]  # type: ignore[attr-defined]
    assert t[0] < t[1] < t[2]
    a2a = [
        sum(c["total_s"] for c in r.to_dict()["collectives"] if c["group"] == "ep")  # type: ignore[attr-defined]
        for r in (balanced, skewed)
    ]
    assert 0.0 < a2a[0] < a2a[1]  # the busiest rank receives f x the mean tokens


def test_imbalance_without_expert_parallelism_changes_nothing() -> None:
    a = _ep_training(tp=8, expert_imbalance=1.0)
    b = _ep_training(tp=8, expert_imbalance=2.0)
    assert a.step_time_s == b.step_time_s  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [0.5, 0.0, -1.0, "fast"])
def test_imbalance_below_one_is_refused(bad: object) -> None:
    with pytest.raises(ConfigError, match="expert_imbalance"):
        solve("Mixtral_8x7B", "H100", phase="decode", expert_imbalance=bad)


def _binomial_row_tiles(E: int, k: int, n: int, t: int) -> float:
    """E · E[ceil(X/t)] for X ~ B(n, k/E), summed over the exact probability mass."""
    p = k / E
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for x in range(1, n + 1):
        log_pmf = math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1)
        total += math.ceil(x / t) * math.exp(log_pmf + x * log_p + (n - x) * log_q)
    return E * total


@pytest.mark.parametrize("n", [1, 3, 64, 400, 511, 512, 513, 1000, 4096])
def test_expert_row_tiles_match_the_binomial_expectation(n: int) -> None:
    # the j = 0 term is exact; the others use the normal approximation (A&S 7.1.26 tail),
    # within 0.3 % where an expert averages about one tile (the binomial skew)
    assert expert_row_tiles(8, 2, float(n), 128.0) == pytest.approx(
        _binomial_row_tiles(8, 2, n, 128), rel=5e-3
    )


def test_expert_row_tiles_limits_and_arrays() -> None:
    assert expert_row_tiles(8, 2, 1.0, 128.0) == 2.0  # one token: its two experts' tiles
    assert expert_row_tiles(8, 2, 0.0, 128.0) == 0.0
    assert expert_row_tiles(8, 8, 300.0, 128.0) == 24.0  # every expert: ceil(300/128) each
    # far past a tile per expert, about half a tile of padding per expert
    assert expert_row_tiles(8, 2, 65536.0, 128.0) == pytest.approx(1024 + 4, rel=1e-4)
    r = expected_expert_tiles(experts=8, active=2, tokens=4096, tile=128)
    assert float(r) == pytest.approx(67.94, abs=0.01)
    n = np.array([1.0, 64.0, 513.0, 4096.0])
    arr = expert_row_tiles(8, 2, n, 128.0)
    assert arr == pytest.approx([expert_row_tiles(8, 2, float(x), 128.0) for x in n], rel=1e-12)


def test_grouped_gemm_reduces_to_one_gemm_and_pads_per_expert() -> None:
    # one problem: the grouped launch is the GEMM itself
    for m in (49.0, 300.0, 4096.0):
        t = gemm_tile_rows(m, 128.0)
        one = grouped_gemm_wave_fraction(m, math.ceil(m / t), t, 14336.0, 4096.0, 132.0, 128, 256)
        assert one == gemm_wave_fraction(m, 14336.0, 4096.0, 132.0, 128.0, 128.0, 256.0)
    # 8 experts of 1024 rows on average: the padded half tile per expert costs ~6 %
    m = 8192.0
    rows = expert_row_tiles(8, 2, 4096.0, 128.0)
    grouped = grouped_gemm_wave_fraction(m, rows, 128.0, 14336.0, 4096.0, 132.0, 128, 256)
    dense = gemm_wave_fraction(m, 14336.0, 4096.0, 132.0, 128.0, 128.0, 256.0)
    assert grouped < dense


def test_moe_step_time_is_monotone_in_batch() -> None:
    # per-expert tile padding never makes a larger step faster (decode and prefill)
    prev = 0.0
    for b in range(1, 700, 3):
        t = solve("Mixtral_8x7B", "H100", phase="decode", batch=b, seq_len=64, precision="fp8")
        assert t.latency_s >= prev * (1 - 1e-12), b  # type: ignore[attr-defined]
        prev = t.latency_s  # type: ignore[attr-defined]
    prev = 0.0
    for s in range(16, 2048, 37):
        t = solve("Mixtral_8x7B", "H100", phase="prefill", batch=1, seq_len=s, precision="fp8")
        assert t.latency_s >= prev * (1 - 1e-12), s  # type: ignore[attr-defined]
        prev = t.latency_s  # type: ignore[attr-defined]


def test_the_expert_gemms_run_as_one_grouped_launch_padded_per_expert() -> None:
    # Mixtral prefill of 4096 tokens on one H100: 8192 token-expert rows over 8 experts of
    # 1024 rows on average; each expert's last tile is padded on its own
    r = solve("Mixtral_8x7B", "H100", phase="prefill", batch=1, seq_len=4096, precision="fp8")
    ops = {o.name: o for o in r.ops}  # type: ignore[attr-defined]
    units = 132.0  # H100 SXM SMs
    rows = expert_row_tiles(8, 2, 4096.0, 128.0)
    up = grouped_gemm_wave_fraction(8192.0, rows, 128.0, 2 * 14336.0, 4096.0, units, 128, 256)
    down = grouped_gemm_wave_fraction(8192.0, rows, 128.0, 4096.0, 14336.0, units, 128, 256)
    assert ops["moe_up"].waves == pytest.approx(up, rel=1e-12)
    assert ops["moe_down"].waves == pytest.approx(down, rel=1e-12)
    one = gemm_wave_fraction(8192.0, 2 * 14336.0, 4096.0, units, 128.0, 128.0, 256.0)
    assert ops["moe_up"].waves < one  # one 8192-row GEMM would pad nothing


def test_expected_expert_tiles_refuses_more_active_than_experts() -> None:
    with pytest.raises(FormulaDomainError, match="active"):
        expected_expert_tiles(experts=8, active=9, tokens=64)
