"""Serving and queueing: M/M/1 and M/M/c (Erlang C) waits and percentiles, batching.

Rates are requests per time (``100 req/s``) or plain frequencies (``100 /s``). Every queue
here needs utilization ρ < 1; at or above it the queue grows without bound and the formulas
raise :class:`~mlsysim.core.exceptions.FormulaDomainError`.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas._args import count, fraction, positive, rate, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "batch_fill_time",
    "batching_throughput",
    "erlang_c",
    "fanout_tail",
    "mm1_latency",
    "mm1_latency_percentile",
    "mm1_wait",
    "mmc_wait",
    "mmc_wait_percentile",
    "utilization",
]

_KLEINROCK = ("kleinrock1975",)


def _stable(lam: float, capacity: float, where: str) -> float:
    rho = lam / capacity
    if rho >= 1.0:
        raise FormulaDomainError(
            f"the queue is unstable: utilization ρ = {rho:.3g} ≥ 1",
            where=where,
            why="arrivals outpace service, so the waiting time grows without bound",
            fix="lower arrival_rate, raise service_rate or add servers so that ρ < 1",
        )
    return rho


@formula(
    symbol=r"W_q = \frac{\lambda / \mu}{\mu - \lambda}",
    substituted=(
        r"\frac{ {{arrival_rate}} / {{service_rate}} }"
        r"{ {{service_rate}} - {{arrival_rate}} }"
    ),
    sources=_KLEINROCK,
    citation="Kleinrock (1975), Queueing Systems Vol. 1, §3.2",
    result="time",
)
def mm1_wait(arrival_rate: Any, service_rate: Any) -> Any:
    """Mean time waiting in an M/M/1 queue, W_q = ρ/(μ−λ). Source: Kleinrock 1975."""
    where = "mm1_wait"
    lam = rate(arrival_rate, "arrival_rate", where)
    mu = rate(service_rate, "service_rate", where)
    rho = _stable(lam, mu, where)
    W_q = rho / (mu - lam)
    return from_si(W_q, "s")


@formula(
    symbol=r"W = \frac{1}{\mu - \lambda}",
    substituted=r"\frac{1}{ {{service_rate}} - {{arrival_rate}} }",
    sources=_KLEINROCK,
    citation="Kleinrock (1975), Queueing Systems Vol. 1, §3.2",
    result="time",
)
def mm1_latency(arrival_rate: Any, service_rate: Any) -> Any:
    """Mean M/M/1 sojourn time (wait + service), W = 1/(μ−λ). Source: Kleinrock 1975."""
    where = "mm1_latency"
    lam = rate(arrival_rate, "arrival_rate", where)
    mu = rate(service_rate, "service_rate", where)
    _stable(lam, mu, where)
    W = 1.0 / (mu - lam)
    return from_si(W, "s")


@formula(
    symbol=r"t_q = \frac{-\ln(1 - q)}{\mu - \lambda}",
    substituted=r"\frac{-\ln(1 - {{q}})}{ {{service_rate}} - {{arrival_rate}} }",
    sources=_KLEINROCK,
    citation="Kleinrock (1975): the M/M/1 sojourn time is exponential with rate μ−λ",
    result="time",
)
def mm1_latency_percentile(arrival_rate: Any, service_rate: Any, q: Any = 0.99) -> Any:
    """q-th percentile of M/M/1 sojourn time, −ln(1−q)/(μ−λ) (p99 ≈ 4.6× the mean)."""
    where = "mm1_latency_percentile"
    lam = rate(arrival_rate, "arrival_rate", where)
    mu = rate(service_rate, "service_rate", where)
    q_ = fraction(q, "q", where, high=1.0 - 1e-12)
    _stable(lam, mu, where)
    t_q = -math.log1p(-q_) / (mu - lam)
    return from_si(t_q, "s")


def _erlang_c(A: float, c: int) -> float:
    """Erlang C from the Erlang B recursion (numerically stable for large c)."""
    B = 1.0
    for k in range(1, c + 1):
        B = A * B / (k + A * B)
    C = c * B / (c - A * (1.0 - B))
    return C


@formula(
    symbol=r"P_{\mathrm{wait}} = C\left(c,\ \lambda / \mu\right)",
    substituted=r"C\left({{servers}},\ {{arrival_rate}} / {{service_rate}}\right)",
    sources=("erlang1917", "kleinrock1975"),
    citation="Erlang (1917); Kleinrock (1975), §3.5",
    result="dimensionless",
)
def erlang_c(arrival_rate: Any, service_rate: Any, servers: Any) -> float:
    """Probability an arrival waits in an M/M/c queue (Erlang C). Source: Erlang 1917.

    C(c, A) = (A^c/c!)·(c/(c−A)) / (Σ_{k<c} A^k/k! + (A^c/c!)·(c/(c−A))) with A = λ/μ,
    computed through the numerically stable Erlang-B recursion.
    """
    where = "erlang_c"
    lam = rate(arrival_rate, "arrival_rate", where)
    mu = rate(service_rate, "service_rate", where)
    c = int(count(servers, "servers", where))
    _stable(lam, c * mu, where)
    A = lam / mu
    return _erlang_c(A, c)


@formula(
    symbol=r"W_q = \frac{C(c, A)}{c\,\mu - \lambda}",
    substituted=(
        r"\frac{C\left({{servers}},\ {{arrival_rate}} / {{service_rate}}\right)}"
        r"{ {{servers}} \cdot {{service_rate}} - {{arrival_rate}} }"
    ),
    sources=("erlang1917", "kleinrock1975"),
    citation="Kleinrock (1975), Queueing Systems Vol. 1, §3.5",
    result="time",
)
def mmc_wait(arrival_rate: Any, service_rate: Any, servers: Any) -> Any:
    """Mean M/M/c queueing delay W_q = C(c, A)/(cμ − λ). Source: Kleinrock 1975."""
    where = "mmc_wait"
    lam = rate(arrival_rate, "arrival_rate", where)
    mu = rate(service_rate, "service_rate", where)
    c = int(count(servers, "servers", where))
    _stable(lam, c * mu, where)
    C = _erlang_c(lam / mu, c)
    W_q = C / (c * mu - lam)
    return from_si(W_q, "s")


@formula(
    symbol=r"t_q = \max\left(0,\ \frac{\ln\left(C(c, A) / (1 - q)\right)}{c\,\mu - \lambda}\right)",
    substituted=(
        r"\max\left(0,\ \frac{\ln\left(C\left({{servers}},\ {{arrival_rate}} / "
        r"{{service_rate}}\right) / (1 - {{q}})\right)}"
        r"{ {{servers}} \cdot {{service_rate}} - {{arrival_rate}} }\right)"
    ),
    sources=("kleinrock1975",),
    citation="Kleinrock (1975): P(W_q > t) = C(c, A)·e^{−(cμ−λ)t}",
    result="time",
)
def mmc_wait_percentile(arrival_rate: Any, service_rate: Any, servers: Any, q: Any = 0.99) -> Any:
    """q-th percentile of the M/M/c queueing delay (0 when fewer than 1−q of arrivals wait)."""
    where = "mmc_wait_percentile"
    lam = rate(arrival_rate, "arrival_rate", where)
    mu = rate(service_rate, "service_rate", where)
    c = int(count(servers, "servers", where))
    q_ = fraction(q, "q", where, high=1.0 - 1e-12)
    _stable(lam, c * mu, where)
    C = _erlang_c(lam / mu, c)
    t_q = max(0.0, math.log(C / (1.0 - q_)) / (c * mu - lam))
    return from_si(t_q, "s")


@formula(
    symbol=r"X = \frac{B}{T(B)}",
    substituted=r"\frac{ {{batch}} }{ {{step_time}} }",
    sources=("crankshaw2017",),
    citation="Crankshaw et al. (2017), Clipper: adaptive batching",
    result="request_rate",
)
def batching_throughput(batch: Any, step_time: Any) -> Any:
    """Throughput X = B / T(B) of a server running batches of B in T(B). Source: Clipper."""
    where = "batching_throughput"
    B = count(batch, "batch", where, dim="[request]")
    T = positive(si(step_time, "time", "step_time"), "step_time", where)
    X = B / T
    return from_si(X, "request/s")


@formula(
    symbol=r"\bar{t}_{\mathrm{fill}} = \frac{B - 1}{2\,\lambda}",
    substituted=r"\frac{ {{batch}} - 1}{2 \cdot {{arrival_rate}} }",
    sources=("crankshaw2017",),
    citation="Crankshaw et al. (2017), Clipper; Poisson arrivals",
    result="time",
)
def batch_fill_time(batch: Any, arrival_rate: Any) -> Any:
    """Mean time a request waits for a batch of B to fill at rate λ: (B − 1)/(2λ)."""
    where = "batch_fill_time"
    B = count(batch, "batch", where, dim="[request]")
    lam = rate(arrival_rate, "arrival_rate", where)
    t = (B - 1.0) / (2.0 * lam)
    return from_si(t, "s")


@formula(
    symbol=r"\rho = \frac{\lambda}{c\,\mu}",
    substituted=r"\frac{ {{arrival_rate}} }{ {{servers}} \cdot {{service_rate}} }",
    sources=_KLEINROCK,
    citation="Kleinrock (1975), Queueing Systems Vol. 1",
    result="dimensionless",
)
def utilization(arrival_rate: Any, service_rate: Any, servers: Any = 1) -> float:
    """Server utilization ρ = λ/(cμ); tenants sharing c servers add their arrival rates."""
    where = "utilization"
    lam = rate(arrival_rate, "arrival_rate", where)
    mu = rate(service_rate, "service_rate", where)
    c = count(servers, "servers", where)
    rho = lam / (c * mu)
    return rho


@formula(
    symbol=r"P_{\mathrm{slow}} = 1 - (1 - p)^{n}",
    substituted=r"1 - (1 - {{p}})^{ {{n}} }",
    sources=("dean2013",),
    citation="Dean & Barroso (2013), The Tail at Scale",
    result="dimensionless",
)
def fanout_tail(p: Any, n: Any) -> float:
    """Chance a request fanned out to n servers waits on at least one slow (p-tail) reply.

    With p = 1 % and n = 100, 63 % of requests see a tail latency. Source: Dean & Barroso 2013.
    """
    where = "fanout_tail"
    p_ = fraction(p, "p", where)
    N = count(n, "n", where)
    P = 1.0 - (1.0 - p_) ** N
    return P
