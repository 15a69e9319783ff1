"""Performance: Amdahl and Gustafson, Little's law, FLOP accounting (MFU/HFU), how busy a
device is and the host's launch overhead.

The roofline is in :mod:`.roofline` (the same ``performance`` domain), importable from here
too. It is imported first, so the formulas keep their order (the roofline's first).
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.arrays import larger, smaller
from mlsysim.core.constants import (
    BACKWARD_FORWARD_RATIO,
    DEFAULT_RECOMPUTE,
    FORWARD_ATTENTION_FLOPS,
    RECOMPUTE_POLICIES,
)
from mlsysim.core.constants import FORWARD_FLOPS_PER_PARAM as _FWD
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas._args import choice, count, fraction, positive, rate, si
from mlsysim.core.formulas._meta import formula

# the roofline moved to .roofline; the solvers import it from here too (and, imported first,
# its formulas are registered first, as they always were)
from mlsysim.core.formulas.roofline import RooflineTime as RooflineTime
from mlsysim.core.formulas.roofline import arithmetic_intensity as arithmetic_intensity
from mlsysim.core.formulas.roofline import attainable_flops as attainable_flops
from mlsysim.core.formulas.roofline import intensity_FpB as intensity_FpB
from mlsysim.core.formulas.roofline import ridge_point as ridge_point
from mlsysim.core.formulas.roofline import roofline_time as roofline_time
from mlsysim.core.formulas.roofline import roofline_time_s as roofline_time_s
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


def flop_params_F(
    N: float, V: float, h: float, tied: bool, rows: float = 0.0, head: bool = True
) -> float:
    """Float fast path of :func:`flop_params`: the stated count less the tables a token only
    looks up (the untied input embedding, ``rows`` learned positions and token types) and,
    without an output layer in the step (``head`` false), the vocabulary table."""
    tables = (0.0 if tied else 1.0) + (0.0 if head else 1.0)
    N_mm = N - tables * V * h - rows * h
    return N_mm


def model_flops_F(forward: float, training: bool = True) -> float:
    """Float fast path of :func:`model_flops`: a step's forward FLOPs × (1 + 2) for training."""
    passes = 1.0 + BACKWARD_FORWARD_RATIO.value if training else 1.0
    C = passes * forward
    return C


def model_flops_per_token_F(
    N: float, L: float, H: float, Q: float, T: float, training: bool = True
) -> float:
    """Float fast path of :func:`model_flops_per_token`: FLOPs per token, recompute excluded."""
    forward = _FWD.value * N + FORWARD_ATTENTION_FLOPS.value * L * H * Q * T
    C = model_flops_F(forward, training)
    return C


def hardware_flops_per_token_F(
    N: float,
    L: float,
    H: float,
    Q: float,
    T: float,
    recompute: str = DEFAULT_RECOMPUTE,
    N_head: float = 0.0,
) -> float:
    """Float fast path of :func:`hardware_flops_per_token`: training FLOPs per token with the
    recomputed forward work (selective: the attention core; full: the layers' forward, the
    output layer's ``N_head`` parameters not re-run)."""
    C = model_flops_per_token_F(N, L, H, Q, T, True)
    attention = FORWARD_ATTENTION_FLOPS.value * L * H * Q * T
    if recompute == "full":
        C += _FWD.value * (N - N_head) + attention
    elif recompute == "selective":
        C += attention
    return C


def _flop_args(
    params: Any, layers: Any, heads: Any, head_dim: Any, seq_len: Any, where: str
) -> tuple[float, float, float, float, float]:
    N = count(params, "params", where, dim="parameter")
    L = count(layers, "layers", where)
    H = count(heads, "heads", where)
    Q = count(head_dim, "head_dim", where)
    T = count(seq_len, "seq_len", where, dim="token")
    return N, L, H, Q, T


