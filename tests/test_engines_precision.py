"""Issue 15, deliverables 1-2: achievable time by device class and engine, precision as it runs.

Each test pins one behaviour an author relies on: the formats a precision string runs in are
reported (and any difference from what was asked is said), weight-only quantization counts its
group scales, TF32 is its own format, efficiencies come from the engine's profile for the
device class, CUDA graphs replace per-kernel launches, and an engine that cannot run on a
device is refused with the engines that can.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlsysim import solve
from mlsysim.core.exceptions import ConfigError


def _d(*args: Any, **kw: Any) -> dict[str, Any]:
    return solve(*args, **kw).to_dict()  # type: ignore[no-any-return]


def test_fp8_gemms_keep_norms_attention_and_kv_in_16_bits_and_say_so() -> None:
    d = _d("Llama2_7B", "H100", phase="decode", precision="fp8")
    assert d["formats"] == {
        "weights": "fp8",
        "weight_bits": 8.0,
        "gemm": "fp8",
        "other": "bf16",
        "attention": "bf16",
        "kv_cache": "bf16",
    }
    assert any("LM head run in bf16" in n and "KV cache is bf16" in n for n in d["notes"])
    kv8 = _d("Llama2_7B", "H100", phase="decode", precision="fp8", kv_cache="fp8")["formats"]
    assert (kv8["kv_cache"], kv8["attention"]) == ("fp8", "fp8")  # asked for: attention in FP8


def test_int8_on_an_a100_is_w8a8_with_a_16_bit_kv_cache_never_an_implied_8_bit_one() -> None:
    d = _d("Llama2_7B", "A100", phase="decode", precision="int8")
    assert (d["formats"]["gemm"], d["formats"]["kv_cache"]) == ("int8", "bf16")
    assert d["notes"]


def test_a_quantized_format_without_a_rate_runs_weight_only_and_says_so() -> None:
    d = _d("Llama2_7B", "V100", phase="decode", precision="int8")
    assert (d["formats"]["weights"], d["formats"]["gemm"]) == ("int8", "fp16")
    assert any("W8A16" in n for n in d["notes"])


def test_int4_counts_group_scales_and_zero_points() -> None:
    # AWQ/GPTQ int4: 128 weights share an fp16 scale and a 4-bit zero: 4 + 20/128 bits each
    d = _d("Llama2_7B", "A100", phase="decode", precision="int4")
    assert d["formats"]["weight_bits"] == pytest.approx(4 + (16 + 4) / 128)
    g32 = _d("Llama2_7B", "A100", phase="decode", precision="int4", group_size=32)
    assert g32["formats"]["weight_bits"] == pytest.approx(4 + 20 / 32)
    assert g32["memory"]["weights"]["value"] > d["memory"]["weights"]["value"]
    assert any("W4A16" in n for n in d["notes"])


def test_tf32_is_its_own_format() -> None:
    t = {
        p: solve("Llama2_7B", "A100", phase="prefill", seq_len=2048, precision=p)
        for p in ("fp16", "tf32", "fp32")
    }
    f = t["tf32"].to_dict()["formats"]
    assert (f["gemm"], f["weight_bits"]) == ("tf32", 32.0)  # fp32 storage, TF32 tensor math
    # compute-bound prefill: TF32's 156 TFLOP/s sits between FP16's 312 and FP32's 19.5
    assert t["fp16"].latency_s < t["tf32"].latency_s < t["fp32"].latency_s / 4


def test_efficiency_comes_from_the_engines_profile_for_the_device_class() -> None:
    def gemm_eff(hw: str) -> tuple[float, str]:
        effs = _d("Llama2_7B", hw, phase="prefill", seq_len=512, precision="fp16")["efficiencies"]
        e = next(e for e in effs if e["name"] == "gemm_efficiency")
        return e["value"], e["source"]

    assert gemm_eff("T4") == (0.37, "engine_nvidia_forum_t4_peak")  # a power-capped 70 W card
    assert gemm_eff("A100") == (0.80, "solver_dao2023_flashattention2")


def test_efficiency_follows_the_format_the_engine_runs() -> None:
    def eff(precision: str, name: str, **kw: Any) -> tuple[float, str]:
        hw = "H100" if precision == "fp8" else "A100"
        d = _d("Llama2_7B", hw, phase="decode", precision=precision, **kw)
        e = next(e for e in d["efficiencies"] if e["name"] == name)
        return e["value"], e["source"]

    # FP8 GEMMs on Hopper sustain less of their (doubled) peak than 16-bit ones
    assert eff("fp8", "gemm_efficiency") == (0.66, "engine_triton_fp8_h100")
    assert eff("fp16", "gemm_efficiency")[0] == 0.80
    # llama.cpp's Q8_0 kernels stream their weights faster than its Q4_0 ones
    q8 = eff("int8", "quantized_memory_efficiency", engine="llamacpp")
    q4 = eff("int4", "quantized_memory_efficiency", engine="llamacpp")
    assert q8 == (0.32, "engine_llamacpp_pr3776_formats")
    assert q4 == (0.26, "solver_premai2024_benchmarks")


def test_fp32_gemms_on_a_t4_run_at_the_cuda_cores_sustained_rate() -> None:
    # torch.mm FP32 on two T4s: 4.17 and 4.43 TFLOP/s (torch-performance-test-data), mean 4.30;
    # the tensor cores' power-capped 0.37 applies to FP16 only
    d = _d("ResNet50", "T4", phase="inference", batch=1, precision="fp32", engine="eager")
    e = next(e for e in d["efficiencies"] if e["name"] == "gemm_efficiency")
    assert (e["value"], e["source"]) == (0.53, "engine_torch_matmul_t4_fp32")
    peak = solve("ResNet50", "T4", phase="inference", precision="fp32").dense_peak_flops_per_s
    assert peak * e["value"] == pytest.approx((4.17e12 + 4.43e12) / 2, rel=0.01)
    fp16 = _d("ResNet50", "T4", phase="inference", batch=1, precision="fp16", engine="eager")
    assert next(e for e in fp16["efficiencies"] if e["name"] == "gemm_efficiency")["value"] == 0.37


def test_tensorflow_amp_keeps_layernorm_and_gelu_in_fp32_with_casts() -> None:
    # auto_mixed_precision_lists.h: Mean and Pow are BlackList ops, whose downstream GrayList
    # ops stay FP32 too; BERT's reference TF code computes LayerNorm with Mean and GELU with Pow
    def ops(engine: str, precision: str = "fp16") -> dict[str, Any]:
        r = solve(
            "BERT_Base", "A100_40GB", phase="inference", batch=8, seq_len=128,
            precision=precision, engine=engine, attention="unfused",
        )  # fmt: skip
        return {"notes": r.notes, **{o.name: o for o in r.ops}}

    eager, amp = ops("eager"), ops("tf_amp")
    elems, layers = 8 * 128 * 3072, 12
    eager_kernels = eager["ffn_act"].kernels / layers  # one kernel per arithmetic step
    # each step reads and writes FP32 (4 B) instead of FP16 (2 B), plus two casts of 2 + 4 B
    touches = 2.0 * eager_kernels
    assert amp["ffn_act"].bytes == pytest.approx(elems * layers * (touches * 4 + 2 * (2 + 4)))
    assert amp["ffn_act"].kernels == eager["ffn_act"].kernels + 2 * layers
    assert amp["attn_add_norm"].bytes > 2 * eager["attn_add_norm"].bytes
    for same in ("qkv_proj", "attention_softmax", "ffn_up"):  # MatMul, Softmax stay FP16
        assert amp[same].bytes == eager[same].bytes
    assert any("fp32 around the fp16 GEMMs" in n for n in amp["notes"])
    # an FP32 run has nothing to widen; a CNN's FusedBatchNorm, ReLU and Add stay FP16
    assert ops("tf_amp", "fp32")["ffn_act"].bytes == ops("eager", "fp32")["ffn_act"].bytes
    cnn = {
        e: solve("ResNet50", "A100_40GB", phase="inference", batch=8, precision="fp16", engine=e)
        for e in ("eager", "tf_amp")
    }
    assert cnn["tf_amp"].latency_s == cnn["eager"].latency_s


def test_cuda_graphs_replace_per_kernel_launches() -> None:
    # a small batch-1 decode step: ~hundreds of short kernels
    sec = {
        e: _d("Llama3_2_1B", "H100", phase="decode", seq_len=128, engine=e)["time_split"][
            "overhead"
        ]["value"]
        / 1e3
        for e in ("compiled", "tensorrt_llm", "eager")
    }
    assert sec["compiled"] >= 15e-6  # one graph replay (~15 us) plus ~0.6 us a node
    assert sec["compiled"] < sec["tensorrt_llm"] < sec["eager"]


def test_an_mcu_runs_its_runtime_and_reference_kernels_are_slower() -> None:
    fast = solve("DSCNN_KWS", "STM32H743", phase="inference", precision="int8")
    ref = solve("DSCNN_KWS", "STM32H743", phase="inference", precision="int8", engine="tflm")
    assert fast.engine == "cmsis_nn" and ref.engine == "tflm"
    assert ref.latency_s / fast.latency_s == pytest.approx(4.6, rel=0.1)  # Lai et al. 2018


def test_an_engine_that_does_not_run_on_the_device_is_refused_with_those_that_do() -> None:
    with pytest.raises(ConfigError, match="does not run inference on a mcu") as err:
        solve("DSCNN_KWS", "STM32H743", phase="inference", precision="int8", engine="tensorrt")
    assert "cmsis_nn" in str(err.value) and "tflm" in str(err.value)
    with pytest.raises(ConfigError, match="tensorrt"):
        solve("ResNet50", "A100", phase="training", engine="tensorrt")
