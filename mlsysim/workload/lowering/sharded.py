"""Lowering per rank: one device's share of a parallel step, and the collectives it issues.

The model facts are *sharded* (:func:`shard_facts`) — heads, FFN columns, vocabulary and
experts split over tensor (``tp``) and expert (``ep``) parallelism, the stage's ``L/pp``
layers, ``s/cp`` tokens per sequence — and the sharded view is lowered by the ordinary
transformer lowering (:func:`~mlsysim.workload.lowering.transformer.lower_transformer`), so
every FLOP and byte is counted by the same rules as on one device. Three corrections follow
what the view cannot say: with context parallelism each rank's queries still attend over
the whole causal context; with sequence parallelism (``sp``) the norm/residual regions are
split over the tensor-parallel group; and the first stage keeps the embedding while the last
keeps the LM head (the last stage is lowered: it is the pipeline's slowest).

:func:`lower_rank` adds the collectives each micro-batch (or step) issues, with their message
sizes (Narayanan et al. 2021; Korthikanti et al. 2022; Rajbhandari et al. 2020):

* TP: per layer two all-reduces forward and two backward (two more when the forward is
  recomputed), of the micro-batch's activations; with SP each is a reduce-scatter plus an
  all-gather of the same tensor; the LM head's input gradient adds one (and the vocabulary-
  parallel embedding one more when one stage holds both);
* PP: the activation forward and its gradient backward across each of the ``v`` chunk
  boundaries, split over the TP ranks (Megatron's scatter/gather);
* DP: the gradient all-reduce once per step, or reduce-scatter of gradients plus all-gather
  of weights with ZeRO ≥ 1; ZeRO-3 all-gathers weights forward and backward (and again for
  the recomputed forward) and reduce-scatters gradients every micro-batch, one collective
  per gather unit (the plan's ``shard_unit``: each submodule, as DeepSpeed fetches them, or
  each layer, as FSDP wraps them), each paying its own latency (and, with the plan's
  ``list_collectives``, a host view and copy launch per rank, DeepSpeed 0.3-0.5's list-form
  calls); experts reduce over ``dp·cp/ep`` ranks;
* EP: dispatch and combine all-to-alls per MoE layer, forward and backward;
* CP: the ring exchange of each layer's key/value block (and of its gradient backward).

Memory per device follows the core formulas: :func:`~mlsysim.core.formulas.training_memory_B`
by ZeRO stage (the plan's gradient format — fp32 main gradients by default, Megatron-LM —
except that ZeRO-2/3 keep gradients in the weights' format unless ``gradients=`` is given,
Rajbhandari et al. 2020), Korthikanti's activations per layer
(:func:`~mlsysim.core.formulas.activation_bytes_per_layer_B`) times the first stage's
in-flight micro-batches (:func:`~mlsysim.core.formulas.pipeline_inflight_s`). A micro-batch's
model and hardware FLOPs over a replica come from
:func:`~mlsysim.core.formulas.model_flops_per_token` and
:func:`~mlsysim.core.formulas.hardware_flops_per_token` on the *whole* model (PaLM's
convention), not from the sharded ops.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import EXPERT_IMBALANCE
from mlsysim.core.formulas.memory import (
    activation_bytes_per_layer_B,
    logits_B,
    optimizer_state_per_param_B,
    training_memory_B,
)
from mlsysim.core.formulas.parallelism import pipeline_inflight_s
from mlsysim.core.formulas.performance import (
    hardware_flops_per_token_F,
    model_flops_per_token_F,
)
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.hardware.efficiency import FRAMEWORK_OP_OVERHEAD, KERNEL_OVERHEAD
from mlsysim.workload.lowering.facts import ModelFacts
from mlsysim.workload.lowering.ops import Op, optimizer_update
from mlsysim.workload.lowering.transformer import lower_transformer

__all__ = [
    "CommOp",
    "RankLowered",
    "RankMemory",
    "RankOps",
    "RankShare",
    "StaticShare",
    "activation_parts",
    "lower_ops",
    "lower_rank",
    "microbatch_comms",
    "rank_share",
    "replica_flops",
    "restage",
    "shard_facts",
    "stage_activations",
    "static_reads",
    "static_share",
    "training_activation_bytes",
    "training_state_bytes",
]

#: Ops of the norm/residual regions that sequence parallelism splits over the TP group.
_SP_REGION = frozenset({"attn_add_norm", "ffn_add_norm", "final_add_norm"})
#: Ops that exist once per model (not per layer): the first and last stage's extras.
_HEAD_OPS = frozenset({"final_add_norm", "lm_head", "loss"})


#: Host seconds a list-form collective costs per rank of its group: the view the caller
#: makes of that rank's slice (a framework op) and the copy ``torch.distributed`` launches
#: to move it through its flat buffer (a kernel launch).
LIST_COLLECTIVE_PER_RANK_S = FRAMEWORK_OP_OVERHEAD.value + KERNEL_OVERHEAD.value


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


class RankMemory(NamedTuple):
    """Resident bytes per device (the most loaded stage: the first)."""

    weights: float
    gradients: float
    optimizer: float
    activations: float
    kv_cache: float


class RankLowered(NamedTuple):
    """One micro-batch of a pipeline stage on one rank, and what surrounds it.

    ``ops`` are the middle stage's ``layers`` (and, with one stage, the embedding);
    ``head_ops`` the last stage's extras (final norm, LM head, loss), which runs
    ``last_layers`` layers besides them.
    """

    ops: tuple[Op, ...]  # one micro-batch, forward + backward (training), optimizer excluded
    head_ops: tuple[Op, ...]
    optimizer: Op | None  # once per step, on this rank's (ZeRO-sharded) state
    comms: tuple[CommOp, ...]
    memory: RankMemory
    tokens: float  # tokens of one micro-batch on one model replica
    model_flops: float  # model FLOPs of one micro-batch over a replica (MFU's numerator)
    hardware_flops: float  # likewise with recomputation (HFU's numerator)
    flops: float  # executed FLOPs (recompute included) over every rank of a replica
    layers: int  # layers on a middle stage
    last_layers: int  # layers on the last stage (which also holds the LM head)


def _rank_params(f: ModelFacts, par: ParallelPlan) -> tuple[float, float]:
    """(dense, expert) parameters on the first stage's rank."""
    mats = 2.0 if f.gated else 1.0
    expert_one = (mats + 1.0) * f.hidden * f.moe_ffn
    experts_total = f.moe_layers * f.experts * expert_one
    head_untied = 0.0 if f.tied else f.head_params
    body = f.params - f.embed_params - head_untied - experts_total
    tp = par.tp
    share = par.stage_layers(f.layers)[0] / f.layers
    dense = body * share / tp + f.embed_params / tp
    if par.pp == 1:
        dense += head_untied / tp
    experts = experts_total * share / (par.ep * tp)
    return dense, experts


