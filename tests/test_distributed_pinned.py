"""Every distributed-solver output pinned to golden values computed through the formulas.

``tests/golden/distributed_outputs.json`` holds the JSON form of a set of parallel solves —
TP, PP (1F1B, GPipe, interleaved), DP with ZeRO 0–3, SP, CP, EP, full/selective/no
recomputation, unfused attention with dropout, inference and decode — plus the float fields
the JSON leaves out (model, hardware and executed FLOPs per step, the bounds, the time split).
A change in the sharded lowering, the collectives or the composition changes a number here
(``tests/test_distributed_validation.py`` checks them against published measurements;
``tests/test_solver_consistency.py`` checks MFU, HFU and power against their formulas).
Regenerate deliberately with ``MLSYSIM_UPDATE_GOLDEN=1 pytest tests/test_distributed_pinned.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlsysim import solve
from tests.test_solver_pinned import _compare

GOLDEN = Path(__file__).parent / "golden" / "distributed_outputs.json"

_GPT = dict(model="GPT_22B", phase="training", seq_len=2048)
CASES: list[tuple[str, dict[str, Any]]] = [
    ("gpt22b_tp8", dict(**_GPT, system="DGX_A100", tp=8, batch=8)),
    (
        "gpt22b_tp8_sp_full",
        dict(**_GPT, system="DGX_A100", tp=8, sp=True, batch=8, recompute="full"),
    ),
    (
        "gpt22b_tp4_pp2_interleaved",
        dict(**_GPT, system="DGX_A100", tp=4, pp=2, chunks=2, batch=16, microbatch=2),
    ),
    (
        "gpt22b_tp2_pp4_gpipe",
        dict(**_GPT, system="DGX_A100", tp=2, pp=4, batch=8, schedule="gpipe"),
    ),
    *(
        (
            f"llama7b_dp8_zero{z}",
            dict(
                model="Llama2_7B",
                system="DGX_H100",
                phase="training",
                seq_len=1024,
                batch=16,
                zero=z,
            ),
        )
        for z in (0, 1, 2, 3)
    ),
    (
        "llama7b_dp8_sgd_bf16_grads",
        dict(
            model="Llama2_7B",
            system="DGX_H100",
            phase="training",
            seq_len=1024,
            batch=16,
            optimizer="sgd_momentum",
            gradients="bf16",
            recompute="none",
        ),
    ),
    (
        "llama3_8b_cp2_tp4",
        dict(
            model="Llama3_8B",
            system="DGX_H100",
            phase="training",
            seq_len=8192,
            cp=2,
            tp=4,
            batch=2,
        ),
    ),
    (
        "mixtral_ep8",
        dict(
            model="Mixtral_8x7B", system="DGX_H100", phase="training", seq_len=1024, ep=8, batch=8
        ),
    ),
    (
        "gpt22b_unfused_dropout",
        dict(**_GPT, system="DGX_A100", tp=8, batch=8, attention="unfused", dropout=True),
    ),
    (
        "gpt175b_cluster",
        dict(
            model="GPT3_175B",
            system="SuperPOD_A100",
            phase="training",
            seq_len=2048,
            devices=64,
            tp=8,
            pp=8,
            chunks=3,
            sp=True,
            batch=64,
        ),
    ),
    (
        "llama70b_prefill_tp8",
        dict(model="Llama2_70B", system="DGX_H100", phase="prefill", tp=8, batch=8),
    ),
    (
        "llama70b_decode_tp8_fp8",
        dict(
            model="Llama2_70B", system="DGX_H100", phase="decode", tp=8, batch=32, precision="fp8"
        ),
    ),
    (
        "deepseekv3_ep64_fp8",
        dict(
            model="DeepSeekV3",
            system="H100_1024",
            phase="training",
            seq_len=1024,
            devices=512,
            tp=8,
            ep=64,
            batch=64,
            precision="fp8",
        ),
    ),
    (
        "deepseekv3_decode_ep8",
        dict(
            model="DeepSeekV3",
            system="H100_1024",
            phase="decode",
            devices=64,
            tp=8,
            ep=8,
            batch=64,
            precision="fp8",
        ),
    ),
    (
        "llama3_8b_tp16_over_kv_heads",
        dict(model="Llama3_8B", system="H100_1024", phase="training", devices=16, tp=16, batch=4),
    ),
    (
        "gpt175b_pp7_uneven",
        dict(
            model="GPT3_175B",
            system="SuperPOD_A100",
            phase="training",
            devices=56,
            tp=8,
            pp=7,
            batch=56,
        ),
    ),
    (
        "mixtral_tp2_pp2_ep8",
        dict(
            model="Mixtral_8x7B",
            system="H100_1024",
            phase="training",
            seq_len=1024,
            devices=32,
            tp=2,
            pp=2,
            ep=8,
            batch=32,
        ),
    ),
    (
        "llama70b_decode_pp2_tp4",
        dict(model="Llama2_70B", system="DGX_H100", phase="decode", tp=4, pp=2, batch=8),
    ),
]

_FLOATS = (
    "model_flops_per_step",
    "hardware_flops_per_step",
    "flops_per_step",
    "tokens_per_step",
    "step_time_bound_s",
    "latency_s",
    "latency_bound_s",
    "peak_flops_per_s",
    "compute_s",
    "memory_s",
    "overhead_s",
    "bubble_s",
    "optimizer_s",
)


def _pinned(kw: dict[str, Any]) -> dict[str, Any]:
    r = solve(**kw)
    data = r.to_dict()
    data.pop("explanation")  # words, not physics
    data["floats"] = {k: getattr(r, k) for k in _FLOATS}
    return data


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
