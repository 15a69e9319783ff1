"""Numeric formats: bytes per element, quantized layouts, sparse storage, quantization noise.

:data:`BYTES_PER_ELEMENT` is the one table of formats (the hardware registry, execution plans
and formulas all read it); :data:`PRECISIONS` is its keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlsysim.core.constants.sourced import Constant
from mlsysim.core.constants.sourced import sourced as _c

__all__ = [
    "BITS_PER_BYTE",
    "BYTES_PER_ELEMENT",
    "CSR_INDEX_BITS",
    "HALF_PRECISIONS",
    "PRECISIONS",
    "QUANTIZED_FORMATS",
    "QUANT_LAYOUTS",
    "SPARSE_2_4_DENSITY",
    "SPARSE_2_4_MATH_SPEEDUP",
    "SPARSE_2_4_METADATA_BITS",
    "SQNR_DB_OFFSET",
    "SQNR_DB_PER_BIT",
    "QuantLayout",
    "bytes_per_element",
]

# --- numeric formats -------------------------------------------------------------------------
#: Storage bytes per element for each numeric precision, in the order datasheets list them:
#: the one table of formats (the hardware registry, execution plans and formulas all read it).
BYTES_PER_ELEMENT: dict[str, Constant] = {
    "fp64": _c(8, "B", "ieee754_2019", "binary64"),
    "fp64_tensor": _c(8, "B", "ieee754_2019", "binary64 on tensor cores"),
    "fp32": _c(4, "B", "ieee754_2019", "binary32"),
    "tf32": _c(4, "B", "nvidia2020ampere", "TF32 math on values stored as 32-bit floats"),
    "fp16": _c(2, "B", "ieee754_2019", "binary16"),
    "bf16": _c(2, "B", "kalamkar2019", "bfloat16: 8-bit exponent, 7-bit mantissa"),
    "fp8": _c(1, "B", "micikevicius2022", "E4M3 / E5M2"),
    "fp6": _c(0.75, "B", "ocp_mx2023", "MX FP6 element (E2M3 / E3M2), scale not counted"),
    "int8": _c(1, "B", "jacob2018", "8-bit integer quantization"),
    "fp4": _c(0.5, "B", "ocp_mx2023", "MX FP4 element (E2M1), scale not counted"),
    "int4": _c(0.5, "B", "frantar2023", "4-bit integer weights"),
}
#: Every numeric format mlsysim knows, in datasheet order (the keys of :data:`BYTES_PER_ELEMENT`).
PRECISIONS: tuple[str, ...] = tuple(BYTES_PER_ELEMENT)
#: Formats that may be stored quantized and dequantized for the math (weight-only quantization,
#: W4A16: Frantar et al. 2023).
QUANTIZED_FORMATS: frozenset[str] = frozenset({"fp8", "int8", "fp6", "fp4", "int4"})


@dataclass(frozen=True)
class QuantLayout:
    """How a quantized weight format stores its elements and their scales.

    ``group_size`` weights share one ``scale_bits`` scale and one ``zero_bits`` zero point
    (``0``: one scale per tensor or output channel, a negligible share per weight). The bits
    per stored weight are ``element_bits + (scale_bits + zero_bits) / group_size``
    (:func:`~mlsysim.core.formulas.quantized_bits_per_weight`).
    """

    element_bits: float
    group_size: int
    scale_bits: float
    zero_bits: float
    source: str
    note: str = ""


#: Storage layout of each quantized weight format as engines run it by default: the group size
#: and the scale and zero-point widths (GPTQ/AWQ ``QuantLinear`` buffers; OCP MX blocks).
QUANT_LAYOUTS: dict[str, QuantLayout] = {
    "int4": QuantLayout(
        4,
        128,
        16,
        4,
        "solver_lin2024_awq",
        "AWQ/GPTQ default: groups of 128 weights, an fp16 scale and a packed 4-bit zero point "
        "per group (4.156 bits/weight)",
    ),
    "int8": QuantLayout(
        8, 0, 16, 0, "jacob2018", "per-output-channel fp16 scales: negligible per weight"
    ),
    "fp8": QuantLayout(8, 0, 32, 0, "micikevicius2022", "per-tensor fp32 scale"),
    "fp6": QuantLayout(6, 32, 8, 0, "ocp_mx2023", "MXFP6: 32-element blocks share an E8M0 scale"),
    "fp4": QuantLayout(4, 32, 8, 0, "ocp_mx2023", "MXFP4: 32-element blocks share an E8M0 scale"),
}
#: 16-bit float formats in order of preference: bfloat16 is the training format of current
#: accelerators (Kalamkar et al. 2019); fp16 where a device has no bf16 rate (T4, V100).
HALF_PRECISIONS: tuple[str, ...] = ("bf16", "fp16")
#: Bits per byte (the definition of the byte; units.txt: bit = 0.125 byte).
BITS_PER_BYTE = 8.0


def bytes_per_element(precision: str) -> float:
    """Bytes per element of ``precision`` (``"bf16"`` → 2.0); unknown names list the known."""
    c = BYTES_PER_ELEMENT.get(precision)
    if c is None:
        from mlsysim.core.exceptions import UnknownNameError

        raise UnknownNameError(
            "precision",
            str(precision),
            BYTES_PER_ELEMENT,
            fix="use one of " + ", ".join(BYTES_PER_ELEMENT),
        )
    return c.value


# --- sparsity ----------------------------------------------------------------------------------
SPARSE_2_4_DENSITY = _c(0.5, "", "mishra2021", "2 non-zeros in every 4 weights")
SPARSE_2_4_METADATA_BITS = _c(2, "bit", "mishra2021", "2-bit position index per non-zero")
SPARSE_2_4_MATH_SPEEDUP = _c(2, "", "mishra2021", "sparse tensor cores: 2× dense math peak")
CSR_INDEX_BITS = _c(32, "bit", "saad2003", "one 32-bit column index per non-zero (CSR)")

# --- quantization noise ------------------------------------------------------------------------
SQNR_DB_PER_BIT = _c(6.02, "", "bennett1948", "20·log10(2) dB per bit, uniform quantizer")
SQNR_DB_OFFSET = _c(1.76, "", "bennett1948", "10·log10(3/2) dB, full-scale sine input")
