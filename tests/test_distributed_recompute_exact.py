"""Which op each recomputation policy runs again, op by op, from the papers (not the code):
Korthikanti et al. 2022 — full recomputation re-runs every layer's forward (its GEMMs and
element-wise kernels), selective recomputation only the attention core (the fused kernel, or
unfused QKᵀ and softmax, Section 4.1); Narayanan et al. 2021, Eq. 3 — the head (final norm,
LM head, loss) runs three passes under full recomputation, the layers four. The embedding's
gather is no layer's, so neither policy re-runs it; an FP8 cast's passes do not scale its
bytes, and the optimizer's update is no training op (no class)."""

from __future__ import annotations

from typing import Any

import pytest

from mlsysim.execution.parallel import ParallelPlan
from mlsysim.solvers.distributed.plans import ParallelSettings, plans, target
from mlsysim.workload.lowering.ops import optimizer_update
from mlsysim.workload.lowering.recompute import recompute_class, recompute_passes
from mlsysim.workload.lowering.sharded import lower_ops

POLICIES = ("none", "selective", "full")
#: Each op of a Llama-3-8B training stage by hand: which policies re-run it (None: no class).
_RERUN_BY: dict[str, tuple[str, ...] | None] = {
    "embedding": (),
    "attn_add_norm": ("full",),
    "qkv_proj": ("full",),
    "rope": ("full",),
    "attention": ("selective", "full"),
    "attention_scores": ("selective", "full"),
    "attention_softmax": ("selective", "full"),
    "out_proj": ("full",),
    "ffn_add_norm": ("full",),
    "ffn_up": ("full",),
    "ffn_act": ("full",),
    "ffn_down": ("full",),
    "final_add_norm": (),
    "lm_head": (),
    "loss": (),
}
#: The class names :func:`recompute_class` gives those rules.
_CLASS = {(): "none", ("full",): "full", ("selective", "full"): "any"}


def _lowered(precision: str | None, options: dict[str, Any], mode: str) -> tuple[Any, Any]:
    settings = ParallelSettings(tp=2, pp=2)
    spec, phase, view, facts = target("Llama3_8B", "DGX_H100", "training", 16, settings)
    rp = plans(spec, facts, view, phase, settings, precision, mode, None, options)[1]
    return rp, lower_ops(facts, "training", 2, 512, rp, ParallelPlan(tp=2, pp=1, dp=8))


@pytest.mark.parametrize("mode", POLICIES)
@pytest.mark.parametrize(
    ("precision", "options"), [(None, {}), (None, {"attention": "unfused"}), ("fp8", {})]
)
def test_each_op_runs_the_passes_the_papers_give_it(
    mode: str, precision: str | None, options: dict[str, Any]
) -> None:
    """Forward + backward (twice the forward, Kaplan et al. 2020) = 3 passes, one more for a
    policy that re-runs the op: every layer op 4 under full, the attention core 4 under
    selective too, embedding and head 3 always; the class says the same."""
    _, low = _lowered(precision, options, mode)
    seen = set()
    for op in (*low.ops, *low.head_ops):
        if op.name.endswith("_fp8_cast"):
            assert recompute_class(op) is None, op.name
            continue
        rerun = _RERUN_BY[op.name]
        assert rerun is not None
        seen.add(op.name)
        want = 3.0 + (1.0 if mode in rerun else 0.0)
        assert op.passes == want, (op.name, mode)
        assert recompute_class(op) == _CLASS[rerun], op.name
        assert recompute_passes(_CLASS[rerun], mode) == want, op.name
    # the run covered the head, the embedding and the attention core
    assert {"embedding", "final_add_norm", "lm_head", "loss"} <= seen
    unfused = options.get("attention") == "unfused"
    core = {"attention_scores", "attention_softmax"} if unfused else {"attention"}
    assert core <= seen


def test_fp8_casts_and_the_optimizer_update_have_no_class() -> None:
    """An FP8 cast runs once forward (its copy) and its transpose backward, whatever the
    policy, and the optimizer's update is no layer's: neither has a recomputation class."""
    rp, low = _lowered("fp8", {}, "full")
    casts = [op for op in low.ops if op.name.endswith("_fp8_cast")]
    assert len(casts) == 4  # qkv_proj, out_proj, ffn_up, ffn_down
    assert all(op.kind == "elementwise" for op in casts)
    assert [recompute_class(op) for op in casts] == [None] * 4
    update = optimizer_update(1.0e9, rp)
    assert update.kind == "optimizer"
    assert recompute_class(update) is None
