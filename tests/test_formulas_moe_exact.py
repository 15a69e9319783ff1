"""Mixture-of-experts formulas against values derived by hand or from their stated method:
Feller's occupancy (distinct experts), the capacity-factor load (Fedus et al. 2022 §2.1), and
the grouped GEMM's expected row tiles ``E·Σⱼ P(X > j·t)``, ``X ~ B(n, k/E)``, whose ``j ≥ 1``
terms are the normal approximation with continuity correction — here with the exact normal
tail (``math.erfc``), so the only allowed gap is Abramowitz & Stegun 7.1.26's error bound."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas.moe import (
    distinct_experts,
    expected_expert_tiles,
    expected_experts,
    expert_load,
    expert_load_T,
    expert_row_tiles,
)

#: A&S 7.1.26: |erfc error| ≤ 1.5e-7, so a normal tail P(Z > z) = erfc/2 is off by ≤ 7.5e-8.
_AS_TAIL_ERROR = 7.5e-8


def _normal_row_tiles(E: int, k: int, n: float, t: float) -> tuple[float, float]:
    """``E·(P(X > 0) + Σ_{j≥1} Q((j·t + 0.5 − μ)/σ))`` with the exact normal tail, and the
    error bound of evaluating it with A&S 7.1.26 (every term within 8σ of the mean)."""
    if n == 0.0:
        return 0.0, 1e-12
    p = k / E
    mu, sigma = n * p, math.sqrt(n * p * (1.0 - p))
    total = 1.0 - (1.0 - p) ** n
    j = 1
    while j * t <= mu + 40.0 * sigma + t:
        total += 0.5 * math.erfc((j * t + 0.5 - mu) / (sigma * math.sqrt(2.0)))
        j += 1
    terms = 16.0 * sigma / t + 3.0  # thresholds within ±8σ, plus the window's ends
    return E * total, E * terms * _AS_TAIL_ERROR + 1e-12


@pytest.mark.parametrize(
    ("E", "k", "n", "t"),
    [
        (8, 2, 3.0, 1.0),  # σ² = 0.5625 < 1: an expert's count spreads under one row
        (8, 2, 64.0, 16.0),  # μ = 16 = one tile: thresholds on both sides of the mean
        (8, 2, 512.0, 16.0),  # μ = 128, σ = 9.8: many tiles, z from −13 to +13
        (8, 2, 4096.0, 16.0),  # μ = 1024, σ = 27.7: the window starts at j = 50
        (8, 2, 4096.0, 128.0),  # Mixtral at 4096 tokens: the window starts at j = 6
        (64, 6, 2000.0, 64.0),  # DeepSeek-style routing: p = 6/64
        (16, 1, 777.0, 8.0),  # top-1 (Switch): p = 1/16
    ],
)
def test_row_tiles_are_the_normal_tail_sum(E: int, k: int, n: float, t: float) -> None:
    want, bound = _normal_row_tiles(E, k, n, t)
    assert expert_row_tiles(E, k, n, t) == pytest.approx(want, rel=0.0, abs=bound)


def test_row_tiles_with_tile_one_count_every_row() -> None:
    """``Σⱼ P(X > j) = E[X]``: with one-row tiles the launch runs the n·k rows themselves
    (normal approximation of a binomial of mean 1024: within a row of 8192)."""
    assert expert_row_tiles(8, 2, 4096.0, 1.0) == pytest.approx(8192.0, abs=1.0)


def test_row_tiles_limits() -> None:
    # no tokens: no tiles; one token: its k experts' one tile each (k·1 rows, exact)
    assert expert_row_tiles(8, 2, 0.0, 128.0) == 0.0
    assert expert_row_tiles(8, 2, 1.0, 128.0) == pytest.approx(2.0, abs=1e-12)
    # two tokens on 8 experts (k = 2): occupied experts 8·(1 − 0.75²) = 3.5, one tile each
    assert expert_row_tiles(8, 2, 2.0, 128.0) == pytest.approx(3.5, abs=1e-12)
    # every expert sees every token (k = E): ceil(n/t) tiles each, also at a fractional
    # mean count (a micro-batch's tokens per rank): 4·ceil(256.25/128) = 4·3
    assert expert_row_tiles(8, 8, 300.0, 128.0) == 24.0
    assert expert_row_tiles(4, 4, 256.25, 128.0) == 12.0
    assert float(expected_expert_tiles(experts=4, active=4, tokens=256, tile=128)) == 8.0


def test_row_tiles_of_an_array_are_each_elements() -> None:
    n: Any = np.array([0.0, 1.0, 3.0, 64.0, 513.0, 4096.0])
    for t in (1.0, 16.0, 128.0):
        arr: Any = expert_row_tiles(8, 2, n, t)
        want = [_normal_row_tiles(8, 2, float(x), t) for x in n]
        for got, (value, bound) in zip(arr.tolist(), want, strict=True):
            assert got == pytest.approx(value, rel=0.0, abs=bound), t
        assert arr.tolist() == pytest.approx(
            [expert_row_tiles(8, 2, float(x), t) for x in n], rel=1e-12, abs=1e-12
        )


def test_distinct_experts_of_one_token_are_its_k() -> None:
    # one token reaches exactly its k experts (1 − (1 − k/E) need not round back to k/E)
    for E, k in ((3, 1), (7, 3), (10, 3), (6, 5), (64, 6)):
        assert distinct_experts(E, k, 1.0) == k
        assert float(expected_experts(E, k, 1)) == k
    # Feller: 8·(1 − 0.75⁴) = 8·(1 − 81/256) = 5.46875 for Mixtral's batch of 4
    assert float(expected_experts(8, 2, 4)) == pytest.approx(5.46875, rel=1e-15)


def test_all_experts_active_is_allowed() -> None:
    # k = E (dense routing) is the largest valid k: every expert, every token
    assert float(expected_experts(8, 8, 5)) == 8.0
    assert float(expected_expert_tiles(experts=8, active=8, tokens=300, tile=128)) == 24.0


@pytest.mark.parametrize("call", [expected_experts, expected_expert_tiles])
def test_more_active_than_experts_is_refused_with_what_where_and_fix(call: object) -> None:
    with pytest.raises(FormulaDomainError) as info:
        call(experts=8, active=9, tokens=64)  # type: ignore[operator]
    err = info.value
    assert "active (9) exceeds experts (8)" in err.what
    assert err.where == call.__name__  # type: ignore[attr-defined]
    assert "at most experts" in err.fix


def test_busiest_expert_load() -> None:
    # f·n·k/E: 1.25 · 4096 · 2 / 8 = 1280 tokens (Switch's capacity factor on Mixtral)
    assert expert_load_T(4096.0, 8.0, 2.0, 1.25) == 1280.0
    # DeepSeek-V3-like: 1000 tokens, 8 of 256 experts, balanced: 1000·8/256 = 31.25
    assert expert_load_T(1000.0, 256.0, 8.0, 1.0) == 31.25
    q = expert_load(tokens=4096, experts=8, active=2, imbalance=1.25)
    assert q.to("token").magnitude == pytest.approx(1280.0, rel=1e-15)
    q = expert_load(tokens=600, experts=64, active=6)  # default f = 1.25: 1.25·600·6/64
    assert q.to("token").magnitude == pytest.approx(70.3125, rel=1e-15)
