"""A model's architecture as plain numbers, extracted and checked once per spec (the solver's
hot path).

``params`` is the parameter count the registry states (what books quote: Llama-2-7B's 6.74B);
``flop_params`` the parameters each token's matrix products pass through, the N of the
model-FLOPs formulas (:func:`~mlsysim.core.formulas.flop_params`: the stated count, or a
mixture of experts' active count, less the tables a token only looks up — the untied input
embedding, learned positions, token types —, the output layer counted once);
``flop_params_no_head`` the same for a step without the output layer (an encoder's
inference, :func:`step_flop_params`). Values are checked when extracted, so a spec built
or copied outside the registry with a negative or zero size fails with the field named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core.cache import DerivedCache
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.formulas.performance import flop_params_F

__all__ = ["ModelFacts", "model_facts", "runs_head", "step_flop_params"]


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """A model's architecture as plain numbers, extracted once per spec (:func:`model_facts`)."""

    kind: str
    task: str
    params: float
    flop_params: float = 0.0  # N of the model-FLOPs formulas (active, lookups excluded)
    flop_params_no_head: float = 0.0  # the same for a step without the output layer
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
    attn_head_dim: float = 0.0  # per-head width of QKᵀ and PV averaged (MLA: (d_qk + d_v)/2)
    attn_params: float = 0.0  # attention weights of one layer
    embed_params: float = 0.0
    head_params: float = 0.0
    bias_tensors: int = 0  # bias vectors of one dense layer (arch.layer_biases)
    bias_split: float = 0.0  # their column-parallel elements (split by TP)
    bias_whole: float = 0.0  # their row-parallel elements (whole on every TP rank)
    norm_tensors: int = 0  # parameter tensors of one norm layer: LayerNorm 2, RMSNorm 1
    end_norms: int = 0  # norm layers outside the blocks (final norm, embedding norm)
    flops_per_sample: float = 0.0  # CNN/KWS forward pass
    input_elems: float = 0.0  # CNN/KWS input tensor elements

    @property
    def flop_params_head(self) -> float:
        """The output layer's share of :attr:`flop_params` (V·h of the whole model; 0 for a
        CNN): what full recomputation does not re-run."""
        return self.flop_params - self.flop_params_no_head

    @property
    def moe_layers(self) -> int:
        return self.layers - self.dense_layers if self.experts > 1 else 0

    @property
    def kv_elems_per_token(self) -> float:
        """Cached elements per token per layer: K and V heads, or MLA's latent plus RoPE key."""
        if self.mla is not None:
            return float(self.mla[0] + self.mla[3])
        return 2.0 * self.kv_heads * self.head_dim


def runs_head(f: ModelFacts, phase: str) -> bool:
    """Whether a transformer step of ``phase`` runs the output layer (the logits): every
    training step, and a causal language model's inference."""
    return phase == "training" or f.task == "llm"


def step_flop_params(f: ModelFacts, phase: str) -> float:
    """The N of the model-FLOPs formulas for a step of ``phase`` (:func:`runs_head`)."""
    return f.flop_params if runs_head(f, phase) else f.flop_params_no_head


_FACTS = DerivedCache("workload.model_facts")


def model_facts(model: Any) -> ModelFacts:
    """Plain-number facts of a ModelSpec, cached per spec object (generation-aware)."""
    hit = _FACTS.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1]
    facts = _extract(model)
    _FACTS.put(id(model), (model, facts))
    return facts


def _bad(model: Any, field: str, value: Any, fix: str) -> ConfigError:
    return ConfigError(
        f"{model.id}: {field} must be positive, got {value!r}",
        where="model spec",
        why="a model's sizes and counts are positive",
        fix=fix,
    )


def _positive(model: Any, field: str, value: float, fix: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise _bad(model, field, value, fix)
    return value


_ARCH_SIZES = ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "max_seq_len")


def _extract(model: Any) -> ModelFacts:
    from mlsysim.core.units import si

    params = _positive(
        model, "params", si(model.params, "parameter", "params"), "give the stated count, e.g. '7B'"
    )
    active = getattr(model, "active_params", None)
    flop_params = (
        _positive(model, "active_params", si(active, "parameter", "active_params"), "e.g. '13B'")
        if active is not None
        else params
    )
    if model.kind != "transformer":
        shape = model.input_shape or ()
        elems = 1.0
        for n in shape:
            elems *= n
        flops = si(model.flops_per_inference, "computation", "flops_per_inference")
        return ModelFacts(
            kind=model.kind,
            task=model.task,
            params=params,
            flop_params=flop_params,
            flop_params_no_head=flop_params,
            flops_per_sample=_positive(model, "flops_per_inference", flops, "e.g. '4.1 GFLOP'"),
            input_elems=elems if shape else 0.0,
        )
    from mlsysim.workload.arch import layer_biases, norm_tensors, param_breakdown

    a = model.transformer
    for field in _ARCH_SIZES:
        if getattr(a, field) < 1:
            raise _bad(model, f"transformer.{field}", getattr(a, field), f"give {field} ≥ 1")
    if not 1 <= a.active_experts <= a.experts:
        raise ConfigError(
            f"{model.id}: transformer.active_experts must lie in [1, experts], got "
            f"{a.active_experts} of {a.experts}",
            where="model spec",
            fix="give the number of experts each token is routed to",
        )
    parts = param_breakdown(model)
    biases = layer_biases(a)
    V, h = float(a.vocab), float(a.hidden)
    rows = (parts["embeddings"] - a.vocab * a.hidden) / h  # learned positions, token types
    n_mm = (
        flop_params_F(flop_params, V, h, a.tied_embeddings, rows),
        flop_params_F(flop_params, V, h, a.tied_embeddings, rows, head=False),
    )
    for n in n_mm:
        if n <= 0:
            raise _bad(model, "params less the embedding tables", n, "state the model's count")
    mla = None
    head_dim = float(a.head_size)
    if a.mla is not None:
        m = a.mla
        mla = (m.kv_lora_rank, m.q_lora_rank, m.qk_nope_head_dim, m.qk_rope_head_dim, m.v_head_dim)
        head_dim = (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim) / 2.0
    return ModelFacts(
        kind="transformer",
        task=model.task,
        params=params,
        flop_params=n_mm[0],
        flop_params_no_head=n_mm[1],
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
        attn_head_dim=head_dim,
        attn_params=parts["attention"] / a.layers,
        embed_params=float(parts["embeddings"]),
        head_params=float(a.vocab * a.hidden),
        bias_tensors=biases[0],
        bias_split=float(biases[1]),
        bias_whole=float(biases[2]),
        norm_tensors=norm_tensors(a),
        end_norms=int(a.final_norm) + int(a.embedding_norm),
    )
