"""Serving and queueing: M/M/1, M/M/c (Erlang C) and M/D/1 waits and percentiles, batching.

Rates are requests per time (``100 req/s``) or plain frequencies (``100 /s``). Every queue
here needs utilization ρ < 1; at or above it the queue grows without bound and the formulas
raise :class:`~mlsysim.core.exceptions.FormulaDomainError`.

The solvers call the float fast paths (``mmc_wait_s``, ``mmc_wait_percentile_s``,
``md1_wait_s``, ``md1_wait_percentile_s``, ``wait_probability``): rates in 1/s, times in s.
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
    "md1_wait",
    "md1_wait_percentile",
    "md1_wait_percentile_s",
    "md1_wait_s",
    "mm1_latency",
    "mm1_latency_percentile",
    "mm1_wait",
    "mmc_wait",
    "mmc_wait_percentile",
    "mmc_wait_percentile_s",
    "mmc_wait_s",
    "utilization",
    "wait_probability",
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


def wait_probability(A: float, c: int) -> float:
    """Float fast path of :func:`erlang_c`: the Erlang C probability of waiting for offered
    load ``A = λ/μ`` Erlangs on ``c`` servers, through the Erlang B recursion (stable for
    large c; the caller checks A < c)."""
    B = 1.0
    for k in range(1, c + 1):
        B = A * B / (k + A * B)
    C = c * B / (c - A * (1.0 - B))
    return C


def mmc_wait_s(lam: float, mu: float, c: int) -> float:
    """Float fast path of :func:`mmc_wait`: mean M/M/c queueing delay (s), λ < cμ."""
    C = wait_probability(lam / mu, c)
    W_q = C / (c * mu - lam)
    return W_q


def mmc_wait_percentile_s(lam: float, mu: float, c: int, q: float) -> float:
    """Float fast path of :func:`mmc_wait_percentile`: the q-quantile of the M/M/c queueing
    delay (s), zero when fewer than 1 − q of arrivals wait; λ < cμ."""
    C = wait_probability(lam / mu, c)
    if 1.0 - q >= C:  # fewer than 1 − q of arrivals wait (C may underflow to 0)
        return 0.0
    t_q = math.log(C / (1.0 - q)) / (c * mu - lam)
    return t_q


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
    return wait_probability(A, c)


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
    W_q = mmc_wait_s(lam, mu, c)
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
    t_q = mmc_wait_percentile_s(lam, mu, c, q_)
    return from_si(t_q, "s")


_MD1 = ("kleinrock1975", "crommelin1932", "tijms2003")
#: Beyond this many service times the exact M/D/1 sum cancels catastrophically in floats; the
#: exponential tail (within 0.1 % of the exact distribution there, Tijms 2003) answers instead.
_MD1_EXACT_SPAN = 3.0


def md1_wait_s(lam: float, D: float) -> float:
    """Float fast path of :func:`md1_wait`: the Pollaczek–Khinchine mean wait of an M/D/1
    queue, W_q = ρD / (2(1 − ρ)) with ρ = λD < 1 (s)."""
    rho = lam * D
    W_q = rho * D / (2.0 * (1.0 - rho))
    return W_q


def _md1_decay(rho: float) -> float:
    """x = θD > 0 solving ρ(eˣ − 1) = x, the decay rate of the M/D/1 wait's tail (Newton's
    method from an upper bound, so it converges monotonically; the closed form is
    x = −W₋₁(−ρe^{−ρ}) − ρ with Lambert's W)."""
    x = min(2.0 * (1.0 - rho) / rho, 2.0 * math.log(1.0 / rho) + 1.0)
    for _ in range(200):
        step = (rho * math.expm1(x) - x) / (rho * math.exp(x) - 1.0)
        x -= step
        if abs(step) <= 1e-14 * x:
            break
    return x


