"""Reliability: system MTBF, optimal checkpoint intervals (Young, Daly) and goodput.

Failures are modelled as independent and exponential (constant rate), as in the sources.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas._args import count, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "availability",
    "checkpoint_goodput",
    "checkpoint_time",
    "daly",
    "daly_s",
    "expected_failures",
    "failure_rate",
    "goodput_s",
    "job_mtbf",
    "job_mtbf_s",
    "series_mtbf",
    "young_daly",
    "young_s",
]

_ZERO_S = from_si(0.0, "s")


def young_s(delta: float, M: float) -> float:
    """Float fast path of :func:`young_daly` (seconds in, seconds out)."""
    return math.sqrt(2.0 * delta * M)


def daly_s(delta: float, M: float) -> float | None:
    """Float fast path of :func:`daly`; None where the expansion is invalid (δ ≥ 2M)."""
    if delta >= 2.0 * M:
        return None
    x = delta / (2.0 * M)
    return math.sqrt(2.0 * delta * M) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - delta


def goodput_s(tau: float, delta: float, M: float, R: float) -> float | None:
    """Float fast path of :func:`checkpoint_goodput`; None when failures leave no useful work."""
    loss = ((tau + delta) / 2.0 + R) / M
    if loss >= 1.0:
        return None
    return tau / (tau + delta) * (1.0 - loss)


def job_mtbf_s(rates: list[float], counts: list[float]) -> float:
    """Float fast path of :func:`job_mtbf` over several component kinds: 1 / Σ nᵢλᵢ (seconds)."""
    Lambda = sum(n * lam for n, lam in zip(counts, rates, strict=True))
    return math.inf if Lambda <= 0.0 else 1.0 / Lambda


def _dm(checkpoint_time: Any, mtbf: Any, where: str) -> tuple[float, float]:
    delta = positive(si(checkpoint_time, "time", "checkpoint_time"), "checkpoint_time", where)
    M = positive(si(mtbf, "time", "mtbf"), "mtbf", where)
    return delta, M


@formula(
    symbol=r"M_{\mathrm{sys}} = \frac{M}{N}",
    substituted=r"\frac{ {{component_mtbf}} }{ {{n}} }",
    sources=("oconnor2012",),
    citation="O'Connor & Kleyner (2012), Practical Reliability Engineering: series systems",
    result="time",
)
def series_mtbf(component_mtbf: Any, n: Any) -> Any:
    """MTBF of N components in series (any failure stops the job): M/N, exponential failures.

    A 10,000-GPU job with a 5-year per-GPU MTBF fails about every 4.4 hours.
    Source: O'Connor & Kleyner 2012.
    """
    where = "series_mtbf"
    M = positive(si(component_mtbf, "time", "component_mtbf"), "component_mtbf", where)
    N = count(n, "n", where)
    M_sys = M / N
    return from_si(M_sys, "s")


@formula(
    symbol=r"\lambda = \frac{f}{n\,T}",
    substituted=r"\frac{ {{failures}} }{ {{units}} \cdot {{duration}} }",
    sources=("dubey2024llama3", "kokolis2024reliability"),
    citation="per-unit failure rate of a fleet study: failures / unit-time observed",
    result="frequency",
)
def failure_rate(failures: Any, units: Any, duration: Any) -> Any:
    """Failures per unit per time from a fleet study: f failures over n units for time T.

    Llama 3 405B pre-training: 148 faulty-GPU interruptions on 16,384 GPUs in 54 days is
    1.67e-4 per GPU-day. Exponential (constant-rate) failures, as fleet studies report them.
    """
    where = "failure_rate"
    f = count(failures, "failures", where, minimum=0)
    n = count(units, "units", where)
    T = positive(si(duration, "time", "duration"), "duration", where)
    lam = f / (n * T)
    return from_si(lam, "1/s").to("1/d")


@formula(
    symbol=r"M_{\mathrm{job}} = \frac{1}{n\,\lambda}",
    substituted=r"\frac{1}{ {{n}} \cdot {{failure_rate}} }",
    sources=("oconnor2012", "kokolis2024reliability"),
    citation="series system of n units, each failing at rate λ (Kokolis et al. 2024, §V)",
    result="time",
)
def job_mtbf(failure_rate: Any, n: Any = 1) -> Any:
    """MTBF of a job spanning n units that each fail at ``failure_rate`` (any failure stops it).

    Kokolis et al. 2024 project 1.8 h for 16,384 A100s (2,048 nodes) at 6.5 failures per
    1,000 node-days. Source: O'Connor & Kleyner 2012; Kokolis et al. 2024.
    """
    where = "job_mtbf"
    lam = positive(si(failure_rate, "frequency", "failure_rate"), "failure_rate", where)
    N = count(n, "n", where)
    M = 1.0 / (N * lam)
    return from_si(M, "s").to("h")


@formula(
    symbol=r"\mathbb{E}[N_{\mathrm{fail}}] = \frac{T}{M}",
    substituted=r"\frac{ {{duration}} }{ {{mtbf}} }",
    sources=("oconnor2012",),
    citation="O'Connor & Kleyner (2012): expected failures of a constant-rate process",
    result="dimensionless",
)
def expected_failures(duration: Any, mtbf: Any) -> float:
    """Expected number of failures in ``duration`` at a constant failure rate 1/MTBF."""
    where = "expected_failures"
    T = positive(si(duration, "time", "duration"), "duration", where, strict=False)
    M = positive(si(mtbf, "time", "mtbf"), "mtbf", where)
    N = T / M
    return N


@formula(
    symbol=r"\tau = \sqrt{2\,\delta\,M}",
    substituted=r"\sqrt{2 \cdot {{checkpoint_time}} \cdot {{mtbf}} }",
    sources=("young1974",),
    citation="Young (1974), CACM 17(9)",
    result="time",
)
def young_daly(checkpoint_time: Any, mtbf: Any) -> Any:
    """Young's first-order optimal checkpoint interval τ = √(2δM). Source: Young 1974."""
    delta, M = _dm(checkpoint_time, mtbf, "young_daly")
    tau = math.sqrt(2.0 * delta * M)
    return from_si(tau, "s")


