"""Memory: weights, KV cache (MHA/GQA/MQA/MLA), training state with ZeRO, and activations.

Model arguments are duck-typed registry specs: ``model.params`` and, for transformers,
``model.arch`` with ``layers``, ``hidden``, ``heads``, ``kv_heads``, ``head_size`` and ``mla``
(see ``mlsysim.Models``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlsysim.core.constants import (
    ACT_ATTENTION_BYTES,
    ACT_FULL_RECOMPUTE_BYTES,
    ACT_PARALLEL_BYTES,
    ACT_REPLICATED_BYTES,
    BYTES_PER_ELEMENT,
    DEFAULT_GRADIENT_PRECISION,
    DEFAULT_OPTIMIZER,
    DEFAULT_PRECISION,
    DEFAULT_RECOMPUTE,
    MASTER_WEIGHT_BYTES,
    OPTIMIZER_MOMENT_BYTES,
    RECOMPUTE_POLICIES,
)
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas._args import bytes_per_element, choice, count, spec
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "TrainingMemory",
    "activation_bytes",
    "activation_bytes_per_layer",
    "activation_bytes_per_layer_B",
    "kv_cache_B",
    "kv_cache_bytes",
    "logits_B",
    "optimizer_state_per_param_B",
    "training_memory",
    "training_memory_B",
    "weights_B",
    "weights_bytes",
]

#: Bytes per element Korthikanti et al. count activations in (16-bit); other formats scale by β/2.
_ACT_REFERENCE_BYTES = BYTES_PER_ELEMENT["fp16"].value
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


@dataclass(frozen=True)
class TrainingMemory:
    """Per-device training state: weights, gradients and optimizer states."""

    weights: Any
    gradients: Any
    optimizer: Any
    total: Any

    @property
    def value(self) -> Any:
        """The headline result, the field ``total``."""
        return self.total

    def __str__(self) -> str:
        return (
            f"{self.total:~P} (weights {self.weights:~P}, gradients {self.gradients:~P}, "
            f"optimizer {self.optimizer:~P})"
        )


def optimizer_state_per_param_B(optimizer: str, precision: str) -> float:
    """Optimizer state bytes per parameter, K: the optimizer's moments plus an fp32 master copy
    of the weights when they are stored narrower than fp32 (Micikevicius et al. 2018)."""
    moments = OPTIMIZER_MOMENT_BYTES[optimizer].value
    master = MASTER_WEIGHT_BYTES.value
    K = moments + (master if bytes_per_element(precision) < master else 0.0)
    return K


def training_memory_B(
    params: float,
    weight_bytes: float,
    grad_bytes: float,
    optimizer_bytes: float,
    zero_stage: int = 0,
    dp: float = 1.0,
    model_parallel: float = 1.0,
) -> tuple[float, float, float]:
    """Float fast path of :func:`training_memory`: (weights, gradients, optimizer) bytes.

    Bytes per parameter are given directly (β_w, β_g, K); ``zero_stage`` 0–3 shards K (≥ 1),
    β_g (≥ 2) and β_w (3) over ``dp``; ``model_parallel`` splits everything.
    """
    d_1 = dp if zero_stage >= 1 else 1.0
    d_2 = dp if zero_stage >= 2 else 1.0
    d_3 = dp if zero_stage >= 3 else 1.0
    share = params / model_parallel
    M_w = share * weight_bytes / d_3
    M_g = share * grad_bytes / d_2
    M_o = share * optimizer_bytes / d_1
    return M_w, M_g, M_o


def _train_operands(a: Mapping[str, Any]) -> dict[str, Any]:
    stage, dp = a["zero_stage"], a["dp"]
    return {
        "beta_w": from_si(bytes_per_element(a["precision"]), "B"),
        "beta_g": from_si(bytes_per_element(a["grad_precision"]), "B"),
        "K": from_si(optimizer_state_per_param_B(a["optimizer"], a["precision"]), "B"),
        "d_1": dp if stage >= 1 else 1,
        "d_2": dp if stage >= 2 else 1,
        "d_3": dp if stage >= 3 else 1,
    }


@formula(
    symbol=(
        r"M = \frac{\Psi}{m}\left(\frac{\beta_w}{d_3} + \frac{\beta_g}{d_2} + "
        r"\frac{K}{d_1}\right)"
    ),
    substituted=(
        r"\frac{ {{params}} }{ {{model_parallel}} }\left(\frac{ {{beta_w}} }{ {{d_3}} }"
        r" + \frac{ {{beta_g}} }{ {{d_2}} } + \frac{ {{K}} }{ {{d_1}} }\right)"
    ),
    sources=("rajbhandari2020", "korthikanti2022", "micikevicius2018"),
    citation="Rajbhandari et al. (2020), ZeRO; Megatron-LM mixed-precision accounting",
    result="information",
    expand=_train_operands,
)
def training_memory(
    params: Any,
    optimizer: str = DEFAULT_OPTIMIZER,
    precision: str = DEFAULT_PRECISION,
    grad_precision: str = DEFAULT_GRADIENT_PRECISION,
    zero_stage: int = 0,
    dp: int = 1,
    model_parallel: int = 1,
) -> TrainingMemory:
    """Weights, gradients and optimizer states per device, M = Ψ/m·(β_w/d₃ + β_g/d₂ + K/d₁).

    K is the optimizer's state per parameter (``mlsysim.core.constants.OPTIMIZER_MOMENT_BYTES``:
    Adam 8 B, SGD with momentum 4 B, plain SGD 0 B) plus a 4 B fp32 master copy when the
    weights are narrower than fp32. Defaults are Megatron-LM's mixed-precision Adam: bf16
    weights (2 B), fp32 gradients (4 B) and K = 12 B = 18 B/param (Korthikanti et al. 2022);
    ZeRO's accounting uses 16-bit gradients (16 B/param). ZeRO stage k shards optimizer
    states (≥1), gradients (≥2) and weights (3) over ``dp`` data-parallel ranks (d_i = dp when
    stage ≥ i); ``model_parallel`` (tensor × pipeline degree) splits everything. Sources:
    Rajbhandari et al. 2020 (ZeRO); Micikevicius et al. 2018 (mixed precision); Korthikanti
    et al. 2022.
    """
    where = "training_memory"
    Psi = count(params, "params", where, dim="parameter", minimum=0)
    choice(optimizer, "optimizer", where, OPTIMIZER_MOMENT_BYTES)
    if zero_stage not in (0, 1, 2, 3):
        raise FormulaDomainError(
            f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}",
            where=where,
            fix="pass a ZeRO stage from 0 (off) to 3",
        )
    stage = int(zero_stage)
    d = count(dp, "dp", where)
    m = count(model_parallel, "model_parallel", where)
    from mlsysim.core.formulas.compression import quantized_bits_per_weight

    beta_w = quantized_bits_per_weight(precision) / 8.0  # a quantized format's scales counted
    beta_g = bytes_per_element(grad_precision)
    K = optimizer_state_per_param_B(optimizer, precision)
    M_w, M_g, M_o = training_memory_B(Psi, beta_w, beta_g, K, stage, d, m)
    M = M_w + M_g + M_o
    return TrainingMemory(from_si(M_w, "B"), from_si(M_g, "B"), from_si(M_o, "B"), from_si(M, "B"))


def _act_coefficients(recompute: str, fused: bool = False) -> tuple[float, float, float]:
    """(c_r, c_p, c_a) of Korthikanti et al. Table 2 for a recompute policy; a fused attention
    kernel (``fused``) never stores the score matrix, so its c_a is 0 under every policy."""
    if recompute == "full":
        return ACT_FULL_RECOMPUTE_BYTES.value, 0.0, 0.0
    c_a = ACT_ATTENTION_BYTES.value if recompute == "none" and not fused else 0.0
    return ACT_REPLICATED_BYTES.value, ACT_PARALLEL_BYTES.value, c_a


def activation_bytes_per_layer_B(
    seq_len: float,
    batch: float,
    hidden: float,
    heads: float,
    tp: float = 1.0,
    sp: bool = False,
    recompute: str = DEFAULT_RECOMPUTE,
    beta: float = _ACT_REFERENCE_BYTES,
    fused_attention: bool = False,
) -> float:
    """Float fast path of :func:`activation_bytes_per_layer` (β = bytes per activation)."""
    s, b, h, a, t = seq_len, batch, hidden, heads, tp
    c_r, c_p, c_a = _act_coefficients(recompute, fused_attention)
    t_sp = t if sp else 1.0
    A_l = s * b * h * (c_r / t_sp + c_p / t + c_a * a * s / (h * t))
    return A_l * beta / _ACT_REFERENCE_BYTES


def _layer_operands(a: Mapping[str, Any]) -> dict[str, Any]:
    c_r, c_p, c_a = _act_coefficients(a["recompute"], bool(a.get("fused_attention", False)))
    beta = bytes_per_element(a["precision"])
    return {
        "c_r": c_r,
        "c_p": c_p,
        "c_a": c_a,
        "t_sp": a["tp"] if a["sp"] else 1,
        "f_beta": beta / _ACT_REFERENCE_BYTES,
    }


@formula(
    symbol=(
        r"A_{\ell} = s\,b\,h\left(\frac{c_r}{t_{sp}} + \frac{c_p}{t} + "
        r"\frac{c_a\,a\,s}{h\,t}\right)\frac{\beta}{2}"
    ),
    substituted=(
        r"{{seq_len}} \cdot {{batch}} \cdot {{hidden}} \left(\frac{ {{c_r}} }{ {{t_sp}} }"
        r" + \frac{ {{c_p}} }{ {{tp}} } + \frac{ {{c_a}} \cdot {{heads}} \cdot {{seq_len}} }"
        r"{ {{hidden}} \cdot {{tp}} }\right) \cdot {{f_beta}}"
    ),
    sources=("korthikanti2022", "solver_dao2023_flashattention2"),
    citation="Korthikanti et al. (2022), Reducing Activation Recomputation, Table 2",
    result="information",
    expand=_layer_operands,
)
def activation_bytes_per_layer(
    seq_len: Any,
    batch: Any,
    hidden: Any,
    heads: Any,
    tp: int = 1,
    sp: bool = False,
    recompute: str = DEFAULT_RECOMPUTE,
    precision: str = DEFAULT_PRECISION,
    fused_attention: bool = False,
) -> Any:
    """Activation bytes of one transformer layer, Korthikanti et al. Table 2.

    No recompute: sbh(10 + 24/t + 5as/(ht)); with sequence parallelism (SP) the 10 is also
    divided by t; selective recompute (the default) drops the 5as/h attention term (so SP +
    selective gives 34·sbh/t); full recompute keeps only the layer input, 2·sbh (÷t with SP).
    The paper counts 16-bit activations; a ``precision`` of β bytes scales the count by β/2.
    The 5as/h term is the score matrix an unfused kernel stores (softmax output, dropout mask
    and output); a fused kernel (``fused_attention``: FlashAttention) never writes it, so it
    drops out under every policy — its backward recomputes the scores from Q, K, V and the
    output, which the 34 already holds (Dao 2023, Algorithms 1-2; the per-query softmax
    statistics it keeps, 4·a·s·b bytes, are 4/(34·d_head) of 34·sbh, under 0.1 % at head
    dimension 128, and not counted). Source: Korthikanti et al. 2022; Dao 2023.
    """
    where = "activation_bytes_per_layer"
    choice(recompute, "recompute", where, RECOMPUTE_POLICIES)
    s = count(seq_len, "seq_len", where, dim="token")
    b = count(batch, "batch", where, dim="sample")
    h = count(hidden, "hidden", where)
    a = count(heads, "heads", where)
    t = count(tp, "tp", where)
    beta = bytes_per_element(precision)
    A_l = activation_bytes_per_layer_B(s, b, h, a, t, bool(sp), recompute, beta, fused_attention)
    return from_si(A_l, "B")


def _model_act_operands(a: Mapping[str, Any]) -> dict[str, Any]:
    arch = a["model"].arch
    per_layer = activation_bytes_per_layer(
        a["seq_len"],
        a["batch"],
        arch.hidden,
        arch.heads,
        a["tp"],
        a["sp"],
        a["recompute"],
        a["precision"],
        bool(a.get("fused_attention", False)),
    )
    p, v = a["pp"], a["interleave"]
    return {
        "layers": arch.layers,
        "per_layer": per_layer,
        "f_int": 1 + (p - 1) / (p * v) if v > 1 else 1,
    }


@formula(
    symbol=r"A = L\,A_{\ell}\,f_{\mathrm{int}}",
    substituted=r"{{layers}} \cdot {{per_layer}} \cdot {{f_int}}",
    sources=("korthikanti2022", "narayanan2021"),
    citation="Korthikanti et al. (2022), §4.2–4.3; Narayanan et al. (2021), interleaving",
    result="information",
    expand=_model_act_operands,
)
def activation_bytes(
    model: Any,
    seq_len: Any,
    batch: Any = 1,
    tp: int = 1,
    sp: bool = False,
    recompute: str = DEFAULT_RECOMPUTE,
    pp: int = 1,
    interleave: int = 1,
    precision: str = DEFAULT_PRECISION,
    fused_attention: bool = False,
) -> Any:
    """Peak activation bytes per device (first pipeline stage): L·A_ℓ·f_int.

    f_int = 1 + (p−1)/(p·v) for the interleaved schedule (v > 1), else 1.

    With 1F1B pipelining the first of ``pp`` stages holds ``pp`` micro-batches of L/pp layers,
    i.e. L layers' worth; the interleaved schedule (``interleave`` = v > 1 model chunks per
    stage) multiplies that by 1 + (p−1)/(p·v). ``batch`` is the micro-batch size. Embedding
    and output-layer activations are not counted; ``recompute``, ``precision`` and
    ``fused_attention`` as in :func:`activation_bytes_per_layer`. Source: Korthikanti et al.
    2022, §4.2–4.3.
    """
    where = "activation_bytes"
    arch = spec(model, "arch", "model", where)
    choice(recompute, "recompute", where, RECOMPUTE_POLICIES)
    s = count(seq_len, "seq_len", where, dim="token")
    b = count(batch, "batch", where, dim="sample")
    t = count(tp, "tp", where)
    p = count(pp, "pp", where)
    v = count(interleave, "interleave", where)
    beta = bytes_per_element(precision)
    h, a, fused = arch.hidden, arch.heads, bool(fused_attention)
    A_l = activation_bytes_per_layer_B(s, b, h, a, t, bool(sp), recompute, beta, fused)
    f_int = 1 + (p - 1) / (p * v) if v > 1 else 1.0
    A = arch.layers * A_l * f_int
    return from_si(A, "B")
