"""Serving formulas: M/D/1 waits against Pollaczek–Khinchine and the exact distribution,
paged KV capacity (Kwon et al. 2023), speculative decoding (Leviathan et al. 2023), offload."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas import (
    kv_fragmentation,
    md1_wait,
    md1_wait_percentile,
    md1_wait_percentile_s,
    mm1_wait,
    mmc_wait_percentile_s,
    mmc_wait_s,
    offloaded_step_time,
    paged_kv_sequences,
    speculative_speedup,
    speculative_tokens,
    wait_probability,
)


def _exact_md1_tail(lam: float, D: float, t: float) -> float:
    """P(W_q > t) of M/D/1 from Crommelin's finite sum, in 80-digit decimals (no cancellation)."""
    getcontext().prec = 80
    lam_, D_, t_ = Decimal(lam), Decimal(D), Decimal(t)
    total = Decimal(0)
    k = 0
    while k * D_ <= t_:
        u = lam_ * (k * D_ - t_)
        total += u**k / math.factorial(k) * (-u).exp()
        k += 1
    return float(1 - (1 - lam_ * D_) * total)


def test_md1_mean_wait_is_pollaczek_khinchine_half_of_mm1():
    # ρ = 0.8, D = 10 ms: W_q = ρD/(2(1−ρ)) = 20 ms, half the M/M/1 wait at the same load
    w = md1_wait(arrival_rate=Q_("80 req/s"), service_time=Q_("10 ms")).to("ms").magnitude
    assert w == pytest.approx(20.0)
    mm1 = mm1_wait(arrival_rate=Q_("80 req/s"), service_rate=Q_("100 req/s")).to("ms").magnitude
    assert w == pytest.approx(mm1 / 2)
    with pytest.raises(FormulaDomainError, match="unstable"):
        md1_wait(arrival_rate=Q_("100 req/s"), service_time=Q_("10 ms"))


@pytest.mark.parametrize("rho", [0.1, 0.3, 0.5, 0.8, 0.9, 0.97])
@pytest.mark.parametrize("q", [0.5, 0.9, 0.99, 0.999])
def test_md1_percentile_inverts_the_exact_distribution(rho: float, q: float):
    D = 1.0
    lam = rho / D
    t = md1_wait_percentile_s(lam, D, q)
    if q <= 1 - rho:
        assert t == 0.0
        return
    # the exact tail at the returned quantile is 1 − q (0.5 % in probability, at most)
    assert _exact_md1_tail(lam, D, t) == pytest.approx(1 - q, rel=5e-3)


def test_md1_percentile_formula_and_its_idle_share():
    p99 = md1_wait_percentile(arrival_rate=Q_("50 req/s"), service_time=Q_("10 ms"), q=0.99)
    assert _exact_md1_tail(50.0, 0.01, p99.to("s").magnitude) == pytest.approx(0.01, rel=5e-3)
    # half the arrivals find the server idle at ρ = 0.5: the median wait is zero
    p50 = md1_wait_percentile(arrival_rate=Q_("50 req/s"), service_time=Q_("10 ms"), q=0.5)
    assert p50.magnitude == 0


def test_mmc_fast_paths_match_the_formulas():
    lam, mu, c = 150.0, 100.0, 2
    # Erlang C at A = 1.5, c = 2: (A²/2!)(c/(c−A)) / (1 + A + (A²/2!)(c/(c−A))) = 4.5/7
    assert wait_probability(lam / mu, c) == pytest.approx(4.5 / 7)
    C = wait_probability(lam / mu, c)
    assert mmc_wait_s(lam, mu, c) == pytest.approx(C / (c * mu - lam))
    t = mmc_wait_percentile_s(lam, mu, c, 0.99)
    assert C * math.exp(-(c * mu - lam) * t) == pytest.approx(0.01)


def test_paged_kv_capacity_and_fragmentation():
    # Llama-2-7B in fp16 keeps 512 KiB per token (524,288 B); 60 GB of blocks of 16 tokens
    # hold ⌊60e9 / (63·16·524288)⌋ = 113 sequences of 1,000 tokens (63 blocks each)
    n = paged_kv_sequences(
        memory=Q_("60 GB"), bytes_per_token=Q_("524288 B"), tokens=1000, block_size=16
    )
    assert n == math.floor(60e9 / (63 * 16 * 524288)) == 113
    # only the last block wastes space: none at a multiple of the block, B-1 slots at worst
    assert kv_fragmentation(tokens=512, block_size=16) == 0
    assert kv_fragmentation(tokens=500, block_size=16) == pytest.approx(12 / 512)
    assert kv_fragmentation(tokens=1, block_size=16) == pytest.approx(15 / 16)
    # vLLM: under 4 % waste for sequences of a few hundred tokens with 16-token blocks
    assert max(kv_fragmentation(tokens=s, block_size=16) for s in range(400, 2000)) < 0.04


def test_speculative_tokens_and_speedup_leviathan():
    # Eq. 1: (1 − α^{γ+1})/(1 − α); α = 0.8, γ = 5 -> 3.69 tokens per step
    assert speculative_tokens(acceptance=0.8, draft_tokens=5) == pytest.approx(3.68928)
    assert speculative_tokens(acceptance=0.0, draft_tokens=5) == 1.0
    assert speculative_tokens(acceptance=1.0, draft_tokens=5) == 6.0
    # Theorem 3.8 divides by the cost of γ draft steps plus the verification, γc + 1
    s = speculative_speedup(acceptance=0.8, draft_tokens=5, cost_ratio=0.05)
    assert s == pytest.approx(3.68928 / 1.25)
    # a draft as slow as the target never pays off
    assert speculative_speedup(acceptance=0.9, draft_tokens=4, cost_ratio=1.0) < 1


def test_offloaded_step_overlaps_or_adds():
    t = offloaded_step_time(device_time=Q_("10 ms"), stream_time=Q_("200 ms"))
    assert t.to("ms").magnitude == pytest.approx(200)
    t = offloaded_step_time(device_time=Q_("10 ms"), stream_time=Q_("200 ms"), overlap=False)
    assert t.to("ms").magnitude == pytest.approx(210)


@pytest.mark.parametrize(
    ("rho", "q"),
    # quantiles below three service times, where the exact sum answers; 0.95 at ρ = 0.5 and
    # 0.75 at ρ = 0.8 lie beyond 2D, so the k = 2 term of Crommelin's sum counts
    [(0.3, 0.9), (0.5, 0.9), (0.5, 0.95), (0.7, 0.75), (0.8, 0.75)],
)
@pytest.mark.parametrize("D", [0.01, 0.25])
def test_md1_exact_percentile_for_service_times_other_than_one(rho: float, q: float, D: float):
    # Found by mutation testing: with D = 1 s, λD and λ/D (and k·D and k/D) coincide.
    lam = rho / D
    t = md1_wait_percentile_s(lam, D, q)
    assert 0 < t < 3 * D
    assert _exact_md1_tail(lam, D, t) == pytest.approx(1 - q, rel=5e-3)
    # the wait in service times depends on ρ and q alone
    assert t / D == pytest.approx(md1_wait_percentile_s(rho, 1.0, q), rel=1e-9)
