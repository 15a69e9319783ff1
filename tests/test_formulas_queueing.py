"""Queueing formulas against closed forms in Kleinrock (1975) and Erlang C."""

from __future__ import annotations

import math

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas import (
    batch_fill_time,
    batching_throughput,
    erlang_c,
    fanout_tail,
    little,
    mm1_latency,
    mm1_latency_percentile,
    mm1_wait,
    mmc_wait,
    mmc_wait_percentile,
    utilization,
)

LAM, MU = Q_("80 req/s"), Q_("100 req/s")


def test_mm1_closed_forms():
    assert mm1_latency(arrival_rate=LAM, service_rate=MU).to("ms").magnitude == (pytest.approx(50))
    assert mm1_wait(arrival_rate=LAM, service_rate=MU).to("ms").magnitude == pytest.approx(40)
    p99 = mm1_latency_percentile(arrival_rate=LAM, service_rate=MU, q=0.99)
    assert p99.to("ms").magnitude == pytest.approx(50 * math.log(100))
    # Little's law agrees: L = λW = ρ/(1−ρ) = 4 requests
    w = mm1_latency(arrival_rate=LAM, service_rate=MU)
    assert little(arrival_rate=LAM, latency=w).to("request").magnitude == pytest.approx(4)


def test_unstable_queue_is_an_error():
    with pytest.raises(FormulaDomainError, match="unstable"):
        mm1_wait(arrival_rate=MU, service_rate=MU)
    with pytest.raises(FormulaDomainError, match="unstable"):
        mmc_wait(arrival_rate=Q_("250 req/s"), service_rate=MU, servers=2)


def test_erlang_c_known_values():
    # c = 1 reduces to ρ; c = 2, A = 1 Erlang -> 1/3
    assert erlang_c(arrival_rate=LAM, service_rate=MU, servers=1) == pytest.approx(0.8)
    assert erlang_c(arrival_rate=Q_("100 req/s"), service_rate=MU, servers=2) == (
        pytest.approx(1 / 3)
    )
    # M/M/1 as M/M/c with c = 1
    assert mmc_wait(arrival_rate=LAM, service_rate=MU, servers=1).to("ms").magnitude == (
        pytest.approx(40)
    )
    assert erlang_c(arrival_rate=Q_("9000 req/s"), service_rate=MU, servers=100) < 1


def test_mmc_percentile():
    # P(W_q > t) = C·e^{−(cμ−λ)t}
    lam, c = Q_("150 req/s"), 2
    C = erlang_c(arrival_rate=lam, service_rate=MU, servers=c)
    t = mmc_wait_percentile(arrival_rate=lam, service_rate=MU, servers=c, q=0.99)
    assert C * math.exp(-(200 - 150) * t.to("s").magnitude) == pytest.approx(0.01)
    zero = mmc_wait_percentile(arrival_rate=Q_("10 req/s"), service_rate=MU, servers=4, q=0.5)
    assert zero.magnitude == 0


def test_batching_and_tails():
    assert batching_throughput(batch=32, step_time=Q_("40 ms")).to("req/s").magnitude == (
        pytest.approx(800)
    )
    assert batch_fill_time(batch=33, arrival_rate=Q_("100 req/s")).to("ms").magnitude == (
        pytest.approx(160)
    )
    # Dean & Barroso 2013: 1 % slow leaves, fan-out 100 -> 63 % of requests see the tail
    assert fanout_tail(p=0.01, n=100) == pytest.approx(0.634, abs=0.001)
    assert utilization(arrival_rate=Q_("150 req/s"), service_rate=MU, servers=2) == 0.75


def test_erlang_c_against_its_defining_sum_and_a_tabulated_value():
    # Erlang (1917) / Kleinrock (1975) §3.5: C(c, A) = (A^c/c!)(c/(c−A)) /
    # (Σ_{k<c} A^k/k! + (A^c/c!)(c/(c−A))); the textbook call-centre value for 10 Erlangs on
    # 11 servers is 0.682 (Erlang C tables)
    def by_sum(A: float, c: int) -> float:
        top = A**c / math.factorial(c) * c / (c - A)
        return top / (sum(A**k / math.factorial(k) for k in range(c)) + top)

    for lam, c in ((200.0, 3), (1000.0, 11), (4500.0, 50)):
        got = erlang_c(arrival_rate=Q_(lam, "req/s"), service_rate=MU, servers=c)
        assert got == pytest.approx(by_sum(lam / 100.0, c), rel=1e-12)
    assert erlang_c(arrival_rate=Q_("1000 req/s"), service_rate=MU, servers=11) == (
        pytest.approx(0.6821, abs=5e-5)
    )


_UNSTABLE = {
    "mm1_wait": {"arrival_rate": MU, "service_rate": MU},
    "mm1_latency": {"arrival_rate": Q_("120 req/s"), "service_rate": MU},
    "mm1_latency_percentile": {"arrival_rate": MU, "service_rate": MU, "q": 0.99},
    "erlang_c": {"arrival_rate": Q_("200 req/s"), "service_rate": MU, "servers": 2},
    "mmc_wait": {"arrival_rate": Q_("250 req/s"), "service_rate": MU, "servers": 2},
    "mmc_wait_percentile": {"arrival_rate": Q_("300 req/s"), "service_rate": MU, "servers": 3},
    "md1_wait": {"arrival_rate": Q_("100 req/s"), "service_time": Q_("10 ms")},
    "md1_wait_percentile": {"arrival_rate": Q_("150 req/s"), "service_time": Q_("10 ms")},
}


@pytest.mark.parametrize("name", sorted(_UNSTABLE))
def test_an_unstable_queue_says_where_why_and_how_to_fix(name):
    # Found by mutation testing: the where/why/fix of the ρ ≥ 1 refusal had no test.
    from mlsysim.core.formulas import FORMULAS

    with pytest.raises(FormulaDomainError) as info:
        FORMULAS[name](**_UNSTABLE[name])
    exc = info.value
    assert exc.where == name
    assert "ρ = " in exc.what and "≥ 1" in exc.what
    assert "without bound" in exc.why
    assert "ρ < 1" in exc.fix and "arrival_rate" in exc.fix


@pytest.mark.parametrize("c", [1, 2, 8])
def test_nobody_waits_without_offered_load(c):
    # Erlang C at A = 0 is 0 on any number of servers (the fast path the solvers call).
    from mlsysim.core.formulas import wait_probability

    assert wait_probability(0.0, c) == 0.0