@formula(
    symbol=(
        r"\tau = \sqrt{2\,\delta\,M}\left[1 + \frac{1}{3}\sqrt{\frac{\delta}{2M}} + "
        r"\frac{1}{9}\,\frac{\delta}{2M}\right] - \delta"
    ),
    substituted=(
        r"\sqrt{2 \cdot {{checkpoint_time}} \cdot {{mtbf}} }\left[1 + \frac{1}{3}"
        r"\sqrt{\frac{ {{checkpoint_time}} }{2 \cdot {{mtbf}} }} + \frac{1}{9} \cdot "
        r"\frac{ {{checkpoint_time}} }{2 \cdot {{mtbf}} }\right] - {{checkpoint_time}}"
    ),
    sources=("daly2006",),
    citation="Daly (2006), FGCS 22(3), Eq. 37",
    result="time",
)
def daly(checkpoint_time: Any, mtbf: Any) -> Any:
    """Daly's higher-order optimal checkpoint interval (valid for δ < 2M).

    τ = √(2δM)·[1 + ⅓√(δ/2M) + (δ/2M)/9] − δ. Daly sets τ = M when δ ≥ 2M; here that case
    is an error so that a derivation never silently changes formula. Source: Daly 2006.
    """
    where = "daly"
    delta, M = _dm(checkpoint_time, mtbf, where)
    if delta >= 2.0 * M:
        raise FormulaDomainError(
            f"Daly's interval needs checkpoint_time < 2·mtbf, got δ = {delta:g} s, M = {M:g} s",
            where=where,
            why="the series expansion diverges there; Daly's paper then uses τ = M",
            fix="use the MTBF itself as the interval, or make checkpoints faster",
        )
    x = delta / (2.0 * M)
    tau = math.sqrt(2.0 * delta * M) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - delta
    return from_si(tau, "s")


@formula(
    symbol=(r"G = \frac{\tau}{\tau + \delta}\left(1 - \frac{(\tau + \delta)/2 + R}{M}\right)"),
    substituted=(
        r"\frac{ {{interval}} }{ {{interval}} + {{checkpoint_time}} }\left(1 - "
        r"\frac{({{interval}} + {{checkpoint_time}})/2 + {{restart_time}} }"
        r"{ {{mtbf}} }\right)"
    ),
    sources=("young1974", "daly2006"),
    citation="first-order model of Young (1974) and Daly (2006)",
    result="dimensionless",
)
def checkpoint_goodput(
    interval: Any, checkpoint_time: Any, mtbf: Any, restart_time: Any = _ZERO_S
) -> float:
    """Fraction of wall time doing useful work with checkpoints every τ.

    Each segment of τ + δ spends δ writing a checkpoint; a failure (rate 1/M) loses on average
    half a segment of rework plus the restart time R. First order in (τ + δ)/M, as in Young
    1974 and Daly 2006; errors when the expected loss reaches the whole run.
    """
    where = "checkpoint_goodput"
    tau = positive(si(interval, "time", "interval"), "interval", where)
    delta, M = _dm(checkpoint_time, mtbf, where)
    R = positive(si(restart_time, "time", "restart_time"), "restart_time", where, strict=False)
    loss = ((tau + delta) / 2.0 + R) / M
    if loss >= 1.0:
        raise FormulaDomainError(
            f"expected loss per failure ({loss:.3g} of the MTBF) leaves no useful work",
            where=where,
            why="the interval plus restart time is comparable to the MTBF",
            fix="checkpoint more often (see young_daly) or restart faster",
        )
    G = tau / (tau + delta) * (1.0 - loss)
    return G


@formula(
    symbol=r"\delta = \frac{S_{\mathrm{ckpt}}}{B_{\mathrm{storage}}}",
    substituted=r"\frac{ {{size}} }{ {{bandwidth}} }",
    sources=("mohan2021checkfreq",),
    citation="Mohan, Phanishayee & Chidambaram (2021), CheckFreq",
    result="time",
)
def checkpoint_time(size: Any, bandwidth: Any) -> Any:
    """Time δ to write a checkpoint of S bytes (weights + optimizer state) at storage bandwidth.

    Source: Mohan et al. 2021 (CheckFreq).
    """
    where = "checkpoint_time"
    S = positive(si(size, "information", "size"), "size", where, strict=False)
    B = positive(si(bandwidth, "bandwidth", "bandwidth"), "bandwidth", where)
    delta = S / B
    return from_si(delta, "s")


@formula(
    symbol=r"A = \frac{\mathrm{MTBF}}{\mathrm{MTBF} + \mathrm{MTTR}}",
    substituted=r"\frac{ {{mtbf}} }{ {{mtbf}} + {{mttr}} }",
    sources=("oconnor2012",),
    citation="O'Connor & Kleyner (2012): steady-state availability of a repairable item",
    result="dimensionless",
)
def availability(mtbf: Any, mttr: Any) -> float:
    """Steady-state availability: the fraction of time a repairable unit is up.

    Up for MTBF on average, then down for MTTR while it is repaired or replaced.
    Source: O'Connor & Kleyner 2012.
    """
    where = "availability"
    M = positive(si(mtbf, "time", "mtbf"), "mtbf", where)
    R = positive(si(mttr, "time", "mttr"), "mttr", where, strict=False)
    A = M / (M + R)
    return A
