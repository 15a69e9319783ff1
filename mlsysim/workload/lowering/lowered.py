"""The lowered step's vocabulary: the phases, the operations and the step they make up.

Each :class:`Op` carries FLOPs and bytes moved for *one* instance and a ``repeat`` count
(layers), so a 32-layer model lowers to ~12 ops, not ~300; :class:`Lowered` is a step's
operations with its resident memory (:class:`~.resident.MemoryBytes`). The builder that counts
them is :class:`~.ops.OpBuilder`; every name here is importable from :mod:`.ops` too.
"""

from __future__ import annotations

from typing import NamedTuple

from mlsysim.workload.lowering.resident import MemoryBytes

__all__ = ["ATTENTION_FORMAT", "GEMM_FORMAT", "HIGH_FORMAT", "PHASES", "Lowered", "Op"]

#: Phases a workload may be solved for.
PHASES = ("prefill", "decode", "training", "inference")

#: ``Op.fmt`` codes: the format an operation's math runs in (the resolved plan names each).
GEMM_FORMAT = 0  # the GEMMs' math format (``ResolvedPlan.activations``)
HIGH_FORMAT = 1  # the 16-bit (or wider) format of norms, softmax, embedding, LM head
ATTENTION_FORMAT = 2  # attention's math format (``ResolvedPlan.attention_format``)


class Op(NamedTuple):
    """One lowered operation; ``flops``/``bytes``/``kernels`` are per instance, ``repeat``
    instances run per step. ``kind`` selects the efficiency: gemm, attention, elementwise,
    embedding, optimizer. ``sparse`` marks weight GEMMs that run at the 2:4 sparse rate;
    ``fmt`` the format the math runs in (:data:`GEMM_FORMAT`, :data:`HIGH_FORMAT`,
    :data:`ATTENTION_FORMAT`); ``dequant`` weights stored quantized and dequantized by the
    kernel (weight-only quantization); ``waves`` the wave-quantization efficiency of the op's
    tiles on the device (:func:`~mlsysim.core.formulas.gemm_wave_efficiency`); ``passes``
    the passes of a training step the op's figures hold (forward 1, backward 2, recompute 1)."""

    name: str
    kind: str
    flops: float
    bytes: float
    kernels: float
    repeat: int
    sparse: bool = False
    fmt: int = GEMM_FORMAT
    dequant: bool = False
    waves: float = 1.0
    passes: float = 1.0


class Lowered(NamedTuple):
    """The lowered step: operations, resident memory, work units produced, and the step's
    model FLOPs (MFU's numerator) and hardware FLOPs (HFU's: recomputation included), both
    counted by the formulas' conventions rather than summed over the operations."""

    ops: tuple[Op, ...]
    memory: MemoryBytes
    units: float  # tokens (transformers) or samples (CNN/KWS) completed per step
    unit: str  # "token" or "sample"
    model_flops: float
    hardware_flops: float
