"""Every solver output pinned: published figures where they exist, golden values otherwise.

* Published: optimizer-state bytes per parameter (ZeRO, Megatron-LM), PaLM's MFU and its HFU
  ratio under full rematerialization, the accelerator idle-power figure.
* Golden: ``tests/golden/solver_outputs.json`` holds the full JSON form of a set of solves
  spanning phases, precisions, optimizers, recompute modes, sparsity, MoE, MLA, CNNs and an
  MCU, computed through the formulas (``tests/test_solver_consistency.py`` checks each field
  against its formula). Any change of the physics changes a number here and fails; regenerate
  deliberately with ``MLSYSIM_UPDATE_GOLDEN=1 pytest tests/test_solver_pinned.py`` and say
  why in the commit.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

import mlsysim
from mlsysim import Q_, solve
from mlsysim.core.constants import ACCELERATOR_IDLE_POWER_FRACTION
from mlsysim.core.formulas import (
    device_power,
    hardware_flops_per_token,
    hfu,
    mfu,
    model_flops_per_token,
    training_memory,
)

GOLDEN = Path(__file__).parent / "golden" / "solver_outputs.json"

#: (name, solve keywords)
CASES: list[tuple[str, dict[str, Any]]] = [
    ("llama2_7b_a100_decode", dict(model="Llama2_7B", hardware="A100", phase="decode")),
    (
        "llama2_7b_h100_prefill_fp8",
        dict(model="Llama2_7B", hardware="H100", phase="prefill", seq_len=2048, precision="fp8"),
    ),
    ("llama2_70b_h100_decode_fp16", dict(model="Llama2_70B", hardware="H100", phase="decode")),
    (
        "llama2_70b_h100_decode_int4_b8",
        dict(model="Llama2_70B", hardware="H100", phase="decode", precision="int4", batch=8),
    ),
    *(
        (
            f"llama3_8b_h100_training_{mode}",
            dict(
                model="Llama3_8B",
                hardware="H100",
                phase="training",
                seq_len=2048,
                recompute=mode,
                precision="fp8",
            ),
        )
        for mode in ("none", "selective", "full")
    ),
    *(
        (
            f"llama3_2_1b_h100_training_{opt}",
            dict(model="Llama3_2_1B", hardware="H100", phase="training", optimizer=opt),
        )
        for opt in ("adam", "sgd", "sgd_momentum", "adam_8bit")
    ),
    (
        "llama3_2_1b_a100_training_bf16_grads",
        dict(model="Llama3_2_1B", hardware="A100", phase="training", gradients="bf16", batch=4),
    ),
    (
        "mixtral_h100_decode_fp8_b16",
        dict(model="Mixtral_8x7B", hardware="H100", phase="decode", precision="fp8", batch=16),
    ),
    (
        "deepseekv3_b200_decode_fp4",
        dict(model="DeepSeekV3", hardware="B200", phase="decode", precision="fp4"),
    ),
    (
        "llama2_7b_a100_prefill_sparse",
        dict(model="Llama2_7B", hardware="A100", phase="prefill", sparsity="2:4"),
    ),
    (
        "bert_base_t4_inference_b8",
        dict(model="BERT_Base", hardware="T4", phase="inference", seq_len=128, batch=8),
    ),
    (
        "resnet50_a100_inference_int8_b32",
        dict(model="ResNet50", hardware="A100", phase="inference", precision="int8", batch=32),
    ),
    (
        "resnet50_a100_training_b64",
        dict(model="ResNet50", hardware="A100", phase="training", batch=64, optimizer="sgd"),
    ),
    (
        "mobilenetv2_orin_inference",
        dict(model="MobileNetV2", hardware="JetsonAGXOrin", phase="inference", precision="int8"),
    ),
    (
        "dscnn_stm32_inference",
        dict(model="DSCNN_KWS", hardware="STM32H743", phase="inference", precision="int8"),
    ),
    ("llama2_7b_tpuv4_decode", dict(model="Llama2_7B", hardware="TPUv4", phase="decode")),
    (
        "deepseekv3_b200_decode_fp4_b4",
        dict(model="DeepSeekV3", hardware="B200", phase="decode", precision="fp4", batch=4),
    ),
    (
        "deepseekv3_b200_prefill_fp8",
        dict(model="DeepSeekV3", hardware="B200", phase="prefill", precision="fp8", seq_len=256),
    ),
    (
        "llama2_7b_h100_prefill_kv_fp8",
        dict(model="Llama2_7B", hardware="H100", phase="prefill", kv_cache="fp8", seq_len=1024),
    ),
    (
        "resnet50_a100_inference_sparse",
        dict(model="ResNet50", hardware="A100", phase="inference", sparsity="2:4", batch=16),
    ),
    (
        "resnet50_a100_training_sparse_full",
        dict(
            model="ResNet50",
            hardware="A100",
            phase="training",
            sparsity="2:4",
            recompute="full",
            batch=32,
        ),
    ),
    (
        "mobilenetv2_a100_training",
        dict(model="MobileNetV2", hardware="A100", phase="training", batch=32, recompute="full"),
    ),
    (
        "mobilenetv2_a100_inference_sparse",
        dict(model="MobileNetV2", hardware="A100", phase="inference", sparsity="2:4", batch=8),
    ),
    (
        "mobilenetv2_a100_training_sparse",
        dict(model="MobileNetV2", hardware="A100", phase="training", sparsity="2:4", batch=8),
    ),
    (
        "dscnn_orin_training",
        dict(model="DSCNN_KWS", hardware="JetsonAGXOrin", phase="training", batch=8),
    ),
    (
        "mixtral_h100_training_fp8",
        dict(model="Mixtral_8x7B", hardware="H100", phase="training", precision="fp8", seq_len=128),
    ),
    (
        "llama2_7b_a100_training_unfused_dropout",
        dict(
            model="Llama2_7B",
            hardware="A100",
            phase="training",
            seq_len=512,
            attention="unfused",
            dropout=True,
            recompute="none",
            optimizer="sgd",
        ),
    ),
    (
        "llama2_7b_h100_prefill_unfused",
        dict(
            model="Llama2_7B", hardware="H100", phase="prefill", seq_len=1024, attention="unfused"
        ),
    ),
    (
        "llama2_7b_h100_decode_unfused_selective",
        dict(model="Llama2_7B", hardware="H100", phase="decode", attention="unfused", batch=4),
    ),
    (
        "deepseekv3_b200_prefill_unfused",
        dict(
            model="DeepSeekV3",
            hardware="B200",
            phase="prefill",
            precision="fp8",
            seq_len=128,
            attention="unfused",
        ),
    ),
    (
        "gpt3_h100_decode_int8_b2",
        dict(model="GPT3_175B", hardware="H100", phase="decode", precision="int8", batch=2),
    ),
]


def _pinned(kw: dict[str, Any]) -> dict[str, Any]:
    data = solve(**kw).to_dict()
    data.pop("explanation")  # words, not physics (tests/test_explainers.py covers them)
    return data


def _compare(got: Any, want: Any, path: str) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), path
        for k in want:
            _compare(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _compare(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, int | float), path
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-30), f"{path}: {got} != {want}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def test_the_single_node_entry_points_agree() -> None:
    from mlsysim.solvers.single_node.solver import SingleNodeSolver
    from mlsysim.solvers.single_node.solver import solve as solve_one

    kw = dict(phase="training", seq_len=256, recompute="full", optimizer="adamw")
    a = solve_one("Llama3_2_1B", "A100", **kw).to_dict()
    b = solve("Llama3_2_1B", "A100", **kw).to_dict()
    c = SingleNodeSolver().solve("Llama3_2_1B", "A100", **kw).to_dict()
    assert a == b == c
    assert solve_one(model="Llama3_2_1B", hardware="A100", phase="decode").batch == 1


def test_golden_file_covers_every_case() -> None:
    if os.environ.get("MLSYSIM_UPDATE_GOLDEN"):
        golden = {name: _pinned(kw) for name, kw in CASES}
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(golden) == sorted(name for name, _ in CASES)


@pytest.mark.parametrize("name, kw", CASES, ids=[c[0] for c in CASES])
def test_every_output_matches_its_golden_value(name: str, kw: dict[str, Any]) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    _compare(_pinned(kw), golden[name], name)


# -- published figures ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "optimizer, precision, per_param",
    [
        # ZeRO (Rajbhandari et al. 2020, §3.1): mixed-precision Adam keeps K = 12 B/param
        ("adam", "bf16", 12),
        ("adamw", "bf16", 12),
        # plain SGD keeps no state: only the fp32 master copy of mixed precision
        ("sgd", "bf16", 4),
        ("sgd_momentum", "bf16", 8),
        # 8-bit Adam (Dettmers et al. 2022): fp32 master + two 1-byte moments
        ("adam_8bit", "bf16", 6),
        # fp32 weights need no master copy: Adam's two fp32 moments only
        ("adam", "fp32", 8),
        ("sgd", "fp32", 0),
    ],
)
def test_optimizer_state_per_parameter(optimizer: str, precision: str, per_param: float) -> None:
    params = mlsysim.Models.Llama3_2_1B.params
    n = params.to("param").magnitude
    r = solve("Llama3_2_1B", "H100", phase="training", optimizer=optimizer, precision=precision)
    assert r.memory.optimizer_bytes == pytest.approx(per_param * n)
    t = training_memory(params=params, optimizer=optimizer, precision=precision)
    assert t.optimizer.to("B").magnitude == pytest.approx(per_param * n)


def test_megatron_bytes_per_parameter() -> None:
    # Megatron-LM distributed-optimizer table: bf16 params + fp32 grads 18 B/param; fp32 params
    # and grads 16 B/param; ZeRO's 16-bit gradients 16 B/param.
    def per_param(**kw: Any) -> float:
        r = solve("Llama3_2_1B", "H100", phase="training", **kw)
        n = r.model_spec.params.to("param").magnitude
        m = r.memory
        return (m.weights_bytes + m.gradients_bytes + m.optimizer_bytes) / n

    assert per_param() == pytest.approx(18)
    assert per_param(precision="fp32", activations="bf16") == pytest.approx(16)
    assert per_param(gradients="bf16") == pytest.approx(16)


def test_palm_540b_mfu_and_hfu_from_the_named_formulas() -> None:
    # Chowdhery et al. 2022, Table 3 / App. B: 238.3K tokens/s on 6144 TPU v4 → MFU 46.2 %;
    # full rematerialization: hardware FLOPs 8N + 16LHQT = 4/3 of the model FLOPs.
    kw = dict(params=540.35e9, layers=118, heads=48, head_dim=256, seq_len=2048)
    peak = 6144 * mlsysim.Hardware.TPUv4.peak_flops("bf16")
    rate = Q_("238.3e3 token/s")
    u = mfu(throughput=rate, flops_per_token=model_flops_per_token(**kw), peak=peak)
    assert u == pytest.approx(0.462, abs=0.002)
    hw = hardware_flops_per_token(**kw, recompute="full")
    assert hfu(throughput=rate, hardware_flops_per_token=hw, peak=peak) == pytest.approx(4 / 3 * u)
    forward_flops = model_flops_per_token(**kw, training=False)
    assert (model_flops_per_token(**kw) / forward_flops).to("").magnitude == pytest.approx(3)


def test_solver_mfu_counts_attention_in_full() -> None:
    # causal attention halves the executed FLOPs but not the model FLOPs (PaLM, Korthikanti)
    r = solve("Llama3_2_1B", "H100", phase="training", seq_len=4096, recompute="none")
    arch = r.model_spec.transformer
    n = r.model_spec.params
    per_token = model_flops_per_token(
        params=n, layers=arch.layers, heads=arch.heads, head_dim=arch.head_size, seq_len=4096
    )
    assert r.model_flops == pytest.approx(4096 * per_token.to("FLOP/token").magnitude)
    attention = sum(op.flops for op in r.ops if op.kind == "attention")
    full_attention = 4096 * 12 * arch.layers * arch.heads * arch.head_size * 4096
    assert attention == pytest.approx(full_attention * 4097 / 4096 / 2)  # the causal half
    assert r.hfu == pytest.approx(r.mfu)  # no recomputation


def test_idle_power_is_in_the_energy_model() -> None:
    # Jouppi et al. 2017, Table 2: a K80 GPU die idles at 25 W of its 150 W TDP
    assert ACCELERATOR_IDLE_POWER_FRACTION.value == pytest.approx(1 / 6)
    r = solve("Llama2_7B", "A100", phase="decode")
    floor = 400 * ACCELERATOR_IDLE_POWER_FRACTION.value
    busy = r.power_w - floor
    assert r.power_w > floor > 0
    # P = TDP·(f + (1 − f)·u): the utilization-driven part alone is 5/6 of TDP·u
    u = busy / (400 * (1 - ACCELERATOR_IDLE_POWER_FRACTION.value))
    p = device_power(tdp=Q_("400 W"), utilization=u)
    assert p.to("W").magnitude == pytest.approx(r.power_w)
    assert r.energy.to("J").magnitude == pytest.approx(r.power_w * r.latency_s)
