"""Compression: quantized bytes and speedup bounds, 2:4 vs unstructured sparsity, MoE FLOPs,
and weight streaming.

Speedups here are *bounds*: the memory-bound bound is the ratio of bytes moved, the
compute-bound bound the ratio of peak math rates. Measured speedups can only be lower.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core.constants import (
    BITS_PER_BYTE,
    CSR_INDEX_BITS,
    DEFAULT_PRECISION,
    FORWARD_FLOPS_PER_PARAM,
    QUANT_LAYOUTS,
    SPARSE_2_4_DENSITY,
    SPARSE_2_4_MATH_SPEEDUP,
    SPARSE_2_4_METADATA_BITS,
    SQNR_DB_OFFSET,
    SQNR_DB_PER_BIT,
    TRAINING_FLOPS_PER_PARAM,
)
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas._args import (
    bytes_per_element,
    choice,
    count,
    fraction,
    positive,
    si,
)
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "moe_flops",
    "quantization_speedup",
    "quantization_sqnr",
    "quantized_bits",
    "quantized_bits_per_weight",
    "quantized_weights_bytes",
    "sparse_math_speedup",
    "sparse_speedup_bound",
    "sparse_weight_B",
    "sparse_weight_bytes",
    "weight_streaming_time",
]

_ZERO_S = from_si(0.0, "s")
_PATTERNS = ("2:4", "unstructured")


def quantized_bits(bits: float, group_size: float, scale_bits: float, zero_bits: float) -> float:
    """Float fast path of :func:`quantized_bits_per_weight`: ``b + (s + z)/g`` (``g = 0``: b)."""
    if group_size <= 0.0:
        return bits
    b_eff = bits + (scale_bits + zero_bits) / group_size
    return b_eff


def _layout(precision: str, group_size: Any, where: str) -> tuple[float, float, float, float]:
    """(element bits, group size, scale bits, zero bits) of a format, group size overridden."""
    beta = bytes_per_element(precision)
    lay = QUANT_LAYOUTS.get(precision)
    bits = beta * BITS_PER_BYTE
    if lay is None:
        return bits, 0.0, 0.0, 0.0
    g = (
        float(lay.group_size)
        if group_size is None
        else count(group_size, "group_size", where, minimum=0)
    )
    return bits, g, lay.scale_bits, lay.zero_bits


def _bits_operands(a: Any) -> dict[str, Any]:
    """The derivation's operands. ``g = 0`` (one scale per tensor, or a format without group
    scales) shows as g = ∞, the limit it stands for, so the derivation never divides by zero."""
    bits, g, s_b, z_b = _layout(a["precision"], a.get("group_size"), "quantized_bits_per_weight")
    g_shown = g if g > 0.0 else math.inf
    return {"bits": bits, "group_size": g_shown, "scale_bits": s_b, "zero_bits": z_b}


@formula(
    symbol=r"b_{\mathrm{eff}} = b + \frac{b_{\mathrm{scale}} + b_{\mathrm{zero}}}{g}",
    substituted=r"{{bits}} + \frac{ {{scale_bits}} + {{zero_bits}} }{ {{group_size}} }",
    sources=("frantar2023", "solver_lin2024_awq", "ocp_mx2023"),
    citation="Frantar et al. (2023) GPTQ and Lin et al. (2024) AWQ group layout; OCP MX (2023)",
    result="dimensionless",
    expand=_bits_operands,
)
def quantized_bits_per_weight(precision: str, group_size: Any = None) -> float:
    """Bits stored per weight of a quantized format, its group scales and zero points counted.

    int4 in groups of 128 with an fp16 scale and a 4-bit zero point per group (the GPTQ/AWQ
    default) stores 4 + 20/128 = 4.156 bits per weight; MXFP4 shares an 8-bit scale per 32
    elements: 4.25. ``group_size`` overrides the format's (``0``: one scale per tensor).
    Formats without group scales (fp8, int8 per channel, 16-bit floats) store their element.
    Sources: Frantar et al. 2023; Lin et al. 2024; OCP MX specification 2023.
    """
    bits, g, s_b, z_b = _layout(precision, group_size, "quantized_bits_per_weight")
    b_eff = quantized_bits(bits, g, s_b, z_b)
    return b_eff


def _beta(a: Any) -> Any:
    bits, g, s_b, z_b = _layout(a["precision"], a.get("group_size"), "quantized_weights_bytes")
    return {"bytes_per_element": from_si(quantized_bits(bits, g, s_b, z_b) / BITS_PER_BYTE, "B")}


@formula(
    symbol=r"M_{W} = N\,\beta_{q}",
    substituted=r"{{params}} \cdot {{bytes_per_element}}",
    sources=("jacob2018", "frantar2023", "solver_lin2024_awq"),
    citation="Jacob et al. (2018); Frantar et al. (2023), GPTQ; Lin et al. (2024), AWQ",
    result="information",
    expand=_beta,
)
def quantized_weights_bytes(params: Any, precision: str, group_size: Any = None) -> Any:
    """Weight bytes of N parameters stored at ``precision``, group scales and zero points
    counted (:func:`quantized_bits_per_weight`): 7B int4 weights in groups of 128 take
    3.64 GB, not 3.5 GB. ``group_size=0`` counts the elements alone."""
    where = "quantized_weights_bytes"
    N = count(params, "params", where, dim="parameter", minimum=0)
    bits, g, s_b, z_b = _layout(precision, group_size, where)
    M_W = N * quantized_bits(bits, g, s_b, z_b) / BITS_PER_BYTE
    return from_si(M_W, "B")


@formula(
    symbol=r"S \le \frac{\beta_{\mathrm{from}}}{\beta_{\mathrm{to}}}",
    substituted=r"\frac{ {{beta_from}} }{ {{beta_to}} }",
    sources=("jacob2018", "williams2009"),
    citation="bytes ratio in the memory-bound roofline regime (Williams et al. 2009)",
    result="dimensionless",
    expand=lambda a: {
        "beta_from": from_si(bytes_per_element(a["from_precision"]), "B"),
        "beta_to": from_si(bytes_per_element(a["to_precision"]), "B"),
    },
)
def quantization_speedup(from_precision: str, to_precision: str) -> float:
    """Upper bound on the speedup of a memory-bound kernel from quantizing its operands.

    fp16 → int4 moves a quarter of the bytes, so at most 4× (dequantization overhead and any
    compute-bound phase lower it). Sources: Jacob et al. 2018; roofline (Williams et al. 2009).
    """
    beta_from = bytes_per_element(from_precision)
    beta_to = bytes_per_element(to_precision)
    S = beta_from / beta_to
    return S


def sparse_weight_B(
    params: float,
    bytes_per_element: float,
    density: float = SPARSE_2_4_DENSITY.value,
    pattern: str = "2:4",
) -> float:
    """Float fast path of :func:`sparse_weight_bytes`: N·ρ·(β + β_idx) bytes."""
    bits = SPARSE_2_4_METADATA_BITS.value if pattern == "2:4" else CSR_INDEX_BITS.value
    index_bytes = bits / BITS_PER_BYTE
    M = params * density * (bytes_per_element + index_bytes)
    return M


def _density(density: Any, pattern: str, where: str) -> float:
    rho = fraction(density, "density", where)
    rho = positive(rho, "density", where)
    if pattern == "2:4" and rho != SPARSE_2_4_DENSITY.value:
        raise FormulaDomainError(
            f"2:4 sparsity has density {SPARSE_2_4_DENSITY.value:g}, got {rho:g}",
            where=where,
            why="the pattern keeps exactly 2 of every 4 weights",
            fix="pass density=0.5 or pattern='unstructured'",
        )
    return rho


def _sparse_operands(a: Any) -> dict[str, Any]:
    bits = SPARSE_2_4_METADATA_BITS if a["pattern"] == "2:4" else CSR_INDEX_BITS
    return {
        "bytes_per_element": from_si(bytes_per_element(a["precision"]), "B"),
        "index_bytes": from_si(bits.value / BITS_PER_BYTE, "B"),
    }


@formula(
    symbol=r"M = N\,\rho\,\left(\beta + \beta_{\mathrm{idx}}\right)",
    substituted=(
        r"{{params}} \cdot {{density}} \cdot \left({{bytes_per_element}} + "
        r"{{index_bytes}}\right)"
    ),
    sources=("mishra2021", "saad2003"),
    citation="Mishra et al. (2021), 2:4 sparsity (2-bit indices); CSR per Saad (2003)",
    result="information",
    expand=_sparse_operands,
)
def sparse_weight_bytes(
    params: Any,
    precision: str = DEFAULT_PRECISION,
    density: Any = SPARSE_2_4_DENSITY.value,
    pattern: str = "2:4",
) -> Any:
    """Bytes of sparse weights: kept values plus their indices (2-bit for 2:4, 32-bit CSR)."""
    where = "sparse_weight_bytes"
    choice(pattern, "pattern", where, _PATTERNS)
    N = count(params, "params", where, dim="parameter", minimum=0)
    rho = _density(density, pattern, where)
    M = sparse_weight_B(N, bytes_per_element(precision), rho, pattern)
    return from_si(M, "B")


@formula(
    symbol=r"S_{\mathrm{mem}} \le \frac{\beta}{\rho\,(\beta + \beta_{\mathrm{idx}})}",
    substituted=(
        r"\frac{ {{bytes_per_element}} }{ {{density}} \cdot \left({{bytes_per_element}}"
        r" + {{index_bytes}}\right)}"
    ),
    sources=("mishra2021", "williams2009"),
    citation="Mishra et al. (2021); roofline bounds (Williams et al. 2009)",
    result="dimensionless",
    expand=_sparse_operands,
)
def sparse_speedup_bound(
    precision: str = DEFAULT_PRECISION,
    density: Any = SPARSE_2_4_DENSITY.value,
    pattern: str = "2:4",
) -> float:
    """Speedup bound from sparsity for a memory-bound kernel: dense bytes ÷ sparse bytes.

    2:4 at fp16 moves at most 1/1.78 of the bytes (2-bit indices); unstructured sparsity with
    32-bit CSR indices moves *more* bytes than dense until density drops below β/(β + 4).
    Sources: Mishra et al. 2021; Williams et al. 2009.
    """
    where = "sparse_speedup_bound"
    choice(pattern, "pattern", where, _PATTERNS)
    rho = _density(density, pattern, where)
    beta = bytes_per_element(precision)
    S = beta / sparse_weight_B(1.0, beta, rho, pattern)
    return S


@formula(
    symbol=r"S_{\mathrm{math}} \le \frac{1}{\rho_{\mathrm{hw}}}",
    substituted=r"\frac{1}{ {{rho_hw}} }",
    sources=("mishra2021",),
    citation="Mishra et al. (2021): sparse tensor cores double math throughput for 2:4",
    result="dimensionless",
    expand=lambda a: {
        "rho_hw": 1.0 / SPARSE_2_4_MATH_SPEEDUP.value if a["pattern"] == "2:4" else a["density"]
    },
)
def sparse_math_speedup(density: Any = SPARSE_2_4_DENSITY.value, pattern: str = "2:4") -> float:
    """Speedup bound from sparsity for a compute-bound kernel (math skipped).

    2:4 on sparse tensor cores: exactly the hardware's 2× sparse peak; unstructured: 1/ρ in
    theory, rarely reached on dense-math hardware. Source: Mishra et al. 2021.
    """
    where = "sparse_math_speedup"
    choice(pattern, "pattern", where, _PATTERNS)
    rho = _density(density, pattern, where)
    S = SPARSE_2_4_MATH_SPEEDUP.value if pattern == "2:4" else 1.0 / rho
    return S


@formula(
    symbol=r"C = c\,N_{\mathrm{active}}\,D",
    substituted=r"{{c}} \cdot {{active_params}} \cdot {{tokens}}",
    sources=("shazeer2017", "fedus2022", "kaplan2020"),
    citation="Shazeer et al. (2017); Fedus, Zoph & Shazeer (2022), Switch Transformers",
    result="computation",
    expand=lambda a: {
        "c": TRAINING_FLOPS_PER_PARAM.value if a["training"] else FORWARD_FLOPS_PER_PARAM.value
    },
)
def moe_flops(active_params: Any, tokens: Any, training: bool = False) -> Any:
    """Compute of a mixture-of-experts model: only the routed (active) parameters count.

    c = 2 FLOP/param/token for inference, 6 for training.

    Sources: Shazeer et al. 2017; Fedus et al. 2022; the 2N / 6N rule of Kaplan et al. 2020.
    """
    where = "moe_flops"
    N_act = count(active_params, "active_params", where, dim="parameter", minimum=0)
    D = count(tokens, "tokens", where, dim="token", minimum=0)
    c = TRAINING_FLOPS_PER_PARAM.value if training else FORWARD_FLOPS_PER_PARAM.value
    C = c * N_act * D
    return from_si(C, "FLOP")


@formula(
    symbol=r"T = \alpha + \frac{M_{W}}{\beta_{\mathrm{link}}}",
    substituted=r"{{latency}} + \frac{ {{size}} }{ {{bandwidth}} }",
    sources=("sheng2023",),
    citation="Sheng et al. (2023), FlexGen: offloaded weights streamed per step",
    result="time",
)
def weight_streaming_time(size: Any, bandwidth: Any, latency: Any = _ZERO_S) -> Any:
    """Time to stream M_W bytes of weights over a link (e.g. host → GPU over PCIe) per step."""
    where = "weight_streaming_time"
    M = positive(si(size, "information", "size"), "size", where, strict=False)
    beta = positive(si(bandwidth, "bandwidth", "bandwidth"), "bandwidth", where)
    alpha = positive(si(latency, "time", "latency"), "latency", where, strict=False)
    T = alpha + M / beta
    return from_si(T, "s")


@formula(
    symbol=r"\mathrm{SQNR} \approx 6.02\,b + 1.76\ \mathrm{dB}",
    substituted=r"{{per_bit}} \cdot {{bits}} + {{offset}}",
    sources=("bennett1948",),
    citation="Bennett (1948), Spectra of Quantized Signals",
    result="dimensionless",
    expand=lambda a: {"per_bit": SQNR_DB_PER_BIT.value, "offset": SQNR_DB_OFFSET.value},
)
def quantization_sqnr(bits: Any) -> float:
    """Signal-to-quantization-noise ratio (dB) of a full-scale sine quantized uniformly to b
    bits: about 6 dB per bit, the fidelity cost of every bit removed. Source: Bennett 1948.
    """
    b = count(bits, "bits", "quantization_sqnr")
    SQNR = SQNR_DB_PER_BIT.value * b + SQNR_DB_OFFSET.value
    return SQNR
