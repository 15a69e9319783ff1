"""Progressive lowering: a workload plus a resolved execution plan becomes per-device operations.

The third step of the five-layer stack (DESIGN.md §3): :func:`lower` dispatches to the
transformer lowering (:mod:`.transformer`) or the CNN/KWS lowering (:mod:`.cnn`); both build
:class:`~mlsysim.workload.lowering.ops.Op` lists with :class:`~.ops.OpBuilder` from the plain
numbers of :func:`~.facts.model_facts`. Derived caches here are generation-aware
(:mod:`mlsysim.core.cache`).
"""

from __future__ import annotations

from typing import Any

from mlsysim.workload.lowering.cnn import lower_cnn
from mlsysim.workload.lowering.facts import ModelFacts, model_facts
from mlsysim.workload.lowering.ops import PHASES, Lowered, MemoryBytes, Op, OpBuilder
from mlsysim.workload.lowering.transformer import expected_distinct_experts, lower_transformer

__all__ = [
    "PHASES",
    "Lowered",
    "MemoryBytes",
    "ModelFacts",
    "Op",
    "OpBuilder",
    "expected_distinct_experts",
    "lower",
    "model_facts",
]


def lower(model: Any, phase: str, batch: int, seq_len: int, rp: Any) -> Lowered:
    """Lower one step of ``model`` (ModelSpec) for ``phase`` under resolved plan ``rp``."""
    f = model_facts(model)
    if f.kind != "transformer":
        return lower_cnn(model, f, phase, batch, rp)
    return lower_transformer(f, phase, batch, seq_len, rp)
