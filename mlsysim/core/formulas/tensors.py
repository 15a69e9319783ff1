"""Memory of a model's stored tensors: its weights (quantized formats' scales and kept 16-bit
embeddings counted), the KV cache (MHA/GQA/MQA/MLA) and the LM head's logits.

Model arguments are duck-typed registry specs: ``model.params`` and, for transformers,
``model.arch`` with ``layers``, ``hidden``, ``heads``, ``kv_heads``, ``head_size`` and ``mla``
(see ``mlsysim.Models``). The formulas are in the ``memory`` domain, importable from
:mod:`.memory` too (imported first there, so the domain keeps its order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlsysim.core.constants import BYTES_PER_ELEMENT, DEFAULT_PRECISION
from mlsysim.core.formulas._args import bytes_per_element, count, spec
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = ["kv_cache_B", "kv_cache_bytes", "logits_B", "weights_B", "weights_bytes"]

#: Bytes per logit: fp32, TensorRT-LLM's default ``logits_dtype`` and vLLM's sampling format.
_LOGIT_BYTES = BYTES_PER_ELEMENT["fp32"].value


def _params(model: Any, where: str) -> float:
    return count(spec(model, "params", "model", where), "model.params", where, dim="parameter")


def _kv_width(arch: Any) -> int:
    """KV-cache elements per token per layer: 2·n_kv·d_h, or d_c + d_h^R for MLA."""
    mla = getattr(arch, "mla", None)
    if mla is not None:
        return int(mla.kv_lora_rank + mla.qk_rope_head_dim)
    return int(2 * arch.kv_heads * arch.head_size)


def weights_B(params: float, bytes_per_element: float) -> float:
    """Float fast path of :func:`weights_bytes`: parameter count × bytes per element."""
    return params * bytes_per_element


def _kept_params(model: Any) -> float:
    """Parameters of the embedding tables and an untied LM head (0 for a CNN)."""
    arch = getattr(model, "arch", None)
    if arch is None:
        return 0.0
    V, h = float(arch.vocab), float(arch.hidden)
    positions = arch.max_seq_len * h if getattr(arch, "position", "") == "learned" else 0.0
    head = 0.0 if arch.tied_embeddings else V * h
    return V * h + positions + getattr(arch, "type_vocab", 0) * h + head


def _weight_operands(a: Mapping[str, Any]) -> dict[str, Any]:
    from mlsysim.core.formulas.compression import quantized_bits_per_weight

    bits = quantized_bits_per_weight(a["precision"], a.get("group_size"))
    kept = a.get("kept_precision")
    return {
        "params": a["model"].params,
        "bytes_per_element": from_si(bits / 8.0, "B"),
        "kept_params": _kept_params(a["model"]) if kept else 0.0,
        "kept_bytes": from_si(bytes_per_element(kept) if kept else 0.0, "B"),
    }


@formula(
    symbol=r"M_{W} = (N - N_{e})\,\beta + N_{e}\,\beta_{e}",
    substituted=(
        r"({{params}} - {{kept_params}}) \cdot {{bytes_per_element}} + {{kept_params}} \cdot "
        r"{{kept_bytes}}"
    ),
    sources=("ieee754_2019", "kalamkar2019", "solver_lin2024_awq", "solver_vllm_fp8_docs"),
    citation="parameter count × bytes per element (group scales counted); quantized "
    "checkpoints keep the embedding and LM head in 16 bits (AWQ, vLLM FP8)",
    result="information",
    expand=_weight_operands,
)
def weights_bytes(
    model: Any,
    precision: str = DEFAULT_PRECISION,
    group_size: Any = None,
    kept_precision: str | None = None,
) -> Any:
    """Bytes of the weights: M_W = N·β, β the bytes per stored weight of ``precision`` —
    a quantized format's group scales and zero points counted
    (:func:`~mlsysim.core.formulas.quantized_bits_per_weight`; ``group_size`` overrides the
    format's). ``kept_precision`` names the format the embedding tables and an untied LM
    head stay in when the rest is quantized (serving engines keep them in 16 bits: AWQ,
    vLLM FP8); ``None`` stores them like the rest. Llama-2-7B: 13.48 GB in fp16, 3.89 GB in
    int4 with a bf16 embedding and head.
    """
    from mlsysim.core.formulas.compression import quantized_bits_per_weight

    N = _params(model, "weights_bytes")
    beta = quantized_bits_per_weight(precision, group_size) / 8.0
    if kept_precision is None:
        M_W = weights_B(N, beta)
    else:
        N_e = _kept_params(model)
        M_W = weights_B(N - N_e, beta) + weights_B(N_e, bytes_per_element(kept_precision))
    return from_si(M_W, "B")


def kv_cache_B(
    layers: float, kv_width: float, context: float, batch: float, bytes_per_element: float
) -> float:
    """Float fast path of :func:`kv_cache_bytes` (``kv_width`` = 2·n_kv·d_h, or d_c + d_r)."""
    return layers * kv_width * context * batch * bytes_per_element


def logits_B(rows: float, vocab: float) -> float:
    """fp32 logits M_logits = r·V·4 of ``rows`` positions over a vocabulary of ``V`` entries.

    The LM head's output at training (every position) and at inference (a sequence's last
    position). A serving engine reserves them for its largest batch before it sizes the KV
    cache: TensorRT-LLM's runtime buffers hold ``logits`` of shape [batch, 1, vocab_padded]
    (``runtimeBuffers.cpp``, reshaped at the session's maximum batch in ``GptSession::setup``)
    in ``logits_dtype``, float32 by default (``PretrainedConfig``); vLLM profiles its peak with
    ``max_num_seqs`` sequences and sampling enabled "to reflect the accurate memory usage"
    (``profile_run``), and samples in fp32. Element-wise on arrays."""
    return rows * vocab * _LOGIT_BYTES


def _kv_operands(a: Mapping[str, Any]) -> dict[str, Any]:
    arch = a["model"].arch
    return {
        "layers": arch.layers,
        "kv_width": _kv_width(arch),
        "bytes_per_element": from_si(bytes_per_element(a["precision"]), "B"),
    }


@formula(
    symbol=r"M_{KV} = L\,w_{kv}\,s\,b\,\beta",
    substituted=(
        r"{{layers}} \cdot {{kv_width}} \cdot {{context}} \cdot {{batch}} "
        r"\cdot {{bytes_per_element}}"
    ),
    sources=("shazeer2019", "ainslie2023", "deepseek2024v2", "pope2022"),
    citation="Pope et al. (2022); MQA: Shazeer (2019); GQA: Ainslie et al. (2023); "
    "MLA: DeepSeek-AI (2024)",
    result="information",
    expand=_kv_operands,
)
def kv_cache_bytes(
    model: Any, context: Any, batch: Any = 1, precision: str = DEFAULT_PRECISION
) -> Any:
    """KV-cache bytes M_KV = L·w_kv·s·b·β: keys and values of every layer for s tokens.

    w_kv = 2·n_kv·d_h elements per token per layer (d_c + d_h^R for MLA).

    w_kv = 2·n_kv·d_h counts only the KV heads, so grouped-query (GQA) and multi-query (MQA)
    attention shrink it; multi-head latent attention (MLA) caches d_c + d_h^R per layer.
    Sources: Pope et al. 2022; Shazeer 2019 (MQA); Ainslie et al. 2023 (GQA); DeepSeek-V2.
    """
    where = "kv_cache_bytes"
    arch = spec(model, "arch", "model", where)
    s = count(context, "context", where, dim="token", minimum=0)
    b = count(batch, "batch", where, dim="sample")
    beta = bytes_per_element(precision)
    M_KV = kv_cache_B(arch.layers, _kv_width(arch), s, b, beta)
    return from_si(M_KV, "B")
