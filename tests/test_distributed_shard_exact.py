"""One rank's share of a model (``mlsysim.workload.lowering.shard``) on toy models small
enough to count by hand: Megatron-LM's split (heads, FFN columns, vocabulary over tp; KV heads
replicated once tp exceeds them), experts over ep (Lepikhin et al. 2021), the pipeline
stages' layers, and the busiest EP rank's load (the capacity factor, Fedus et al. 2022)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from mlsysim.execution.parallel import ParallelPlan
from mlsysim.workload.lowering.facts import ModelFacts
from mlsysim.workload.lowering.shard import expert_load, rank_params, rank_shard, shard_facts

# A toy dense model: h = 8, 4 heads of d = 2, 2 KV heads, gated FFN of 16, 4 layers, V = 10.
#   attention: Q and O 2·4·2·8 = 128, K and V 2·2·2·8 = 64 → 192 per layer
#   layer: 192 + gated FFN 3·8·16 = 384 + two RMSNorms 16 = 592; four layers 2368
#   model: 2368 + embedding 80 + untied head 80 + final norm 8 = 2536
_DENSE = ModelFacts(
    kind="transformer", task="llm", params=2536.0, layers=4, hidden=8, heads=4, kv_heads=2,
    head_dim=2, ffn=16, gated=True, vocab=10, attn_params=192.0, embed_params=80.0,
    head_params=80.0,
)  # fmt: skip
# A toy mixture of experts, not gated: E = 4 experts (k = 2) of FFN 6, the first layer dense.
#   one expert: (1 + 1)·8·6 = 96; experts 3 MoE layers · 4 · 96 = 1152
#   dense layer 192 + 2·8·16 + 16 = 464; MoE layer 192 + 16 + router 32 + 4·96 = 624
#   model: 464 + 3·624 + 80 + 80 + 8 = 2504
_MOE = dataclasses.replace(
    _DENSE, params=2504.0, gated=False, experts=4, active_experts=2, moe_ffn=6, dense_layers=1
)


def test_dense_rank_params_by_hand() -> None:
    # body = 2536 − 80 − 80 = 2376 (the layers and the final norm)
    # tp = 2, one stage: 2376/2 + embedding 80/2 + head 80/2 = 1268
    assert rank_params(_DENSE, ParallelPlan(tp=2)) == (1268.0, 0.0)
    # pp = 2: the first stage holds 2 of 4 layers' share and the embedding, not the head
    assert rank_params(_DENSE, ParallelPlan(tp=2, pp=2)) == (2376 * 0.5 / 2 + 40, 0.0)
    # tied: the head is the embedding (counted once in params = 2536 − 80)
    tied = dataclasses.replace(_DENSE, tied=True, params=2456.0)
    assert rank_params(tied, ParallelPlan(tp=2)) == (2376 / 2 + 40, 0.0)
    assert rank_params(tied, ParallelPlan(tp=4, pp=2)) == (2376 * 0.5 / 4 + 20, 0.0)


def test_moe_rank_params_by_hand() -> None:
    # body = 2504 − 80 − 80 − 1152 = 1192; experts over ep·tp
    assert rank_params(_MOE, ParallelPlan(tp=2, ep=2)) == (1192 / 2 + 40 + 40, 1152 / 4)
    assert rank_params(_MOE, ParallelPlan(tp=2, ep=2, pp=2)) == (1192 * 0.5 / 2 + 40, 144.0)
    # gated experts: three matrices each, (2 + 1)·8·6 = 144; 3·4·144 = 1728 of 3080
    gated = dataclasses.replace(_MOE, gated=True, params=2504.0 + 576.0)
    assert rank_params(gated, ParallelPlan(ep=4)) == (1192 + 80 + 80, 1728 / 4)


def test_dense_shard_by_hand() -> None:
    s = shard_facts(_DENSE, ParallelPlan(tp=2, pp=2))
    assert (s.layers, s.heads, s.kv_heads, s.ffn, s.vocab) == (2, 2, 1, 8, 5)
    # attention: Q, O and the rest split, each rank's own KV head: 128/2 + 2·1·2·8 = 96
    assert s.attn_params == 96.0
    assert (s.embed_params, s.head_params) == (40.0, 40.0)
    assert s.params == 2376 * 0.5 / 2 + 40  # the first stage's rank's
    assert (s.experts, s.dense_layers, s.moe_ffn) == (1, 0, 1)
    # tp = 4 > 2 KV heads: one KV head on every rank, Q and O split four ways: 32 + 32
    s = shard_facts(_DENSE, ParallelPlan(tp=4))
    assert (s.heads, s.kv_heads, s.attn_params) == (1, 1, 64.0)
    # an odd vocabulary pads its last shard: ceil(11/2) = 6 rows
    assert shard_facts(dataclasses.replace(_DENSE, vocab=11), ParallelPlan(tp=2)).vocab == 6


def test_moe_shard_by_hand() -> None:
    # one stage: all 4 layers, the dense first among them; 4/2 experts per EP rank
    s = shard_facts(_MOE, ParallelPlan(tp=2, ep=2))
    assert (s.layers, s.experts, s.dense_layers, s.moe_ffn) == (4, 2, 1, 3)
    assert s.params == 1192 / 2 + 80 + 1152 / 4
    # pp = 2: the middle stage starts after 2 layers, past the dense one
    s = shard_facts(_MOE, ParallelPlan(tp=2, ep=2, pp=2))
    assert (s.layers, s.experts, s.dense_layers) == (2, 2, 0)
    # ep = 1 keeps every expert; ep past E/k keeps the k a token needs
    assert shard_facts(_MOE, ParallelPlan(tp=2)).experts == 4
    assert shard_facts(_MOE, ParallelPlan(ep=4)).experts == 2
    # two experts, one of them per EP rank; the dense first layer stays
    two = dataclasses.replace(_MOE, experts=2, active_experts=1)
    s = shard_facts(two, ParallelPlan(ep=2))
    assert (s.experts, s.dense_layers) == (1, 1)
    # an FFN narrower than tp keeps one column
    assert shard_facts(dataclasses.replace(_MOE, moe_ffn=3), ParallelPlan(tp=4)).moe_ffn == 1


@pytest.mark.parametrize(
    "par", [ParallelPlan(tp=2), ParallelPlan(tp=4, pp=2), ParallelPlan(tp=2, ep=2, pp=2)]
)
@pytest.mark.parametrize(
    "facts",
    [_DENSE, _MOE, dataclasses.replace(_MOE, active_experts=1)],
    ids=["dense", "moe", "top-1"],
)
def test_shard_keeps_integer_fields_integers(facts: ModelFacts, par: ParallelPlan) -> None:
    """The lowering caches on exact ints: a shard's int fields stay Python ints (top-1 over
    ep = 2: 4 // 2 = 2 experts per rank, more than the one a token needs)."""
    s = shard_facts(facts, par)
    for fld in dataclasses.fields(ModelFacts):
        if fld.type in ("int", int):
            assert type(getattr(s, fld.name)) is int, fld.name


