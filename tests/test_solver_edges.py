"""Edges of the single-node solver that mutation testing found unpinned.

Each test states the rule it pins: the feasibility boundary, tie rules, which sources the
result cites, distinct experts for a few tokens, strict mode's message, the communication fast
paths' defaults, duck-typed architectures, and the default format on boards without 16-bit
rates.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

import mlsysim
from mlsysim import Q_, ConfigError, InfeasibleError, solve
from mlsysim.core.formulas import (
    all_gather,
    all_gather_s,
    kv_cache_bytes,
    ring_allreduce,
    ring_allreduce_s,
    tree_allreduce,
    tree_allreduce_s,
)
from mlsysim.hardware.engines import efficiencies, engine_for
from mlsysim.workload.lowering import expected_distinct_experts

A100 = mlsysim.Hardware.A100


def test_a_step_that_exactly_fills_memory_fits() -> None:
    need = solve("Llama2_7B", "A100", phase="decode").memory.total_bytes
    exact = A100.memory.model_copy(update={"capacity": Q_(need, "B")})
    r = solve("Llama2_7B", A100.model_copy(update={"memory": exact, "id": "A_x"}), phase="decode")
    assert r.feasible and r.binding_wall == "memory_bandwidth"
    less = A100.memory.model_copy(update={"capacity": Q_(need * (1 - 1e-12), "B")})
    r = solve("Llama2_7B", A100.model_copy(update={"memory": less, "id": "A_l"}), phase="decode")
    assert not r.feasible and r.binding_wall == "memory_capacity"


def test_sources_say_user_for_every_override() -> None:
    r = solve(
        "Llama2_7B",
        "A100",
        phase="prefill",
        gemm_efficiency=0.9,
        attention_efficiency=0.6,
        memory_efficiency=0.8,
        kernel_overhead="5 us",
    )
    sources = {n: s for n, _, s in r.efficiencies}
    for name in ("gemm_efficiency", "attention_efficiency", "memory_efficiency", "kernel_overhead"):
        assert sources[name] == "user"
    d = solve("Llama2_7B", "A100", phase="prefill")
    eff = efficiencies(engine_for(A100, "prefill", "llm"), A100)
    default = {n: s for n, _, s in d.efficiencies}
    assert d.engine == "tensorrt_llm"
    assert default["gemm_efficiency"] == eff.source_of("gemm") == "solver_dao2023_flashattention2"
    assert default["memory_efficiency"] == eff.source_of("memory")
    assert default["kernel_overhead"] == eff.source_of("kernel_overhead")


def test_strict_mode_names_the_missing_latency() -> None:
    with pytest.raises(InfeasibleError, match="so it has no latency"):
        solve("Llama2_70B", "A100", phase="decode", strict=True)


def test_distinct_experts_for_a_few_tokens() -> None:
    # Feller occupancy: E·(1 − (1 − k/E)^n); exactly k for one token (or fewer)
    assert expected_distinct_experts(8, 2, 1) == 2
    assert expected_distinct_experts(8, 2, 0.5) == 2
    assert expected_distinct_experts(8, 2, 2) == pytest.approx(8 * (1 - 0.75**2))
    assert expected_distinct_experts(8, 2, 3) == pytest.approx(8 * (1 - 0.75**3))


def test_mla_attention_scales_with_batch() -> None:
    one = solve("DeepSeekV3", "B200", phase="decode", precision="fp4", batch=1)
    four = solve("DeepSeekV3", "B200", phase="decode", precision="fp4", batch=4)
    attn = [sum(op.flops for op in r.ops if op.kind == "attention") for r in (one, four)]
    assert attn[1] == pytest.approx(4 * attn[0])


def test_a_narrower_kv_cache_moves_fewer_prefill_bytes() -> None:
    fp16 = solve("Llama2_7B", "H100", phase="prefill", seq_len=1024)
    fp8 = solve("Llama2_7B", "H100", phase="prefill", seq_len=1024, kv_cache="fp8")
    attention = [next(op for op in r.ops if op.kind == "attention") for r in (fp16, fp8)]
    assert attention[1].bytes < attention[0].bytes
    assert fp8.memory.kv_cache_bytes == pytest.approx(fp16.memory.kv_cache_bytes / 2)


def test_optimizer_update_runs_at_the_dense_rate_under_sparsity() -> None:
    r = solve("Llama3_2_1B", "A100", phase="training", sparsity="2:4", seq_len=256)
    update = r.ops[-1]
    assert update.kind == "optimizer"
    dense = r.dense_peak_flops_per_s
    bound = max(update.flops / dense, update.bytes / r.bandwidth_bytes_per_s)
    assert update.time_bound_s == pytest.approx(bound)


def test_communication_fast_paths_default_to_no_latency() -> None:
    # Thakur et al. 2005: ring all-reduce 2(n−1)/n·M/β; binomial tree 2⌈log2 n⌉·(α + M/β);
    # all-gather (n−1)/n·M/β
    M, n, bw = 1e9, 8.0, 100e9
    assert ring_allreduce_s(M, n, bw) == pytest.approx(2 * 7 / 8 * M / bw)
    assert tree_allreduce_s(M, n, bw) == pytest.approx(2 * 3 * M / bw)
    assert all_gather_s(M, n, bw) == pytest.approx(7 / 8 * M / bw)
    size, link = Q_("1 GB"), Q_("100 GB/s")
    t = tree_allreduce(size=size, n=8, bandwidth=link, latency=Q_("10 us"))
    assert t.to("s").magnitude == pytest.approx(2 * 3 * (10e-6 + 0.01))
    r = ring_allreduce(size=size, n=8, bandwidth=link, latency=Q_("10 us"))
    assert r.to("s").magnitude == pytest.approx(2 * 7 / 8 * 0.01 + 2 * 7 * 10e-6)
    g = all_gather(size=size, n=8, bandwidth=link, latency=Q_("10 us"))
    assert g.to("s").magnitude == pytest.approx(7 / 8 * 0.01 + 7 * 10e-6)
    assert math.ceil(math.log2(8)) == 3


def test_kv_cache_of_a_duck_typed_architecture_without_mla() -> None:
    arch = SimpleNamespace(layers=2, kv_heads=4, head_size=8)
    kv = kv_cache_bytes(model=SimpleNamespace(arch=arch), context=10, batch=3, precision="fp16")
    assert kv.to("B").magnitude == 2 * (2 * 4 * 8) * 10 * 3 * 2


def test_boards_without_16_bit_rates_default_to_fp32() -> None:
    # the AGX Orin's FP16 rate is derived (registry note): it defaults to fp16
    r = solve("MobileNetV2", "JetsonAGXOrin", phase="inference")
    assert r.weights_precision == "fp16" and r.precision == "fp16"
    assert solve("DSCNN_KWS", "STM32H743", phase="inference").precision == "fp32"
    assert solve("Llama2_7B", "TPUv4", phase="decode").precision == "bf16"
    assert solve("Llama2_7B", "V100", phase="decode").precision == "fp16"
    # a device with no float rate at all needs the format named
    with pytest.raises(mlsysim.UnsupportedPrecisionError, match="int8"):
        solve("MobileNetV2", "AppleM4", phase="inference")


def test_sequence_length_bounds_per_phase() -> None:
    assert solve("Llama2_7B", "A100", phase="decode", seq_len=0).seq_len == 0  # empty cache
    for phase in ("prefill", "training", "inference"):
        with pytest.raises(mlsysim.ConfigError, match="seq_len must be a whole number ≥ 1"):
            solve("Llama2_7B", "A100", phase=phase, seq_len=0)
    with pytest.raises(mlsysim.ConfigError, match="no decode phase"):
        solve("BERT_Base", "A100", phase="decode")


def test_multi_query_attention_is_a_valid_architecture() -> None:
    llama = mlsysim.Models.Llama2_7B
    mqa = llama.model_copy(
        update={"transformer": llama.transformer.model_copy(update={"kv_heads": 1}), "id": "MQA"}
    )
    r = solve(mqa, "A100", phase="decode", seq_len=100)
    full = solve("Llama2_7B", "A100", phase="decode", seq_len=100)
    assert r.memory.kv_cache_bytes == pytest.approx(full.memory.kv_cache_bytes / 32)


def test_derived_facts_are_reused_for_the_same_spec() -> None:
    from mlsysim.hardware.facts import device_facts
    from mlsysim.solvers.single_node import solver as single_node
    from mlsysim.workload.lowering import model_facts

    spec = mlsysim.Models.Llama2_7B
    assert model_facts(spec) is model_facts(spec)
    assert device_facts(A100) is device_facts(A100)
    plan = single_node._plan(None, {"recompute": "full"})
    assert single_node._plan(None, {"recompute": "full"}) is plan
    args = ("decode", "llm")
    assert single_node._resolve(A100, plan, *args) is single_node._resolve(A100, plan, *args)
    copy = A100.model_copy(update={"id": "A100_copy"})
    assert single_node._resolve(copy, plan, *args) is not single_node._resolve(A100, plan, *args)


def test_a_cnn_without_a_layer_table_moves_its_weights_and_input() -> None:
    m = mlsysim.Models.ResNet50.model_copy(update={"cnn": None, "id": "ResNet50_flat"})
    r = solve(m, "A100", phase="inference", batch=4, precision="fp16")
    (op,) = r.ops
    params = m.params.to("param").magnitude
    flops = m.flops_per_inference.to("FLOP").magnitude
    elems = 3 * 224 * 224
    assert op.kind == "gemm" and not op.name.endswith("dw")
    assert op.bytes == pytest.approx(params * 2 + 4 * elems * 2)
    assert r.memory.weights_bytes == pytest.approx(2 * params)
    assert r.memory.activations_bytes == pytest.approx(4 * elems * 2)
    # one fused GEMM at the engine's GEMM efficiency (its launch hidden behind it, the
    # device's per-kernel node time not)
    peak = r.dense_peak_flops_per_s
    eff = efficiencies(engine_for(A100, "inference", "cnn"), A100)
    body = max(4 * flops / (peak * eff.gemm), op.bytes / (2.039e12 * eff.memory))
    assert op.time_s == pytest.approx(body + eff.kernel_node)
    t = solve(m, "A100", phase="training", batch=4, optimizer="sgd")
    assert t.memory.optimizer_bytes == pytest.approx(4 * params)  # fp32 master copy
    assert t.ops[0].flops == pytest.approx(3 * 4 * flops)  # forward + 2x backward
    sparse = solve(m, "A100", phase="inference", batch=4, sparsity="2:4")
    assert sparse.ops[0].bytes < op.bytes
    assert sparse.ops[0].time_bound_s < r.ops[0].time_bound_s  # at the 2:4 sparse rate


def test_device_utilization_never_exceeds_one() -> None:
    from mlsysim.core.formulas import busy_fraction, device_utilization

    assert busy_fraction(2e12, 1e9, 1.0, 1e12, 1e12) == 1.0  # asked to beat the peak
    assert busy_fraction(0.5e12, 0.0, 1.0, 1e12, 1e12) == 0.5
    assert busy_fraction(0.0, 0.25e12, 1.0, 1e12, 1e12) == 0.25
    u = device_utilization(
        flops=Q_("3 TFLOP"),
        bytes=Q_("1 GB"),
        time=Q_("1 s"),
        peak=Q_("1 TFLOP/s"),
        bandwidth=Q_("1 TB/s"),
    )
    assert u == 1.0


def test_bad_model_specs_say_which_field() -> None:
    llama = mlsysim.Models.Llama2_7B
    mixtral = mlsysim.Models.Mixtral_8x7B
    resnet = mlsysim.Models.ResNet50
    cases = [
        (
            llama.model_copy(update={"params": Q_(0, "param"), "id": "b1"}),
            "b1: params must be positive, got 0.0",
            "give the stated count, e.g. '7B'",
        ),
        (
            mixtral.model_copy(update={"active_params": Q_(-1, "param"), "id": "b2"}),
            "b2: active_params must be positive, got -1.0",
            "e.g. '13B'",
        ),
        (
            resnet.model_copy(update={"flops_per_inference": Q_(0, "FLOP"), "id": "b3"}),
            "b3: flops_per_inference must be positive, got 0.0",
            "e.g. '4.1 GFLOP'",
        ),
        (
            llama.model_copy(
                update={
                    "transformer": llama.transformer.model_copy(update={"vocab": 0}),
                    "id": "b4",
                }
            ),
            "b4: transformer.vocab must be positive, got 0",
            "give vocab ≥ 1",
        ),
    ]
    for spec, what, fix in cases:
        phase = "inference" if spec.kind != "transformer" else "decode"
        with pytest.raises(mlsysim.ConfigError) as err:
            solve(spec, "H100", phase=phase)
        assert err.value.what == what
        assert err.value.fix == fix
        assert err.value.where == "model spec"
        assert err.value.why == "a model's sizes and counts are positive"
    arch = mixtral.transformer.model_copy(update={"active_experts": 9})
    with pytest.raises(mlsysim.ConfigError) as err:
        solve(mixtral.model_copy(update={"transformer": arch, "id": "b5"}), "H100", phase="decode")
    assert err.value.what == "b5: transformer.active_experts must lie in [1, experts], got 9 of 8"
    assert err.value.fix == "give the number of experts each token is routed to"
    assert err.value.where == "model spec"


def test_a_residual_add_after_a_depthwise_conv_reads_its_shortcut() -> None:
    # A MobileNetV2 inverted residual holds a depthwise conv, so it runs layer by layer: the
    # projection writes its output and its epilogue adds the shortcut it reads from memory.
    r = solve("MobileNetV2", "A100", phase="inference", batch=2, precision="int8")
    project = next(op for op in r.ops if op.name == "2.inverted_residual[1:2].project+add")
    from mlsysim.workload.lowering.cnn import cnn_layers

    layers, _ = cnn_layers(mlsysim.Models.MobileNetV2)
    proj = next(x for x in layers if x.name == "2.inverted_residual[1:2].project")
    weights = proj.kernel_elems + proj.c_out  # int8 weights + folded bias
    reads = 2 * proj.in_elems + 2 * proj.out_elems  # the depthwise output, the shortcut
    writes = 2 * proj.out_elems
    assert project.bytes == pytest.approx(weights + reads + writes)


@pytest.mark.parametrize(
    "call",
    [
        lambda: mlsysim.solve("Llama2_7B", "H100", hardware="A100", phase="decode"),
        lambda: mlsysim.generate("Llama2_7B", "H100", hardware="A100", prompt=128, output=16),
        lambda: mlsysim.serve("Llama2_7B", "H100", hardware="A100", prompt=128, output=16),
    ],
    ids=["solve", "generate", "serve"],
)
def test_the_system_is_given_once(call: Any) -> None:
    with pytest.raises(ConfigError, match="pass the system once"):
        call()
