"""Model FLOPs counted as the sources count them (``flop_params``, the N of 6N + 12LHQT).

Narayanan et al. 2021 Eq. 3 (Megatron-LM's count, also the Megatron-Core README's) has no
FLOPs for the embedding lookup and 6·B·s·h·V for the logits; PaLM (Chowdhery et al. 2022,
App. B) counts its shared input/output embedding once. The solvers' model FLOPs follow.
"""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Q_
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas import flop_params, mfu, model_flops_per_token


def _megatron_model_flops(B: int, s: int, l: int, h: int, V: int) -> float:
    """Narayanan et al. 2021 Eq. 3 with three passes (no recomputation: 72 = 3 · 24)."""
    return 72.0 * B * s * l * h**2 * (1 + s / (6 * h) + V / (12 * l * h))


def _n(value: object) -> float:
    return Q_(value).to("param").magnitude  # type: ignore[arg-type]


def test_lookup_tables_are_not_matmul_parameters() -> None:
    # untied: the input table is a lookup, the output layer counts once; learned positions too
    n = flop_params(params=1.754e9, vocab=131072, hidden=2048, lookup_rows=4096)
    assert _n(n) == pytest.approx(1.754e9 - 131072 * 2048 - 4096 * 2048)
    # tied: the one table is the output layer
    assert _n(flop_params(params=1e9, vocab=1000, hidden=100, tied=True)) == pytest.approx(1e9)
    # no output layer in the step (an encoder's inference): the table is only looked up
    n = flop_params(params=1e9, vocab=1000, hidden=100, tied=True, head=False)
    assert _n(n) == pytest.approx(1e9 - 1e5)
    with pytest.raises(FormulaDomainError, match="lookup tables"):
        flop_params(params=1e5, vocab=1000, hidden=100)


def test_palm_counts_its_shared_embedding_once() -> None:
    # Chowdhery et al. 2022 App. B: N = 540.35B (vocabulary 256k, model width 18,432, shared
    # input/output embedding, RoPE), 238.3K tokens/s on 6144 TPU v4 -> MFU 46.2 %
    n = flop_params(params=540.35e9, vocab=256000, hidden=18432, tied=True)
    assert _n(n) == pytest.approx(540.35e9)
    c = model_flops_per_token(params=n, layers=118, heads=48, head_dim=256, seq_len=2048)
    peak = 6144 * mlsysim.Hardware.TPUv4.peak_flops("bf16")
    u = mfu(throughput=Q_("238.3e3 token/s"), flops_per_token=c, peak=peak)
    assert u == pytest.approx(0.462, abs=0.002)


@pytest.mark.parametrize(
    "model, devices, batch, s, l, h, V, tp",
    [
        # Narayanan et al. 2021 Table 1, row 1.7B (tied embedding, learned positions)
        ("GPT_1_7B", 32, 512, 2048, 24, 2304, 51200, 1),
        # Megatron-Core README H100 table, row 1.7B (untied output layer, vocabulary 131,072)
        ("GPT_MCORE_1_7B", 48, 192, 4096, 24, 2048, 131072, 1),
        ("GPT_MCORE_7_1B", 96, 192, 4096, 30, 4096, 131072, 2),
    ],
)
def test_solver_model_flops_are_megatron_eq3(
    model: str, devices: int, batch: int, s: int, l: int, h: int, V: int, tp: int
) -> None:
    system = "DGX_A100" if model == "GPT_1_7B" else "DGX_H100"
    r = mlsysim.solve(
        model, system, phase="training", devices=devices, batch=batch, seq_len=s, tp=tp
    )
    # Eq. 3 leaves out biases and norms (13·l·h of 12·l·h²): equal to within 0.1 %
    assert r.model_flops_per_step == pytest.approx(_megatron_model_flops(batch, s, l, h, V), 1e-3)


def test_encoder_inference_counts_no_vocabulary_table() -> None:
    # BERT-Base inference runs no output layer: its 30,522 x 768 table, 512 learned positions
    # and 2 token types are looked up, not multiplied
    r = mlsysim.solve("BERT_Base", "T4", phase="prefill", batch=8, seq_len=128)
    n = 110e6 - (30522 + 512 + 2) * 768
    per_token = 2 * n + 4 * 12 * 12 * 64 * 128
    assert r.model_flops == pytest.approx(8 * 128 * per_token)


def test_full_recompute_reruns_the_layers_not_the_head() -> None:
    # Narayanan et al. 2021 Eq. 3 (Table 1's TFLOP/s): 96·B·s·l·h²(1 + s/6h + V/16lh) — four
    # passes of the layers, three of the logits (full recomputation checkpoints the layers)
    B, s, l, h, V = 512, 2048, 24, 2304, 51200
    r = mlsysim.solve(
        "GPT_1_7B", "DGX_A100", phase="training", devices=32, batch=B, seq_len=s,
        recompute="full", attention="unfused", dropout=True,
    )  # fmt: skip
    eq3 = 96.0 * B * s * l * h**2 * (1 + s / (6 * h) + V / (16 * l * h))
    assert r.hardware_flops_per_step == pytest.approx(eq3, rel=1e-3)
    flops = {
        mode: {
            op.name: op.flops
            for op in mlsysim.solve(
                "GPT_1_7B", "A100", phase="training", seq_len=s, recompute=mode
            ).ops
        }
        for mode in ("none", "full")
    }
    for name in ("final_add_norm", "lm_head", "loss"):
        assert flops["full"][name] == flops["none"][name], name
    assert flops["full"]["ffn_up"] == pytest.approx(4 / 3 * flops["none"]["ffn_up"])


@pytest.mark.parametrize(
    "gpus, batch, tokens_per_s, mfu_pct",
    [(256, 768, 39.3e3, 53.0), (1024, 768, 132.7e3, 44.7), (3072, 6144, 433.6e3, 48.7),
     (6144, 6144, 851.6e3, 47.8), (12288, 6144, 1466.8e3, 41.2)],
)  # fmt: skip
def test_megascale_mfu_is_megatron_model_flops(
    gpus: int, batch: int, tokens_per_s: float, mfu_pct: float
) -> None:
    # Jiang et al. 2024 (MegaScale) Table 2, Megatron-LM rows: the MFU its throughput implies
    # at the A100's 312 TFLOP/s with our model FLOPs is the printed one, within 0.4 % (three
    # digits; the biases and norms Eq. 3 leaves out are 0.14 %): the count that turns the
    # paper's MFU-only rows (Table 3, Figure 9) into tokens/s in published_configs_more.toml
    r = mlsysim.solve(
        "GPT_MEGASCALE_175B", "DGX_A100", phase="training", devices=gpus, batch=batch,
        seq_len=2048, tp=8, pp=8, chunks=6, sp=True,
    )  # fmt: skip
    peak = mlsysim.Hardware.A100.peak_flops("bf16").to("flop/s").magnitude
    per_token = r.model_flops_per_step / r.tokens_per_step
    assert per_token * tokens_per_s / (gpus * peak) == pytest.approx(mfu_pct / 100, rel=4e-3)
    assert per_token == pytest.approx(_megatron_model_flops(1, 2048, 96, 12288, 64000) / 2048, 2e-3)
