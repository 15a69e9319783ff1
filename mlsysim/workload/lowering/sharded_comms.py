"""The collectives one rank issues per micro-batch (TP, CP, EP, PP) and its activation
parts (:mod:`mlsysim.workload.lowering.sharded` says which and why)."""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.formulas.memory import activation_bytes_per_layer_B, logits_B
from mlsysim.core.formulas.parallelism import pipeline_inflight_s
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.hardware.efficiency import FRAMEWORK_OP_OVERHEAD, KERNEL_OVERHEAD
from mlsysim.workload.lowering.facts import ModelFacts
from mlsysim.workload.lowering.shard import RankShard, expert_load, rank_shard

__all__ = [
    "LIST_COLLECTIVE_PER_RANK_S",
    "CommOp",
    "activation_parts",
    "microbatch_comms",
    "stage_activations",
    "training_activation_bytes",
]

#: Host seconds a list-form collective costs per rank of its group: the view the caller
#: makes of that rank's slice (a framework op) and the copy ``torch.distributed`` launches
#: to move it through its flat buffer (a kernel launch).
LIST_COLLECTIVE_PER_RANK_S = FRAMEWORK_OP_OVERHEAD.value + KERNEL_OVERHEAD.value
_new = tuple.__new__  # NamedTuple construction without its Python-level __new__


class CommOp(NamedTuple):
    """One kind of collective a rank issues: ``calls`` calls of ``op`` on ``size`` bytes over
    the ``group`` (tp, cp, ep, pp, dp, edp) per micro-batch (``per="microbatch"``) or per
    step; ``hidden`` names what computation it may overlap (``"none"``: critical path)."""

    name: str
    group: str
    op: str
    size: float
    calls: float
    per: str
    hidden: str
    host_per_rank: float = 0.0  # host seconds per call per rank of the group (list form)


def microbatch_comms(
    f: ModelFacts,
    phase: str,
    microbatch: int,
    seq_len: int,
    rp: Any,
    par: ParallelPlan,
    shard: RankShard | None = None,
) -> tuple[CommOp, ...]:
    """The collectives of one micro-batch (TP, CP, EP, PP): :func:`rank_share`'s comms
    before the data-parallel ones of :func:`static_share` (``shard``: the rank's
    :func:`~mlsysim.workload.lowering.shard.rank_shard`, when the caller has it)."""
    s_rank = seq_len // par.cp if phase != "decode" else seq_len
    fr = (rank_shard(f, par) if shard is None else shard).facts
    return _comms(f, fr, phase, microbatch, s_rank, rp, par, ())


