"""Which operations a recomputation policy runs again, as the lowering counts their passes
(:class:`~mlsysim.workload.lowering.ops.OpBuilder`; Korthikanti et al. 2022): a training op
runs a forward and a backward pass (twice the forward's work, Kaplan et al. 2020), and
full recomputation re-runs every layer's GEMM and element-wise kernel's forward, any
recomputation attention's. The head (final norm, output layer, loss) is not re-run: full
recomputation checkpoints the layers (Narayanan et al. 2021, Eq. 3 counts the logits' 6BshV
with three passes, the layers' with four). An op's FLOPs, bytes and kernel launches are
one pass's times its passes, so a lowering under one policy is another's with each op's
passes moved (``mlsysim.solvers.sweeps.distributed_lowering`` shares one lowering across policies
this way)."""

from __future__ import annotations

from typing import Any

from mlsysim.core.constants import BACKWARD_FORWARD_RATIO

__all__ = [
    "HEAD_OPS",
    "TRAINING_PASSES",
    "added_passes",
    "casts_gemm_inputs",
    "recompute_class",
    "recompute_passes",
]

#: Passes of a training op without recomputation: the forward and the backward.
TRAINING_PASSES = 1.0 + BACKWARD_FORWARD_RATIO.value

#: The head's operations (after the last layer): no recomputation runs them again.
HEAD_OPS = frozenset({"final_add_norm", "lm_head", "loss"})

#: The recomputation policies that run an op of each :func:`recompute_class` again.
_RECOMPUTED_BY = {"full": frozenset({"full"}), "any": frozenset({"selective", "full"})}


def added_passes(cls: str, recompute: str) -> float:
    """The forward passes policy ``recompute`` adds to a training op of class ``cls``."""
    return 1.0 if recompute in _RECOMPUTED_BY.get(cls, ()) else 0.0


def casts_gemm_inputs(rp: Any) -> bool:
    """Whether a training step under resolved plan ``rp`` casts its GEMMs' operands each
    pass (GEMM inputs narrower than the residual stream: FP8 training,
    :meth:`~mlsysim.workload.lowering.ops.OpBuilder.fp8_casts`)."""
    return bool(rp.activation_bytes < rp.high_bytes)


def recompute_class(op: Any) -> str | None:
    """Which recomputation runs a training op again, as
    :class:`~mlsysim.workload.lowering.ops.OpBuilder` counts its passes: ``"full"`` (full
    recomputation: the GEMMs and element-wise kernels, its ``gemm`` and ``elementwise``),
    ``"any"`` (any recomputation: attention, fused — its ``attention`` — or its unfused
    score GEMM and softmax), ``"none"`` (the embedding's gather and the head's
    :data:`HEAD_OPS`, which full recomputation does not re-run); ``None`` for an op whose
    bytes do not follow its passes (an FP8 cast: its forward copies and backward transposes
    differ) or that is no layer's (the optimizer update). Whoever adds an op of another rule
    says so here (``tests/test_recompute_share.py`` lowers every registry transformer under
    each policy against this)."""
    name, kind = op.name, op.kind
    if kind == "optimizer" or name.endswith("_fp8_cast"):
        return None
    if name == "embedding" or name in HEAD_OPS:
        return "none"
    if kind == "attention" or name.startswith("attention"):
        return "any"
    return "full"


def recompute_passes(cls: str, recompute: str) -> float:
    """The passes of a training op of :func:`recompute_class` ``cls`` under policy
    ``recompute`` (forward, backward — twice the forward —, and the recomputed forward)."""
    return TRAINING_PASSES + added_passes(cls, recompute)
