"""Parameter counts implied by a transformer architecture (embeddings to LM head).

The registry stores each model's *stated* parameter count (paper, model card) next to its
architecture; :func:`count_params` recomputes the count from the architecture so the two can
be checked against each other when the entry loads (:func:`check_stated_counts`).

Counting rules, per block (h = hidden size, L = layers, V = vocabulary):

* embeddings: ``V·h`` tokens, plus ``max_seq_len·h`` learned positions and ``type_vocab·h``
  segment embeddings where the architecture has them (GPT-2/3, BERT);
* attention: Q and O projections ``2·h·n_q·d``, K and V ``2·h·n_kv·d`` (grouped-query
  attention shares K/V heads, Ainslie et al. 2023); multi-head latent attention (DeepSeek-V2/V3)
  uses low-rank down/up projections and two RMSNorms on the latents;
* feed-forward: gated (SwiGLU, Shazeer 2020) ``3·h·f``, non-gated ``2·h·f``;
  mixture-of-experts layers hold ``E`` routed experts, ``S`` shared experts and a router
  ``h·E`` (Fedus et al. 2022; Jiang et al. 2024; DeepSeek-AI 2024);
* norms: RMSNorm ``h`` weights, LayerNorm ``2·h`` (weight and bias); two per layer, plus a
  final norm and/or an embedding norm where the architecture has them;
* biases on every linear layer when ``bias`` is set (GPT-2/3, BERT);
* the LM head ``V·h`` unless tied to the token embedding; BERT's pooler ``h·h + h``.

Active parameters (mixture-of-experts) count every non-expert weight plus ``active_experts``
routed and all shared experts per MoE layer, embeddings and LM head included — the convention
of Jiang et al. 2024 (Mixtral 12.9B active) and DeepSeek-AI 2024 (37B active).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ACTIVE_PARAMS_TOLERANCE",
    "PARAMS_TOLERANCE",
    "check_stated_counts",
    "count_active_params",
    "count_params",
    "layer_biases",
    "norm_tensors",
    "param_breakdown",
]

#: Relative tolerance between a stated total parameter count and the architecture's count.
PARAMS_TOLERANCE = 0.01
#: Relative tolerance for stated *active* counts: sources give them to two significant figures
#: and truncate (DeepSeek-V3 "37B" for an architectural 37.5e9), so 1 % is tighter than the data.
ACTIVE_PARAMS_TOLERANCE = 0.02


def _arch_of(model: Any) -> Any:
    """The transformer architecture of a ModelSpec, or the argument if it is one already."""
    return getattr(model, "transformer", model)


def norm_tensors(arch: Any) -> int:
    """Parameter tensors of one normalisation layer: RMSNorm a scale, LayerNorm a scale and a
    bias, each ``hidden`` long."""
    return 2 if arch.norm == "layernorm" else 1


def _norm_params(arch: Any) -> int:
    """Weights of one normalisation layer (:func:`norm_tensors` of ``hidden`` each)."""
    return norm_tensors(arch) * arch.hidden


def _attention_biases(arch: Any) -> tuple[int, int]:
    """A GQA/MHA/MQA block's bias elements: (the fused QKV projection's, column-parallel;
    the output projection's, row-parallel); none without ``bias``."""
    if not arch.bias:
        return 0, 0
    d = arch.head_size
    return arch.heads * d + 2 * arch.kv_heads * d, arch.hidden


def _ffn_biases(arch: Any, f: int) -> tuple[int, int]:
    """An FFN's bias elements of intermediate size ``f``: (the up (and gate) projections',
    column-parallel; the down projection's, row-parallel); none without ``bias``."""
    if not arch.bias:
        return 0, 0
    matrices = 3 if arch.ffn_gated else 2
    return (matrices - 1) * f, arch.hidden


def layer_biases(arch: Any) -> tuple[int, int, int]:
    """A dense layer's bias vectors: (tensors, column-parallel elements, row-parallel
    elements): fused QKV and output projection, and one per FFN matrix. Zeros without
    ``bias`` and for MLA attention (its biases are not split out here)."""
    if not arch.bias or arch.mla is not None:
        return 0, 0, 0
    a_col, a_row = _attention_biases(arch)
    f_col, f_row = _ffn_biases(arch, arch.ffn)
    tensors = 2 + (3 if arch.ffn_gated else 2)
    return tensors, a_col + f_col, a_row + f_row