def activation_parts(
    f: ModelFacts,
    microbatch: int,
    seq_len: int,
    rp: Any,
    par: ParallelPlan,
    shard: RankShard | None = None,
) -> tuple[float, float, float]:
    """A training rank's activation parts (:func:`rank_share`'s ``activations``;
    ``shard`` as for :func:`microbatch_comms`)."""
    L_stage = (rank_shard(f, par) if shard is None else shard).stages[0]
    return _activation_parts(f, par, microbatch, seq_len // par.cp, rp, L_stage)


def stage_activations(
    parts: tuple[Any, Any, Any], stages: Any, microbatches: Any, interleave: int, schedule: str
) -> Any:
    """Activation bytes the first stage holds at its peak: the per-stage bytes times its
    in-flight micro-batches (:func:`~mlsysim.core.formulas.pipeline_inflight_s`), plus the
    layer full recompute rebuilds and the LM head's logits (element-wise on arrays)."""
    per_stage, full, logits = parts
    inflight = pipeline_inflight_s(stages, microbatches, interleave, schedule)
    return per_stage * inflight + full + logits


def training_activation_bytes(
    f: ModelFacts, par: ParallelPlan, microbatch: int, seq_len: int, rp: Any, microbatches: int
) -> float:
    """Activation bytes per device of a training step at the first stage's peak: what
    :func:`lower_rank` reports, without lowering any operation."""
    s_rank = seq_len // par.cp
    parts = _activation_parts(f, par, microbatch, s_rank, rp, par.stage_layers(f.layers)[0])
    return stage_activations(parts, par.pp, microbatches, par.chunks, par.effective_schedule)


def _activation_parts(
    f: ModelFacts, par: ParallelPlan, b: int, s_rank: int, rp: Any, L_stage: int
) -> tuple[float, float, float]:
    """Activation bytes of the first stage (Korthikanti et al. 2022): the stage's layers for
    one in-flight micro-batch, the layer full recompute rebuilds, the LM head's logits."""
    mode = rp.plan.recompute
    ba = rp.activation_bytes
    # with CP a rank's s/cp queries attend over all s keys: a·cp heads of s/cp² scores
    heads = f.heads * par.cp
    tp, sp = par.tp, par.sp
    fused = rp.plan.attention != "unfused"  # a fused kernel never stores the scores
    per_layer = activation_bytes_per_layer_B(s_rank, b, f.hidden, heads, tp, sp, mode, ba, fused)
    full = 0.0
    if mode == "full":  # the layer being recomputed holds its full activations
        full = activation_bytes_per_layer_B(s_rank, b, f.hidden, heads, tp, sp, "none", ba, fused)
    logits = 0.0
    if par.pp == 1:  # fp32 logits of the LM head (the last stage)
        logits = logits_B(b * s_rank, -(-f.vocab // par.tp))
    return per_layer * L_stage, full, logits


def _comms(
    f: ModelFacts,
    fr: ModelFacts,
    phase: str,
    b: int,
    s_rank: int,
    rp: Any,
    par: ParallelPlan,
    dp_comms: tuple[CommOp, ...],
) -> tuple[CommOp, ...]:
    """The collectives of one micro-batch (TP, CP, EP, PP), then the step's ``dp_comms``."""
    training = phase == "training"
    tokens = float(b) * (1 if phase == "decode" else s_rank)
    ba = rp.high_bytes
    act = tokens * f.hidden * ba
    L = fr.layers
    mode = rp.plan.recompute if training else "none"
    out: list[CommOp] = []
    if par.tp > 1:
        per_layer = (4.0 + (2.0 if mode == "full" else 0.0)) if training else 2.0
        n = L * per_layer
        if training:
            n += 1.0  # the LM head's input gradient (last stage)
        if par.pp == 1:
            n += 1.0  # the vocabulary-parallel embedding's output (first stage)
        if par.sp:
            out.append(
                _new(CommOp, ("tp_all_gather", "tp", "all_gather", act, n, "microbatch", "tp", 0.0))
            )
            scatter = ("tp_reduce_scatter", "tp", "reduce_scatter", act, n, "microbatch", "tp")
            out.append(_new(CommOp, (*scatter, 0.0)))
        else:
            out.append(
                _new(CommOp, ("tp_all_reduce", "tp", "all_reduce", act, n, "microbatch", "tp", 0.0))
            )
    if par.cp > 1:
        kv_block = tokens * 2.0 * fr.kv_heads * f.head_dim * ba
        passes = (3.0 + (1.0 if mode != "none" else 0.0)) if training else 1.0
        n = L * (par.cp - 1) * passes
        out.append(
            CommOp("cp_kv_exchange", "cp", "send_recv", kv_block, n, "microbatch", "attention")
        )
    if par.ep > 1 and fr.moe_layers:
        # the busiest expert-parallel rank receives the imbalance factor times the mean
        routed = tokens * f.active_experts * f.hidden * ba * expert_load(f, par, rp)
        per_layer = (4.0 + (2.0 if mode == "full" else 0.0)) if training else 2.0
        out.append(
            CommOp(
                "ep_all_to_all",
                "ep",
                "all_to_all",
                routed,
                fr.moe_layers * per_layer,
                "microbatch",
                "none",
            )
        )
    if par.pp > 1:
        msg = act / par.tp
        n = 2.0 * par.chunks if training else 1.0
        send = ("pp_send_recv", "pp", "send_recv", msg, n, "microbatch", "pipeline", 0.0)
        out.append(_new(CommOp, send))
    return (*out, *dp_comms)