@formula(
    symbol=r"N_{\mathrm{mm}} = N - u\,V\,h - R\,h",
    substituted=(
        r"{{params}} - {{u}} \cdot {{vocab}} \cdot {{hidden}} - "
        r"{{lookup_rows}} \cdot {{hidden}}"
    ),
    sources=("narayanan2021", "chowdhery2022"),
    citation="Narayanan et al. (2021), Eq. 3; Chowdhery et al. (2022), PaLM, Appendix B",
    result="parameter",
    expand=lambda a: {"u": int(not a["tied"]) + int(not a["head"])},
)
def flop_params(
    params: Any,
    vocab: Any,
    hidden: Any,
    tied: bool = False,
    lookup_rows: Any = 0,
    head: bool = True,
) -> Any:
    """The N of the model-FLOPs formulas: the parameters a token's matrix products pass
    through — the stated count (a mixture of experts' active count) less the tables a token
    only looks up: the input embedding when it is not tied to the output layer, and
    ``lookup_rows`` rows of width ``hidden`` (learned positions, token types). The output
    layer (the logits, V·h) counts once, tied or not; a step without one (an encoder's
    inference, ``head=False``) counts none of the V·h table.

    Sources: Narayanan et al. 2021, Eq. 3 — 96·B·s·l·h²(1 + s/6h + V/16lh) has no FLOPs for
    the embedding lookup and 6·B·s·h·V for the logits; Chowdhery et al. 2022 (PaLM), App. B —
    N = 540.35B, its shared input/output embedding counted once, gives 46.2 % MFU.
    """
    where = "flop_params"
    N = count(params, "params", where, dim="parameter")
    V = count(vocab, "vocab", where)
    h = count(hidden, "hidden", where)
    R = count(lookup_rows, "lookup_rows", where, minimum=0)
    N_mm = flop_params_F(N, V, h, bool(tied), R, bool(head))
    N_mm = positive(N_mm, "params less the lookup tables", where)
    return from_si(N_mm, "param")


@formula(
    symbol=r"C = p\,C_{\mathrm{fwd}}",
    substituted=r"{{passes}} \cdot {{forward_flops}}",
    sources=("kaplan2020", "chowdhery2022"),
    citation="Kaplan et al. (2020): backward = 2× forward; model FLOPs as PaLM defines them",
    result="computation",
    expand=lambda a: {"passes": 1 + BACKWARD_FORWARD_RATIO.value if a["training"] else 1},
)
def model_flops(forward_flops: Any, training: bool = True) -> Any:
    """Model FLOPs of a step whose forward pass costs C_fwd: 3·C_fwd for training (forward plus
    a backward of twice the forward), C_fwd for inference — recomputation excluded (MFU).

    For a CNN, C_fwd is the published FLOPs per inference times the batch. Sources: Kaplan et
    al. 2020 §2.1; Chowdhery et al. 2022 (PaLM), Appendix B.
    """
    F = positive(si(forward_flops, "computation", "forward_flops"), "forward_flops", "model_flops")
    C = model_flops_F(F, bool(training))
    return from_si(C, "FLOP")


@formula(
    symbol=r"C_{\mathrm{tok}} = p\left(2\,N + 4\,L\,H\,Q\,T\right)",
    substituted=(
        r"{{passes}} \left(2 \cdot {{params}} + 4 \cdot {{layers}} \cdot "
        r"{{heads}} \cdot {{head_dim}} \cdot {{seq_len}}\right)"
    ),
    sources=("chowdhery2022", "korthikanti2022", "kaplan2020"),
    citation="Chowdhery et al. (2022), PaLM, Appendix B; Korthikanti et al. (2022), App. A",
    result="[computation]/[token]",
    expand=lambda a: {"passes": 1 + BACKWARD_FORWARD_RATIO.value if a["training"] else 1},
)
def model_flops_per_token(
    params: Any, layers: Any, heads: Any, head_dim: Any, seq_len: Any, training: bool = True
) -> Any:
    """Model FLOPs per token, the numerator of MFU: 6N + 12·L·H·Q·T for training (PaLM App. B),
    a third of it (2N + 4·L·H·Q·T, one forward pass) for inference.

    N is :func:`flop_params` (the parameters a token's matrix products pass through: the
    stated or active count less the lookup tables, the logits' V·h once), T the context
    each token attends to, counted in full — causal masking and recomputation are not model
    FLOPs (Chowdhery et al. 2022; Korthikanti et al. 2022 count attention the same way).
    """
    N, L, H, Q, T = _flop_args(params, layers, heads, head_dim, seq_len, "model_flops_per_token")
    C = model_flops_per_token_F(N, L, H, Q, T, bool(training))
    return from_si(C, "FLOP/token")


