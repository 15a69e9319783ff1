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
  recompute the whole forward (Korthikanti et al. 2022).
* The step's *model* FLOPs (MFU) and *hardware* FLOPs (HFU) are not summed over the ops: they
  follow PaLM's convention (Chowdhery et al. 2022, App. B) through
  :func:`~mlsysim.core.formulas.model_flops_per_token` and
  :func:`~mlsysim.core.formulas.hardware_flops_per_token` — N the (active) parameter count,
  attention counted over the full context (causal masking saves work but not model FLOPs).
* Resident memory: weights, KV cache, Korthikanti's activations and the training state come
  from the memory formulas' fast paths (``weights_B``, ``kv_cache_B``,
  ``activation_bytes_per_layer_B``, ``training_memory_B``).
* MoE: FLOPs use the ``active_experts`` routed experts per token; weight bytes are those of the
  *distinct* experts the step touches — exactly ``active_experts`` for one token, and for ``n``
  tokens under uniform routing the expected occupancy ``E·(1 − (1 − k/E)ⁿ)``
  (:func:`~mlsysim.core.formulas.expected_experts`, Feller 1968). ``expert_load`` scales the
  routed tokens of a rank holding a share of the experts: the busiest rank carries the
  imbalance factor times the mean (:func:`~mlsysim.core.formulas.expert_load`). The expert
  GEMMs run as one grouped launch whose experts each pad their rows to the tile: the expected
  row tiles of binomial per-expert counts (:func:`~mlsysim.core.formulas.expected_expert_tiles`)
  set its waves, on the tile that holds the mean rows of an expert the step reaches.
* Precision (:mod:`mlsysim.execution.plan`): weight GEMMs run in the plan's GEMM format with
  the weights' quantized bytes (group scales counted); norms, the residual stream, the
  embedding and the LM head stay in its 16-bit format; attention runs in its attention format.
* Fusion: an unfused (eager) engine runs each arithmetic step of an element-wise function as
  its own kernel, and the Q, K and V projections (the gate and up projections) as separate
  GEMM kernels; wave quantization applies the engine's tile to the device's compute units.

Everything here runs on floats in root units (FLOP, bytes): the solver's hot path.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.arrays import ceil, is_array
from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import (
    DROPOUT_MASK_BYTES,
    FLASH_QUERY_BLOCK,
    FLOPS_PER_MAC,
)
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas.kernels import gemm_tile_rows, padded_wave_fraction
from mlsysim.core.formulas.memory import activation_bytes_per_layer_B, kv_cache_B, logits_B
from mlsysim.core.formulas.moe import distinct_experts, expert_row_tiles
from mlsysim.core.formulas.performance import (
    hardware_flops_per_token_F,
    model_flops_per_token_F,
)
from mlsysim.workload.lowering.facts import ModelFacts, runs_head
from mlsysim.workload.lowering.ops import (
    ATTENTION_FORMAT,
    ELEMENTWISE,
    HIGH_FORMAT,
    TOUCHES,
    Lowered,
    MemoryBytes,
    Op,
    OpBuilder,
    add_optimizer_update,
    resident_weights,
    training_state,
)

__all__ = [
    "Frame",
    "expected_distinct_experts",
    "frame",
    "lower_transformer",
    "transformer_ops",
]

#: The expected distinct experts a step reads (the formula's fast path, re-exported).
expected_distinct_experts = distinct_experts

_NORM = ELEMENTWISE["norm"] + ELEMENTWISE["residual_add"]  # the residual add fused into the norm
_ACT = ELEMENTWISE["activation"]
_LOSS = ELEMENTWISE["loss"]
_MAC = FLOPS_PER_MAC.value
_SOFTMAX = ELEMENTWISE["softmax"]
_MASK_BYTES = DROPOUT_MASK_BYTES.value  # a dropout mask element (Korthikanti et al. 2022, §4.1)
_QUERY_BLOCK = float(FLASH_QUERY_BLOCK.value)  # queries per fused-attention thread block
_new = tuple.__new__  # NamedTuple construction without its Python-level __new__


