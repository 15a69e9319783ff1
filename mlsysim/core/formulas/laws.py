"""The laws of speedup and occupancy: Amdahl's and Gustafson's speedups, Little's law.

How much a part sped up speeds up the whole (Amdahl 1967), how much N processors speed up a
problem scaled with them (Gustafson 1988), and how many requests are in a system at a given
arrival rate and latency (Little 1961). Part of the ``performance`` domain; importable from
:mod:`.performance` too.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.formulas._args import count, fraction, positive, rate, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = ["amdahl", "gustafson", "little"]


@formula(
    symbol=r"S = \frac{1}{(1 - p) + p / s}",
    substituted=r"\frac{1}{(1 - {{p}}) + {{p}} / {{speedup}}}",
    sources=("amdahl1967",),
    citation="Amdahl (1967)",
    result="dimensionless",
)
def amdahl(p: Any, speedup: Any) -> float:
    """Amdahl's law S = 1 / ((1−p) + p/s) for a fraction p sped up by s. Source: Amdahl 1967."""
    where = "amdahl"
    p_ = fraction(p, "p", where)
    s = count(speedup, "speedup", where, minimum=0)
    s = positive(s, "speedup", where)
    S = 1.0 / ((1.0 - p_) + p_ / s)
    return S


@formula(
    symbol=r"S = (1 - p) + p\,N",
    substituted=r"(1 - {{p}}) + {{p}} \cdot {{n}}",
    sources=("gustafson1988",),
    citation="Gustafson (1988), scaled speedup",
    result="dimensionless",
)
def gustafson(p: Any, n: Any) -> float:
    """Gustafson's scaled speedup S = (1−p) + p·N on N processors. Source: Gustafson 1988."""
    where = "gustafson"
    p_ = fraction(p, "p", where)
    N = count(n, "n", where)
    S = (1.0 - p_) + p_ * N
    return S


@formula(
    symbol=r"L = \lambda\,W",
    substituted=r"{{arrival_rate}} \cdot {{latency}}",
    sources=("little1961",),
    citation="Little (1961)",
    result="[request]",
)
def little(arrival_rate: Any, latency: Any) -> Any:
    """Little's law L = λW: mean requests in the system. Source: Little 1961."""
    lam = rate(arrival_rate, "arrival_rate", "little")
    W = positive(si(latency, "time", "latency"), "latency", "little", strict=False)
    L = lam * W
    return from_si(L, "request")
