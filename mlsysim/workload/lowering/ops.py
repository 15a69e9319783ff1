"""The lowered step's vocabulary: operations, resident memory, and the builder that counts them.

Each :class:`Op` carries FLOPs and bytes moved for *one* instance and a ``repeat`` count
(layers), so a 32-layer model lowers to ~12 ops, not ~300. :class:`OpBuilder` multiplies the
passes of a training step (forward plus a backward of twice the forward = 3 passes, Kaplan et
al. 2020; recomputed forward passes on top) and stores 2:4 sparse weights as the formulas do.
Every coefficient comes from :mod:`mlsysim.core.constants` and every equation from
:mod:`mlsysim.core.formulas` (float fast paths): this module only says which operations a step
has. Everything runs on floats in root units (FLOP, bytes): the solver's hot path.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.constants import (
    BACKWARD_FORWARD_RATIO,
    ELEMENTWISE_FLOPS,
    ELEMENTWISE_TOUCHES,
    FLOPS_PER_MAC,
    OPTIMIZER_UPDATE_FLOPS,
)
from mlsysim.core.formulas.compression import sparse_weight_B
from mlsysim.core.formulas.memory import optimizer_state_per_param_B, training_memory_B, weights_B

__all__ = [
    "ELEMENTWISE",
    "PHASES",
    "TOUCHES",
    "Lowered",
    "MemoryBytes",
    "Op",
    "OpBuilder",
    "add_optimizer_update",
    "resident_weights",
    "training_state",
]

#: Phases a workload may be solved for.
PHASES = ("prefill", "decode", "training", "inference")

#: FLOPs per element and element touches of the element-wise kernels, as plain floats.
ELEMENTWISE: dict[str, float] = {k: c.value for k, c in ELEMENTWISE_FLOPS.items()}
TOUCHES: dict[str, float] = {k: c.value for k, c in ELEMENTWISE_TOUCHES.items()}
_MAC = FLOPS_PER_MAC.value
_TRAINING_PASSES = 1.0 + BACKWARD_FORWARD_RATIO.value


class Op(NamedTuple):
    """One lowered operation; ``flops``/``bytes``/``kernels`` are per instance, ``repeat``
    instances run per step. ``kind`` selects the efficiency: gemm, attention, elementwise,
    embedding, optimizer. ``sparse`` marks weight GEMMs that run at the 2:4 sparse rate."""

    name: str
    kind: str
    flops: float
    bytes: float
    kernels: float
    repeat: int
    sparse: bool = False


class MemoryBytes(NamedTuple):
    """Resident memory of one step, bytes."""

    weights: float
    kv_cache: float
    activations: float
    gradients: float
    optimizer: float

    @property
    def total(self) -> float:
        return self.weights + self.kv_cache + self.activations + self.gradients + self.optimizer


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


_new_op = tuple.__new__  # NamedTuple construction without its Python-level __new__


class OpBuilder:
    """Accumulates ops for one step (training multiplies passes)."""

    __slots__ = ("ba", "bw", "ops", "passes", "recompute", "sparse", "sparse_factor")

    def __init__(self, bw: float, ba: float, sparse: bool, training: bool, recompute: str) -> None:
        self.bw = bw
        self.ba = ba
        self.sparse = sparse
        # bytes stored per dense weight byte: the kept half plus its 2-bit indices (2:4)
        self.sparse_factor = sparse_weight_B(1.0, bw) / bw if sparse else 1.0
        self.passes = _TRAINING_PASSES if training else 1.0
        self.recompute = recompute if training else "none"
        self.ops: list[Op] = []

    def add(
        self,
        name: str,
        kind: str,
        flops: float,
        nbytes: float,
        repeat: int,
        extra_pass: bool,
        sparse: bool = False,
    ) -> None:
        passes = self.passes + (1.0 if extra_pass else 0.0)
        if passes != 1.0:  # (x · 1 is x: one pass skips two array multiplies in a sweep)
            flops = flops * passes
            nbytes = nbytes * passes
        self.ops.append(_new_op(Op, (name, kind, flops, nbytes, passes, repeat, sparse)))

    def gemm(
        self,
        name: str,
        M: float,
        K: float,
        N: float,
        repeat: int,
        weight_elems: float | None = None,
    ) -> None:
        w = K * N if weight_elems is None else weight_elems
        flops = _MAC * M * K * N
        nbytes = w * self.bw * self.sparse_factor + M * K * self.ba + M * N * self.ba
        self.add(name, "gemm", flops, nbytes, repeat, self.recompute == "full", self.sparse)

    def elementwise(
        self,
        name: str,
        elems: float,
        flops_per: float,
        touches: float,
        repeat: int,
        extra_bytes: float = 0.0,
    ) -> None:
        nbytes = elems * touches * self.ba + extra_bytes
        self.add(name, "elementwise", elems * flops_per, nbytes, repeat, self.recompute == "full")

    def attention(self, name: str, flops: float, nbytes: float, repeat: int) -> None:
        self.add(name, "attention", flops, nbytes, repeat, self.recompute != "none")


def training_state(params: float, rp: Any, sparse_factor: float) -> tuple[float, float, float]:
    """Resident (weights, gradients, optimizer state) bytes of a training step
    (:func:`~mlsysim.core.formulas.training_memory` on one device, weights 2:4-stored)."""
    K = optimizer_state_per_param_B(rp.plan.optimizer, rp.weights)
    M_w, M_g, M_o = training_memory_B(params, rp.weight_bytes, rp.gradient_bytes, K)
    return M_w * sparse_factor, M_g, M_o


def resident_weights(params: float, rp: Any, sparse_factor: float) -> float:
    """Bytes of the stored weights (:func:`~mlsysim.core.formulas.weights_bytes`)."""
    return weights_B(params, rp.weight_bytes) * sparse_factor


def add_optimizer_update(
    B: OpBuilder, params: float, rp: Any, grad_bytes: float | None = None
) -> None:
    """One fused optimizer update over every parameter: read and write its state (master
    weights and moments), read the gradient, write the weights.

    Around the update, clipping by the global gradient norm reads every gradient once more and
    zeroing the gradient buffers for the next step writes it once (Pascanu et al. 2013;
    Megatron-LM's clip_grad_norm and zero_grad_buffer). ``grad_bytes`` is the gradients'
    format (default: the plan's, fp32 main gradients unless ``gradients=`` says otherwise).
    """
    K = optimizer_state_per_param_B(rp.plan.optimizer, rp.weights)
    g = rp.gradient_bytes if grad_bytes is None else grad_bytes
    # state r/w, grad in (update, norm), grad zeroed, weight out
    per_param = 2.0 * K + 2.0 * g + g + rp.weight_bytes
    flops = OPTIMIZER_UPDATE_FLOPS[rp.plan.optimizer].value
    B.ops.append(
        _new_op(
            Op,
            ("optimizer_update", "optimizer", params * flops, params * per_param, 1.0, 1, False),
        )
    )
