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
  calls, whose submodule unit also reduce-scatters each bias and norm tensor by a call of
  its own); experts reduce over ``dp·cp/ep`` ranks;
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

The parts live in their own modules, re-exported here: the rank's share of the model
(:mod:`~mlsysim.workload.lowering.shard`), its micro-batch collectives and activation parts
(:mod:`~mlsysim.workload.lowering.sharded_comms`), its static share — optimizer update,
resident state, data-parallel collectives (:mod:`~mlsysim.workload.lowering.sharded_state`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.formulas.performance import (
    hardware_flops_per_token_F,
    model_flops_per_token_F,
)
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.workload.lowering.facts import ModelFacts, step_flop_params
from mlsysim.workload.lowering.ops import Op
from mlsysim.workload.lowering.recompute import HEAD_OPS
from mlsysim.workload.lowering.shard import expert_load, rank_shard, shard_facts
from mlsysim.workload.lowering.sharded_comms import (
    LIST_COLLECTIVE_PER_RANK_S,
    CommOp,
    activation_parts,
    microbatch_comms,
    stage_activations,
    training_activation_bytes,
)
from mlsysim.workload.lowering.sharded_state import (
    StaticShare,
    static_reads,
    static_share,
    training_state_bytes,
)
from mlsysim.workload.lowering.transformer import lower_transformer, transformer_ops

__all__ = [
    "LIST_COLLECTIVE_PER_RANK_S",
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
# the head's ops (recompute.HEAD_OPS) exist once per model: the last stage's extras


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
        if name in HEAD_OPS:
            head.append(op)
            hf += op.flops * op.repeat
        else:
            layers.append(op)
            lf += op.flops * op.repeat
    return tuple(layers), tuple(head), lf, hf


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


#: What :func:`lower_ops` and :func:`rank_share` made of the same facts, resolved plan and
#: parallel plan objects (by identity: each entry holds them) at a micro-batch and sequence
#: length: a warm solve of a structure lowers its rank once, not once per call.
_OPS = DerivedCache("workload.sharded_ops")
_SHARES = DerivedCache("workload.sharded_shares")
_LIMIT = 1024  # a sweep or a search must not accumulate (an entry holds ~30 ops)


def _kept(
    cache: DerivedCache,
    make: Any,
    f: Any,
    phase: str,
    microbatch: int,
    seq_len: int,
    rp: Any,
    par: Any,
) -> Any:
    """``make(f, phase, microbatch, seq_len, rp, par)``, kept in ``cache`` for these very
    objects (each entry holds them, so an id is never answered for another object) at exact
    ints only (a NumPy integer's arithmetic never answers for a Python int's)."""
    if type(microbatch) is not int or type(seq_len) is not int:
        return make(f, phase, microbatch, seq_len, rp, par)
    key = (id(f), id(rp), id(par), phase, microbatch, seq_len)
    hit = cache.get(key)
    if hit is not None and hit[0] is f and hit[1] is rp and hit[2] is par:
        return hit[3]
    made = make(f, phase, microbatch, seq_len, rp, par)
    if len(cache) > _LIMIT:
        cache.clear()
    cache.put(key, (f, rp, par, made))
    return made


def lower_ops(
    f: ModelFacts, phase: str, microbatch: int, seq_len: int, rp: Any, par: ParallelPlan
) -> RankOps:
    """The operations of one micro-batch of the last pipeline stage on one rank (cached per
    facts, plans, phase, micro-batch and sequence length; exact ints only, so a NumPy
    integer's arithmetic never answers for a Python int's)."""
    return _kept(_OPS, _lower_ops, f, phase, microbatch, seq_len, rp, par)


def _lower_ops(
    f: ModelFacts, phase: str, microbatch: int, seq_len: int, rp: Any, par: ParallelPlan
) -> RankOps:
    training = phase == "training"
    s_rank = seq_len // par.cp if phase != "decode" else seq_len
    entry = rank_shard(f, par)
    fr = entry.facts
    load = expert_load(f, par, rp)
    if training:  # the rank's memory and the replica's FLOPs are counted below, not per shard
        rank_ops = transformer_ops(fr, phase, microbatch, s_rank, rp, load)
        inference = (0.0, 0.0)
    else:
        low = lower_transformer(fr, phase, microbatch, s_rank, rp, load)
        rank_ops = low.ops
        inference = (low.memory.activations, low.memory.kv_cache)
    ops, head_ops, layer_flops, head_flops = _adjust(rank_ops, par, seq_len, s_rank)

    # executed FLOPs of one micro-batch over a replica: every layer once on each TP/CP rank
    per_layer = float(f.layers) / fr.layers
    shards = float(par.tp * par.cp)
    flops = (layer_flops * per_layer + head_flops) * shards
    tokens, model_flops, hardware_flops = replica_flops(f, phase, microbatch, seq_len, rp)
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
    N = step_flop_params(f, phase)
    args = (N, float(f.layers), float(f.heads), f.attn_head_dim, context)
    training = phase == "training"
    model_flops = tokens * model_flops_per_token_F(*args, training)
    hardware_flops = (
        tokens * hardware_flops_per_token_F(*args, rp.plan.recompute, f.flop_params_head)
        if training
        else model_flops
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
    entry = rank_shard(f, par)
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
    in-flight micro-batches multiply the first: :func:`stage_activations`; cached as
    :func:`lower_ops` is)."""
    return _kept(_SHARES, _rank_share, f, phase, microbatch, seq_len, rp, par)


def _rank_share(
    f: ModelFacts, phase: str, microbatch: int, seq_len: int, rp: Any, par: ParallelPlan
) -> RankShare:
    training = phase == "training"
    st = static_share(f, par, rp, training)
    comms = (*microbatch_comms(f, phase, microbatch, seq_len, rp, par), *st.dp_comms)
    acts = activation_parts(f, microbatch, seq_len, rp, par) if training else (0.0, 0.0, 0.0)
    return _new(RankShare, (st.optimizer, comms, st.state, acts))


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
