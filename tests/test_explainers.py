"""Explainers: the binding wall in words and numbers, sourced derivations, differences."""

from __future__ import annotations

import pytest

from mlsysim import solve
from mlsysim.core.registry import catalog
from mlsysim.solvers.single_node.explain import diff, trace, trace_text, why
from mlsysim.solvers.single_node.results import SolveResult


@pytest.fixture(scope="module")
def base() -> SolveResult:
    return solve("Llama2_7B", "A100", phase="decode")


def test_why_memory_bandwidth_names_intensity_and_ridge(base: SolveResult) -> None:
    text = why(base)
    assert text.startswith("memory bandwidth binds")
    assert "ridge point of 153 FLOP/B" in text  # 312 TFLOP/s / 2.039 TB/s
    assert "below" in text


def test_why_compute_for_prefill() -> None:
    text = why(solve("Llama2_7B", "A100", phase="prefill", seq_len=2048))
    assert text.startswith("compute binds") and "above" in text


def test_why_capacity_gives_byte_counts() -> None:
    text = why(solve("Llama2_70B", "A100", phase="decode"))
    assert text.startswith("memory capacity binds")
    assert "138 GB" in text and "80 GB" in text


def test_trace_sources_resolve(base: SolveResult) -> None:
    steps = trace(base)
    known = catalog().sources
    cited = {s for step in steps for s in step.sources}
    assert "williams2009" in cited
    assert cited <= set(known)
    assert "A100" in trace_text(base)


def test_diff_a100_to_h100_moves_bandwidth(base: SolveResult) -> None:
    d = diff(base, solve("Llama2_7B", "H100", phase="decode"))
    assert d.wall_before == d.wall_after == "memory_bandwidth"
    # bandwidth ratio 3.35 / 2.039 = 1.64: memory time shrinks by about that much
    memory = dict((p, (x, y)) for p, x, y in d.parts)["memory"]
    assert memory[0] / memory[1] == pytest.approx(3.35 / 2.039, rel=0.02)
    assert "hardware A100→H100" in d.text


def test_diff_batch_and_precision(base: SolveResult) -> None:
    d = diff(base, solve("Llama2_7B", "A100", phase="decode", batch=64))
    assert "batch 1→64" in d.text and "per token" in d.text
    q = diff(base, solve("Llama2_7B", "A100", phase="decode", precision="int4"))
    assert q.speedup is not None and q.speedup > 2
    cap = diff(
        solve("Llama2_70B", "A100", phase="decode"),
        solve("Llama2_70B", "A100", phase="decode", precision="int4"),
    )
    assert cap.wall_before == "memory_capacity" and cap.wall_after != "memory_capacity"
