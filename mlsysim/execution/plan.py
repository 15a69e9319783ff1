"""Execution layer: how a workload runs — numeric formats, quantization, sparsity, recompute.

An :class:`ExecutionPlan` is the second of the five modeling layers (DESIGN.md §3): it says in
which precision weights, activations and the KV cache are *stored*, whether 2:4 structured
sparsity is used, how much of the forward pass is recomputed in training, and which optimizer
state is kept. :meth:`ExecutionPlan.resolve` binds the plan to one device and decides the
precision the arithmetic runs in:

* weights and activations in the same format run at the device's dense rate for it
  (``precision="fp8"`` on an H100 uses its FP8 tensor rate);
* *weight-only quantization*: when the device has no rate for a quantized weight format
  (``int4``/``int8``/``fp8``/``fp6``/``fp4``) the weights are stored quantized (fewer bytes
  moved) and dequantized to 16-bit for the math (W4A16, Frantar et al. 2023; Lin et al. 2024)
  — the fallback is reported in :attr:`ResolvedPlan.note`;
* a float format the device lacks (``fp16`` on a device that gives only ``bf16``) is an
  :class:`~mlsysim.core.exceptions.UnsupportedPrecisionError` listing what it has;
* 2:4 sparsity needs a datasheet *sparse* rate (``hw.supports_2_4_sparsity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlsysim.core.exceptions import ConfigError, UnsupportedPrecisionError

__all__ = [
    "BYTES_PER_ELEMENT",
    "QUANTIZED_FORMATS",
    "ExecutionPlan",
    "ResolvedPlan",
]

#: Storage size of one element per numeric format (bytes). fp6/fp4/int4 pack several
#: elements per byte (OCP Microscaling Formats specification v1.0, 2023).
BYTES_PER_ELEMENT: dict[str, float] = {
    "fp64": 8.0,
    "fp64_tensor": 8.0,
    "fp32": 4.0,
    "tf32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp6": 0.75,
    "fp4": 0.5,
    "int4": 0.5,
}

#: Weight formats that may be stored quantized and dequantized for the math (weight-only).
QUANTIZED_FORMATS = frozenset({"fp8", "int8", "fp6", "fp4", "int4"})

#: Activation formats tried, in order, when weight-only quantization falls back.
_DEQUANT_TARGETS = ("fp16", "bf16", "fp32")

_RECOMPUTE = ("none", "selective", "full")
_OPTIMIZERS = ("adam", "sgd")
_SPARSITY = ("dense", "2:4")
_ATTENTION = ("flash", "unfused")


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    """How a workload executes on a device (hashable; used as a cache key).

    ``weights`` is the storage format of the weights; ``activations`` (default: the weights'
    format, or its 16-bit dequantization target) is the format of activations and of the math;
    ``kv_cache`` (default: the activations') the format of cached keys and values.
    ``recompute`` is activation recomputation in training (Korthikanti et al. 2022):
    ``"none"`` (the attention score matrix is stored), ``"selective"`` (the default: attention
    internals are recomputed in the backward pass, as FlashAttention does — Dao 2023) or
    ``"full"`` (each layer's forward is re-run; only layer inputs are kept).
    ``optimizer`` is ``"adam"`` (mixed-precision Adam: fp32 master weights, two moments) or
    ``"sgd"`` (fp32 master weights and momentum). ``sparsity`` is ``"dense"`` or ``"2:4"``.
    ``attention`` is the attention kernel: ``"flash"`` (the default: fused, scores never
    written to memory, causal blocks skipped — Dao 2023) or ``"unfused"`` (QKᵀ and PV as
    batched GEMMs over the full score matrix, which is written and read back around a fused
    softmax, as in Megatron-LM before FlashAttention — Korthikanti et al. 2022).
    ``dropout`` applies dropout to the attention probabilities (an unfused kernel then reads
    them, writes the dropped-out copy and a one-byte mask; a fused kernel does it in place).
    The efficiency fields override the sourced defaults of :mod:`mlsysim.hardware.efficiency`
    (fractions in (0, 1]; ``kernel_overhead`` in seconds per kernel launch).
    """

    weights: str = "fp16"
    activations: str | None = None
    kv_cache: str | None = None
    sparsity: Literal["dense", "2:4"] = "dense"
    recompute: Literal["none", "selective", "full"] = "selective"
    optimizer: Literal["adam", "sgd"] = "adam"
    attention: Literal["flash", "unfused"] = "flash"
    dropout: bool = False
    gemm_efficiency: float | None = None
    attention_efficiency: float | None = None
    memory_efficiency: float | None = None
    kernel_overhead: float | None = None

    def __post_init__(self) -> None:
        for name in ("weights", "activations", "kv_cache"):
            value = getattr(self, name)
            if value is not None and value not in BYTES_PER_ELEMENT:
                raise ConfigError(
                    f"unknown {name} precision {value!r}",
                    where="ExecutionPlan",
                    why=f"known formats: {', '.join(BYTES_PER_ELEMENT)}",
                    fix="use one of those names, e.g. 'fp16', 'bf16', 'fp8' or 'int4'",
                )
        _check_choice("sparsity", self.sparsity, _SPARSITY)
        _check_choice("recompute", self.recompute, _RECOMPUTE)
        _check_choice("optimizer", self.optimizer, _OPTIMIZERS)
        _check_choice("attention", self.attention, _ATTENTION)
        for name in ("gemm_efficiency", "attention_efficiency", "memory_efficiency"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 1.0:
                raise ConfigError(
                    f"{name} must be a fraction in (0, 1], got {value!r}",
                    where="ExecutionPlan",
                    fix="pass the achieved fraction of peak, e.g. 0.8",
                )
        if self.kernel_overhead is not None and self.kernel_overhead < 0.0:
            raise ConfigError(
                f"kernel_overhead must be ≥ 0 s, got {self.kernel_overhead!r}",
                where="ExecutionPlan",
                fix="pass seconds per kernel launch, e.g. 3e-6",
            )

    def resolve(self, hw: Any) -> ResolvedPlan:
        """Bind the plan to device ``hw``: pick the math precision, check sparsity support."""
        dense = hw.peak.dense
        w = self.weights
        note = ""
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
        sparse = self.sparsity == "2:4"
        if sparse and a not in hw.peak.sparse:
            raise UnsupportedPrecisionError(hw.id, a, hw.peak.sparse, sparse=True)
        return ResolvedPlan(
            plan=self,
            weights=w,
            activations=a,
            kv_cache=self.kv_cache or a,
            sparse=sparse,
            note=note,
        )


@dataclass(frozen=True, slots=True)
class ResolvedPlan:
    """A plan bound to a device: the formats actually used and bytes per element."""

    plan: ExecutionPlan
    weights: str
    activations: str
    kv_cache: str
    sparse: bool
    note: str = ""

    @property
    def weight_bytes(self) -> float:
        """Bytes per stored weight element."""
        return BYTES_PER_ELEMENT[self.weights]

    @property
    def activation_bytes(self) -> float:
        """Bytes per activation element."""
        return BYTES_PER_ELEMENT[self.activations]

    @property
    def kv_bytes(self) -> float:
        """Bytes per cached key/value element."""
        return BYTES_PER_ELEMENT[self.kv_cache]


def _bits(fmt: str) -> int:
    return int(BYTES_PER_ELEMENT[fmt] * 8)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"unknown {name} {value!r}",
            where="ExecutionPlan",
            why=f"allowed: {', '.join(allowed)}",
            fix=f"pass {name}= one of {', '.join(repr(a) for a in allowed)}",
        )
