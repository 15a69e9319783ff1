"""Physical, numerical and empirical constants used by the formulas, each with its source.

A :class:`Constant` is a value, its unit (``""`` for a pure number) and the citation id it
comes from (``core/data/literature.toml``). Formula bodies use these names instead of bare
literals, so every coefficient in a derivation can be traced to the paper that printed it.

>>> BYTES_PER_ELEMENT["bf16"].value
2.0
>>> ACT_SBH_BYTES.source
'korthikanti2022'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACT_ATTENTION_BYTES",
    "ACT_FULL_RECOMPUTE_BYTES",
    "ACT_PARALLEL_BYTES",
    "ACT_REPLICATED_BYTES",
    "ACT_SBH_BYTES",
    "BACKWARD_FORWARD_RATIO",
    "BYTES_PER_ELEMENT",
    "CHINCHILLA_A",
    "CHINCHILLA_ALPHA",
    "CHINCHILLA_B",
    "CHINCHILLA_BETA",
    "CHINCHILLA_E",
    "CHINCHILLA_TOKENS_PER_PARAM",
    "CONSTANTS",
    "CSR_INDEX_BITS",
    "DATACENTER_CAPEX_PER_WATT",
    "DATACENTER_DEPRECIATION",
    "FORWARD_ATTENTION_FLOPS",
    "FORWARD_FLOPS_PER_PARAM",
    "HARDWARE_LIFETIME",
    "HARDWARE_UTILIZATION",
    "IDLE_POWER_FRACTION",
    "KAPLAN_ALPHA_D",
    "KAPLAN_ALPHA_N",
    "KAPLAN_D_C",
    "KAPLAN_N_C",
    "OPTIMIZER_STATE_BYTES",
    "PUE_GOOGLE_FLEET",
    "PUE_INDUSTRY_AVERAGE",
    "SERVER_DEPRECIATION",
    "SPARSE_2_4_DENSITY",
    "SPARSE_2_4_MATH_SPEEDUP",
    "SPARSE_2_4_METADATA_BITS",
    "SQNR_DB_OFFSET",
    "SQNR_DB_PER_BIT",
    "TRAINING_FLOPS_PER_PARAM",
    "Constant",
    "bytes_per_element",
]


@dataclass(frozen=True)
class Constant:
    """A sourced constant: ``value`` in ``unit`` (``""`` for a pure number)."""

    value: float
    unit: str
    source: str
    note: str = ""

    @property
    def quantity(self) -> Any:
        """The constant as a Quantity (a plain float when it has no unit)."""
        if not self.unit:
            return self.value
        from mlsysim.core.units import Q_

        return Q_(self.value, self.unit)

    def __float__(self) -> float:
        return float(self.value)


def _c(value: float, unit: str, source: str, note: str = "") -> Constant:
    return Constant(float(value), unit, source, note)


# --- numeric formats -------------------------------------------------------------------------
#: Storage bytes per element for each numeric precision.
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


# --- FLOP counting -----------------------------------------------------------------------------
#: Forward-pass FLOPs per parameter per token (one multiply-add per weight).
FORWARD_FLOPS_PER_PARAM = _c(2, "FLOP/param/token", "kaplan2020", "C_forward ≈ 2N")
#: Backward pass costs twice the forward pass.
BACKWARD_FORWARD_RATIO = _c(2, "", "kaplan2020", "C_backward ≈ 2 C_forward")
#: Training FLOPs per parameter per token: forward + backward = 6.
TRAINING_FLOPS_PER_PARAM = _c(6, "FLOP/param/token", "kaplan2020", "C ≈ 6ND")
#: Forward attention FLOPs per (layer · head · head-dim · context) per token: PaLM's 12LHQT / 3.
FORWARD_ATTENTION_FLOPS = _c(4, "FLOP", "chowdhery2022", "PaLM App. B: 6N + 12LHQT per token")

# --- training memory ---------------------------------------------------------------------------
#: Optimizer state bytes per parameter, including the fp32 master copy in mixed precision.
OPTIMIZER_STATE_BYTES: dict[str, Constant] = {
    "adam": _c(12, "B/param", "rajbhandari2020", "fp32 master + momentum + variance (K = 12)"),
    "adamw": _c(12, "B/param", "rajbhandari2020", "as Adam: decoupled decay adds no state"),
    "sgd": _c(4, "B/param", "micikevicius2018", "fp32 master weights only"),
    "sgd_momentum": _c(8, "B/param", "micikevicius2018", "fp32 master weights + momentum"),
    "adam_8bit": _c(6, "B/param", "dettmers2022", "fp32 master + 8-bit momentum and variance"),
}
#: Activation bytes per s·b·h per layer (16-bit activations, 1-byte dropout masks), SP + selective.
ACT_SBH_BYTES = _c(34, "B", "korthikanti2022", "Eq. 1: sbh(34 + 5as/h)")
#: Part of the 34 not split by tensor parallelism (layer norms, dropouts) unless SP is on.
ACT_REPLICATED_BYTES = _c(10, "B", "korthikanti2022", "Eq. 2: sbh(10 + 24/t + 5as/(ht))")
#: Part of the 34 split by tensor parallelism (GEMM inputs inside attention and MLP).
ACT_PARALLEL_BYTES = _c(24, "B", "korthikanti2022", "Eq. 2")
#: Attention score/softmax/dropout bytes per a·s²·b (removed by selective recompute).
ACT_ATTENTION_BYTES = _c(5, "B", "korthikanti2022", "the 5as/h term of Eq. 1")
#: Bytes per s·b·h per layer kept under full recomputation (the layer input, 16-bit).
ACT_FULL_RECOMPUTE_BYTES = _c(2, "B", "korthikanti2022", "§4.1: 2sbhL")

# --- scaling laws ------------------------------------------------------------------------------
CHINCHILLA_TOKENS_PER_PARAM = _c(20, "token/param", "hoffmann2022", "70B on 1.4T tokens")
CHINCHILLA_E = _c(1.69, "", "hoffmann2022", "Approach 3 fit, Eq. 10: irreducible loss")
CHINCHILLA_A = _c(406.4, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_B = _c(410.7, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_ALPHA = _c(0.34, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
CHINCHILLA_BETA = _c(0.28, "", "hoffmann2022", "Approach 3 fit, Eq. 10")
KAPLAN_N_C = _c(8.8e13, "param", "kaplan2020", "Eq. 1.1, non-embedding parameters")
KAPLAN_D_C = _c(5.4e13, "token", "kaplan2020", "Eq. 1.2")
KAPLAN_ALPHA_N = _c(0.076, "", "kaplan2020", "Eq. 1.1")
KAPLAN_ALPHA_D = _c(0.095, "", "kaplan2020", "Eq. 1.2")

# --- power and facilities ----------------------------------------------------------------------
#: Power drawn at idle as a fraction of peak (servers draw about half their peak doing nothing).
IDLE_POWER_FRACTION = _c(0.5, "", "barroso2007", "linear idle/active power model")
PUE_GOOGLE_FLEET = _c(1.10, "", "google2023env", "trailing-twelve-month fleet average")
PUE_INDUSTRY_AVERAGE = _c(1.57, "", "uptime2021", "Uptime Institute global survey 2021")
#: Years over which hardware's manufacturing carbon is amortised (an assumption of the source).
HARDWARE_LIFETIME = _c(6, "yr", "luccioni2023", "BLOOM: 6-year lifetime of Jean Zay's hardware")
#: Fraction of its lifetime hardware is busy, over which embodied carbon is spread.
HARDWARE_UTILIZATION = _c(0.85, "", "luccioni2023", "BLOOM: 85 % average cluster utilisation")
#: Straight-line depreciation period of servers in a TCO (Barroso et al.: 3-4 years).
SERVER_DEPRECIATION = _c(4, "yr", "barroso2018", "ch. 8: servers depreciated over 3-4 years")
#: Datacenter construction cost per watt of critical (IT) power (Barroso et al.: $9-13/W).
DATACENTER_CAPEX_PER_WATT = _c(10, "USD/W", "barroso2018", "ch. 6/8: $9-13 per critical watt")
#: Depreciation period of the datacenter building, power and cooling plant.
DATACENTER_DEPRECIATION = _c(12, "yr", "barroso2018", "ch. 8: facilities depreciated 12-15 yr")

# --- sparsity ----------------------------------------------------------------------------------
SPARSE_2_4_DENSITY = _c(0.5, "", "mishra2021", "2 non-zeros in every 4 weights")
SPARSE_2_4_METADATA_BITS = _c(2, "bit", "mishra2021", "2-bit position index per non-zero")
SPARSE_2_4_MATH_SPEEDUP = _c(2, "", "mishra2021", "sparse tensor cores: 2× dense math peak")
CSR_INDEX_BITS = _c(32, "bit", "saad2003", "one 32-bit column index per non-zero (CSR)")

# --- quantization noise ------------------------------------------------------------------------
SQNR_DB_PER_BIT = _c(6.02, "", "bennett1948", "20·log10(2) dB per bit, uniform quantizer")
SQNR_DB_OFFSET = _c(1.76, "", "bennett1948", "10·log10(3/2) dB, full-scale sine input")

#: Every scalar constant by name (the per-precision and per-optimizer tables are separate).
CONSTANTS: dict[str, Constant] = {
    name: value for name, value in dict(globals()).items() if isinstance(value, Constant)
}
