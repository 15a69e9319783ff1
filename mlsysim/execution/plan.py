"""Execution layer: how a workload runs — numeric formats, quantization, sparsity, recompute.

An :class:`ExecutionPlan` is the second of the five modeling layers (DESIGN.md §3): it says in
which precision weights, activations, gradients and the KV cache are *stored*, whether 2:4
structured sparsity is used, how much of the forward pass is recomputed in training, and which
optimizer state is kept. :meth:`ExecutionPlan.resolve` binds the plan to one device and decides
the precision the arithmetic runs in:

* no ``weights`` format given: the device's 16-bit float format, bf16 where it has a bf16 rate
  and fp16 otherwise (:data:`~mlsysim.core.constants.HALF_PRECISIONS`), fp32 on a device
  with neither (an edge board whose datasheet gives only fp32 and int8 rates); a device with
  no float rate at all (a microcontroller) needs ``precision="int8"``;
* weights and activations in the same format run at the device's dense rate for it
  (``precision="fp8"`` on an H100 uses its FP8 tensor rate);
* *weight-only quantization*: when the device has no rate for a quantized weight format
  (``int4``/``int8``/``fp8``/``fp6``/``fp4``) the weights are stored quantized (fewer bytes
  moved) and dequantized to 16-bit for the math (W4A16, Frantar et al. 2023; Lin et al. 2024)
  — the fallback is reported in :attr:`ResolvedPlan.note`;
* a float format the device lacks (``fp16`` on a device that gives only ``bf16``) is an
  :class:`~mlsysim.core.exceptions.UnsupportedPrecisionError` listing what it has;
* 2:4 sparsity needs a datasheet *sparse* rate (``hw.supports_2_4_sparsity``).

Formats, optimizers, recompute policies and every default come from
:mod:`mlsysim.core.constants` — the same names the formulas use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core import arguments
from mlsysim.core.constants import (
    BITS_PER_BYTE,
    BYTES_PER_ELEMENT,
    DEFAULT_GRADIENT_PRECISION,
    DEFAULT_OPTIMIZER,
    DEFAULT_RECOMPUTE,
    HALF_PRECISIONS,
    OPTIMIZERS,
    PRECISIONS,
    QUANTIZED_FORMATS,
    RECOMPUTE_POLICIES,
)
from mlsysim.core.exceptions import ConfigError, UnsupportedPrecisionError

__all__ = ["ATTENTION_KERNELS", "PLAN_OPTIONS", "SPARSITY", "ExecutionPlan", "ResolvedPlan"]

#: Sparsity patterns a plan may use.
SPARSITY = ("dense", "2:4")
#: Attention kernels: fused (FlashAttention, Dao 2023) or unfused (score matrix in memory).
ATTENTION_KERNELS = ("flash", "unfused")
#: Formats tried, in order, for the math when the weights' format has no rate of its own.
_DEQUANT_TARGETS = (*HALF_PRECISIONS, "fp32")
_WHERE = "ExecutionPlan"
_FRACTIONS = ("gemm_efficiency", "attention_efficiency", "memory_efficiency")


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    """How a workload executes on a device (hashable; used as a cache key).

    ``weights`` is the storage format of the weights (default: the device's 16-bit float
    format, see :meth:`resolve`); ``activations`` (default: the weights' format, or its 16-bit
    dequantization target) is the format of activations and of the math; ``kv_cache`` (default: the
    activations') the format of cached keys and values; ``gradients`` the format gradients are
    accumulated in during training (default: fp32, Megatron-LM's main gradients — with ZeRO-2/3
    the distributed solver keeps them in the weights' format unless this names one).
    ``recompute`` is activation recomputation in training (Korthikanti et al. 2022):
    ``"none"`` (the attention score matrix is stored), ``"selective"`` (the default: attention
    internals are recomputed in the backward pass, as FlashAttention does — Dao 2023) or
    ``"full"`` (each layer's forward is re-run; only layer inputs are kept).
    ``optimizer`` is one of ``mlsysim.core.constants.OPTIMIZERS`` (``"adam"``: fp32
    master weights and two moments; ``"sgd"``: master weights only; ``"sgd_momentum"``: and a
    momentum buffer). ``sparsity`` is ``"dense"`` or ``"2:4"``.
    ``attention`` is the attention kernel: ``"flash"`` (the default: fused, scores never
    written to memory, causal blocks skipped — Dao 2023) or ``"unfused"`` (QKᵀ and PV as
    batched GEMMs over the full score matrix, which is written and read back around a fused
    softmax, as in Megatron-LM before FlashAttention — Korthikanti et al. 2022).
    ``dropout`` applies dropout to the attention probabilities (an unfused kernel then reads
    them, writes the dropped-out copy and a one-byte mask; a fused kernel does it in place).
    The efficiency fields override the sourced defaults of ``mlsysim.hardware.efficiency``:
    fractions in (0, 1] (``0.8`` or ``"80 %"``); ``kernel_overhead`` a time per kernel launch
    (``"3 us"`` or a Quantity — a bare number other than 0 is refused, since its unit is
    unknown). They are stored as floats (seconds for the overhead).
    """

    weights: str | None = None
    activations: str | None = None
    kv_cache: str | None = None
    gradients: str | None = None
    sparsity: str = "dense"
    recompute: str = DEFAULT_RECOMPUTE
    optimizer: str = DEFAULT_OPTIMIZER
    attention: str = "flash"
    dropout: bool = False
    gemm_efficiency: float | None = None
    attention_efficiency: float | None = None
    memory_efficiency: float | None = None
    kernel_overhead: float | None = None

    def __post_init__(self) -> None:
        for name in ("weights", "activations", "kv_cache", "gradients"):
            value = getattr(self, name)
            if value is not None:
                arguments.choice(value, f"{name} precision", _WHERE, PRECISIONS)
        arguments.choice(self.sparsity, "sparsity", _WHERE, SPARSITY)
        arguments.choice(self.recompute, "recompute", _WHERE, RECOMPUTE_POLICIES)
        arguments.choice(self.optimizer, "optimizer", _WHERE, OPTIMIZERS)
        arguments.choice(self.attention, "attention", _WHERE, ATTENTION_KERNELS)
        if not isinstance(self.dropout, bool):
            raise ConfigError(
                f"dropout must be True or False, got {self.dropout!r}",
                where=_WHERE,
                fix="pass dropout=True to apply dropout to the attention probabilities",
            )
        for name in _FRACTIONS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, arguments.fraction(value, name, _WHERE))
        if self.kernel_overhead is not None:
            t = arguments.quantity(
                self.kernel_overhead, "time", "kernel_overhead", _WHERE, example="3 us"
            )
            object.__setattr__(self, "kernel_overhead", t)

    def resolve(self, hw: Any) -> ResolvedPlan:
        """Bind the plan to device ``hw``: pick the formats, check sparsity support."""
        dense = hw.peak.dense
        w = self.weights
        note = ""
        if w is None:
            w = next((p for p in _DEQUANT_TARGETS if p in dense), HALF_PRECISIONS[0])
        if self.activations is not None:
            a = self.activations
        elif w in dense:
            a = w
        elif w in QUANTIZED_FORMATS:
            a = next((p for p in _DEQUANT_TARGETS if p in dense), "")
            if not a:
                raise UnsupportedPrecisionError(hw.id, w, dense, sparse=False)
            note = (
                f"weight-only quantization: {hw.id} has no {w} rate, so {w} weights are "
                f"dequantized and the math runs in {a} (W{_bits(w)}A{_bits(a)})"
            )
        else:
            raise UnsupportedPrecisionError(hw.id, w, dense, sparse=False)
        if a not in dense:
            raise UnsupportedPrecisionError(hw.id, a, dense, sparse=False)
        g = self.gradients or DEFAULT_GRADIENT_PRECISION
        sparse = self.sparsity == "2:4"
        if sparse and a not in hw.peak.sparse:
            raise UnsupportedPrecisionError(hw.id, a, hw.peak.sparse, sparse=True)
        return ResolvedPlan(
            plan=self,
            weights=w,
            activations=a,
            kv_cache=self.kv_cache or a,
            gradients=g,
            sparse=sparse,
            note=note,
            weight_bytes=BYTES_PER_ELEMENT[w].value,
            activation_bytes=BYTES_PER_ELEMENT[a].value,
            kv_bytes=BYTES_PER_ELEMENT[self.kv_cache or a].value,
            gradient_bytes=BYTES_PER_ELEMENT[g].value,
        )


#: Every option of a plan (the keywords ``solve`` passes through to :class:`ExecutionPlan`).
PLAN_OPTIONS: tuple[str, ...] = tuple(ExecutionPlan.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class ResolvedPlan:
    """A plan bound to a device: the formats actually used and their bytes per element."""

    plan: ExecutionPlan
    weights: str
    activations: str
    kv_cache: str
    gradients: str
    sparse: bool
    note: str
    weight_bytes: float  # bytes per stored weight element
    activation_bytes: float  # bytes per activation element
    kv_bytes: float  # bytes per cached key/value element
    gradient_bytes: float  # bytes per gradient element


def _bits(fmt: str) -> int:
    return int(BYTES_PER_ELEMENT[fmt].value * BITS_PER_BYTE)
