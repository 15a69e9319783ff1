"""FP8 training casts each GEMM's operands, as Transformer Engine's Linear layers do.

Transformer Engine v1.12 (citation ``solver_te_fp8_linear``): a Linear's forward runs
``fp8_cast_transpose_fused`` on its 16-bit input (read 2 bytes, write the FP8 copy and its
FP8 transpose: 1 + 1), a LayerNormLinear's norm writes FP8 itself and its backward only
transposes it (read 1, write 1), and every backward casts and transposes the output
gradient (``fp8_cast_transpose_bgrad_fused``). The byte counts below are derived by hand
from those kernels, not read from the lowering.
"""

from __future__ import annotations

from typing import Any

import pytest

import mlsysim

# Llama 3 8B, one sequence of 2,048 tokens: h 4,096; QKV out 4,096 + 2 x 8 x 128 = 6,144;
# gated FFN 2 x 14,336 wide, 14,336 in; 32 layers
M, H, QKV, FF = 2048.0, 4096.0, 6144.0, 14336.0


def _ops(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"phase": "training", "seq_len": 2048, "precision": "fp8", **kw}
    r = mlsysim.solve("Llama3_8B", "H100", **args)
    return {o.name: o for o in r.ops}


def test_each_fp8_gemm_pays_transformer_engine_casts() -> None:
    ops = _ops()
    want = {
        # the norm wrote FP8: a transpose of the input (1 + 1 B), the gradient cast (2 + 1 + 1)
        "qkv_proj_fp8_cast": M * H * 2 + M * QKV * 4,
        "ffn_up_fp8_cast": M * H * 2 + M * 2 * FF * 4,
        # a 16-bit input: cast and transposed in the forward (2 + 1 + 1), the gradient too
        "out_proj_fp8_cast": M * H * 4 + M * H * 4,
        "ffn_down_fp8_cast": M * FF * 4 + M * H * 4,
    }
    for name, nbytes in want.items():
        op = ops[name]
        assert op.bytes == pytest.approx(nbytes * op.repeat, rel=1e-12), name  # all layers
        assert op.repeat == 32 and op.flops == 0.0 and op.bound == "memory"
        assert op.kernels == 2.0 * 32  # one forward kernel and one backward, in each layer
    # the LM head and its loss stay 16-bit: no casts
    assert not any(n.startswith(("lm_head_", "moe_router_")) for n in ops)


def test_full_recompute_casts_the_unnormed_inputs_again() -> None:
    sel, full = _ops(recompute="selective"), _ops(recompute="full")
    assert full["out_proj_fp8_cast"].bytes == pytest.approx(32 * (M * H * 4 * 2 + M * H * 4))
    assert full["out_proj_fp8_cast"].kernels == 3.0 * 32
    # the norm's FP8 output is transposed once, in the backward, whatever the recompute
    assert full["qkv_proj_fp8_cast"].bytes == sel["qkv_proj_fp8_cast"].bytes


@pytest.mark.parametrize(
    "kw",
    [
        {"precision": "bf16"},  # 16-bit GEMMs: nothing to cast
        {"phase": "prefill", "batch": 1},  # inference engines fuse quantization into producers
    ],
)
def test_no_casts_outside_fp8_training(kw: dict[str, Any]) -> None:
    assert not any(n.endswith("_fp8_cast") for n in _ops(**kw))
