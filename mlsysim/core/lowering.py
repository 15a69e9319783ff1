"""Progressive lowering: a workload plus an execution plan becomes per-device operations.

The third step of the five-layer stack (DESIGN.md §3). A transformer step is lowered layer by
layer into GEMMs (QKV and output projections, FFN — gated FFNs fuse up and gate into one GEMM
of width ``2·ffn`` — MoE experts, router, LM head), attention (scores and values with the KV
reads; GQA/MQA share K/V heads, MLA caches its compressed latent), element-wise kernels
(residual add fused into the following norm, as serving engines do; RoPE, activation, loss),
the embedding gather and, for training, the optimizer update. Each :class:`Op` carries FLOPs
and bytes moved for *one* instance and a ``repeat`` count (layers), so a 32-layer model lowers
to ~12 ops, not ~300.

Counting rules (``b`` batch, ``T`` new tokens per sequence, ``M = b·T``, ``C`` attention
context, bytes per element ``β``):

* GEMM ``M×K·K×N``: ``2·M·K·N`` FLOPs; bytes ``K·N·β_w + M·K·β_a + M·N·β_a`` (Williams et al.
  2009). 2:4 sparse weights store half the values plus 2-bit metadata per kept value (Mishra
  et al. 2021), and run at the sparse peak.
* Attention (FlashAttention-style, scores never written to memory): ``4·b·T·C·n_h·d`` FLOPs
  (QKᵀ and PV; causal prefill averages ``C = (s+1)/2``); decode reads the whole KV cache
  (Pope et al. 2022). MLA decode uses the absorbed form over the latent cache.
* Training: every GEMM/attention/element-wise op runs forward plus backward (2× forward,
  Kaplan et al. 2020) — three passes; selective recompute re-runs attention's forward, full
  recompute the whole forward (Korthikanti et al. 2022). Recomputed FLOPs are excluded from
  ``useful_flops`` (MFU, Chowdhery et al. 2022).
* MoE: FLOPs use the ``active_experts`` routed experts per token; weight bytes are those of the
  *distinct* experts the step touches — exactly ``active_experts`` for one token, and for ``n``
  tokens under uniform routing the expected occupancy ``E·(1 − (1 − k/E)ⁿ)`` (Feller 1968).

Everything here runs on floats in root units (FLOP, bytes): the solver's hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from mlsysim.core.exceptions import ConfigError, FormulaDomainError

__all__ = [
    "PHASES",
    "Lowered",
    "MemoryBytes",
    "ModelFacts",
    "Op",
    "expected_distinct_experts",
    "lower",
    "model_facts",
]

#: Phases a workload may be solved for.
PHASES = ("prefill", "decode", "training", "inference")

#: FLOPs per element of the element-wise kernels (order-of-magnitude counts; these kernels are
#: memory-bound, so the count only sets their arithmetic intensity in the breakdown).
_NORM_FLOPS = 4.0  # square, accumulate, scale, weight
_ACT_FLOPS = 5.0  # SiLU/GELU and the gate product
_LOSS_FLOPS = 5.0  # softmax (exp, sum, divide) and log-likelihood
#: Adam: two moment updates, bias corrections and the scaled step (Kingma & Ba 2015, Alg. 1).
_ADAM_FLOPS_PER_PARAM = 12.0
_SGD_FLOPS_PER_PARAM = 4.0
#: fp32 bytes per parameter of optimizer state: master copy + two moments (Adam) or + momentum
#: (SGD) — 12 B/param for mixed-precision Adam (Rajbhandari et al. 2020).
_FP32 = 4.0
#: 2:4 sparsity metadata: 2 index bits per kept value (Mishra et al. 2021).
_SPARSE_INDEX_BITS = 2.0
#: Korthikanti et al. 2022, Eq. 1: activation bytes per layer = s·b·h·(34 + 5·a·s/h) at 16 bits;
#: 34·s·b·h with selective recompute; full recompute keeps only each layer's 16-bit input.
_ACT_LINEAR = 34.0
_ACT_ATTENTION = 5.0
_ACT_INPUT_FULL_RECOMPUTE = 2.0
_ACT_REFERENCE_BYTES = 2.0


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
    from mlsysim.models.arch import count_params, param_breakdown

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


class Op(NamedTuple):
    """One lowered operation; ``flops``/``bytes``/``kernels`` are per instance, ``repeat``
    instances run per step. ``kind`` selects the efficiency: gemm, attention, elementwise,
    embedding, optimizer. ``sparse`` marks weight GEMMs that run at the 2:4 sparse rate."""

    name: str
    kind: str
    flops: float
    bytes: float
    kernels: float
    repeat: int
    useful_flops: float
    sparse: bool = False


class MemoryBytes(NamedTuple):
    """Resident memory of one step, bytes."""

    weights: float
    kv_cache: float
    activations: float
    gradients: float
    optimizer: float

    @property
    def total(self) -> float:
        return self.weights + self.kv_cache + self.activations + self.gradients + self.optimizer


class Lowered(NamedTuple):
    """The lowered step: operations, resident memory, and work units produced."""

    ops: tuple[Op, ...]
    memory: MemoryBytes
    units: float  # tokens (transformers) or samples (CNN/KWS) completed per step
    unit: str  # "token" or "sample"


def expected_distinct_experts(experts: int, active: int, tokens: float) -> float:
    """Expected distinct experts hit by ``tokens`` tokens, each routed to ``active`` of
    ``experts`` uniformly (Feller 1968 occupancy): ``E·(1 − (1 − k/E)ⁿ)``; exactly ``k`` for one
    token."""
    E = float(experts)
    k = float(active)
    if tokens <= 1.0:
        return k
    p_miss = (1.0 - k / E) ** tokens
    return E * (1.0 - p_miss)


_new_op = tuple.__new__  # NamedTuple construction without its Python-level __new__


class _Builder:
    """Accumulates ops for one step (training multiplies passes)."""

    __slots__ = ("ba", "bw", "ops", "passes", "recompute", "sparse", "sparse_factor")

    def __init__(self, bw: float, ba: float, sparse: bool, training: bool, recompute: str) -> None:
        self.bw = bw
        self.ba = ba
        self.sparse = sparse
        self.sparse_factor = 0.5 + 0.5 * _SPARSE_INDEX_BITS / (8.0 * bw) if sparse else 1.0
        self.passes = 3.0 if training else 1.0
        self.recompute = recompute if training else "none"
        self.ops: list[Op] = []

    def _add(
        self,
        name: str,
        kind: str,
        flops: float,
        nbytes: float,
        repeat: int,
        extra_pass: bool,
        sparse: bool = False,
    ) -> None:
        passes = self.passes + (1.0 if extra_pass else 0.0)
        self.ops.append(
            _new_op(
                Op,
                (
                    name,
                    kind,
                    flops * passes,
                    nbytes * passes,
                    passes,
                    repeat,
                    flops * self.passes,
                    sparse,
                ),
            )
        )

    def gemm(
        self,
        name: str,
        M: float,
        K: float,
        N: float,
        repeat: int,
        weight_elems: float | None = None,
    ) -> None:
        w = K * N if weight_elems is None else weight_elems
        flops = 2.0 * M * K * N
        nbytes = w * self.bw * self.sparse_factor + M * K * self.ba + M * N * self.ba
        self._add(name, "gemm", flops, nbytes, repeat, self.recompute == "full", self.sparse)

    def elementwise(
        self,
        name: str,
        elems: float,
        flops_per: float,
        touches: float,
        repeat: int,
        extra_bytes: float = 0.0,
    ) -> None:
        nbytes = elems * touches * self.ba + extra_bytes
        self._add(name, "elementwise", elems * flops_per, nbytes, repeat, self.recompute == "full")

    def attention(self, name: str, flops: float, nbytes: float, repeat: int) -> None:
        self._add(name, "attention", flops, nbytes, repeat, self.recompute != "none")


def lower(model: Any, phase: str, batch: int, seq_len: int, rp: Any) -> Lowered:
    """Lower one step of ``model`` (ModelSpec) for ``phase`` under resolved plan ``rp``."""
    f = model_facts(model)
    if f.kind != "transformer":
        return _lower_cnn(model, f, phase, batch, rp)
    return _lower_transformer(f, phase, batch, seq_len, rp)


def _lower_cnn(model: Any, f: ModelFacts, phase: str, batch: int, rp: Any) -> Lowered:
    if phase in ("prefill", "decode"):
        raise ConfigError(
            f"phase {phase!r} applies to language models, not a {f.kind} ({f.task}) model",
            where="solve",
            fix="use phase='inference' (a forward pass) or phase='training'",
        )
    training = phase == "training"
    b = float(batch)
    bw, ba = rp.weight_bytes, rp.activation_bytes
    B = _Builder(bw, ba, rp.sparse, training, rp.plan.recompute)
    if model.cnn is not None:  # per-layer lowering (core/lowering_cnn.py)
        from mlsysim.core.lowering_cnn import cnn_ops

        low = cnn_ops(model, training, batch, rp, B.sparse_factor)
        B.ops.extend(low.ops)
        weights = low.weights * bw * B.sparse_factor
        activations = low.activations
    else:  # an entry without a layer table: one fused op over its stated FLOPs
        nbytes = f.params * bw * B.sparse_factor + b * f.input_elems * ba
        B._add("forward", "gemm", b * f.flops_per_sample, nbytes, 1, False, rp.sparse)
        weights = f.params * bw * B.sparse_factor
        activations = b * f.input_elems * ba
    gradients = optimizer = 0.0
    if training:
        _optimizer(B, f.params, rp)
        gradients = f.params * bw
        optimizer = f.params * _optimizer_state_bytes(rp)
    memory = MemoryBytes(weights, 0.0, activations, gradients, optimizer)
    return Lowered(tuple(B.ops), memory, b, "sample")


def _lower_transformer(f: ModelFacts, phase: str, batch: int, s: int, rp: Any) -> Lowered:
    if s > f.max_seq_len:
        raise FormulaDomainError(
            f"seq_len {s} exceeds the model's maximum context of {f.max_seq_len} tokens",
            where="solve",
            fix=f"pass seq_len ≤ {f.max_seq_len}",
        )
    training = phase == "training"
    decode = phase == "decode"
    causal = f.task == "llm"
    b = float(batch)
    T = 1.0 if decode else float(s)
    M = b * T
    h, L = float(f.hidden), f.layers
    nh, nkv, d = float(f.heads), float(f.kv_heads), float(f.head_dim)
    bw, ba, bkv = rp.weight_bytes, rp.activation_bytes, rp.kv_bytes
    B = _Builder(bw, ba, rp.sparse, training, rp.plan.recompute)
    keeps_cache = causal and not training

    # embedding gather (forward reads M rows; no weight GEMM)
    pos = 2.0 if f.learned_positions else 1.0
    B._add("embedding", "embedding", 0.0, M * h * pos * (bw + ba), 1, False)

    # per-layer attention block
    # residual add fused into the norm that follows it (read x and residual, write both)
    norm_w = h * bw
    B.elementwise("attn_add_norm", M * h, _NORM_FLOPS + 1.0, 4.0, L, norm_w)
    if f.mla is not None:
        v_dim = float(f.mla[4])
        o_elems = nh * v_dim * h
    else:
        v_dim = d
        o_elems = nh * d * h
    qkv_elems = f.attn_params - o_elems
    B.gemm("qkv_proj", M, h, qkv_elems / h, L, qkv_elems)
    if f.rope:
        B.elementwise("rope", M * (nh + nkv) * d, _NORM_FLOPS, 2.0, L)
    C = float(s) + 1.0 if decode else (float(s) + 1.0) / 2.0 if causal else float(s)
    kv_tok = f.kv_elems_per_token
    if f.mla is not None and decode:
        lat, rope_d = float(f.mla[0]), float(f.mla[3])
        attn_flops = 2.0 * b * nh * C * (lat + rope_d) + 2.0 * b * nh * C * lat
    else:
        qk_dim = float(f.mla[2] + f.mla[3]) if f.mla is not None else d
        attn_flops = 2.0 * M * nh * C * qk_dim + 2.0 * M * nh * C * v_dim
    io = M * (nh * d + nh * v_dim) * ba  # read Q, write O
    # decode reads the whole cache; otherwise the fused kernel reads the new tokens' K and V once
    kv_read = b * float(s) * kv_tok * bkv if decode else M * kv_tok * ba
    kv_write = M * kv_tok * bkv if keeps_cache else 0.0
    B.attention("attention", attn_flops, io + kv_read + kv_write, L)
    B.gemm("out_proj", M, nh * v_dim, h, L, o_elems)

    # per-layer feed-forward block
    B.elementwise("ffn_add_norm", M * h, _NORM_FLOPS + 1.0, 4.0, L, norm_w)
    mats = 2.0 if f.gated else 1.0
    L_moe = f.moe_layers
    L_dense = L - L_moe
    if L_dense:
        ff = float(f.ffn)
        B.gemm("ffn_up", M, h, mats * ff, L_dense)
        B.elementwise("ffn_act", M * ff, _ACT_FLOPS, mats + 1.0, L_dense)
        B.gemm("ffn_down", M, ff, h, L_dense)
    if L_moe:
        fe = float(f.moe_ffn)
        E, k, S = f.experts, float(f.active_experts), float(f.shared_experts)
        distinct = expected_distinct_experts(E, f.active_experts, M)
        B.gemm("moe_router", M, h, float(E), L_moe)
        up_w = (distinct + S) * h * mats * fe
        down_w = (distinct + S) * fe * h
        routed = M * (k + S)  # token-expert pairs
        B.gemm("moe_up", routed, h, mats * fe, L_moe, up_w)
        B.elementwise("moe_act", routed * fe, _ACT_FLOPS, mats + 1.0, L_moe)
        B.gemm("moe_down", routed, fe, h, L_moe, down_w)
        B.elementwise("moe_permute", routed * h, 1.0, 4.0, L_moe)

    # head: final norm and LM head (only the last position's logits at inference)
    llm_head = causal or training
    M_head = M if training else b
    if llm_head:
        B.elementwise("final_add_norm", M_head * h, _NORM_FLOPS + 1.0, 4.0, 1, norm_w)
        V = float(f.vocab)
        B.gemm("lm_head", M_head, h, V, 1, f.head_params)
        if training:
            B.elementwise("loss", M_head * V, _LOSS_FLOPS, 3.0, 1)

    gradients = optimizer = 0.0
    if training:
        _optimizer(B, f.params, rp)
        gradients = f.params * bw
        optimizer = f.params * _optimizer_state_bytes(rp)
    ctx = float(s) + 1.0 if decode else float(s)
    kv_cache = b * ctx * L * kv_tok * bkv if keeps_cache else 0.0
    activations = _activation_bytes(f, b, T, M_head if llm_head else 0.0, training, rp)
    memory = MemoryBytes(
        f.params * bw * B.sparse_factor, kv_cache, activations, gradients, optimizer
    )
    return Lowered(tuple(B.ops), memory, M, "token")


def _activation_bytes(
    f: ModelFacts, b: float, T: float, M_head: float, training: bool, rp: Any
) -> float:
    """Activation memory: stored for backward (training) or one layer's working set."""
    h, ba = float(f.hidden), rp.activation_bytes
    logits = M_head * f.vocab * _FP32
    if not training:
        width = max(2.0 * f.ffn, (f.heads + 2.0 * f.kv_heads) * f.head_dim) + 2.0 * h
        return b * T * width * ba + logits
    sbh = T * b * h * (ba / _ACT_REFERENCE_BYTES)
    mode = rp.plan.recompute
    if mode == "full":
        per_layer = _ACT_INPUT_FULL_RECOMPUTE * sbh
        one_layer = sbh * (_ACT_LINEAR + _ACT_ATTENTION * f.heads * T / h)
        return f.layers * per_layer + one_layer + logits
    per_layer = _ACT_LINEAR * sbh
    if mode == "none":
        per_layer += _ACT_ATTENTION * f.heads * T / h * sbh
    return f.layers * per_layer + logits


def _optimizer_state_bytes(rp: Any) -> float:
    """fp32 optimizer state per parameter (the master copy only when weights are not fp32)."""
    moments = 2.0 if rp.plan.optimizer == "adam" else 1.0
    master = 0.0 if rp.weights == "fp32" else 1.0
    return (moments + master) * _FP32


def _optimizer(B: _Builder, params: float, rp: Any) -> None:
    """One fused optimizer update over every parameter: read state and grads, write back."""
    state = _optimizer_state_bytes(rp)
    per_param = 2.0 * state + rp.weight_bytes + rp.weight_bytes  # state r/w, grad in, weight out
    flops = _ADAM_FLOPS_PER_PARAM if rp.plan.optimizer == "adam" else _SGD_FLOPS_PER_PARAM
    B.ops.append(
        Op(
            "optimizer_update",
            "optimizer",
            params * flops,
            params * per_param,
            1.0,
            1,
            params * flops,
        )
    )