def lower_transformer(
    f: ModelFacts, phase: str, batch: int, s: int, rp: Any, expert_load: float = 1.0
) -> Lowered:
    """One step of a transformer: ``"training"``, ``"decode"``, or a forward pass over ``s``
    tokens (``"prefill"``, or ``"inference"`` for an encoder — the same lowering).
    ``expert_load`` multiplies the tokens routed to this rank's experts (1: all experts on
    the device, or perfect balance).

    ``batch`` and ``s`` may be arrays of equal shape (a sweep; the caller checks their range):
    every count is then an array, element-wise."""
    B, fr, b, s_f, T, M, llm_head, M_head = _emit(f, phase, batch, s, rp, expert_load)
    training, decode, keeps_cache = fr.training, fr.decode, fr.keeps_cache
    L, nh, bkv, kv_tok = fr.L, fr.nh, fr.bkv, fr.kv_tok
    ctx = s_f + 1.0 if decode else s_f
    if fr.update is not None:  # training: the optimizer's update over every parameter
        B.ops.append(fr.update)
    weights, gradients, optimizer = fr.state
    kv_cache = kv_cache_B(L, kv_tok, ctx, b, bkv) if keeps_cache else 0.0
    activations = _activation_bytes(f, b, T, M_head if llm_head else 0.0, training, rp)
    memory = _new(MemoryBytes, (weights, kv_cache, activations, gradients, optimizer))
    # model and hardware FLOPs (MFU/HFU): the context each token attends to, counted in full
    N = f.flop_params if llm_head else f.flop_params_no_head
    Q = f.attn_head_dim
    if training:
        model = M * model_flops_per_token_F(N, L, nh, Q, ctx, True)
        hardware = M * hardware_flops_per_token_F(
            N, L, nh, Q, ctx, rp.plan.recompute, f.flop_params_head
        )
    else:
        model = M * model_flops_per_token_F(N, L, nh, Q, ctx, False)
        hardware = model
    return _new(Lowered, (tuple(B.ops), memory, M, "token", model, hardware))


def transformer_ops(
    f: ModelFacts, phase: str, batch: int, s: int, rp: Any, expert_load: float = 1.0
) -> tuple[Op, ...]:
    """The operations :func:`lower_transformer` lowers, without the optimizer update, the
    memory and the FLOP totals it adds to them: what one rank's lowering keeps of a training
    step (:func:`~mlsysim.workload.lowering.sharded.lower_ops` counts those for the rank and
    the whole model itself)."""
    return tuple(_emit(f, phase, batch, s, rp, expert_load)[0].ops)


