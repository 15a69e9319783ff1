"""Solver mechanics: arguments, lowering rules, precision/sparsity handling, result form."""

from __future__ import annotations

import json

import pytest

import mlsysim
from mlsysim import ConfigError, FormulaDomainError, UnsupportedPrecisionError, solve
from mlsysim.core.walls import wall_ids
from mlsysim.execution import ExecutionPlan
from mlsysim.solvers.optimize.batch import MaxBatchOptimizer
from mlsysim.solvers.single_node.results import SCHEMA_VERSION, json_schema
from mlsysim.solvers.single_node.solver import SingleNodeSolver
from mlsysim.workload.lowering import expected_distinct_experts


def test_ids_specs_positional_and_keyword_agree() -> None:
    a = solve("Llama2_7B", "A100", phase="decode")
    b = solve(model=mlsysim.Models.Llama2_7B, hardware=mlsysim.Hardware.A100, phase="decode")
    assert a.latency_s == b.latency_s
    assert a.to_dict() == b.to_dict()


def test_result_fields_are_quantities() -> None:
    r = solve("Llama2_7B", "A100", phase="decode")
    assert r.latency.to("ms").magnitude > 0
    assert r.throughput.to("token/s").magnitude > 0
    assert r.memory.total.to("GB").magnitude > r.memory.weights.to("GB").magnitude
    assert r.energy.to("J").magnitude > 0
    assert r.arithmetic_intensity.to("FLOP/B").magnitude < r.ridge_point.to("FLOP/B").magnitude
    assert 0 < r.mfu < 1
    assert r.binding_wall in wall_ids()


def test_napkin_expression_reads_solve_fields() -> None:
    from mlsysim.book import Document

    doc = Document("solver.md")
    item = doc.inline('solve(Llama2_7B, A100, phase="decode").latency -> ms', 1)
    assert item.ok, item.failure
    assert item.rendered is not None and item.rendered.text.endswith("ms")


def test_gqa_kv_cache_from_config() -> None:
    # Llama-2-70B config: 80 layers, 8 KV heads of 128 → 2·80·8·128·2 B per token (fp16)
    r = solve("Llama2_70B", "H100", phase="decode", seq_len=100, precision="int4")
    assert r.memory.kv_cache_bytes == pytest.approx(2 * 80 * 8 * 128 * 2 * 101)


def test_int4_weights_move_about_a_quarter_of_the_bytes() -> None:
    fp16 = solve("Llama2_7B", "H100", phase="decode")
    int4 = solve("Llama2_7B", "H100", phase="decode", precision="int4")
    # body at 4.156 bits (AWQ/GPTQ groups of 128: fp16 scale, 4-bit zero), the embedding and
    # the LM head kept in 16 bits
    f = mlsysim.workload.lowering.model_facts(mlsysim.Models.Llama2_7B)
    kept = f.embed_params + f.head_params
    expected = (f.params - kept) * (4 + 20 / 128) / 8 + kept * 2
    assert int4.memory.weights_bytes == pytest.approx(expected)
    assert int4.weight_bits == pytest.approx(4.15625)
    assert int4.latency_bound < fp16.latency_bound
    assert int4.precision in ("fp16", "bf16")  # H100 has no int4 rate: W4A16
    assert int4.notes and "weight-only" in int4.notes[0]


def test_fp8_uses_the_fp8_peak() -> None:
    r = solve("Llama2_7B", "H100", phase="prefill", precision="fp8")
    assert r.peak_flops_per_s == pytest.approx(1979e12, rel=1e-3)  # H100 datasheet FP8 dense


def test_missing_float_precision_lists_what_the_device_has() -> None:
    with pytest.raises(UnsupportedPrecisionError, match="bf16"):
        solve("Llama2_7B", "TPUv4", phase="decode", precision="fp16")


def test_sparsity_needs_hardware_support() -> None:
    with pytest.raises(UnsupportedPrecisionError, match="sparse"):
        solve("Llama2_7B", "V100", phase="decode", sparsity="2:4")
    dense = solve("Llama2_7B", "A100", phase="prefill")
    sparse = solve("Llama2_7B", "A100", phase="prefill", sparsity="2:4")
    assert sparse.sparse and sparse.latency_bound < dense.latency_bound
    assert sparse.memory.weights_bytes < dense.memory.weights_bytes


def test_moe_decode_reads_only_touched_experts() -> None:
    assert expected_distinct_experts(8, 2, 1) == 2
    assert expected_distinct_experts(8, 2, 64) == pytest.approx(8, rel=1e-6)
    one = solve("Mixtral_8x7B", "H100", phase="decode", precision="fp8", batch=1)
    many = solve("Mixtral_8x7B", "H100", phase="decode", precision="fp8", batch=64)
    weights = one.memory.weights_bytes
    # batch 1 reads 2 of 8 experts per layer: well under all weights (~12.9B of 46.7B active)
    assert one.bytes_total < 0.4 * weights
    assert many.bytes_total > weights  # all experts plus the KV cache


