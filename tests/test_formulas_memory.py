"""Memory formulas against model configs and the Korthikanti / ZeRO / Megatron figures."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import mlsysim
from mlsysim.core.exceptions import FormulaDomainError, UnknownNameError
from mlsysim.core.formulas import (
    activation_bytes,
    activation_bytes_per_layer,
    kv_cache_B,
    kv_cache_bytes,
    logits_B,
    training_memory,
    weights_bytes,
)

GiB = 2**30
Models = mlsysim.Models


def test_llama2_7b_weights_13_48_gb():
    assert weights_bytes(model=Models.Llama2_7B, precision="fp16").to("GB").magnitude == (
        pytest.approx(13.48)
    )


def test_llama2_7b_kv_cache_524_kb_per_token():
    # 2 · 32 layers · 4096 · 2 B = 524,288 B per token (fp16, no GQA)
    kv = kv_cache_bytes(model=Models.Llama2_7B, context=1, batch=1, precision="fp16")
    assert kv.to("B").magnitude == 524_288


def test_gqa_shrinks_kv_cache_llama2_70b():
    # Llama-2-70B: 80 layers, 8 KV heads of 128 -> 2·80·8·128·2 B = 327,680 B per token
    kv = kv_cache_bytes(model=Models.Llama2_70B, context=1, batch=1, precision="fp16")
    assert kv.to("B").magnitude == 327_680


def test_mla_kv_cache_is_latent_plus_rope_key():
    # DeepSeek-V2/V3 MLA caches (d_c + d_h^R) = 512 + 64 elements per token per layer
    m = Models.DeepSeekV3
    kv = kv_cache_bytes(model=m, context=1, batch=1, precision="bf16")
    assert kv.to("B").magnitude == m.arch.layers * (512 + 64) * 2


def test_kv_fast_path_matches():
    kv = kv_cache_bytes(model=Models.Llama2_7B, context=4096, batch=8, precision="fp16")
    assert kv_cache_B(32, 2 * 32 * 128, 4096, 8, 2.0) == kv.to("B").magnitude


def test_logits_reserved_for_trtllm_default_batch_llama3():
    """TensorRT-LLM's LLM API builds for max_batch_size 2048 (perf-overview v0.13) and keeps
    logits [batch, 1, vocab_padded] in float32 (its default logits_dtype): for Llama 3's
    128,256-entry vocabulary that is 2048 x 128256 x 4 B = 1.0507 GB, against Llama 2's
    (32,000) 0.2621 GB."""
    assert logits_B(2048, 128_256) == pytest.approx(1.050673152e9, rel=1e-12)
    assert logits_B(2048, 32_000) == pytest.approx(0.262144e9, rel=1e-12)


def test_megatron_18_bytes_per_param_and_distributed_optimizer():
    # Megatron-LM: 18 B/param with mixed-precision Adam; distributed optimizer 6 + 12/DP
    assert training_memory(params=1e9).total.to("B").magnitude == pytest.approx(18e9)
    for dp in (2, 8, 64):
        m = training_memory(params=1e9, zero_stage=1, dp=dp)
        assert m.total.to("B").magnitude == pytest.approx((6 + 12 / dp) * 1e9)


def test_zero_figure_1_7_5b_on_64_gpus():
    # Rajbhandari et al. 2020, Fig. 1: Ψ = 7.5B, N_d = 64, K = 12: 120, 31.4, 16.6, 1.9 GB
    expected = {0: 120, 1: 31.4, 2: 16.6, 3: 1.9}
    for stage, gb in expected.items():
        m = training_memory(
            params=7.5e9, precision="fp16", grad_precision="fp16", zero_stage=stage, dp=64
        )
        assert m.total.to("GB").magnitude == pytest.approx(gb, abs=0.05)


def test_korthikanti_175b_weights_grads_optimizer_per_gpu():
    # Korthikanti et al. 2022 Fig. 1: 175B on TP8 × PP8 -> 45.56 GiB per GPU
    m = training_memory(params=Models.GPT3_175B.params, model_parallel=64)
    assert m.total.to("B").magnitude / GiB == pytest.approx(45.56, rel=0.01)


def test_korthikanti_table_2_per_layer_terms():
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    sbh = s * b * h

    def per_layer(**kw):
        return activation_bytes_per_layer(seq_len=s, batch=b, hidden=h, heads=a, **kw).magnitude

    none = "none"
    assert per_layer(recompute=none) == pytest.approx(sbh * (34 + 5 * a * s / h))
    assert per_layer(tp=t, recompute=none) == pytest.approx(
        sbh * (10 + 24 / t + 5 * a * s / (h * t))
    )
    assert per_layer(tp=t, sp=True, recompute=none) == pytest.approx(sbh / t * (34 + 5 * a * s / h))
    # the default is selective recomputation (one default for formulas and plans)
    assert per_layer() == pytest.approx(34 * sbh)
    # Korthikanti counts 16-bit activations; fp32 doubles the count
    assert per_layer(precision="fp32") == pytest.approx(2 * 34 * sbh)
    assert per_layer(tp=t, recompute="selective") == pytest.approx(sbh * (10 + 24 / t))
    assert per_layer(tp=t, sp=True, recompute="selective") == pytest.approx(34 * sbh / t)
    assert per_layer(recompute="full") == pytest.approx(2 * sbh)


def test_fused_attention_stores_no_scores():
    # Korthikanti's 5as/h term is the score matrix an unfused kernel keeps (softmax output,
    # dropout mask and output); FlashAttention never writes it (Dao 2023), under any policy
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    sbh = s * b * h

    def per_layer(**kw):
        return activation_bytes_per_layer(seq_len=s, batch=b, hidden=h, heads=a, **kw).magnitude

    flash = dict(fused_attention=True)
    assert per_layer(recompute="none", **flash) == pytest.approx(34 * sbh)
    assert per_layer(tp=t, sp=True, recompute="none", **flash) == pytest.approx(34 * sbh / t)
    for mode in ("selective", "full"):  # no score term to drop: the same bytes as unfused
        assert per_layer(recompute=mode, **flash) == per_layer(recompute=mode)
    gpt3 = SimpleNamespace(arch=SimpleNamespace(layers=96, hidden=h, heads=a))
    kw = dict(model=gpt3, seq_len=s, batch=b, tp=t, pp=8, interleave=3, recompute="none")
    fused = activation_bytes(**kw, fused_attention=True).to("B").magnitude
    assert fused == pytest.approx(96 * sbh * (10 + 24 / t) * (1 + 7 / 24))


def test_korthikanti_175b_activations_per_gpu():
    # Fig. 1: 175B, seq 2048, micro-batch 1, TP8 PP8: activations 66.84 GiB without
    # recomputation (tensor parallel only) and 12.35 GiB with SP + selective recomputation.
    # An interleaving factor of 3 (f = 1 + 7/24) reproduces both published bars.
    gpt3 = SimpleNamespace(arch=SimpleNamespace(layers=96, hidden=12288, heads=96))
    kw = dict(model=gpt3, seq_len=2048, batch=1, tp=8, pp=8, interleave=3)
    none = activation_bytes(**kw, recompute="none").to("B").magnitude / GiB
    sp_sel = activation_bytes(**kw, sp=True, recompute="selective").to("B").magnitude / GiB
    assert none == pytest.approx(66.84, rel=0.03)
    assert sp_sel == pytest.approx(12.35, rel=0.03)


def test_errors_name_the_problem():
    with pytest.raises(UnknownNameError, match="fp12"):
        weights_bytes(model=Models.Llama2_7B, precision="fp12")
    with pytest.raises(UnknownNameError, match="selective"):
        activation_bytes_per_layer(seq_len=1, batch=1, hidden=1, heads=1, recompute="selectiv")
    with pytest.raises(FormulaDomainError, match="zero_stage"):
        training_memory(params=1e9, zero_stage=4)
