"""ZeRO-3's gradient reduce-scatters as DeepSpeed 0.3-0.5 issues them: one per parameter tensor.

Its gradient hook is on every parameter (``create_reduce_and_remove_grad_hooks``) and
``_reduce_scatter_gradients`` calls ``_reduce_scatter_gradient`` once per parameter
(``deepspeed/runtime/zero/partition_parameters.py``, v0.3.13-v0.5.x), so a bias vector or a
norm's scale and shift is a collective of its own; the list-form plan
(``list_collectives=True``) with the submodule unit stands for that code. Counted here,
never timed.
"""

from __future__ import annotations

from typing import Any

import mlsysim
from mlsysim.solvers.distributed.results import DistributedResult

_ZERO3 = {
    "phase": "training",
    "batch": 16,
    "seq_len": 2048,
    "zero": 3,
    "microbatch": 1,
    "recompute": "full",
    "overlap": False,
}


def _calls(r: DistributedResult) -> dict[str, float]:
    return {c.name: c.calls for c in r.collectives}


def _solve(model: str, devices: int, **kw: Any) -> DistributedResult:
    r = mlsysim.solve(model, "DGX_A100", devices=devices, **{**_ZERO3, **kw})
    assert isinstance(r, DistributedResult)
    return r


def test_every_bias_and_norm_tensor_is_reduce_scattered_by_itself() -> None:
    # GPT-3 175B, one micro-batch a step: 96 layers x (4 biases + 2 LayerNorms x 2 tensors)
    # and the final LayerNorm's two tensors, besides the 385 weight units
    r = _solve("GPT3_175B", 16, list_collectives=True)
    calls = _calls(r)
    assert calls["dp_small_grad_reduce_scatter"] == 96 * (4 + 2 * 2) + 2
    assert calls["dp_grad_reduce_scatter"] == 96 * 4 + 1
    assert calls["dp_param_all_gather"] == 3 * (96 * 4 + 1)  # small tensors persist: no gather


def test_rmsnorm_without_biases_has_one_tensor_per_norm() -> None:
    r = _solve("Llama2_7B", 16, list_collectives=True)
    assert _calls(r)["dp_small_grad_reduce_scatter"] == 32 * 2 + 1


def test_coalescing_stacks_issue_no_per_tensor_calls() -> None:
    # without the list form (DeepSpeed 0.6+ coalesces a bucket) and for FSDP's layer unit
    # (one flat parameter per block) the small tensors ride in their unit's collective
    for kw in ({}, {"list_collectives": True, "shard_unit": "layer"}):
        assert "dp_small_grad_reduce_scatter" not in _calls(_solve("GPT3_175B", 16, **kw))


def test_the_bytes_reduced_are_unchanged() -> None:
    def reduced(r: DistributedResult) -> float:
        return sum(c.size_bytes * c.calls for c in r.collectives if c.op == "reduce_scatter")

    listed = _solve("GPT3_175B", 16, list_collectives=True)
    plain = _solve("GPT3_175B", 16)
    assert abs(reduced(listed) - reduced(plain)) <= 1e-9 * reduced(plain)


def test_the_small_tensors_bytes_by_hand() -> None:
    # GPT-3 175B: h = 12,288, 96 heads of 128 (no GQA), ffn 4h, LayerNorm (scale + shift),
    # biases on QKV (3h), the attention output (h), the MLP's up (4h) and down (h); BF16
    # gradients (2 bytes). Norms are replicated over TP, and so are the row-parallel layers'
    # biases (out, down); the column-parallel ones' (QKV, up) are split by it.
    # 16 GPUs: dp = 16 / (tp·pp), micro-batches a step = 16 / dp.
    h, L = 12_288, 96
    split, whole = 3 * h + 4 * h, h + h  # column-parallel QKV and up; row-parallel out, down
    bias = split + whole  # 110,592 per layer

    def small(**kw: Any) -> tuple[float, float]:
        calls = {
            c.name: c for c in _solve("GPT3_175B", 16, list_collectives=True, **kw).collectives
        }
        c = calls["dp_small_grad_reduce_scatter"]
        return c.calls, c.size_bytes * c.calls / 2  # parameters reduced a step

    # one stage holds every layer and the final LayerNorm: 96 x 2 + 1 norms, 2 tensors each
    assert small() == (770, (L * 2 + 1) * 2 * h + L * bias)
    # TP 2: the column-parallel biases halve, norms and row-parallel biases do not; 2
    # micro-batches a step
    assert small(tp=2) == (2 * 770, 2 * ((L * 2 + 1) * 2 * h + L * (split / 2 + whole)))
    # PP 2: the first stage's 48 layers, no final norm (the last stage's), 2 micro-batches
    assert small(pp=2) == (2 * 48 * 8, 2 * (48 * 2 * 2 * h + 48 * bias))
