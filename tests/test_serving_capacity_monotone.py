"""More KV memory never gives a served model less capacity.

The saturated engine's rate at ``n`` decodes is ``n/(o·T(n))``. ``T`` jumps one token past a
GEMM tile boundary (the rows pad into another row of tiles, or another wave), so that rate
can fall as the batch grows: capacity used to be taken at the fullest batch the KV cache
holds, and one more slot could cost up to 29 % of it (Llama-2-13B on an A100, 128 → 129
slots). An engine admits only what arrives, so it sustains the best rate of any batch it can
hold; the capacity is that best rate, and the engine's batch is held there (limit
``gemm_tiles``).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsysim.solvers.serving.serve import serve

#: Float rounding only.
_ROUNDING = 1e-9


def _capacities(model: str, device: str, knob: str, values: list[float], **kw: object) -> list:
    out = []
    for v in values:
        r = serve(model, device, replicas=1, **{knob: v}, **kw)
        out.append((v, r.kv_slots if r.feasible else 0.0, r.capacity_rps if r.feasible else 0.0))
    return out


def _assert_non_decreasing(rows: list) -> None:
    best = 0.0
    for v, slots, cap in rows:
        assert cap >= best * (1.0 - _ROUNDING), (v, slots, cap, best, rows)
        best = max(best, cap)


def test_one_more_slot_past_a_tile_boundary_keeps_the_capacity() -> None:
    # 128 → 129 slots: 256 → 258 tokens per iteration, a third row of 128-row tiles (was −29 %)
    rows = _capacities(
        "Llama2_13B",
        "A100",
        "memory_utilization",
        [0.55 + 0.005 * i for i in range(21)],
        prompt=128,
        output=128,
    )
    assert min(s for _, s, _ in rows) <= 128 < max(s for _, s, _ in rows)
    _assert_non_decreasing(rows)
    r = serve("Llama2_13B", "A100", prompt=128, output=128, replicas=1, memory_utilization=0.62)
    assert r.kv_slots > 128 and r.limit == "gemm_tiles"
    n_star, _ = r.saturation
    assert n_star == pytest.approx(128.0)  # 256 tokens: 128 decodes and 128 prefill tokens
    assert "GEMM tile boundary" in r.explanation
    # the held batch serves more than the full one, and the rate stays below the capacity
    assert r.capacity_rps > r.replica.saturated_at(r.kv_slots)[1]
    below = serve(
        "Llama2_13B",
        "A100",
        prompt=128,
        output=128,
        replicas=1,
        memory_utilization=0.62,
        rate=f"{0.9 * r.capacity_rps} req/s",
    )
    assert below.stable and below.concurrency < n_star


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    model=st.sampled_from(["Llama2_7B", "Llama3_8B", "Llama2_13B"]),
    device=st.sampled_from(["A100", "H100", "L4"]),
    prompt=st.integers(8, 2048),
    output=st.integers(4, 1024),
    scheduler=st.sampled_from(["chunked", "prefill_first"]),
    draft=st.booleans(),
    knob=st.sampled_from(["memory_utilization", "kv_fraction"]),
    values=st.lists(st.floats(0.3, 0.99), min_size=3, max_size=6),
)
def test_capacity_never_falls_with_more_kv_memory(
    model: str,
    device: str,
    prompt: int,
    output: int,
    scheduler: str,
    draft: bool,
    knob: str,
    values: list[float],
) -> None:
    kw: dict[str, object] = {"prompt": prompt, "output": output, "scheduler": scheduler}
    if draft and model != "Llama2_7B":
        kw.update(draft="Llama2_7B" if model == "Llama2_13B" else "Llama3_8B", acceptance=0.7)
        if model == "Llama3_8B":
            return  # no smaller Llama 3 draft in the registry
    _assert_non_decreasing(_capacities(model, device, knob, sorted(set(values)), **kw))


@pytest.mark.xfail(
    strict=True,
    reason="known gap: a mixture of experts' grouped GEMM pads each expert's expected rows on "
    "their own, so its waves change at token counts off the tile grid that the held batch "
    "searches; Mixtral-8x7B on 2 A100s (512/256, chunked) loses 6.7 % of its capacity from "
    "memory_utilization 0.674 to 0.683",
)
def test_moe_capacity_never_falls_with_more_kv_memory() -> None:
    rows = _capacities(
        "Mixtral_8x7B",
        "DGX_A100",
        "memory_utilization",
        [0.66 + 0.004 * i for i in range(12)],
        prompt=512,
        output=256,
        tp=2,
    )
    _assert_non_decreasing(rows)