def test_training_memory_rules() -> None:
    r = solve("Llama3_2_1B", "H100", phase="training", batch=1, seq_len=1024)
    params = r.memory.weights_bytes / 2  # bf16 weights
    # Megatron-LM mixed-precision Adam: bf16 weights 2 + fp32 gradients 4 + fp32 master and
    # moments 12 = 18 bytes per parameter (Korthikanti et al. 2022, as training_memory says)
    states = r.memory.weights_bytes + r.memory.gradients_bytes + r.memory.optimizer_bytes
    assert states / params == pytest.approx(18)
    # ZeRO's 16 B/param accounting: 16-bit gradients
    zero = solve("Llama3_2_1B", "H100", phase="training", seq_len=1024, gradients="bf16")
    zstates = zero.memory.weights_bytes + zero.memory.gradients_bytes + zero.memory.optimizer_bytes
    assert zstates / params == pytest.approx(16)
    assert r.model_flops == pytest.approx(6 * params * 1024, rel=0.15)  # 6·N·D, Kaplan 2020
    full = solve("Llama3_2_1B", "H100", phase="training", batch=1, seq_len=1024, recompute="full")
    assert full.memory.activations_bytes < r.memory.activations_bytes
    assert full.flops_total > r.flops_total and full.model_flops == r.model_flops
    assert full.hardware_flops > r.hardware_flops > r.model_flops  # selective recomputes too


def test_cnn_inference_and_phase_errors() -> None:
    r = solve("ResNet50", "A100", phase="inference", batch=32)
    assert r.unit == "sample" and r.seq_len is None
    assert r.flops_total == pytest.approx(
        32 * mlsysim.Models.ResNet50.flops_per_inference.to("FLOP").magnitude
    )
    with pytest.raises(ConfigError):
        solve("ResNet50", "A100", phase="decode")


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"phase": "serve"}, ConfigError),
        ({"phase": "decode", "batch": 0}, ConfigError),
        ({"phase": "decode", "batch": True}, ConfigError),
        ({"phase": "decode", "seq_len": 10**6}, FormulaDomainError),
        ({"phase": "decode", "precision": "fp12"}, ConfigError),
    ],
)
def test_bad_arguments_raise_teaching_errors(kwargs: dict, error: type) -> None:
    with pytest.raises(error) as info:
        solve("Llama2_7B", "A100", **kwargs)
    assert "How to fix" in str(info.value)


def test_plan_and_options_are_exclusive() -> None:
    with pytest.raises(ConfigError):
        solve("Llama2_7B", "A100", phase="decode", plan=ExecutionPlan(), precision="fp16")
    r = solve(
        "Llama2_7B",
        "A100",
        phase="decode",
        plan=ExecutionPlan(memory_efficiency=1.0, kernel_overhead=0.0),
    )
    assert r.latency_s == pytest.approx(r.latency_bound_s, rel=1e-9)
    assert ("memory_efficiency", 1.0, "user") in r.efficiencies


def test_json_form_matches_schema_keys() -> None:
    r = solve("Llama2_7B", "A100", phase="decode")
    data = json.loads(r.to_json())
    schema = json_schema()
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data) == set(schema["required"])
    assert set(data["memory"]) == set(schema["properties"]["memory"]["required"])
    bad = json.loads(solve("Llama2_70B", "A100", phase="decode").to_json())
    assert bad["feasible"] is False and bad["latency"] is None


def test_result_is_frozen() -> None:
    r = solve("Llama2_7B", "A100", phase="decode")
    with pytest.raises(AttributeError):
        r.latency_s = 0.0


def test_max_batch_optimizer_stops_at_capacity() -> None:
    search = MaxBatchOptimizer(SingleNodeSolver()).optimize(
        "Llama2_7B", "A100", phase="decode", seq_len=4096, max_batch=256
    )
    assert search.best is not None and search.best.feasible
    assert search.tried[-1][1] is False  # the last batch tried did not fit
    slo = MaxBatchOptimizer().optimize(
        "Llama2_7B", "A100", phase="decode", latency_slo="15 ms", max_batch=256
    )
    assert slo.best is not None and slo.best.latency_s <= 0.015
    with pytest.raises(ConfigError, match="latency_slo needs a unit"):
        MaxBatchOptimizer().optimize("Llama2_7B", "A100", phase="decode", latency_slo=0.015)
