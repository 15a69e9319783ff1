"""A model's architecture as plain numbers, extracted once per spec (the solver's hot path)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ModelFacts", "model_facts"]


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """A model's architecture as plain numbers, extracted once per spec (:func:`model_facts`)."""

    kind: str
    task: str
    params: float
    layers: int = 0
    hidden: int = 0
    heads: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    ffn: int = 0
    gated: bool = False
    vocab: int = 0
    tied: bool = False
    max_seq_len: int = 0
    rope: bool = False
    learned_positions: bool = False
    experts: int = 1
    active_experts: int = 1
    shared_experts: int = 0
    moe_ffn: int = 0
    dense_layers: int = 0
    mla: tuple[int, int, int, int, int] | None = None  # kv_lora, q_lora, nope, rope, v
    attn_params: float = 0.0  # attention weights of one layer
    embed_params: float = 0.0
    head_params: float = 0.0
    flops_per_sample: float = 0.0  # CNN/KWS forward pass
    input_elems: float = 0.0  # CNN/KWS input tensor elements

    @property
    def moe_layers(self) -> int:
        return self.layers - self.dense_layers if self.experts > 1 else 0

    @property
    def kv_elems_per_token(self) -> float:
        """Cached elements per token per layer: K and V heads, or MLA's latent plus RoPE key."""
        if self.mla is not None:
            return float(self.mla[0] + self.mla[3])
        return 2.0 * self.kv_heads * self.head_dim


_FACTS: dict[int, tuple[Any, ModelFacts]] = {}


def model_facts(model: Any) -> ModelFacts:
    """Plain-number facts of a ModelSpec, cached per spec object."""
    hit = _FACTS.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1]
    facts = _extract(model)
    _FACTS[id(model)] = (model, facts)
    return facts


def _extract(model: Any) -> ModelFacts:
    from mlsysim.core.units import si

    params = si(model.params, "parameter", "params")
    if model.kind != "transformer":
        shape = model.input_shape or ()
        elems = 1.0
        for n in shape:
            elems *= n
        return ModelFacts(
            kind=model.kind,
            task=model.task,
            params=params,
            flops_per_sample=si(model.flops_per_inference, "computation", "flops_per_inference"),
            input_elems=elems if shape else 0.0,
        )
    from mlsysim.workload.arch import count_params, param_breakdown

    a = model.transformer
    parts = param_breakdown(model)
    mla = None
    if a.mla is not None:
        m = a.mla
        mla = (m.kv_lora_rank, m.q_lora_rank, m.qk_nope_head_dim, m.qk_rope_head_dim, m.v_head_dim)
    return ModelFacts(
        kind="transformer",
        task=model.task,
        params=float(count_params(model)),
        layers=a.layers,
        hidden=a.hidden,
        heads=a.heads,
        kv_heads=a.kv_heads,
        head_dim=a.head_size,
        ffn=a.ffn,
        gated=a.ffn_gated,
        vocab=a.vocab,
        tied=a.tied_embeddings,
        max_seq_len=a.max_seq_len,
        rope=a.position == "rope",
        learned_positions=a.position == "learned",
        experts=a.experts,
        active_experts=a.active_experts,
        shared_experts=a.shared_experts,
        moe_ffn=a.moe_ffn or a.ffn,
        dense_layers=a.dense_layers,
        mla=mla,
        attn_params=parts["attention"] / a.layers,
        embed_params=float(parts["embeddings"]),
        head_params=float(a.vocab * a.hidden),
    )
