"""Performance: how much of its peak a device does — MFU and HFU, how busy it is over a step —
and the host's launch overhead.

The roofline (:mod:`.roofline`), the laws of speedup and occupancy (:mod:`.laws`: Amdahl,
Gustafson, Little) and FLOP counting (:mod:`.flops`: model and hardware FLOPs) are the same
``performance`` domain, importable from here too. They are imported first and in that order,
so the formulas keep their order in ``FORMULAS`` (the roofline's first, then the laws, the
FLOP counts and this module's).
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.arrays import larger, smaller
from mlsysim.core.formulas._args import count, positive, si
from mlsysim.core.formulas._meta import formula

# the roofline, the laws and FLOP counting moved to their own modules; the solvers and the
# lowering import them from here too. Imported first and in this order (kept by the isort
# splits), their formulas are registered first, as they always were.
from mlsysim.core.formulas.roofline import RooflineTime as RooflineTime
from mlsysim.core.formulas.roofline import arithmetic_intensity as arithmetic_intensity
from mlsysim.core.formulas.roofline import attainable_flops as attainable_flops
from mlsysim.core.formulas.roofline import intensity_FpB as intensity_FpB
from mlsysim.core.formulas.roofline import ridge_point as ridge_point
from mlsysim.core.formulas.roofline import roofline_time as roofline_time
from mlsysim.core.formulas.roofline import roofline_time_s as roofline_time_s

# isort: split
from mlsysim.core.formulas.laws import amdahl as amdahl
from mlsysim.core.formulas.laws import gustafson as gustafson
from mlsysim.core.formulas.laws import little as little

# isort: split
from mlsysim.core.formulas.flops import flop_params as flop_params
from mlsysim.core.formulas.flops import flop_params_F as flop_params_F
from mlsysim.core.formulas.flops import hardware_flops_per_token as hardware_flops_per_token
from mlsysim.core.formulas.flops import hardware_flops_per_token_F as hardware_flops_per_token_F
from mlsysim.core.formulas.flops import model_flops as model_flops
from mlsysim.core.formulas.flops import model_flops_F as model_flops_F
from mlsysim.core.formulas.flops import model_flops_per_token as model_flops_per_token
from mlsysim.core.formulas.flops import model_flops_per_token_F as model_flops_per_token_F
from mlsysim.core.formulas.flops import transformer_flops_per_token as transformer_flops_per_token
from mlsysim.core.units import from_si, ureg

__all__ = [
    "amdahl",
    "busy_fraction",
    "device_utilization",
    "flop_params",
    "flop_params_F",
    "gustafson",
    "hardware_flops_per_token",
    "hardware_flops_per_token_F",
    "hfu",
    "launch_overhead",
    "launch_overhead_s",
    "little",
    "mfu",
    "model_flops",
    "model_flops_F",
    "model_flops_per_token",
    "model_flops_per_token_F",
    "peak_fraction",
    "transformer_flops_per_token",
]


def peak_fraction(rate: float, flops_per_unit: float, peak: float) -> float:
    """Float fast path of :func:`mfu` and :func:`hfu`: R·C / P (units/s, FLOP/unit, FLOP/s)."""
    U = rate * flops_per_unit / peak
    return U


def _work_unit(throughput: Any) -> str:
    """``"sample"`` for a samples-per-second throughput (a CNN's), else ``"token"``."""
    dims = getattr(throughput, "dimensionality", None)
    if dims is not None and dims == ureg.get_dimensionality("[sample]/[time]"):
        return "sample"
    return "token"


def _utilization(
    throughput: Any, flops_per_token: Any, peak: Any, where: str, name: str = "flops_per_token"
) -> float:
    unit = _work_unit(throughput)
    R = si(throughput, f"[{unit}]/[time]", "throughput")
    R = positive(R, "throughput", where, strict=False)
    C = positive(si(flops_per_token, f"[computation]/[{unit}]", name), name, where)
    P = positive(si(peak, "compute_rate", "peak"), "peak", where)
    return peak_fraction(R, C, P)


@formula(
    symbol=r"\mathrm{MFU} = \frac{R_{\mathrm{tok}}\,C_{\mathrm{tok}}}{P_{\mathrm{peak}}}",
    substituted=r"\frac{ {{throughput}} \cdot {{flops_per_token}} }{ {{peak}} }",
    sources=("chowdhery2022",),
    citation="Chowdhery et al. (2022), PaLM, §4.1 and Appendix B",
    result="dimensionless",
)
def mfu(throughput: Any, flops_per_token: Any, peak: Any) -> float:
    """Model FLOPs utilization: observed tokens/s × model FLOPs per token ÷ aggregate peak.

    Model FLOPs exclude rematerialization and count attention in full (use
    :func:`model_flops_per_token`). A CNN's throughput may be given in samples/s with FLOPs
    per sample. Source: Chowdhery et al. 2022 (PaLM).
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
    """Hardware FLOPs utilization: like MFU but counting recomputed FLOPs too (use
    :func:`hardware_flops_per_token`). Source: PaLM."""
    U = _utilization(throughput, hardware_flops_per_token, peak, "hfu", "hardware_flops_per_token")
    return U


def busy_fraction(flops: float, bytes: float, time: float, peak: float, bandwidth: float) -> float:
    """Float fast path of :func:`device_utilization`: max(W/(P·t), Q/(B·t)), at most 1 (floats
    or arrays, element-wise)."""
    u_c = flops / (peak * time)
    u_m = bytes / (bandwidth * time)
    u = larger(u_c, u_m)
    return smaller(u, 1.0)


@formula(
    symbol=(
        r"u = \min\left(1,\ \max\left(\frac{W}{P_{\mathrm{peak}}\,t},\ "
        r"\frac{Q}{B_{\mathrm{mem}}\,t}\right)\right)"
    ),
    substituted=(
        r"\min\left(1,\ \max\left(\frac{ {{flops}} }{ {{peak}} \cdot {{time}} },\ "
        r"\frac{ {{bytes}} }{ {{bandwidth}} \cdot {{time}} }\right)\right)"
    ),
    sources=("fan2007", "williams2009"),
    citation="Fan, Weber & Barroso (2007): utilization drives power; roofline (Williams 2009)",
    result="dimensionless",
)
def device_utilization(flops: Any, bytes: Any, time: Any, peak: Any, bandwidth: Any) -> float:
    """How busy a device is over a step: the larger of its compute and memory-bandwidth use.

    The utilisation of the linear power model (:func:`device_power`); a memory-bound decode
    step is busy at its bandwidth fraction. Sources: Fan et al. 2007; Williams et al. 2009.
    """
    where = "device_utilization"
    W = positive(si(flops, "computation", "flops"), "flops", where, strict=False)
    Q = positive(si(bytes, "information", "bytes"), "bytes", where, strict=False)
    t = positive(si(time, "time", "time"), "time", where)
    P = positive(si(peak, "compute_rate", "peak"), "peak", where)
    B = positive(si(bandwidth, "bandwidth", "bandwidth"), "bandwidth", where)
    u = busy_fraction(W, Q, t, P, B)
    return u


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
    T = launch_overhead_s(n, t)
    return from_si(T, "s")


def launch_overhead_s(ops: float, per_op: float) -> float:
    """Float fast path of :func:`launch_overhead`: launches × seconds per launch."""
    return ops * per_op