def _emit(
    f: ModelFacts, phase: str, batch: Any, s: Any, rp: Any, expert_load: float
) -> tuple[OpBuilder, Frame, Any, Any, Any, Any, bool, Any]:
    """The step's operations in a builder, with the frame and the counts the totals read:
    ``(builder, frame, batch, s, T tokens per sequence, M tokens, whether the LM head runs,
    the head's rows)``."""
    if not is_array(s) and s > f.max_seq_len:
        raise FormulaDomainError(
            f"seq_len {s} exceeds the model's maximum context of {f.max_seq_len} tokens",
            where="solve",
            fix=f"pass seq_len ≤ {f.max_seq_len}",
        )
    fr = frame(f, phase, rp)
    training, decode, causal, keeps_cache = fr.training, fr.decode, fr.causal, fr.keeps_cache
    b = batch * 1.0  # a float, or a float array
    s_f = s * 1.0
    T = 1.0 if decode else s_f
    M = b * T
    h, L, nh, d, v_dim = fr.h, fr.L, fr.nh, fr.d, fr.v_dim
    bkv, kv_tok, kv_read_tok = fr.bkv, fr.kv_tok, fr.kv_read_tok
    B = OpBuilder(rp, training)
    ba = B.bh  # the residual stream and the tensors around the GEMMs

    # embedding gather (forward reads M rows; no weight GEMM)
    B.add("embedding", "embedding", 0.0, M * h * fr.pos * fr.gather, 1, False, fmt=HIGH_FORMAT)

    # per-layer attention block
    # residual add fused into the norm that follows it (read x and residual, write both)
    norm_w = fr.norm_w
    B.elementwise("attn_add_norm", M * h, _NORM, TOUCHES["norm"], L, norm_w, "norm")
    B.gemm("qkv_proj", M, h, fr.qkv_N, L, kernels=3.0, normed=True)
    if fr.rope_heads:
        B.elementwise("rope", M * fr.rope_heads * d, ELEMENTWISE["rope"], TOUCHES["rope"], L)
    C = s_f + 1.0 if decode else (s_f + 1.0) / 2.0 if causal else s_f
    if fr.latent_decode:
        lat, rope_d = fr.latent
        attn_flops = _MAC * b * nh * C * (lat + rope_d) + _MAC * b * nh * C * lat
    else:
        attn_flops = _MAC * M * nh * C * fr.qk_dim + _MAC * M * nh * C * v_dim
    io = M * fr.io_w * ba  # read Q, write O
    # decode reads the whole cache (once per query head under a per-head kernel); otherwise the
    # fused kernel reads the new tokens' K and V once
    kv_read = b * s_f * kv_read_tok * bkv if decode else M * kv_tok * ba
    kv_write = M * kv_tok * bkv if keeps_cache else 0.0
    if fr.unfused:
        # the full score matrix (no causal skipping) is written by QKᵀ, read and rewritten by
        # the fused softmax, and read by PV (Korthikanti et al. 2022, Section 4.1)
        C_full = s_f + 1.0 if decode else s_f
        scores = b * nh * T * C_full
        gemm_flops = _MAC * M * nh * C_full * fr.qkv_width
        again = B.recompute != "none"
        B.add(
            "attention_scores",
            "gemm",
            gemm_flops,
            io + kv_read + kv_write + 2.0 * scores * ba,
            L,
            again,
            fmt=ATTENTION_FORMAT,
            kernels=2.0,
        )
        soft_bytes = 2.0 * scores * ba
        if rp.plan.dropout:  # read the probabilities, write the dropped-out copy and the mask
            soft_bytes += scores * (2.0 * ba + _MASK_BYTES)
        B.add(
            "attention_softmax",
            "elementwise",
            scores * _SOFTMAX,
            soft_bytes,
            L,
            again,
            fmt=HIGH_FORMAT,
        )
    else:
        # FlashAttention's grid: a block per (sequence, head, 128-query block); decode splits
        # the KV cache over blocks (flash decoding) and is memory-bound
        blocks = 0.0 if decode else b * nh * ceil(T / _QUERY_BLOCK)
        work = b * nh * T / _QUERY_BLOCK  # the last query block of a sequence is padded
        waves = 1.0 if decode else padded_wave_fraction(work, blocks, B.units)
        B.attention("attention", attn_flops, io + kv_read + kv_write, L, waves)
    B.gemm("out_proj", M, fr.o_K, h, L)

    # per-layer feed-forward block
    B.elementwise("ffn_add_norm", M * h, _NORM, TOUCHES["norm"], L, norm_w, "norm")
    mats = fr.mats
    L_moe = fr.L_moe
    L_dense = L - L_moe
    if L_dense:
        ff = fr.ff
        B.gemm("ffn_up", M, h, mats * ff, L_dense, kernels=mats, normed=True)
        B.elementwise("ffn_act", M * ff, _ACT, mats + 1.0, L_dense, kind="activation")
        B.gemm("ffn_down", M, ff, h, L_dense)
    if L_moe:
        fe = float(f.moe_ffn)
        E, k, S = f.experts, float(f.active_experts), float(f.shared_experts)
        distinct = distinct_experts(E, k, M)
        B.gemm("moe_router", M, h, float(E), L_moe, high=True)
        up_w = (distinct + S) * h * mats * fe
        down_w = (distinct + S) * fe * h
        routed = M * (k * expert_load + S)  # token-expert pairs on this rank's experts
        eta_up = eta_down = None
        if B.memo is not None:  # one grouped launch: each expert's rows padded to the tile
            n_f = M * expert_load
            t_m = gemm_tile_rows(n_f * k / distinct_experts(E, k, n_f), B.tile[0])
            rows = expert_row_tiles(E, k, n_f, t_m) + S * ceil(M / t_m)
            eta_up = B.grouped_waves(routed, rows, t_m, mats * fe, h)
            eta_down = B.grouped_waves(routed, rows, t_m, h, fe)
        B.gemm("moe_up", routed, h, mats * fe, L_moe, up_w, kernels=mats, waves=eta_up)
        B.elementwise("moe_act", routed * fe, _ACT, mats + 1.0, L_moe, kind="activation")
        B.gemm("moe_down", routed, fe, h, L_moe, down_w, waves=eta_down)
        B.elementwise("moe_permute", routed * h, ELEMENTWISE["permute"], TOUCHES["permute"], L_moe)

    # head: final norm and LM head (only the last position's logits at inference)
    llm_head = runs_head(f, phase)  # causal or training: the model FLOPs' rule too
    M_head = M if training else b
    if llm_head:
        # full recomputation re-runs the layers, not the head (Narayanan et al. 2021, Eq. 3:
        # the logits' 6BshV has three passes where the layers have four)
        B.elementwise(
            "final_add_norm", M_head * h, _NORM, TOUCHES["norm"], 1, norm_w, "norm", remat=False
        )
        V = fr.V
        B.gemm("lm_head", M_head, h, V, 1, high=True, remat=False)
        if training:
            B.elementwise("loss", M_head * V, _LOSS, TOUCHES["loss"], 1, remat=False)
    return B, fr, b, s_f, T, M, llm_head, M_head