def _attention_params(arch: Any) -> int:
    """One attention block: GQA/MHA/MQA projections, or MLA low-rank projections and norms."""
    h = arch.hidden
    n_q = arch.heads
    if arch.mla is not None:
        mla = arch.mla
        d_qk = mla.qk_nope_head_dim + mla.qk_rope_head_dim
        if mla.q_lora_rank:
            q = h * mla.q_lora_rank + mla.q_lora_rank + mla.q_lora_rank * n_q * d_qk
        else:
            q = h * n_q * d_qk
        kv_down = h * (mla.kv_lora_rank + mla.qk_rope_head_dim) + mla.kv_lora_rank
        kv_up = mla.kv_lora_rank * n_q * (mla.qk_nope_head_dim + mla.v_head_dim)
        o = n_q * mla.v_head_dim * h
        bias = (n_q * d_qk + n_q * mla.v_head_dim + h) if arch.bias else 0
        return q + kv_down + kv_up + o + bias
    d = arch.head_size
    n_kv = arch.kv_heads
    qo = 2 * h * n_q * d
    kv = 2 * h * n_kv * d
    return qo + kv + sum(_attention_biases(arch))


def _ffn_params(arch: Any, f: int) -> int:
    """One feed-forward network of intermediate size ``f`` (gated: three matrices)."""
    h = arch.hidden
    matrices = 3 if arch.ffn_gated else 2
    weights = matrices * h * f
    return weights + sum(_ffn_biases(arch, f))


def _moe_layers(arch: Any) -> int:
    """Number of layers whose FFN is a mixture of experts."""
    return arch.layers - arch.dense_layers if arch.is_moe else 0


def param_breakdown(model: Any) -> dict[str, int]:
    """Parameters per component: embeddings, attention, dense/expert FFNs, norms, head."""
    arch = _arch_of(model)
    h, V, L = arch.hidden, arch.vocab, arch.layers
    position = arch.max_seq_len * h if arch.position == "learned" else 0
    embeddings = V * h + position + arch.type_vocab * h
    L_moe = _moe_layers(arch)
    L_dense = L - L_moe
    f_expert = arch.moe_ffn or arch.ffn
    n_norms = 2 * L + int(arch.final_norm) + int(arch.embedding_norm)
    return {
        "embeddings": embeddings,
        "attention": L * _attention_params(arch),
        "dense_ffn": L_dense * _ffn_params(arch, arch.ffn),
        "routed_experts": L_moe * arch.experts * _ffn_params(arch, f_expert),
        "shared_experts": L_moe * arch.shared_experts * _ffn_params(arch, f_expert),
        "router": L_moe * h * arch.experts,
        "norms": n_norms * _norm_params(arch),
        "pooler": (h * h + h) if arch.pooler else 0,
        "lm_head": 0 if arch.tied_embeddings else V * h,
    }


def count_params(model: Any) -> int:
    """Total parameters implied by a transformer architecture (every expert counted).

    For a CNN entry (no architecture table) the stated count is returned unchanged.
    """
    if getattr(model, "transformer", 1) is None:
        return round(model.params.to("param").magnitude)
    return sum(param_breakdown(model).values())


def count_active_params(model: Any) -> int:
    """Parameters used per token: all non-expert weights, ``active_experts`` routed experts
    and every shared expert in each MoE layer (equals :func:`count_params` for dense models).
    """
    if getattr(model, "transformer", 1) is None:
        return count_params(model)
    arch = _arch_of(model)
    parts = param_breakdown(model)
    total = sum(parts.values())
    if not arch.is_moe:
        return total
    L_moe = _moe_layers(arch)
    f_expert = arch.moe_ffn or arch.ffn
    active_routed = L_moe * arch.active_experts * _ffn_params(arch, f_expert)
    return total - parts["routed_experts"] + active_routed


def _relative_error(counted: int, stated: float) -> float:
    return abs(counted - stated) / stated


def check_stated_counts(model: Any) -> None:
    """Raise ``ValueError`` when the architecture does not reproduce the stated counts.

    Total within :data:`PARAMS_TOLERANCE`, active (MoE) within
    :data:`ACTIVE_PARAMS_TOLERANCE`. Used by the model registry at load time.
    """
    arch = _arch_of(model)
    stated = model.params.to("param").magnitude
    counted = count_params(model)
    err = _relative_error(counted, stated)
    if err > PARAMS_TOLERANCE:
        raise ValueError(
            f"the architecture implies {counted:,} parameters but params states "
            f"{stated:,.0f} ({err:.1%} apart, tolerance {PARAMS_TOLERANCE:.0%}); check layers, "
            "hidden, ffn, vocab, kv_heads, tied_embeddings and experts against the model's "
            "config, or correct params"
        )
    if model.active_params is not None:
        stated_active = model.active_params.to("param").magnitude
        counted_active = count_active_params(model)
        err = _relative_error(counted_active, stated_active)
        if err > ACTIVE_PARAMS_TOLERANCE:
            raise ValueError(
                f"the architecture implies {counted_active:,} active parameters but "
                f"active_params states {stated_active:,.0f} ({err:.1%} apart, tolerance "
                f"{ACTIVE_PARAMS_TOLERANCE:.0%}); check active_experts, shared_experts, "
                "moe_ffn and dense_layers"
            )
    elif arch.is_moe:
        raise ValueError("a mixture-of-experts entry needs active_params (as its source states)")