def test_rank_shard_is_cached_per_facts_and_plan() -> None:
    par = ParallelPlan(tp=2, ep=2, pp=2)
    first = rank_shard(_MOE, par)
    assert first.dense + first.expert == first.facts.params
    assert first.stages == (2, 2, 2)
    other = rank_shard(_DENSE, par)
    assert rank_shard(_MOE, par) is first  # another model's shard did not evict it
    assert rank_shard(_DENSE, par) is other
    # ZeRO, dp and the micro-batch do not change the shard
    assert rank_shard(_MOE, ParallelPlan(tp=2, ep=2, pp=2, dp=4, zero=1)) is first
    assert rank_shard(_MOE, ParallelPlan(tp=2, ep=4, pp=2)) is not first
    # five layers over two stages: the first and last take the embedding's and loss's place
    five = dataclasses.replace(_DENSE, layers=5)
    assert rank_shard(five, ParallelPlan(pp=2)).stages == (2, 3, 2)


def _rp(imbalance: float | None) -> SimpleNamespace:
    return SimpleNamespace(plan=SimpleNamespace(expert_imbalance=imbalance))


def test_expert_load_of_the_busiest_rank() -> None:
    two = dataclasses.replace(_MOE, experts=2, active_experts=1)
    for facts, par in ((_MOE, ParallelPlan(tp=2)), (_DENSE, ParallelPlan(ep=2))):
        assert expert_load(facts, par, _rp(1.5)) == 1.0  # no EP, or no experts: balanced
    for facts, ep in ((_MOE, 2), (_MOE, 4), (two, 2)):
        par = ParallelPlan(ep=ep)
        assert expert_load(facts, par, _rp(None)) == 1.25  # Switch's capacity factor
        assert expert_load(facts, par, _rp(1.5)) == 1.5
