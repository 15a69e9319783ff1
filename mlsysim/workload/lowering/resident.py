"""A lowered step's resident memory: the stored weights and the training state, in bytes.

The formulas' float fast paths on one device (:func:`~mlsysim.core.formulas.weights_bytes`,
:func:`~mlsysim.core.formulas.training_memory`) with the plan's formats: quantized weights'
group scales counted, 2:4-sparse weights stored as the formulas store them, the embedding and
LM head kept in the 16-bit format when the rest is quantized. Importable from :mod:`.ops` too.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.formulas.memory import optimizer_state_per_param_B, training_memory_B
from mlsysim.core.formulas.tensors import weights_B

__all__ = ["MemoryBytes", "resident_weights", "training_state"]


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


def training_state(params: float, rp: Any, sparse_factor: float) -> tuple[float, float, float]:
    """Resident (weights, gradients, optimizer state) bytes of a training step
    (:func:`~mlsysim.core.formulas.training_memory` on one device, weights 2:4-stored)."""
    K = optimizer_state_per_param_B(rp.plan.optimizer, rp.weights)
    M_w, M_g, M_o = training_memory_B(params, rp.weight_bytes, rp.gradient_bytes, K)
    return M_w * sparse_factor, M_g, M_o


def resident_weights(
    params: float, rp: Any, sparse_factor: float, kept_params: float = 0.0
) -> float:
    """Bytes of the stored weights (:func:`~mlsysim.core.formulas.weights_bytes`): quantized
    formats store their group scales, and ``kept_params`` (the embedding and LM head) stay in
    the 16-bit format when the rest is quantized."""
    if rp.weights == rp.high or rp.quantized_head or kept_params <= 0.0:
        return weights_B(params, rp.weight_bytes) * sparse_factor
    body = weights_B(params - kept_params, rp.weight_bytes) * sparse_factor
    return body + weights_B(kept_params, rp.high_bytes)