@formula(
    symbol=(
        r"C^{\mathrm{hw}}_{\mathrm{tok}} = 6\,N + 12\,L\,H\,Q\,T + "
        r"r_N\,2\,(N - N_{\mathrm{head}}) + r_A\,4\,L\,H\,Q\,T"
    ),
    substituted=(
        r"6 \cdot {{params}} + 12 \cdot {{layers}} \cdot {{heads}} \cdot {{head_dim}} \cdot "
        r"{{seq_len}} + {{r_N}} \cdot 2 \cdot ({{params}} - {{head_params}}) + {{r_A}} \cdot 4"
        r" \cdot {{layers}} \cdot {{heads}} \cdot {{head_dim}} \cdot {{seq_len}}"
    ),
    sources=("chowdhery2022", "korthikanti2022", "narayanan2021"),
    citation=(
        "Chowdhery et al. (2022), PaLM, App. B (rematerialization); Korthikanti et al. (2022);"
        " Narayanan et al. (2021), Eq. 3"
    ),
    result="[computation]/[token]",
    expand=lambda a: {
        "r_N": 1 if a["recompute"] == "full" else 0,
        "r_A": 0 if a["recompute"] == "none" else 1,
    },
)
def hardware_flops_per_token(
    params: Any,
    layers: Any,
    heads: Any,
    head_dim: Any,
    seq_len: Any,
    recompute: str = DEFAULT_RECOMPUTE,
    head_params: Any = 0,
) -> Any:
    """Hardware FLOPs per training token, the numerator of HFU: model FLOPs plus the forward
    work recomputed in the backward pass — the attention core (4·L·H·Q·T) with selective
    recomputation, the layers' whole forward with full (2(N − N_head) + 4·L·H·Q·T: with no
    ``head_params``, 8N + 16·L·H·Q·T). Full recomputation checkpoints the layers, so the
    output layer's V·h (``head_params``) runs its three passes only: Megatron-LM's count,
    96·B·s·l·h²(1 + s/6h + V/16lh), is this with N = 12·l·h² + V·h and N_head = V·h.

    Sources: Chowdhery et al. 2022 (PaLM), Appendix B; Korthikanti et al. 2022; Narayanan
    et al. 2021, Eq. 3.
    """
    where = "hardware_flops_per_token"
    choice(recompute, "recompute", where, RECOMPUTE_POLICIES)
    N, L, H, Q, T = _flop_args(params, layers, heads, head_dim, seq_len, where)
    N_head = count(head_params, "head_params", where, dim="parameter", minimum=0)
    if N_head > N:
        raise FormulaDomainError(
            f"head_params ({N_head:g}) exceeds params ({N:g})",
            where=where,
            why="the output layer is part of the parameters a token passes through",
            fix="pass the output layer's V·h parameters, at most params",
        )
    C = hardware_flops_per_token_F(N, L, H, Q, T, recompute, N_head)
    return from_si(C, "FLOP/token")


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
    params: Any,
    layers: Any,
    heads: Any,
    head_dim: Any,
    seq_len: Any,
    recompute: str | None = None,
) -> Any:
    """Training FLOPs per token 6N + 12·L·H·Q·T (PaLM App. B); ``recompute="full"`` adds the
    re-run forward (8N + 16LHQT, the hardware FLOPs of HFU).

    ``recompute=None`` (or ``"none"``) gives model FLOPs. Kept for books written against it:
    :func:`model_flops_per_token` (MFU) and
    :func:`hardware_flops_per_token` (HFU, any recompute policy) compute the same quantities.
    Source: Chowdhery et al. 2022 (PaLM), Appendix B; Kaplan et al. 2020 for 6N.
    """
    where = "transformer_flops_per_token"
    policy = "none" if recompute is None else recompute
    choice(policy, "recompute", where, ("none", "full"))
    N, L, H, Q, T = _flop_args(params, layers, heads, head_dim, seq_len, where)
    C = hardware_flops_per_token_F(N, L, H, Q, T, policy)
    return from_si(C, "FLOP/token")


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
