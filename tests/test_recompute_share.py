"""One lowering of a dense training stage serves every recomputation policy and pipeline depth
(``mlsysim.solvers.sweeps.distributed_lowering``): each op of a policy is the base's op run its
policy's passes (``recompute_class``), and the row the sweep builds from the base's timed
parts equals lowering and timing each policy and depth itself, to rounding."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

import mlsysim
from mlsysim.core.cache import clear_all
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers.distributed.plans import ParallelSettings, plans, target
from mlsysim.solvers.distributed.timing import rank_timing
from mlsysim.solvers.single_node.timing import peaks
from mlsysim.solvers.sweeps.distributed_parts import Memo
from mlsysim.workload.lowering import model_facts
from mlsysim.workload.lowering.recompute import recompute_class, recompute_passes
from mlsysim.workload.lowering.sharded import lower_ops

distributed_lowering = importlib.import_module("mlsysim.solvers.sweeps.distributed_lowering")
distributed_sweep = importlib.import_module("mlsysim.solvers.sweeps.distributed")
POLICIES = ("none", "selective", "full")
#: Every registry transformer a cluster trains (dense and mixture-of-experts alike: the
#: lowering's rule holds for both; only dense ones share a base across depths).
TRANSFORMERS = [m.id for m in mlsysim.Models if model_facts(m).kind == "transformer"]


def _rps(model: str, precision: str | None, options: dict[str, Any]) -> tuple[Any, ...]:
    settings = ParallelSettings(tp=2, pp=2)
    spec, phase, view, facts = target(model, "DGX_H100", "training", 16, settings)
    made = [
        plans(spec, facts, view, phase, settings, precision, mode, None, options)[1]
        for mode in POLICIES
    ]
    return facts, view, made


@pytest.mark.parametrize("model", TRANSFORMERS)
@pytest.mark.parametrize(
    ("precision", "options"), [(None, {}), ("fp32", {"engine": "eager", "dropout": True})]
)
def test_each_policy_runs_the_base_ops_its_passes(
    model: str, precision: str | None, options: dict[str, Any]
) -> None:
    """Every op of a policy's lowering is the op lowered without recomputation with its
    FLOPs, bytes and launches times its class's passes over the base's, and no other field
    changed (an eager engine's unfused attention scores and softmax too)."""
    try:
        facts, _, (rp0, *others) = _rps(model, precision, options)
    except mlsysim.MlsysimError:
        pytest.skip(f"{model} does not train on 16 H100s with tp=2, pp=2 under this plan")
    for par in (ParallelPlan(tp=2, pp=1, dp=8), ParallelPlan(tp=2, pp=2, dp=4, sp=True)):
        base = lower_ops(facts, "training", 2, 512, rp0, par)
        for rp in others:
            low = lower_ops(facts, "training", 2, 512, rp, par)
            mode = rp.plan.recompute
            for ops0, ops in ((base.ops, low.ops), (base.head_ops, low.head_ops)):
                assert [op.name for op in ops] == [op.name for op in ops0]
                for op0, op in zip(ops0, ops, strict=True):
                    cls = recompute_class(op0)
                    assert cls is not None, op0.name
                    r = recompute_passes(cls, mode) / op0.passes
                    assert op.passes == pytest.approx(op0.passes * r, rel=1e-15)
                    for name in ("flops", "bytes", "kernels"):
                        want = getattr(op0, name) * r
                        assert getattr(op, name) == pytest.approx(want, rel=1e-12), (op.name, name)
                    same = ("kind", "repeat", "sparse", "fmt", "dequant", "waves")
                    assert [getattr(op, n) for n in same] == [getattr(op0, n) for n in same]


def test_fp8_casts_have_no_class() -> None:
    """FP8 training's casts do not follow their passes: such a lowering is not shared."""
    facts, _, (rp, *_) = _rps("Llama3_8B", "fp8", {})
    low = lower_ops(facts, "training", 1, 512, rp, ParallelPlan(tp=2, pp=1, dp=8))
    casts = [op for op in low.ops if op.name.endswith("_fp8_cast")]
    assert casts and all(recompute_class(op) is None for op in casts)


@pytest.mark.parametrize(("model", "sp"), [("Llama2_7B", False), ("Llama3_8B", True)])
def test_rows_from_one_base_equal_each_policy_and_depth_timed_itself(model: str, sp: bool) -> None:
    """The sweep's row of each policy × pipeline depth × interleaving, built from one base,
    equals that stage lowered and timed itself (``solve``'s path), to 1e-12; and a sweep over
    them lowers once."""
    clear_all()
    facts, view, rps = _rps(model, None, {})
    dev = device_facts(view.hardware)
    memo = Memo()
    lowering_row = distributed_lowering.lowering_row
    for rp in rps:
        pk = peaks(dev, rp)
        for pp, chunks in ((2, 1), (1, 1), (4, 1), (4, 2), (8, 1)):
            par = ParallelPlan(tp=2, pp=pp, dp=8 // pp, sp=sp, chunks=chunks)
            i = lowering_row(facts, "training", 2, 1024, rp, par, dev, pk, memo)
            row = tuple(memo.arrays(np)[0][i].tolist())  # (rows are filled all at once)
            low = lower_ops(facts, "training", 2, 1024, rp, par)
            want = (*rank_timing(low, pk, dev.bandwidth, rp), low.model_flops)
            want = (*want, low.hardware_flops, low.flops, *low.inference, pk.gemm)
            assert row == pytest.approx(want, rel=1e-12, abs=0.0), (rp.plan.recompute, pp)
    assert memo.made == 2  # the first depth's (pp=2) and a single stage's (the embedding)
    s = mlsysim.sweep(model, "DGX_H100", phase="training", devices=16, tp=2, pp=[1, 2, 4],
                      sp=sp, zero=[0, 1], recompute=list(POLICIES), batch=[32, 64],
                      seq_len=1024)  # fmt: skip
    assert distributed_sweep.lowerings[0] == 1
    assert len(s) == 36


def test_mixture_of_experts_and_fp8_keep_a_lowering_per_policy() -> None:
    """What cannot share a base lowers per resolved plan, as before."""
    kw = {"phase": "training", "devices": 16, "tp": 2, "recompute": list(POLICIES)}
    mlsysim.sweep("Mixtral_8x7B", "DGX_H100", **kw, ep=2, batch=32, seq_len=512)
    assert distributed_sweep.lowerings[0] == 3
    mlsysim.sweep("Llama3_8B", "DGX_H100", **kw, precision="fp8", batch=32, seq_len=512)
    assert distributed_sweep.lowerings[0] == 3
