"""One rank's share of the model: the facts of a middle pipeline stage's rank and the
parameters on the first stage's (:mod:`mlsysim.workload.lowering.sharded` says how each
dimension is split: heads, FFN columns, vocabulary and experts over ``tp`` and ``ep``, the
stage's layers over ``pp``)."""

from __future__ import annotations

import dataclasses
import operator
from typing import Any, NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import EXPERT_IMBALANCE
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.workload.lowering.facts import ModelFacts

__all__ = ["RankShard", "expert_load", "rank_params", "rank_shard", "shard_facts"]


def rank_params(f: ModelFacts, par: ParallelPlan) -> tuple[float, float]:
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


class RankShard(NamedTuple):
    """One rank's share of the model (:func:`rank_shard`)."""

    facts: ModelFacts  # one rank of a middle stage
    dense: float  # dense parameters on the first stage's rank
    expert: float  # expert parameters on the first stage's rank
    stages: tuple[int, int, int]  # layers on the first, middle and last stage


_SHARDS = DerivedCache("workload.sharded_facts")


def rank_shard(f: ModelFacts, par: ParallelPlan) -> RankShard:
    """The rank's facts, parameters and stage layers under ``par`` (cached per facts and
    what the shard reads of the plan)."""
    # the shard reads tp, ep and the stages (pp, chunks) of the plan: ZeRO, dp and the
    # micro-batch share it
    key = (id(f), par.tp, par.ep, par.pp, par.chunks)
    hit = _SHARDS.get(key)
    if hit is not None and hit[0] is f:
        return hit[1]
    dense, expert = rank_params(f, par)
    entry = RankShard(_shard(f, par, dense + expert), dense, expert, par.stage_layers(f.layers))
    if len(_SHARDS) > 4096:  # a sweep must not accumulate
        _SHARDS.clear()
    _SHARDS.put(key, (f, entry))
    return entry


def shard_facts(f: ModelFacts, par: ParallelPlan) -> ModelFacts:
    """The facts of one rank of a middle pipeline stage (cached per facts and plan)."""
    return rank_shard(f, par).facts


def _shard(f: ModelFacts, par: ParallelPlan, params: float) -> ModelFacts:
    """The middle stage rank's facts; ``params``: the first stage's rank's (dense plus
    expert, :func:`rank_params`)."""
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
    return _replaced(
        f,
        params=params,
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


#: ModelFacts' field names: each is an argument of its ``__init__`` and none is derived after
#: it (no ``__post_init__``), so a copy with some changed is the class called on them all.
_FACT_NAMES = tuple(fld.name for fld in dataclasses.fields(ModelFacts))
#: Each field's place among them, and all of a facts' fields read at once (in their order).
_FACT_AT = {name: k for k, name in enumerate(_FACT_NAMES)}
_FACT_VALUES = operator.attrgetter(*_FACT_NAMES)


def _replaced(f: ModelFacts, **changes: Any) -> ModelFacts:
    """``dataclasses.replace(f, **changes)`` for facts, without its per-field checks (a
    sweep makes one shard per tp, ep and stages: that function's cost was most of it)."""
    values = list(_FACT_VALUES(f))
    for name, value in changes.items():
        values[_FACT_AT[name]] = value
    return ModelFacts(*values)


def expert_load(f: ModelFacts, par: ParallelPlan, rp: Any) -> float:
    """Load of the busiest expert-parallel rank over the mean (1 without EP or experts)."""
    if par.ep <= 1 or f.experts <= 1:
        return 1.0
    f_imb = rp.plan.expert_imbalance
    return EXPERT_IMBALANCE.value if f_imb is None else f_imb
