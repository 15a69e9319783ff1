"""MoE as it runs (issue 15, deliverable 3): the experts a decode step reads at a batch, the
load-imbalance factor on the expert-parallel critical path, and the all-to-all it drives."""

from __future__ import annotations

import pytest

from mlsysim import solve
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.formulas.moe import distinct_experts


def _weights_read(batch: int) -> float:
    r = solve("Mixtral_8x7B", "H100", phase="decode", batch=batch, seq_len=8, precision="fp8")
    return float(r.to_dict()["bytes"]["value"])


def test_decode_reads_the_expected_distinct_experts() -> None:
    # Mixtral: 2 of 8 experts per token; D = 2, 3.5, 4.625 for 1, 2, 3 tokens (all 8 at 64).
    # Bytes = shared + D(batch) x one expert + a few MB per token of activations and KV, so
    # the growth between batches follows D, at one expert's weights per distinct expert.
    b1, b2, b3 = _weights_read(1), _weights_read(2), _weights_read(3)
    d1, d2, d3 = (distinct_experts(8, 2, n) for n in (1, 2, 3))
    assert (d1, d2, d3) == (2.0, 3.5, 4.625)
    assert round(distinct_experts(8, 2, 64), 3) == 8.0
    per_expert = (b2 - b1) / (d2 - d1)
    assert (b3 - b2) / (d3 - d2) == pytest.approx(per_expert, rel=0.01)
    # one expert of Mixtral is 3 x 4096 x 14336 x 32 layers of fp8 weights = 5.64 GB
    assert per_expert == pytest.approx(3 * 4096 * 14336 * 32, rel=0.01)


def _ep_training(**kw: object) -> object:
    return solve(
        model="Mixtral_8x7B",
        system="DGX_H100",
        phase="training",
        seq_len=1024,
        batch=8,
        **kw,  # type: ignore[arg-type]
    )


def test_imbalance_sets_the_expert_parallel_critical_path() -> None:
    balanced = _ep_training(ep=8, expert_imbalance=1.0)
    default = _ep_training(ep=8)
    skewed = _ep_training(ep=8, expert_imbalance=2.0)
    t = [r.step_time_s for r in (balanced, default, skewed)]  # type: ignore[attr-defined]
    assert t[0] < t[1] < t[2]
    a2a = [
        sum(c["total_s"] for c in r.to_dict()["collectives"] if c["group"] == "ep")  # type: ignore[attr-defined]
        for r in (balanced, skewed)
    ]
    assert 0.0 < a2a[0] < a2a[1]  # the busiest rank receives f x the mean tokens


def test_imbalance_without_expert_parallelism_changes_nothing() -> None:
    a = _ep_training(tp=8, expert_imbalance=1.0)
    b = _ep_training(tp=8, expert_imbalance=2.0)
    assert a.step_time_s == b.step_time_s  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [0.5, 0.0, -1.0, "fast"])
def test_imbalance_below_one_is_refused(bad: object) -> None:
    with pytest.raises(ConfigError, match="expert_imbalance"):
        solve("Mixtral_8x7B", "H100", phase="decode", expert_imbalance=bad)
