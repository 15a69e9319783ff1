"""The roofline: arithmetic intensity, the ridge point, the attainable rate and a kernel's time.

Hardware arguments are duck-typed registry specs: ``hw.peak_flops(precision)`` and
``hw.memory.bandwidth`` (see ``mlsysim.Hardware``). These formulas are of the
``performance`` domain (``_meta.MODULE_DOMAINS``: the references list them with
:mod:`.performance`, which re-exports them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlsysim.core.arrays import larger
from mlsysim.core.constants import DEFAULT_PRECISION
from mlsysim.core.formulas._args import positive, si, spec
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "RooflineTime",
    "arithmetic_intensity",
    "attainable_flops",
    "intensity_FpB",
    "ridge_point",
    "roofline_time",
    "roofline_time_s",
]
_WILLIAMS = ("williams2009",)


def _hw(args: Mapping[str, Any]) -> dict[str, Any]:
    hw = args["hw"]
    return {"peak": hw.peak_flops(args["precision"]), "bandwidth": hw.memory.bandwidth}


@dataclass(frozen=True)
class RooflineTime:
    """Roofline time of one kernel: the larger of its compute and memory times."""

    time: Any
    compute_time: Any
    memory_time: Any
    bound: str  # "compute" or "memory"

    @property
    def value(self) -> Any:
        """The headline result, the field ``time``."""
        return self.time

    def __str__(self) -> str:
        return f"{self.time:~P} ({self.bound}-bound)"


def intensity_FpB(work: float, bytes: float) -> float:
    """Float fast path of :func:`arithmetic_intensity` (FLOP ÷ B) and :func:`ridge_point`
    (FLOP/s ÷ B/s): FLOPs per byte."""
    return work / bytes


@formula(
    symbol=r"I^{*} = \frac{P_{\mathrm{peak}}}{B_{\mathrm{mem}}}",
    substituted=r"\frac{ {{peak}} }{ {{bandwidth}} }",
    sources=_WILLIAMS,
    citation="Williams, Waterman & Patterson (2009), the roofline model",
    result="intensity",
    expand=_hw,
)
def ridge_point(hw: Any, precision: str = DEFAULT_PRECISION) -> Any:
    """Ridge point I* = P_peak / B_mem: the intensity where a kernel stops being memory-bound.

    Source: Williams, Waterman & Patterson, "Roofline", CACM 2009.
    """
    peak = spec(hw, "peak_flops", "hw", "ridge_point", "Hardware")
    P = si(peak(precision), "compute_rate", "peak")
    B = si(hw.memory.bandwidth, "bandwidth", "bandwidth")
    I_star = intensity_FpB(P, B)
    return from_si(I_star, "FLOP/B")


@formula(
    symbol=r"I = \frac{W}{Q}",
    substituted=r"\frac{ {{flops}} }{ {{bytes}} }",
    sources=_WILLIAMS,
    citation="Williams, Waterman & Patterson (2009), the roofline model",
    result="intensity",
)
def arithmetic_intensity(flops: Any, bytes: Any) -> Any:
    """Arithmetic intensity I = W / Q (FLOPs per byte moved). Source: Williams et al. 2009."""
    where = "arithmetic_intensity"
    W = positive(si(flops, "computation", "flops"), "flops", where, strict=False)
    Q = positive(si(bytes, "information", "bytes"), "bytes", where)
    I = intensity_FpB(W, Q)
    return from_si(I, "FLOP/B")


@formula(
    symbol=r"P = \min\left(P_{\mathrm{peak}},\ I \cdot B_{\mathrm{mem}}\right)",
    substituted=r"\min\left({{peak}},\ {{intensity}} \cdot {{bandwidth}}\right)",
    sources=_WILLIAMS,
    citation="Williams, Waterman & Patterson (2009), the roofline model",
    result="compute_rate",
    expand=_hw,
)
def attainable_flops(intensity: Any, hw: Any, precision: str = DEFAULT_PRECISION) -> Any:
    """Attainable rate P = min(P_peak, I·B_mem) at intensity I. Source: Williams et al. 2009."""
    where = "attainable_flops"
    I = positive(si(intensity, "intensity", "intensity"), "intensity", where, strict=False)
    P_peak = si(hw.peak_flops(precision), "compute_rate", "peak")
    B = si(hw.memory.bandwidth, "bandwidth", "bandwidth")
    P = min(P_peak, I * B)
    return from_si(P, "FLOP/s")


def roofline_time_s(flops: float, bytes: float, peak: float, bandwidth: float) -> float:
    """Float fast path of :func:`roofline_time`: FLOP, B, FLOP/s, B/s → seconds (floats or
    arrays, element-wise)."""
    T_c = flops / peak
    T_m = bytes / bandwidth
    return larger(T_c, T_m)


@formula(
    symbol=r"T = \max\left(\frac{W}{P_{\mathrm{peak}}},\ \frac{Q}{B_{\mathrm{mem}}}\right)",
    substituted=(
        r"\max\left(\frac{ {{flops}} }{ {{peak}} },\ "
        r"\frac{ {{bytes}} }{ {{bandwidth}} }\right)"
    ),
    sources=_WILLIAMS,
    citation="Williams, Waterman & Patterson (2009), the roofline model",
    result="time",
    expand=_hw,
)
def roofline_time(
    flops: Any, bytes: Any, hw: Any, precision: str = DEFAULT_PRECISION
) -> RooflineTime:
    """Roofline time T = max(W/P_peak, Q/B_mem), reporting which term binds.

    Source: Williams, Waterman & Patterson 2009. Ideal bound: measurements can only be slower.
    """
    where = "roofline_time"
    W = positive(si(flops, "computation", "flops"), "flops", where, strict=False)
    Q = positive(si(bytes, "information", "bytes"), "bytes", where, strict=False)
    P = si(hw.peak_flops(precision), "compute_rate", "peak")
    B = si(hw.memory.bandwidth, "bandwidth", "bandwidth")
    T_c = W / P
    T_m = Q / B
    T = roofline_time_s(W, Q, P, B)
    bound = "compute" if T_c >= T_m else "memory"
    return RooflineTime(from_si(T, "s"), from_si(T_c, "s"), from_si(T_m, "s"), bound)