def _md1_cdf(lam: float, D: float, t: float) -> float:
    """Exact P(W_q ≤ t) of an M/D/1 queue (Crommelin 1932), for t up to a few service times:
    (1 − ρ) Σ_{k ≤ t/D} (λ(kD − t))^k / k! · e^{−λ(kD − t)}."""
    rho = lam * D
    total = 0.0
    k = 0
    while k * D <= t:
        u = lam * (k * D - t)
        total += u**k / math.factorial(k) * math.exp(-u)
        k += 1
    return (1.0 - rho) * total


def md1_wait_percentile_s(lam: float, D: float, q: float) -> float:
    """Float fast path of :func:`md1_wait_percentile`: the q-quantile of the M/D/1 queueing
    delay (s); zero when at least q of arrivals find the server idle (q ≤ 1 − ρ)."""
    rho = lam * D
    if q <= 1.0 - rho:
        return 0.0
    x = _md1_decay(rho)
    C = (1.0 - rho) / (rho * math.exp(x) - 1.0)
    t_q = max(0.0, math.log(C / (1.0 - q)) * D / x)
    span = _MD1_EXACT_SPAN * D
    if t_q < span and _md1_cdf(lam, D, span) >= q:  # the exact distribution, by bisection
        lo, hi = 0.0, span
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if _md1_cdf(lam, D, mid) < q:
                lo = mid
            else:
                hi = mid
        t_q = hi
    return t_q


@formula(
    symbol=r"W_q = \frac{\rho\,D}{2\,(1 - \rho)},\quad \rho = \lambda D",
    substituted=(
        r"\frac{ {{arrival_rate}} \cdot {{service_time}} \cdot {{service_time}} }"
        r"{2\,(1 - {{arrival_rate}} \cdot {{service_time}})}"
    ),
    sources=_MD1,
    citation="Kleinrock (1975), §5.6: the Pollaczek–Khinchine mean-value formula, "
    "deterministic service",
    result="time",
)
def md1_wait(arrival_rate: Any, service_time: Any) -> Any:
    """Mean wait of an M/D/1 queue (Poisson arrivals, one server, fixed service time D):
    W_q = ρD / (2(1 − ρ)), half the M/M/1 wait at the same load. Source: Kleinrock 1975."""
    where = "md1_wait"
    lam = rate(arrival_rate, "arrival_rate", where)
    D = positive(si(service_time, "time", "service_time"), "service_time", where)
    _stable(lam, 1.0 / D, where)
    W_q = md1_wait_s(lam, D)
    return from_si(W_q, "s")


@formula(
    symbol=(
        r"P(W_q > t) \approx \frac{1 - \rho}{\rho\,e^{\theta D} - 1}\,e^{-\theta t},"
        r"\quad \rho\,(e^{\theta D} - 1) = \theta D"
    ),
    substituted=(
        r"t_{ {{q}} }\ \text{of}\ W_q,\ \lambda = {{arrival_rate}},\ D = {{service_time}}"
    ),
    sources=_MD1,
    citation="Crommelin (1932): the exact M/D/1 waiting-time distribution; Tijms (2003): its "
    "exponential (Cramér–Lundberg) tail",
    result="time",
)
def md1_wait_percentile(arrival_rate: Any, service_time: Any, q: Any = 0.99) -> Any:
    """q-th percentile of the M/D/1 queueing delay (0 when at least q of arrivals find the
    server idle, q ≤ 1 − ρ).

    Beyond three service times it is the exponential tail P(W_q > t) ≈ C·e^{−θt} (within 0.1 %
    of the exact distribution there); below, the exact distribution of Crommelin (1932).
    """
    where = "md1_wait_percentile"
    lam = rate(arrival_rate, "arrival_rate", where)
    D = positive(si(service_time, "time", "service_time"), "service_time", where)
    q_ = fraction(q, "q", where, high=1.0 - 1e-12)
    _stable(lam, 1.0 / D, where)
    t_q = md1_wait_percentile_s(lam, D, q_)
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
