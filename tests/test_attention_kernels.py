"""Decode attention kernels: a grouped kernel reads each shared K/V head once; TensorRT-LLM's
masked multi-head attention before XQA (``attention="per_query_head"``) runs "a single CUDA
thread-block per head" (TensorRT-LLM gpt-attention docs), so each query head reads its K/V
head's cache again (XQA, v0.8, "reduc[es] data loading" for MQA/GQA: the XQA blog)."""

from __future__ import annotations

import pytest

import mlsysim
from mlsysim import solve
from mlsysim.core.exceptions import ConfigError


def _attention_bytes(model: str, kernel: str, **kw: object) -> float:
    r = solve(model, "H100", attention=kernel, **kw)
    (op,) = [o for o in r.ops if o.name == "attention"]
    return op.bytes  # all layers (the timing counts every repeat)


def test_per_query_head_reads_the_cache_once_per_query_head() -> None:
    """Llama 2 70B (64 query heads over 8 K/V heads, 80 layers): the per-head kernel reads the
    whole cache 64/8 = 8 times over; everything else about the op is unchanged."""
    arch = mlsysim.Models["Llama2_70B"].arch
    b, s = 16, 1024
    kw = {"phase": "decode", "batch": b, "seq_len": s, "precision": "fp16"}
    grouped = _attention_bytes("Llama2_70B", "flash", **kw)
    per_head = _attention_bytes("Llama2_70B", "per_query_head", **kw)
    d = arch.head_size
    extra = arch.layers * b * s * 2 * (arch.heads - arch.kv_heads) * d * 2  # fp16 K and V
    assert per_head - grouped == pytest.approx(extra, rel=1e-12)
    assert per_head > grouped


@pytest.mark.parametrize(
    ("model", "phase"),
    [("Llama2_7B", "decode"), ("Llama2_70B", "prefill")],
    ids=["multi-head decode", "GQA prefill"],
)
def test_per_query_head_changes_nothing_else(model: str, phase: str) -> None:
    """Multi-head attention has one K/V head per query head, and prefill's fused kernel reads
    the new tokens' K and V once either way."""
    kw = {"phase": phase, "batch": 4, "seq_len": 512, "precision": "fp16"}
    a = solve(model, "H100", attention="flash", **kw)
    b = solve(model, "H100", attention="per_query_head", **kw)
    assert a.latency_s == b.latency_s
    assert a.latency_bound_s == b.latency_bound_s


def test_attention_kernel_choice_is_checked() -> None:
    with pytest.raises(ConfigError, match="per_query_head"):
        solve("Llama2_7B", "H100", phase="decode", attention="mmha")
