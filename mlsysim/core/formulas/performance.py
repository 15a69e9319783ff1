"""Performance: the roofline, Amdahl and Gustafson, Little's law, and MFU/HFU.

Hardware arguments are duck-typed registry specs: ``hw.peak_flops(precision)`` and
``hw.memory.bandwidth`` (see ``mlsysim.Hardware``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlsysim.core.constants import BACKWARD_FORWARD_RATIO, FORWARD_ATTENTION_FLOPS
from mlsysim.core.constants import FORWARD_FLOPS_PER_PARAM as _FWD
from mlsysim.core.formulas._args import choice, count, fraction, positive, rate, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "RooflineTime",
    "amdahl",
    "arithmetic_intensity",
    "attainable_flops",
    "gustafson",
    "hfu",
    "launch_overhead",
    "little",
    "mfu",
    "ridge_point",
    "roofline_time",
    "roofline_time_s",
    "transformer_flops_per_token",
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
        """The headline result: :attr:`time`."""
        return self.time

    def __str__(self) -> str:
        return f"{self.time:~P} ({self.bound}-bound)"


@formula(
    symbol=r"I^{*} = \frac{P_{\mathrm{peak}}}{B_{\mathrm{mem}}}",
    substituted=r"\frac{ {{peak}} }{ {{bandwidth}} }",
    sources=_WILLIAMS,
    citation="Williams, Waterman & Patterson (2009), the roofline model",
    result="intensity",
    expand=_hw,
)
def ridge_point(hw: Any, precision: str = "bf16") -> Any:
    """Ridge point I* = P_peak / B_mem: the intensity where a kernel stops being memory-bound.

    Source: Williams, Waterman & Patterson, "Roofline", CACM 2009.
    """
    P = si(hw.peak_flops(precision), "compute_rate", "peak")
    B = si(hw.memory.bandwidth, "bandwidth", "bandwidth")
    I_star = P / B
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
    W = si(flops, "computation", "flops")
    Q = positive(si(bytes, "information", "bytes"), "bytes", "arithmetic_intensity")
    I = W / Q
    return from_si(I, "FLOP/B")


@formula(
    symbol=r"P = \min\left(P_{\mathrm{peak}},\ I \cdot B_{\mathrm{mem}}\right)",
    substituted=r"\min\left({{peak}},\ {{intensity}} \cdot {{bandwidth}}\right)",
    sources=_WILLIAMS,
    citation="Williams, Waterman & Patterson (2009), the roofline model",
    result="compute_rate",
    expand=_hw,
)
def attainable_flops(intensity: Any, hw: Any, precision: str = "bf16") -> Any:
    """Attainable rate P = min(P_peak, I·B_mem) at intensity I. Source: Williams et al. 2009."""
    I = si(intensity, "intensity", "intensity")
    P_peak = si(hw.peak_flops(precision), "compute_rate", "peak")
    B = si(hw.memory.bandwidth, "bandwidth", "bandwidth")
    P = min(P_peak, I * B)
    return from_si(P, "FLOP/s")


def roofline_time_s(flops: float, bytes: float, peak: float, bandwidth: float) -> float:
    """Float fast path of :func:`roofline_time`: FLOP, B, FLOP/s, B/s → seconds."""
    return max(flops / peak, bytes / bandwidth)


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
def roofline_time(flops: Any, bytes: Any, hw: Any, precision: str = "bf16") -> RooflineTime:
    """Roofline time T = max(W/P_peak, Q/B_mem), reporting which term binds.

    Source: Williams, Waterman & Patterson 2009. Ideal bound: measurements can only be slower.
    """
    W = si(flops, "computation", "flops")
    Q = si(bytes, "information", "bytes")
    P = si(hw.peak_flops(precision), "compute_rate", "peak")
    B = si(hw.memory.bandwidth, "bandwidth", "bandwidth")
    T_c = W / P
    T_m = Q / B
    T = max(T_c, T_m)
    bound = "compute" if T_c >= T_m else "memory"
    return RooflineTime(from_si(T, "s"), from_si(T_c, "s"), from_si(T_m, "s"), bound)


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


@formula(
    symbol=(
        r"C_{\mathrm{tok}} = (1 + r_{\mathrm{remat}})\,"
        r"\left(6\,N + 12\,L\,H\,Q\,T\right)"
    ),
    substituted=(
        r"(1 + {{remat}}) \left(6 \cdot {{params}} + 12 \cdot {{layers}} \cdot "
        r"{{heads}} \cdot {{head_dim}} \cdot {{seq_len}}\right)"
    ),
    sources=("chowdhery2022", "kaplan2020"),
    citation="Chowdhery et al. (2022), PaLM, Appendix B",
    result="[computation]/[token]",
    expand=lambda a: {"remat": 1 / 3 if a["recompute"] == "full" else 0},
)
def transformer_flops_per_token(
    params: Any, layers: Any, heads: Any, head_dim: Any, seq_len: Any, recompute: str = "none"
) -> Any:
    """Training FLOPs per token 6N + 12·L·H·Q·T (PaLM App. B); full recompute adds a forward.

    ``recompute="full"`` gives the hardware FLOPs of HFU (8N + 16LHQT): the forward pass runs
    twice. Source: Chowdhery et al. 2022 (PaLM), Appendix B; Kaplan et al. 2020 for 6N.
    """
    where = "transformer_flops_per_token"
    choice(recompute, "recompute", where, ("none", "full"))
    N = count(params, "params", where, dim="parameter")
    L = count(layers, "layers", where)
    H = count(heads, "heads", where)
    Q = count(head_dim, "head_dim", where)
    T = count(seq_len, "seq_len", where, dim="token")
    forward = _FWD.value * N + FORWARD_ATTENTION_FLOPS.value * L * H * Q * T
    passes = 1 + BACKWARD_FORWARD_RATIO.value + (1 if recompute == "full" else 0)
    C = passes * forward
    return from_si(C, "FLOP/token")


def _utilization(
    throughput: Any, flops_per_token: Any, peak: Any, where: str, name: str = "flops_per_token"
) -> float:
    R = positive(si(throughput, "[token]/[time]", "throughput"), "throughput", where, strict=False)
    C = positive(si(flops_per_token, "[computation]/[token]", name), name, where)
    P = positive(si(peak, "compute_rate", "peak"), "peak", where)
    return R * C / P


@formula(
    symbol=r"\mathrm{MFU} = \frac{R_{\mathrm{tok}}\,C_{\mathrm{tok}}}{P_{\mathrm{peak}}}",
    substituted=r"\frac{ {{throughput}} \cdot {{flops_per_token}} }{ {{peak}} }",
    sources=("chowdhery2022",),
    citation="Chowdhery et al. (2022), PaLM, §4.1 and Appendix B",
    result="dimensionless",
)
def mfu(throughput: Any, flops_per_token: Any, peak: Any) -> float:
    """Model FLOPs utilization: observed tokens/s × model FLOPs per token ÷ aggregate peak.

    Model FLOPs exclude rematerialization (use :func:`transformer_flops_per_token`).
    Source: Chowdhery et al. 2022 (PaLM).
    """
    U = _utilization(throughput, flops_per_token, peak, "mfu")
    return U


@formula(
    symbol=(
        r"\mathrm{HFU} = \frac{R_{\mathrm{tok}}\,C^{\mathrm{hw}}_{\mathrm{tok}}}"
        r"{P_{\mathrm{peak}}}"
    ),
    substituted=r"\frac{ {{throughput}} \cdot {{hardware_flops_per_token}} }{ {{peak}} }",
    sources=("chowdhery2022",),
    citation="Chowdhery et al. (2022), PaLM, §4.1",
    result="dimensionless",
)
def hfu(throughput: Any, hardware_flops_per_token: Any, peak: Any) -> float:
    """Hardware FLOPs utilization: like MFU but counting recomputed FLOPs too. Source: PaLM."""
    U = _utilization(throughput, hardware_flops_per_token, peak, "hfu", "hardware_flops_per_token")
    return U


@formula(
    symbol=r"T_{\mathrm{ovh}} = n_{\mathrm{ops}}\,t_{\mathrm{launch}}",
    substituted=r"{{ops}} \cdot {{per_op}}",
    sources=("paszke2019",),
    citation="Paszke et al. (2019), PyTorch: per-operator dispatch and launch overhead",
    result="time",
)
def launch_overhead(ops: Any, per_op: Any) -> Any:
    """Host-side overhead of dispatching n operators (kernel launches) at t_launch each.

    When it exceeds the kernels' own roofline time the step is overhead-bound (small batches,
    eager mode); CUDA graphs and fusion cut n_ops. Source: Paszke et al. 2019.
    """
    where = "launch_overhead"
    n = count(ops, "ops", where, minimum=0)
    t = positive(si(per_op, "time", "per_op"), "per_op", where, strict=False)
    T = n * t
    return from_si(T, "s")
