"""The lowered step's vocabulary: operations, resident memory, and the builder that counts them.

Each :class:`Op` carries FLOPs and bytes moved for *one* instance and a ``repeat`` count
(layers), so a 32-layer model lowers to ~12 ops, not ~300. :class:`OpBuilder` multiplies the
passes of a training step (forward plus backward = 3 passes, Kaplan et al. 2020; recomputed
forward passes on top) and applies 2:4 sparse storage to weight bytes. Everything runs on
floats in root units (FLOP, bytes): the solver's hot path.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "PHASES",
    "Lowered",
    "MemoryBytes",
    "Op",
    "OpBuilder",
    "add_optimizer_update",
    "optimizer_state_bytes",
]

#: Phases a workload may be solved for.
PHASES = ("prefill", "decode", "training", "inference")

#: Adam: two moment updates, bias corrections and the scaled step (Kingma & Ba 2015, Alg. 1).
_ADAM_FLOPS_PER_PARAM = 12.0
_SGD_FLOPS_PER_PARAM = 4.0
#: fp32 bytes per parameter of optimizer state: master copy + two moments (Adam) or + momentum
#: (SGD) — 12 B/param for mixed-precision Adam (Rajbhandari et al. 2020).
_FP32 = 4.0
#: 2:4 sparsity metadata: 2 index bits per kept value (Mishra et al. 2021).
_SPARSE_INDEX_BITS = 2.0


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
    useful_flops: float
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
    """The lowered step: operations, resident memory, and work units produced."""

    ops: tuple[Op, ...]
    memory: MemoryBytes
    units: float  # tokens (transformers) or samples (CNN/KWS) completed per step
    unit: str  # "token" or "sample"


_new_op = tuple.__new__  # NamedTuple construction without its Python-level __new__


class OpBuilder:
    """Accumulates ops for one step (training multiplies passes)."""

    __slots__ = ("ba", "bw", "ops", "passes", "recompute", "sparse", "sparse_factor")

    def __init__(self, bw: float, ba: float, sparse: bool, training: bool, recompute: str) -> None:
        self.bw = bw
        self.ba = ba
        self.sparse = sparse
        self.sparse_factor = 0.5 + 0.5 * _SPARSE_INDEX_BITS / (8.0 * bw) if sparse else 1.0
        self.passes = 3.0 if training else 1.0
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
        self.ops.append(
            _new_op(
                Op,
                (
                    name,
                    kind,
                    flops * passes,
                    nbytes * passes,
                    passes,
                    repeat,
                    flops * self.passes,
                    sparse,
                ),
            )
        )

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
        flops = 2.0 * M * K * N
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


def optimizer_state_bytes(rp: Any) -> float:
    """fp32 optimizer state per parameter (the master copy only when weights are not fp32)."""
    moments = 2.0 if rp.plan.optimizer == "adam" else 1.0
    master = 0.0 if rp.weights == "fp32" else 1.0
    return (moments + master) * _FP32


def add_optimizer_update(
    B: OpBuilder, params: float, rp: Any, grad_bytes: float | None = None
) -> None:
    """One fused optimizer update over every parameter: read state and grads, write back.

    Around the update, clipping by the global gradient norm reads every gradient once more and
    zeroing the gradient buffers for the next step writes it once (Pascanu et al. 2013;
    Megatron-LM's clip_grad_norm and zero_grad_buffer). ``grad_bytes`` is the gradients'
    format (default: the weights'; Megatron keeps fp32 main gradients).
    """
    state = optimizer_state_bytes(rp)
    g = rp.weight_bytes if grad_bytes is None else grad_bytes
    # state r/w, grad in (update, norm), grad zeroed, weight out
    per_param = 2.0 * state + 2.0 * g + g + rp.weight_bytes
    flops = _ADAM_FLOPS_PER_PARAM if rp.plan.optimizer == "adam" else _SGD_FLOPS_PER_PARAM
    B.ops.append(
        Op(
            "optimizer_update",
            "optimizer",
            params * flops,
            params * per_param,
            1.0,
            1,
            params * flops,
        )
    )