class _Shard(NamedTuple):
    facts: ModelFacts  # one rank of a middle stage
    dense: float  # dense parameters on the first stage's rank
    expert: float  # expert parameters on the first stage's rank
    stages: tuple[int, int, int]  # layers on the first, middle and last stage


_SHARDS = DerivedCache("workload.sharded_facts")


def _shard_entry(f: ModelFacts, par: ParallelPlan) -> _Shard:
    # the shard reads tp, ep and the stages (pp, chunks) of the plan: ZeRO, dp and the
    # micro-batch share it
    key = (id(f), par.tp, par.ep, par.pp, par.chunks)
    hit = _SHARDS.get(key)
    if hit is not None and hit[0] is f:
        return hit[1]
    dense, expert = _rank_params(f, par)
    entry = _Shard(_shard(f, par), dense, expert, par.stage_layers(f.layers))
    if len(_SHARDS) > 4096:  # a sweep must not accumulate
        _SHARDS.clear()
    _SHARDS.put(key, (f, entry))
    return entry


def shard_facts(f: ModelFacts, par: ParallelPlan) -> ModelFacts:
    """The facts of one rank of a middle pipeline stage (cached per facts and plan)."""
    return _shard_entry(f, par).facts


def _shard(f: ModelFacts, par: ParallelPlan) -> ModelFacts:
    tp = par.tp
    L_stage = par.stage_layers(f.layers)[1]
    heads = f.heads // tp
    kv = f.kv_heads // tp if f.kv_heads >= tp else 1
    h, d = float(f.hidden), float(f.head_dim)
    if f.mla is None:
        q_o = 2.0 * f.heads * d * h
        kv_w = 2.0 * f.kv_heads * d * h
        rest = f.attn_params - q_o - kv_w
        attn = q_o / tp + 2.0 * kv * d * h + rest / tp
    else:
        attn = f.attn_params / tp
    dense_first = max(0, f.dense_layers - (f.layers - L_stage)) if f.experts > 1 else 0
    experts = f.experts
    if experts > 1 and par.ep > 1:
        experts = max(f.active_experts, f.experts // par.ep)
    dense, expert = _rank_params(f, par)
    return dataclasses.replace(
        f,
        params=dense + expert,
        layers=L_stage,
        heads=heads,
        kv_heads=kv,
        ffn=f.ffn // tp,
        moe_ffn=max(1, f.moe_ffn // tp),
        vocab=-(-f.vocab // tp),
        experts=experts,
        dense_layers=dense_first,
        attn_params=attn,
        embed_params=f.embed_params / tp,
        head_params=f.head_params / tp,
    )


_new = tuple.__new__  # NamedTuple construction without its Python-level __new__


def _scaled(op: Op, flops: float, nbytes: float) -> Op:
    """``op`` with FLOPs scaled by ``flops`` and bytes by ``nbytes``."""
    name, kind, f, b, *rest = op
    return _new(Op, (name, kind, f * flops, b * nbytes, *rest))


def _adjust(
    ops: tuple[Op, ...], par: ParallelPlan, s: int, s_rank: int
) -> tuple[tuple[Op, ...], tuple[Op, ...], float, float]:
    """Context-parallel attention over the whole context, SP regions, stage extras.

    Returns the layer ops, the head ops, and the executed FLOPs of each group.
    """
    layers: list[Op] = []
    head: list[Op] = []
    lf = hf = 0.0
    causal_scale = (s + 1.0) / (s_rank + 1.0) if par.cp > 1 else 1.0
    split = par.sp and par.tp > 1
    for op in ops:
        name = op.name
        if op.kind == "optimizer":
            continue
        if name == "embedding":
            if par.pp > 1:
                continue  # the first stage's; the last stage (lowered here) has the head
            layers.append(op)
            continue
        if causal_scale != 1.0 and name.startswith("attention"):
            op = _scaled(op, causal_scale, 1.0)
        elif split and name in _SP_REGION:
            op = _scaled(op, 1.0 / par.tp, 1.0 / par.tp)
        if name in _HEAD_OPS:
            head.append(op)
            hf += op.flops * op.repeat
        else:
            layers.append(op)
            lf += op.flops * op.repeat
    return tuple(layers), tuple(head), lf, hf


def _expert_load(f: ModelFacts, par: ParallelPlan, rp: Any) -> float:
    """Load of the busiest expert-parallel rank over the mean (1 without EP or experts)."""
    if par.ep <= 1 or f.experts <= 1:
        return 1.0
    f_imb = rp.plan.expert_imbalance
    return EXPERT_IMBALANCE.value if f_imb is None else f_imb


class StaticShare(NamedTuple):
    """What one rank's step holds whatever its micro-batch and sequence: the optimizer
    update on its state shard, its resident state and the gradients' format (training)."""

    optimizer: Op | None
    state: tuple[float, float, float]  # weights, gradients, optimizer state (training)
    grad_bytes: float
    dp_comms: tuple[CommOp, ...]  # the data-parallel collectives of a training step


_STATIC = DerivedCache("workload.sharded_static")


def _static(
    f: ModelFacts, par: ParallelPlan, rp: Any, entry: _Shard, training: bool
) -> StaticShare:
    """The rank's static share (cached per facts and what it reads of the plans: no batch,
    micro-batch or sequence length in the key, and recomputation only where ZeRO-3 gathers
    modules again for it)."""
    key = (id(f), training, par.tp, par.pp, par.chunks, par.ep, par.dp, par.cp, par.zero)
    key = (*key, *static_reads(rp, par.zero))
    hit = _STATIC.get(key)
    if hit is not None and hit[0] is f:
        return hit[1]
    dense, expert = entry.dense, entry.expert
    if training:
        bg = _gradient_bytes(rp, par)
        dp_z = float(par.dp * par.cp)
        edp_z = max(1.0, dp_z / par.ep)
        # the update runs on this rank's optimizer-state shard, on its main gradients
        shard = dense / (dp_z if par.zero >= 1 else 1.0) + expert / (
            edp_z if par.zero >= 1 else 1.0
        )
        update = optimizer_update(shard, rp, bg)
        # the recomputed forward gathers a module again; a layer unit is still gathered for
        # its backward when its recomputation runs inside it (FSDP)
        unit = rp.plan.shard_unit
        passes = 3.0 if rp.plan.recompute == "full" and unit == "module" else 2.0
        units = _shard_units(f, par, unit) if par.zero >= 3 else (1.0, 1.0)
        host = LIST_COLLECTIVE_PER_RANK_S if rp.plan.list_collectives else 0.0
        dp = _dp_comms(par, dense, expert, bg, rp.weight_bytes, units, passes, host)
        made = StaticShare(update, _state(dense, expert, rp, par), bg, dp)
    else:
        made = StaticShare(None, ((dense + expert) * rp.weight_bytes, 0.0, 0.0), 0.0, ())
    if len(_STATIC) > 4096:  # a sweep must not accumulate
        _STATIC.clear()
    _STATIC.put(key, (f, made))
    return made


def static_reads(rp: Any, zero: int) -> tuple[Any, ...]:
    """What :func:`static_share` reads of a resolved plan at ZeRO stage ``zero`` (a cache
    key: plans that agree on it share their static share): the optimizer, the gradient and
    weight formats and bytes, ZeRO-3's gather unit, whether the collectives take a list of
    buffers and (ZeRO-3) whether the recomputed forward gathers modules again."""
    plan = rp.plan
    unit = plan.shard_unit
    regather = zero >= 3 and plan.recompute == "full" and unit == "module"
    formats = (plan.optimizer, plan.gradients, rp.weights, rp.weight_bytes, rp.gradient_bytes)
    return (*formats, unit, plan.list_collectives, regather)


def static_share(f: ModelFacts, par: ParallelPlan, rp: Any, training: bool) -> StaticShare:
    """The rank's optimizer update, resident state (weights, gradients, optimizer bytes),
    gradient format and data-parallel collectives: :func:`rank_share`'s parts that no
    micro-batch or sequence length changes."""
    return _static(f, par, rp, _shard_entry(f, par), training)


def microbatch_comms(
    f: ModelFacts, phase: str, microbatch: int, seq_len: int, rp: Any, par: ParallelPlan
) -> tuple[CommOp, ...]:
    """The collectives of one micro-batch (TP, CP, EP, PP): :func:`rank_share`'s comms
    before the data-parallel ones of :func:`static_share`."""
    s_rank = seq_len // par.cp if phase != "decode" else seq_len
    fr = _shard_entry(f, par).facts
    return _comms(f, fr, phase, microbatch, s_rank, rp, par, ())


def activation_parts(
    f: ModelFacts, microbatch: int, seq_len: int, rp: Any, par: ParallelPlan
) -> tuple[float, float, float]:
    """A training rank's activation parts (:func:`rank_share`'s ``activations``)."""
    return _activation_parts(
        f, par, microbatch, seq_len // par.cp, rp, _shard_entry(f, par).stages[0]
    )


class RankOps(NamedTuple):
    """One micro-batch's operations on one rank of the last stage (:func:`lower_ops`): what
    depends on the shard, the micro-batch and the sequence, not on ZeRO or the batch."""

    ops: tuple[Op, ...]
    head_ops: tuple[Op, ...]
    tokens: float
    model_flops: float
    hardware_flops: float
    flops: float
    layers: int
    last_layers: int
    inference: tuple[float, float]  # activations and KV cache bytes (inference)


class RankShare(NamedTuple):
    """What a rank holds and exchanges besides its operations (:func:`rank_share`)."""

    optimizer: Op | None
    comms: tuple[CommOp, ...]
    state: tuple[float, float, float]  # weights, gradients, optimizer state bytes
    activations: tuple[float, float, float]  # per stage, full recompute's layer, logits


def lower_ops(
    f: ModelFacts, phase: str, microbatch: int, seq_len: int, rp: Any, par: ParallelPlan
) -> RankOps:
    """The operations of one micro-batch of the last pipeline stage on one rank."""
    training = phase == "training"
    s_rank = seq_len // par.cp if phase != "decode" else seq_len
    entry = _shard_entry(f, par)
    fr = entry.facts
    low = lower_transformer(fr, phase, microbatch, s_rank, rp, _expert_load(f, par, rp))
    ops, head_ops, layer_flops, head_flops = _adjust(low.ops, par, seq_len, s_rank)

    # executed FLOPs of one micro-batch over a replica: every layer once on each TP/CP rank
    per_layer = float(f.layers) / fr.layers
    shards = float(par.tp * par.cp)
    flops = (layer_flops * per_layer + head_flops) * shards
    tokens, model_flops, hardware_flops = replica_flops(f, phase, microbatch, seq_len, rp)
    inference = (0.0, 0.0) if training else (low.memory.activations, low.memory.kv_cache)
    return _new(
        RankOps,
        (
            ops,
            head_ops,
            tokens,
            model_flops,
            hardware_flops,
            flops,
            fr.layers,
            entry.stages[2],
            inference,
        ),
    )


def replica_flops(
    f: ModelFacts, phase: str, microbatch: int, seq_len: int, rp: Any
) -> tuple[float, float, float]:
    """One micro-batch's tokens on a model replica and its model and hardware FLOPs: the
    whole model's per-token counts (PaLM's convention), recomputation in the hardware's."""
    decode = phase == "decode"
    tokens = float(microbatch) * (1 if decode else seq_len)
    context = float(seq_len) + 1.0 if decode else float(seq_len)
    args = (f.flop_params, float(f.layers), float(f.heads), f.attn_head_dim, context)
    training = phase == "training"
    model_flops = tokens * model_flops_per_token_F(*args, training)
    hardware_flops = (
        tokens * hardware_flops_per_token_F(*args, rp.plan.recompute) if training else model_flops
    )
    return tokens, model_flops, hardware_flops


def restage(low: RankOps, f: ModelFacts, par: ParallelPlan) -> RankOps:
    """A training lowering of a dense model (``f.experts`` ≤ 1) on any pipeline depth, moved
    to ``par``'s stages (``par.pp`` ≥ 2, the same shard, micro-batch and sequence).

    Such a stage's operations differ from another's only in how many layers repeat them
    (each op counts one instance) and, from a single stage, by its embedding (the first
    stage's, not the last's): so ``low``'s layer ops take the stage's layer count as their
    repeat and the executed FLOPs are summed again: element for element what
    :func:`lower_ops` returns for ``par``, without lowering again."""
    entry = _shard_entry(f, par)
    L = entry.facts.layers
    ops = tuple(_new(Op, (*op[:5], L, *op[6:])) for op in low.ops if op.name != "embedding")
    lf = hf = 0.0
    for op in ops:
        lf += op.flops * op.repeat
    for op in low.head_ops:
        hf += op.flops * op.repeat
    flops = (lf * (float(f.layers) / L) + hf) * float(par.tp * par.cp)
    return low._replace(ops=ops, flops=flops, layers=L, last_layers=entry.stages[2])


def rank_share(
    f: ModelFacts, phase: str, microbatch: int, seq_len: int, rp: Any, par: ParallelPlan
) -> RankShare:
    """The rank's optimizer update, collectives, resident state and activation parts (the
    in-flight micro-batches multiply the first: :func:`stage_activations`)."""
    training = phase == "training"
    s_rank = seq_len // par.cp if phase != "decode" else seq_len
    entry = _shard_entry(f, par)
    st = _static(f, par, rp, entry, training)
    comms = _comms(f, entry.facts, phase, microbatch, s_rank, rp, par, st.dp_comms)
    acts = (
        _activation_parts(f, par, microbatch, s_rank, rp, entry.stages[0])
        if training
        else (0.0, 0.0, 0.0)
    )
    return _new(RankShare, (st.optimizer, comms, st.state, acts))


def stage_activations(
    parts: tuple[Any, Any, Any], stages: Any, microbatches: Any, interleave: int, schedule: str
) -> Any:
    """Activation bytes the first stage holds at its peak: the per-stage bytes times its
    in-flight micro-batches (:func:`~mlsysim.core.formulas.pipeline_inflight_s`), plus the
    layer full recompute rebuilds and the LM head's logits (element-wise on arrays)."""
    per_stage, full, logits = parts
    inflight = pipeline_inflight_s(stages, microbatches, interleave, schedule)
    return per_stage * inflight + full + logits


def lower_rank(
    f: ModelFacts,
    phase: str,
    microbatch: int,
    seq_len: int,
    rp: Any,
    par: ParallelPlan,
    microbatches: int,
) -> RankLowered:
    """Lower one micro-batch of the last pipeline stage on one rank (see the module doc)."""
    low = lower_ops(f, phase, microbatch, seq_len, rp, par)
    share = rank_share(f, phase, microbatch, seq_len, rp, par)
    if phase == "training":
        acts = stage_activations(
            share.activations, par.pp, microbatches, par.chunks, par.effective_schedule
        )
        memory = RankMemory(*share.state, acts, 0.0)
    else:
        memory = RankMemory(share.state[0], 0.0, 0.0, *low.inference)
    return _new(
        RankLowered,
        (
            low.ops,
            low.head_ops,
            share.optimizer,
            share.comms,
            memory,
            low.tokens,
            low.model_flops,
            low.hardware_flops,
            low.flops,
            low.layers,
            low.last_layers,
        ),
    )


def _gradient_bytes(rp: Any, par: ParallelPlan) -> float:
    """Bytes per gradient element: ZeRO-2/3 keep gradients in the weights' format unless the
    plan names one (Rajbhandari et al. 2020); otherwise the plan's (fp32 main gradients by
    default, Megatron-LM)."""
    if par.zero >= 2 and rp.plan.gradients is None:
        return float(rp.weight_bytes)
    return float(rp.gradient_bytes)


def _state(dense: float, expert: float, rp: Any, par: ParallelPlan) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes of the first stage's rank, ZeRO-sharded."""
    bw, bg = rp.weight_bytes, _gradient_bytes(rp, par)
    K = optimizer_state_per_param_B(rp.plan.optimizer, rp.weights)
    dp_z = float(par.dp * par.cp)
    edp_z = max(1.0, dp_z / par.ep)
    w1, g1, o1 = training_memory_B(dense, bw, bg, K, par.zero, dp_z)
    w2, g2, o2 = training_memory_B(expert, bw, bg, K, par.zero, edp_z)
    return w1 + w2, g1 + g2, o1 + o2


def training_state_bytes(f: ModelFacts, par: ParallelPlan, rp: Any) -> float:
    """Weights, gradients and optimizer state per device of a training step (bytes): what
    :func:`lower_rank` reports for the first pipeline stage, without lowering any operation
    (a design-space search prunes plans whose state alone cannot fit)."""
    dense, expert = _rank_params(f, par)
    return sum(_state(dense, expert, rp, par))


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
    per_layer = activation_bytes_per_layer_B(s_rank, b, f.hidden, heads, tp, sp, mode, ba)
    full = 0.0
    if mode == "full":  # the layer being recomputed holds its full activations
        full = activation_bytes_per_layer_B(s_rank, b, f.hidden, heads, tp, sp, "none", ba)
    logits = 0.0
    if par.pp == 1:  # fp32 logits of the LM head (the last stage)
        logits = logits_B(b * s_rank, -(-f.vocab // par.tp))
    return per_layer * L_stage, full, logits


def _shard_units(f: ModelFacts, par: ParallelPlan, unit: str) -> tuple[float, float]:
    """ZeRO-3's gather units on the first stage's rank: (dense, expert). ``"module"``: each
    weight-holding submodule — a layer's attention as Megatron lays it out (fused QKV and
    the output projection; MLA's five projections), each MLP matrix (two, three gated), a
    MoE layer's router and shared experts — plus the embedding (and the untied LM head with
    one stage); each local expert's matrices. ``"layer"``: one unit per layer (and the
    embedding), every expert of a layer in it."""
    L0 = float(par.stage_layers(f.layers)[0])
    moe = L0 * f.moe_layers / f.layers if f.layers else 0.0
    ends = 1.0 + (1.0 if par.pp == 1 and not f.tied else 0.0)
    if unit == "layer":
        return L0 + ends, max(moe, 1.0)
    mlp = 3.0 if f.gated else 2.0
    attn = 5.0 if f.mla is not None else 2.0
    dense = L0 * attn + (L0 - moe) * mlp + moe * (1.0 + f.shared_experts * mlp) + ends
    local = max(1.0, float(f.experts // par.ep)) if f.experts > 1 else 0.0
    return dense, max(moe * local * mlp, 1.0)


def _dp_comms(
    par: ParallelPlan,
    dense: float,
    expert: float,
    bg: float,
    bw: float,
    units: tuple[float, float],
    passes: float,
    host: float = 0.0,
) -> tuple[CommOp, ...]:
    """The data-parallel collectives of a training step: they move the rank's gradients and
    weights, whatever the micro-batch or sequence (see the module doc). ZeRO-3 gathers each
    of ``units`` (dense, expert) gather units ``passes`` times a micro-batch (forward,
    backward, and the recomputed forward) and reduce-scatters its gradients once, each call
    one unit's bytes."""
    out: list[CommOp] = []
    if par.dp * par.cp > 1:
        for grp, params, n in (("dp", dense, units[0]), ("edp", expert, units[1])):
            if params <= 0.0 or (grp == "edp" and par.dp * par.cp // par.ep <= 1):
                continue
            grads, weights = params * bg, params * bw
            if par.zero == 0:
                out.append(
                    CommOp(
                        f"{grp}_grad_all_reduce", grp, "all_reduce", grads, 1.0, "step", "backward"
                    )
                )
            elif par.zero < 3:
                out.append(
                    CommOp(
                        f"{grp}_grad_reduce_scatter",
                        grp,
                        "reduce_scatter",
                        grads,
                        1.0,
                        "step",
                        "backward",
                    )
                )
                out.append(
                    CommOp(
                        f"{grp}_param_all_gather",
                        grp,
                        "all_gather",
                        weights,
                        1.0,
                        "step",
                        "forward",
                    )
                )
            else:
                out.append(
                    CommOp(
                        f"{grp}_param_all_gather",
                        grp,
                        "all_gather",
                        weights / n,
                        passes * n,
                        "microbatch",
                        "compute",
                        host,
                    )
                )
                out.append(
                    CommOp(
                        f"{grp}_grad_reduce_scatter",
                        grp,
                        "reduce_scatter",
                        grads / n,
                        n,
                        "microbatch",
                        "compute",
                        host,
                    )
                )
    return tuple(out)


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
            out.append(CommOp("tp_all_gather", "tp", "all_gather", act, n, "microbatch", "tp"))
            out.append(
                CommOp("tp_reduce_scatter", "tp", "reduce_scatter", act, n, "microbatch", "tp")
            )
        else:
            out.append(CommOp("tp_all_reduce", "tp", "all_reduce", act, n, "microbatch", "tp"))
    if par.cp > 1:
        kv_block = tokens * 2.0 * fr.kv_heads * f.head_dim * ba
        passes = (3.0 + (1.0 if mode != "none" else 0.0)) if training else 1.0
        n = L * (par.cp - 1) * passes
        out.append(
            CommOp("cp_kv_exchange", "cp", "send_recv", kv_block, n, "microbatch", "attention")
        )
    if par.ep > 1 and fr.moe_layers:
        # the busiest expert-parallel rank receives the imbalance factor times the mean
        routed = tokens * f.active_experts * f.hidden * ba * _expert_load(f, par, rp)
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
        out.append(CommOp("pp_send_recv", "pp", "send_recv", msg, n, "microbatch", "pipeline"))
    return (*out, *dp_comms)
