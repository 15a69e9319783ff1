"""Per-layer lowering of CNNs: ops, FLOPs, bytes and walls against published rules."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import solve


def _gflop(model_id: str) -> float:
    return mlsysim.Models[model_id].flops_per_inference.to("FLOP").magnitude


@pytest.mark.parametrize("model_id", ["ResNet50", "MobileNetV2", "DSCNN_KWS"])
def test_inference_flops_are_the_published_figure(model_id: str) -> None:
    r = solve(model_id, "A100", phase="inference", batch=8)
    assert r.flops_total == pytest.approx(8 * _gflop(model_id), rel=1e-9)
    assert len(r.ops) > 5  # lowered layer by layer, not one fused op
    assert r.latency_s >= r.latency_bound_s > 0


def test_resnet50_ops_and_launches() -> None:
    r = solve("ResNet50", "A100", phase="inference", batch=1, precision="int8")
    names = [op.name for op in r.ops]
    assert names[0] == "0.conv" and names[-1] == "7.fc"
    # He et al. 2016 Table 1: 16 bottlenecks, each with its residual add in the last conv's
    # epilogue; TensorRT launches one kernel per conv (3 per block, 4 with the projection)
    assert r.engine == "tensorrt"
    assert sum(op.repeat for op in r.ops if op.name.endswith("+add")) == 16
    launches = sum(op.kernels for op in r.ops)
    assert launches == pytest.approx(1 + 1 + 16 * 3 + 4 + 1 + 1)  # stem, pool, convs, pool, fc
    # weights: 25.6e6 parameters at 1 B (int8), batch norm folded into biases
    assert r.memory.weights_bytes == pytest.approx(25.6e6, rel=0.01)


def test_batch_one_cannot_fill_an_a100() -> None:
    # wave quantization: at batch 1 a conv's output tiles leave most of the 108 SMs idle
    one = solve("ResNet50", "A100", phase="inference", batch=1, precision="int8")
    big = solve("ResNet50", "A100", phase="inference", batch=256, precision="int8")
    waves = sorted(op.waves for op in one.ops if op.kind == "gemm")
    assert waves[len(waves) // 2] < 0.5 and waves[0] > 0
    assert min(op.waves for op in big.ops if op.kind == "gemm") > 0.5
    per_image = [r.latency_s / r.batch for r in (one, big)]
    assert per_image[0] > 5 * per_image[1]


def test_the_engine_decides_fusion() -> None:
    fused = solve("ResNet50", "A100", phase="inference", batch=64, engine="tensorrt")
    eager = solve("ResNet50", "A100", phase="inference", batch=64, engine="eager")
    assert fused.engine == "tensorrt" and eager.engine == "eager"
    # eager: batch norm and the activation are kernels of their own, reading and writing
    assert any(op.name.endswith(".bn") for op in eager.ops)
    assert not any(op.name.endswith(".bn") for op in fused.ops)
    assert eager.bytes_total > 2 * fused.bytes_total
    assert sum(op.kernels for op in eager.ops) > 2 * sum(op.kernels for op in fused.ops)
    # training runs under an eager framework by default, and says so
    assert solve("ResNet50", "A100", phase="training", batch=8).engine == "eager"
    with pytest.raises(mlsysim.ConfigError, match="does not run training"):
        solve("ResNet50", "A100", phase="training", engine="tensorrt")


def test_depthwise_convs_are_memory_bound() -> None:
    # k^2 = 9 MACs per output element: a few FLOP/B, far under the A100's ridge point
    r = solve("MobileNetV2", "A100", phase="inference", batch=64)
    dw = [op for op in r.ops if op.name.endswith(".dw")]
    assert sum(op.repeat for op in dw) == 17
    assert all(op.bound == "memory" for op in dw)
    assert all(op.arithmetic_intensity < 20 for op in dw)


def test_training_is_three_passes_plus_memory_bound_bn() -> None:
    b = 32
    r = solve("ResNet50", "A100", phase="training", batch=b, optimizer="sgd")
    # Kaplan et al. 2020: backward = 2x forward. Model FLOPs (MFU) are exactly 3x the
    # published forward FLOPs; the device executes a little less, since the first conv
    # computes no input gradient, plus the element-wise kernels.
    assert r.model_flops == pytest.approx(3 * b * _gflop("ResNet50"), rel=1e-12)
    convs = sum(op.flops for op in r.ops if op.kind == "gemm")
    assert convs == pytest.approx(3 * b * _gflop("ResNet50"), rel=0.05)
    assert convs < 3 * b * _gflop("ResNet50")
    bn = [op for op in r.ops if op.name.endswith(".bn")]
    relu = [op for op in r.ops if op.name.endswith(".relu")]
    assert bn and relu
    # NVIDIA DL performance guide: batch norm and activations are memory-limited layers
    assert all(op.bound == "memory" for op in bn + relu)
    assert r.ops[-1].kind == "optimizer"
    assert r.memory.gradients_bytes > 0 and r.memory.activations_bytes > 1e9


def test_training_full_recompute_reruns_forward() -> None:
    base = solve("ResNet50", "A100", phase="training", batch=16, recompute="none")
    full = solve("ResNet50", "A100", phase="training", batch=16, recompute="full")
    assert full.model_flops == pytest.approx(base.model_flops)
    # HFU counts the re-run forward: one more forward pass of the published FLOPs
    assert full.hardware_flops == pytest.approx(base.model_flops * 4 / 3)
    assert base.hardware_flops == base.model_flops
    assert full.flops_total > base.flops_total
    assert full.memory.activations_bytes < base.memory.activations_bytes


def test_entry_without_layer_table_is_one_op() -> None:
    m = mlsysim.Models.ResNet50.model_copy(update={"cnn": None, "id": "ResNet50_noarch"})
    r = solve(m, "A100", phase="inference", batch=4)
    assert [op.name for op in r.ops] == ["forward"]
    assert r.flops_total == pytest.approx(4 * _gflop("ResNet50"))


def test_cnn_rejects_llm_phases() -> None:
    with pytest.raises(mlsysim.ConfigError):
        solve("MobileNetV2", "A100", phase="prefill")