class Frame(NamedTuple):
    """What a transformer step's lowering takes from the model, the phase and the plan alone
    — the same for every batch and sequence length (:func:`frame`)."""

    training: bool
    decode: bool
    causal: bool
    keeps_cache: bool  # inference of a causal model writes its KV cache
    h: float
    L: int
    nh: float
    d: float
    v_dim: float
    bkv: float
    kv_tok: float
    kv_read_tok: float  # K/V elements decode attention reads per cached token
    pos: float  # position embeddings gathered with the token's (learned: 2, else 1)
    gather: float  # bytes per gathered element: the table's read and the residual's write
    norm_w: float  # a norm's weight bytes
    qkv_N: float  # the fused QKV projection's output width
    o_K: float  # the output projection's input width
    rope_heads: float  # heads rotated by RoPE (query and key), 0 without RoPE
    latent_decode: bool  # MLA decode: the absorbed form over the latent cache
    latent: tuple[float, float]  # MLA's latent and RoPE-key widths
    qk_dim: float
    io_w: float  # elements of Q read and O written per token
    unfused: bool
    qkv_width: float  # QKᵀ plus PV per head and score (unfused attention)
    mats: float
    L_moe: int
    ff: float
    V: float
    update: Op | None  # the optimizer's update (training)
    state: tuple[float, float, float]  # resident weights, gradients and optimizer state


#: Frames by the identities of the model facts and the resolved plan, and the phase.
_FRAMES = DerivedCache("workload.transformer_frames")


def frame(f: ModelFacts, phase: str, rp: Any) -> Frame:
    """The :class:`Frame` of ``f`` in ``phase`` under resolved plan ``rp``, built once per
    facts, phase and plan (a solve with another batch or context reuses it)."""
    key = (id(f), phase, id(rp))
    hit = _FRAMES.get(key)
    if hit is not None and hit[0] is f and hit[1] is rp:
        return hit[2]
    fr = _build_frame(f, phase, rp)
    _FRAMES.put(key, (f, rp, fr))
    return fr


def _build_frame(f: ModelFacts, phase: str, rp: Any) -> Frame:
    training = phase == "training"
    decode = phase == "decode"
    causal = f.task == "llm"
    h = float(f.hidden)
    nh, nkv, d = float(f.heads), float(f.kv_heads), float(f.head_dim)
    B = OpBuilder(rp, training)
    if f.mla is not None:
        v_dim = float(f.mla[4])
        o_elems = nh * v_dim * h
        qk_dim = float(f.mla[2] + f.mla[3])
    else:
        v_dim = d
        o_elems = nh * d * h
        qk_dim = d
    update: Op | None = None
    if training:
        add_optimizer_update(B, f.params, rp)
        update = B.ops[-1]
        state = training_state(f.params, rp, B.sparse_factor)
    else:
        kept = f.embed_params + (0.0 if f.tied else f.head_params)
        state = (resident_weights(f.params, rp, B.sparse_factor, kept), 0.0, 0.0)
    latent = (float(f.mla[0]), float(f.mla[3])) if f.mla is not None else (0.0, 0.0)
    return Frame(
        training=training,
        decode=decode,
        causal=causal,
        keeps_cache=causal and not training,
        h=h,
        L=f.layers,
        nh=nh,
        d=d,
        v_dim=v_dim,
        bkv=rp.kv_bytes,
        kv_tok=f.kv_elems_per_token,
        kv_read_tok=_decode_kv_read(f, rp.plan.attention),
        pos=2.0 if f.learned_positions else 1.0,
        gather=B.bw_high + B.bh,
        norm_w=h * B.bw_high,
        qkv_N=(f.attn_params - o_elems) / h,
        o_K=nh * v_dim,
        rope_heads=nh + nkv if f.rope else 0.0,
        latent_decode=f.mla is not None and decode,
        latent=latent,
        qk_dim=qk_dim,
        io_w=nh * d + nh * v_dim,
        unfused=rp.plan.attention == "unfused",
        qkv_width=qk_dim + v_dim,
        mats=2.0 if f.gated else 1.0,
        L_moe=f.moe_layers,
        ff=float(f.ffn),
        V=float(f.vocab),
        update=update,
        state=state,
    )


def _decode_kv_read(f: ModelFacts, kernel: str) -> float:
    """K/V elements decode attention reads per cached token: the cache's own (a grouped
    kernel reads each shared K/V head once), or under ``"per_query_head"`` a copy per query
    head — TensorRT-LLM's masked multi-head attention, "the vanilla implementation that uses
    a single CUDA thread-block per head" (its gpt-attention docs), before the XQA kernel for
    MQA/GQA (v0.8) "reduc[ed] data loading" (its XQA blog, 2024)."""
    if kernel != "per_query_head" or f.mla is not None:
        return f.kv_elems_per_token
    return 2.0 * f.heads * f.head_dim


def _activation_bytes(
    f: ModelFacts, b: float, T: float, M_head: float, training: bool, rp: Any
) -> float:
    """Activation memory: stored for backward (training, Korthikanti et al. 2022) or one
    layer's working set (inference), plus the fp32 logits."""
    h, ba = float(f.hidden), rp.high_bytes
    logits = logits_B(M_head, f.vocab)
    if not training:
        width = max(2.0 * f.ffn, (f.heads + 2.0 * f.kv_heads) * f.head_dim) + 2.0 * h
        return b * T * width * ba + logits
    mode, a = rp.plan.recompute, float(f.heads)
    fused = rp.plan.attention != "unfused"  # a fused kernel never stores the scores
    per_layer = activation_bytes_per_layer_B(
        T, b, h, a, recompute=mode, beta=ba, fused_attention=fused
    )
    stored = f.layers * per_layer
    if mode == "full":  # the layer being recomputed holds its full activations meanwhile
        stored += activation_bytes_per_layer_B(
            T, b, h, a, recompute="none", beta=ba, fused_attention=fused
        )
    return stored + logits
