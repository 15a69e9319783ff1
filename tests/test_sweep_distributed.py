"""``mlsysim.sweep`` over distributed configurations: every point equals ``solve()``, the
grid's refusals are solve's, and shared lowering is shared (counted, not timed)."""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim.core.exceptions import ConfigError, InfeasibleError, MlsysimError

distributed_sweep = importlib.import_module("mlsysim.solvers.sweeps.distributed")
distributed_parts = importlib.import_module("mlsysim.solvers.sweeps.distributed_parts")
_MEMORY = {
    "weights_bytes": "weights_bytes",
    "kv_cache_bytes": "kv_cache_bytes",
    "activations_bytes": "activations_bytes",
    "gradients_bytes": "gradients_bytes",
    "optimizer_bytes": "optimizer_bytes",
    "memory_bytes": "total_bytes",
    "capacity_bytes": "capacity_bytes",
}
_INPUTS = frozenset(
    {"model", "system", "phase", "devices", "tp", "pp", "zero", "recompute", "microbatch"}
    | {"sp", "schedule", "chunks", "precision", "batch", "overlap", "cp", "ep", "strict"}
    | {"shard_unit", "list_collectives"}
)


def _value(r: Any, name: str) -> Any:
    """A distributed result's value for a sweep column (NaN where it has none)."""
    if name == "binding_wall":
        return r.binding_wall
    if name in _MEMORY:
        return getattr(r.memory, _MEMORY[name])
    if name in ("throughput", "mfu", "hfu"):
        try:
            v = getattr(r, name)
        except InfeasibleError:
            return math.nan
        return float(getattr(v, "magnitude", v))
    v = getattr(r, name, None)
    if v is None or isinstance(v, str):
        return math.nan
    return v


def _agrees(got: Any, want: Any) -> bool:
    if isinstance(want, bool | str):
        return got == want
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=0.0)


def _check(s: Any, fresh: bool = False) -> None:
    """Every column of every point against ``solve()`` at that point (``fresh``: on emptied
    caches, so a cache entry the sweep filled under too coarse a key cannot answer)."""
    from mlsysim.core.cache import clear_all

    for i in range(len(s)):
        row = s.row(i)
        kw = {k: v for k, v in row.items() if k in _INPUTS}
        if fresh:
            clear_all()
        r = mlsysim.solve(**kw, seq_len=row["seq_len"])
        for name, got in row.items():
            if name in _INPUTS:
                continue
            want = _value(r, name)
            assert _agrees(got, want), (i, name, got, want, kw)


def _grid_points(axes: dict[str, Any]) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = [{}]
    for name, values in axes.items():
        vs = values if isinstance(values, list) else [values]
        points = [{**p, name: v} for p in points for v in vs]
    return points


#: Degrees that mostly divide the devices (3 and 8 rarely: refusals are drawn too).
_DEGREES = st.lists(
    st.sampled_from([1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 3]), min_size=1, max_size=2, unique=True
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(("Llama2_7B", "Llama3_8B", "Mixtral_8x7B", "GPT_22B")),
    system=st.sampled_from(("DGX_A100", "DGX_H100", "SuperPOD_A100")),
    devices=st.sampled_from((16, 32)),
    phase=st.sampled_from(("training", "training", "prefill", "decode")),
    tp=_DEGREES,
    pp=_DEGREES,
    zero=st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True),
    recompute=st.lists(
        st.sampled_from(("none", "selective", "full")), min_size=1, max_size=2, unique=True
    ),
    microbatch=st.lists(st.sampled_from([1, 2, 4]), min_size=1, max_size=2, unique=True),
    extra=st.sampled_from(
        (
            {},
            {"sp": True},
            {"sp": [False, True]},
            {"chunks": 2},
            {"overlap": False},
            {"precision": ["bf16", "fp32"]},
        )
    ),
    batch=st.lists(st.sampled_from([16, 32, 64, 256, 24]), min_size=1, max_size=2, unique=True),
    seq=st.one_of(st.none(), st.lists(st.sampled_from([128, 1024, 4096]), min_size=1, max_size=2)),
)
def test_every_distributed_point_equals_solve(
    model: str,
    system: str,
    devices: int,
    phase: str,
    tp: list[int],
    pp: list[int],
    zero: list[int],
    recompute: list[str],
    microbatch: list[int],
    extra: dict[str, Any],
    batch: list[int],
    seq: list[int] | None,
) -> None:
    """The numeric axes the sweep vectorizes (tp, pp, microbatch, batch, seq_len) and the
    categorical ones around them; a grid with a point solve refuses is refused with solve's
    own kind of error."""
    fixed = {"model": model, "system": system, "phase": phase, "devices": devices}
    axes: dict[str, Any] = {"tp": tp, "pp": pp, "zero": zero, "recompute": recompute}
    axes |= {"microbatch": microbatch, **extra, "batch": batch}
    seq_axis = seq if seq is not None else [None]
    failures = []
    for p in _grid_points(axes):
        for s in seq_axis:
            try:
                mlsysim.solve(**fixed, **p, seq_len=s)
            except MlsysimError as exc:
                failures.append(exc)
    kw = {**axes} if seq is None else {**axes, "seq_len": seq}
    if failures:
        with pytest.raises(MlsysimError) as caught:
            mlsysim.sweep(**fixed, **kw)
        assert any(isinstance(caught.value, type(f)) for f in failures)
        _check_marked(mlsysim.sweep(**fixed, **kw, invalid="mark"), fixed, axes, seq_axis)
        return
    s = mlsysim.sweep(**fixed, **kw)
    assert len(s) == len(_grid_points(axes)) * len(seq_axis)
    _check(s, fresh=True)


def _check_marked(s: Any, fixed: dict[str, Any], axes: dict[str, Any], seqs: list[Any]) -> None:
    """``invalid="mark"``: each point is solve's result there, or its error's text in the
    ``refused`` column (with no result values)."""
    points = [(p, q) for p in _grid_points(axes) for q in seqs]  # the grid's order
    assert len(s) == len(points)
    for i, (p, q) in enumerate(points):
        row = s.row(i)
        try:
            r = mlsysim.solve(**fixed, **p, seq_len=q)
        except MlsysimError as exc:
            assert row["refused"] == str(exc) and row["binding_wall"] == "refused", i
            assert row["feasible"] is False and math.isnan(row["step_time_s"]), i
            continue
        assert row["refused"] == "", (i, row["refused"])
        for name, got in row.items():
            if name not in _INPUTS and name != "refused":
                assert _agrees(got, _value(r, name)), (i, name, got, p, q)


def test_memory_infeasible_points_are_marked_not_refused() -> None:
    s = mlsysim.sweep(
        "Llama2_7B",
        "DGX_A100",
        phase="training",
        devices=8,
        tp=[1, 8],
        zero=[0, 3],
        batch=[8, 16],
        seq_len=4096,
    )
    assert not s["feasible"].all() and s["feasible"].any()
    walls = [s.row(i)["binding_wall"] for i in range(len(s))]
    assert "memory_capacity" in walls
    assert np.isnan(s["mfu"][~s["feasible"]]).all()
    _check(s)
    with pytest.raises(InfeasibleError, match="does not fit"):
        mlsysim.sweep(
            "Llama2_70B", "DGX_A100", phase="training", devices=8, tp=1, batch=8, strict=True
        )


@pytest.mark.parametrize(
    ("axes", "error"),
    [
        ({"devices": 24, "batch": 48, "tp": [1, 3]}, "attention heads"),  # tp ∤ heads
        ({"devices": 24, "batch": 48, "pp": [1, 3]}, "layers"),  # pp not dividing the layers
        ({"devices": 8, "tp": [1, 3]}, "not a multiple"),  # tp·pp·cp not dividing devices
        ({"tp": 2, "batch": [16, 10]}, "does not split"),  # dp·microbatch not dividing batch
        ({"pp": 4, "batch": [16, 4]}, "micro-batches"),  # fewer micro-batches than stages
    ],
)
def test_configurations_solve_refuses_are_refused(axes: dict[str, Any], error: str) -> None:
    """The sweep refuses them with solve's own error (the same text)."""
    kw = {"phase": "training", "devices": 8, "seq_len": 1024, "batch": 16, **axes}
    with pytest.raises(ConfigError, match=error) as caught:
        mlsysim.sweep("Llama2_7B", "DGX_A100", **kw)
    bad = {k: v[-1] if isinstance(v, list) else v for k, v in kw.items()}
    with pytest.raises(ConfigError) as direct:
        mlsysim.solve("Llama2_7B", "DGX_A100", **bad)
    assert str(caught.value) == str(direct.value)


def test_zero3_and_interleaving_equal_solve() -> None:
    fixed = {"model": "Llama3_8B", "system": "DGX_H100", "phase": "training", "devices": 16}
    s = mlsysim.sweep(
        **fixed, tp=[2, 4], pp=[2, 4], zero=[1, 3], chunks=2, sp=True, batch=[32, 64], seq_len=2048
    )
    assert len(s) == 16
    _check(s, fresh=True)


def test_a_lowering_is_shared_by_every_configuration_that_needs_it() -> None:
    """ZeRO stages, batches and data-parallel degrees share one lowering of the rank's
    operations: 4 stages × 3 batches of one (tp, pp, micro-batch, seq_len) lower once."""
    mlsysim.sweep(
        "Llama2_7B",
        "DGX_A100",
        phase="training",
        devices=8,
        tp=2,
        pp=2,
        zero=[0, 1, 2, 3],
        batch=[64, 128, 256],
        seq_len=2048,
    )
    assert distributed_sweep.lowerings[0] == 1
    mlsysim.sweep(
        "Llama2_7B",
        "DGX_A100",
        phase="training",
        devices=8,
        tp=[1, 2],
        pp=2,
        zero=[0, 1],
        microbatch=[1, 2],
        batch=[64, 128],
        seq_len=[512, 2048],
    )
    assert distributed_sweep.lowerings[0] == 2 * 2 * 2  # tp × microbatch × seq_len


def test_chunks_of_a_distributed_grid_stream_the_same_points() -> None:
    axes = {"phase": "training", "devices": 8, "tp": [1, 2, 4], "zero": [0, 1]}
    axes |= {"batch": [16, 32], "seq_len": [512, 1024]}
    whole = mlsysim.sweep("Llama2_7B", "DGX_A100", **axes)
    parts = list(mlsysim.sweep_chunks("Llama2_7B", "DGX_A100", chunk=5, **axes))
    assert [p.offset for p in parts] == list(range(0, 24, 5))
    for name in ("step_time_s", "memory_bytes", "binding_wall", "tp", "seq_len"):
        joined = np.concatenate([p[name] for p in parts])
        assert np.array_equal(joined, whole[name]), name


@pytest.mark.parametrize(
    ("model", "axes"),
    [
        ("Mixtral_8x7B", {"devices": 16, "tp": 2, "ep": [1, 2, 4], "zero": [0, 1]}),
        ("Llama3_8B", {"devices": 16, "tp": 2, "cp": [1, 2], "overlap": [True, False]}),
        ("Llama3_8B", {"devices": 16, "tp": [2, 4], "sp": True, "overlap": [0.25, 0.5]}),
        ("Llama2_7B", {"devices": 16, "tp": 2, "pp": 2, "dp": 4, "schedule": ["gpipe", "1f1b"]}),
    ],
)
def test_expert_context_overlap_and_schedules_equal_solve(model: str, axes: dict[str, Any]) -> None:
    s = mlsysim.sweep(
        model, "DGX_H100", phase="training", **axes, batch=[32, 64], seq_len=[1024, 4096]
    )
    _check(s)


def test_a_warm_solve_reuses_the_ranks_static_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """The optimizer update, the resident state and the data-parallel collectives do not
    depend on the batch or the sequence: built once per structure, not per solve."""
    from mlsysim.core.cache import clear_all

    sharded = importlib.import_module("mlsysim.workload.lowering.sharded_state")
    built: list[float] = []
    original = sharded.optimizer_update

    def counted(*args: Any, **kw: Any) -> Any:
        built.append(args[0])
        return original(*args, **kw)

    monkeypatch.setattr(sharded, "optimizer_update", counted)
    clear_all()
    kw = {"phase": "training", "devices": 16, "tp": 2, "pp": 2, "zero": 1}
    first = mlsysim.solve("Llama2_7B", "DGX_A100", batch=32, seq_len=1024, **kw)
    again = mlsysim.solve("Llama2_7B", "DGX_A100", batch=64, seq_len=2048, **kw)
    assert len(built) == 1
    assert first.optimizer_s == again.optimizer_s and first.memory.weights_bytes > 0


@pytest.mark.parametrize(("model", "sp"), [("Llama2_7B", False), ("Llama3_8B", True)])
def test_a_dense_stage_moved_to_another_pipeline_depth_is_its_own_lowering(
    model: str, sp: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """restage() returns, element for element, what lowering that pipeline depth returns,
    from a deeper pipeline's lowering or a single stage's (its embedding stays on the first
    stage), and its layers' timing is a deeper stage's scaled to its layer count (equal to
    timing it, to rounding); so a sweep over pipeline depths of a dense model lowers and
    times once."""
    from mlsysim.execution.parallel import ParallelPlan
    from mlsysim.hardware.facts import device_facts
    from mlsysim.solvers.distributed.plans import ParallelSettings, plans, target
    from mlsysim.solvers.distributed.timing import layer_timing, scaled_layers, split_layer_timing
    from mlsysim.solvers.single_node.timing import peaks
    from mlsysim.solvers.sweeps import distributed_lowering
    from mlsysim.workload.lowering.sharded import lower_ops, restage

    settings = ParallelSettings(tp=2, pp=2, sp=sp, microbatch=2)
    spec, phase, view, facts = target(model, "DGX_A100", "training", 64, settings)
    _, rp = plans(spec, facts, view, phase, settings, None, "selective", None, {})
    base = lower_ops(facts, "training", 2, 2048, rp, ParallelPlan(tp=2, pp=2, dp=16, sp=sp))
    single = lower_ops(facts, "training", 2, 2048, rp, ParallelPlan(tp=2, pp=1, dp=32, sp=sp))
    assert any(op.name == "embedding" for op in single.ops)
    dev = device_facts(view.hardware)
    pk = peaks(dev, rp)
    for pp, chunks in ((4, 1), (8, 1), (4, 2), (16, 2)):
        par = ParallelPlan(tp=2, pp=pp, dp=32 // pp, sp=sp, chunks=chunks)
        moved = restage(base, facts, par)
        assert moved == lower_ops(facts, "training", 2, 2048, rp, par)
        assert restage(single, facts, par) == moved
        # a deeper stage's row keeps the shared lowering's FLOPs, tokens and memory
        assert moved.flops == pytest.approx(base.flops, rel=1e-12, abs=0.0)
        assert moved.flops == pytest.approx(single.flops, rel=1e-12, abs=0.0)
        assert moved[1:5] + moved[8:] == base[1:5] + base[8:] == single[1:5] + single[8:]
        timed = layer_timing(moved, pk, dev.bandwidth, rp)
        scaled = scaled_layers(
            layer_timing(base, pk, dev.bandwidth, rp), moved.layers / base.layers
        )
        assert moved.layers != base.layers
        assert scaled == pytest.approx(timed, rel=1e-12, abs=0.0)
    for pps in ([2, 4, 8], [1, 2, 4]):
        s = mlsysim.sweep(model, "DGX_A100", phase="training", devices=64, tp=2, pp=pps,
                          sp=sp, batch=[64, 128], seq_len=2048)  # fmt: skip
        assert distributed_sweep.lowerings[0] == 1
        _check(s, fresh=True)
    # a single stage's layers are timed in two parts (the embedding and the rest): the sum
    # is its own timing and the rest a deeper stage's, to rounding; so a sweep whose single
    # stage comes first restages nothing
    whole, rest = split_layer_timing(single, pk, dev.bandwidth, rp)
    assert whole == pytest.approx(layer_timing(single, pk, dev.bandwidth, rp), rel=1e-12, abs=0.0)
    moved = restage(single, facts, ParallelPlan(tp=2, pp=4, dp=8, sp=sp))
    assert scaled_layers(rest, moved.layers / single.layers) == pytest.approx(
        layer_timing(moved, pk, dev.bandwidth, rp), rel=1e-12, abs=0.0
    )
    moves: list[int] = []
    real_restage = distributed_lowering.restage
    monkeypatch.setattr(
        distributed_lowering, "restage", lambda *a: moves.append(1) or real_restage(*a)
    )
    s = mlsysim.sweep(model, "DGX_A100", phase="training", devices=64, tp=2, pp=[1, 2, 4, 8],
                      sp=sp, batch=[64, 128], seq_len=2048)  # fmt: skip
    assert distributed_sweep.lowerings[0] == 1 and moves == []
    _check(s, fresh=True)
    # a single stage after a deeper one is lowered itself (it has the embedding)
    s = mlsysim.sweep(model, "DGX_A100", phase="training", devices=64, tp=2, pp=[4, 1, 2],
                      sp=sp, batch=[64, 128], seq_len=2048)  # fmt: skip
    assert distributed_sweep.lowerings[0] == 2
    _check(s, fresh=True)


def test_structures_share_their_collective_pricing_and_static_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The micro-batch's collectives and activations are priced once for every ZeRO stage;
    the data-parallel collectives, the optimizer update and the state once for every
    micro-batch and recomputation: 4 ZeRO stages × 2 recomputations × 2 micro-batches (16
    structures) price 2·2 micro-batch sets and 3 + 2 step sets (ZeRO-3's module gathers
    run again for full recomputation's forward: that one is not shared), build as many
    optimizer updates and check 3 shapes."""
    from mlsysim.core.cache import clear_all

    sharded = importlib.import_module("mlsysim.workload.lowering.sharded_state")
    calls = {"price": 0, "update": 0, "check": 0}
    price, update = distributed_parts.price, sharded.optimizer_update
    check = distributed_parts.check_shape

    def counted_check(*args: Any) -> None:
        calls["check"] += 1
        check(*args)

    def counted_price(*args: Any) -> Any:
        calls["price"] += 1
        return price(*args)

    def counted_update(*args: Any, **kw: Any) -> Any:
        calls["update"] += 1
        return update(*args, **kw)

    monkeypatch.setattr(distributed_parts, "price", counted_price)
    monkeypatch.setattr(sharded, "optimizer_update", counted_update)
    monkeypatch.setattr(distributed_parts, "check_shape", counted_check)
    clear_all()
    axes = {"zero": [0, 1, 2, 3], "recompute": ["none", "full"], "microbatch": [1, 2]}
    s = mlsysim.sweep(
        "Llama2_7B", "DGX_A100", phase="training", devices=8, tp=2, pp=2, **axes,
        batch=[32, 64], seq_len=1024,
    )  # fmt: skip
    assert len(s) == 32
    assert distributed_sweep.priced[0] == 2 * 2 + 3 + 2
    # the shape is checked once per distinct micro-batch count (32/2 or 64/2 replicas of
    # micro-batches of 1 or 2: 16, 32, 8), not once per structure and batch
    assert calls == {"price": 2 * 2 + 3 + 2, "update": 3 + 2, "check": 3}
    assert distributed_sweep.lowerings[0] == 2  # per micro-batch: recomputations share one
    _check(s)


def test_shared_checks_and_splits_keep_each_phase_and_model_apart() -> None:
    """A check or a split shared by structures is keyed by what it reads: decode accepts an
    empty context that prefill refuses, and each model keeps its own default sequence."""
    with pytest.raises(ConfigError, match="seq_len must be a whole number") as caught:
        mlsysim.sweep(
            "Llama2_7B", "DGX_A100", phase=["decode", "prefill"], devices=8, tp=2, batch=4,
            seq_len=[0, 128],
        )  # fmt: skip
    with pytest.raises(ConfigError) as direct:
        mlsysim.solve("Llama2_7B", "DGX_A100", phase="prefill", devices=8, tp=2, batch=4,
                      seq_len=0)  # fmt: skip
    assert str(caught.value) == str(direct.value)
    s = mlsysim.sweep(
        ["Llama2_7B", "GPT_22B"], "DGX_A100", phase="training", devices=8, tp=[2, 4], batch=16
    )
    _check(s)


def test_zero3_gather_units_and_recomputation_equal_solve() -> None:
    """The step part is shared across recomputation except where ZeRO-3 gathers modules
    again for full recomputation's forward: each gather unit and list mode, priced apart."""
    s = mlsysim.sweep(
        "Llama2_7B", "DGX_A100", phase="training", devices=16, tp=2, pp=2,
        zero=[1, 3], recompute=["selective", "full"], shard_unit=["module", "layer"],
        list_collectives=[False, True], batch=32, seq_len=1024,
    )  # fmt: skip
    assert len(s) == 16
    _check(s, fresh=True)


def test_whole_structures_run_as_one_block_without_work_per_structure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A grid of distributed structures builds the parallel plans its parts read — the
    lowerings' (tp × micro-batch, any ZeRO stage) and the step parts' (tp × zero, any
    micro-batch), paired: the i-th micro-batch's lowering at the i-th ZeRO stage, so the
    step parts of the first two stages reuse them: 2 · max(2, 3) = 6, not 2·2 + 2·3 − 2 =
    8 —, each resolved plan once per recomputation
    (3) and routes one structure per combination a part reads, not every one of the 36; every
    point still equals solve() on emptied caches. A chunk that cuts structures runs the cut
    ones one by one, with the same columns."""
    built = {"parallel": 0, "resolved": 0}
    parallel, resolved = distributed_sweep.parallel_plan, distributed_sweep.resolved_plan

    def counted_parallel(*args: Any) -> Any:
        built["parallel"] += 1
        return parallel(*args)

    def counted_resolved(*args: Any) -> Any:
        built["resolved"] += 1
        return resolved(*args)

    monkeypatch.setattr(distributed_sweep, "parallel_plan", counted_parallel)
    monkeypatch.setattr(distributed_sweep, "resolved_plan", counted_resolved)
    axes = {"tp": [1, 2], "zero": [0, 1, 3], "recompute": ["none", "selective", "full"]}
    axes |= {"microbatch": [1, 2], "batch": [32, 64], "seq_len": [512, 1024]}
    s = mlsysim.sweep("Llama2_7B", "DGX_A100", phase="training", devices=8, **axes)
    assert len(s) == 36 * 4
    assert distributed_sweep.blocked[0] == 36
    assert built == {"parallel": 2 * max(2, 3), "resolved": 3}
    # collective sets priced, each distinct set once per rank layout: tp = 1 issues no
    # micro-batch collectives; tp = 2 one TP all-reduce set per micro-batch × seq_len and
    # recomputation that re-runs the forward or not (none and selective issue the same),
    # and micro-batch 2 × 512 tokens moves what 1 × 1024 does (3 × 2 sets); step parts
    # tp × zero, and ZeRO-3 once more for full recomputation's regathers
    assert distributed_sweep.priced[0] == 3 * 2 + 2 * 3 + 2
    _check(s, fresh=True)
    # sp and the micro-batch change no step part; ZeRO-3 under full recomputation does
    many = {"sp": [False, True], "zero": [1, 3], "recompute": ["selective", "full"]}
    _check(
        mlsysim.sweep("Llama3_8B", "DGX_H100", phase="training", devices=16, tp=[2, 4],
                      microbatch=[1, 2], **many, batch=64, seq_len=[1024]),
        fresh=True,
    )  # fmt: skip
    parts = list(mlsysim.sweep_chunks("Llama2_7B", "DGX_A100", phase="training", devices=8,
                                      chunk=7, **axes))  # fmt: skip
    for name in ("step_time_s", "memory_bytes", "binding_wall", "microbatches", "mfu"):
        np.testing.assert_array_equal(np.concatenate([p[name] for p in parts]), s[name], name)


def test_parallel_plan_fast_check_accepts_only_what_the_checks_accept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``ParallelPlan``'s one-expression test of the common case (``_plain``) is sufficient
    only: every plan it passes passes each check of ``__post_init__`` run one by one, and
    every plan those checks refuse is refused with the fast test in place."""
    import itertools
    import random

    from mlsysim.core.exceptions import ConfigError
    from mlsysim.execution import parallel

    values: dict[str, list[object]] = {
        "tp": [1, 2, 0, True, 2.0],
        "pp": [1, 4, 0],
        "dp": [1, 8, False],
        "cp": [1, 0],
        "ep": [1, 2, -1],
        "sp": [False, True, 1],
        "zero": [0, 3, 4, True, 1.0],
        "microbatch": [1, 0],
        "schedule": ["1f1b", "gpipe", "interleaved", "zb"],
        "chunks": [1, 2, True],
        "tp_overlap": [0.0, 1.0, 1.5, 0, True],
    }

    def outcome(kw: dict[str, object]) -> str:
        try:
            parallel.ParallelPlan(**kw)  # type: ignore[arg-type]
        except ConfigError as exc:
            return str(exc)
        return "ok"

    rng = random.Random(16)  # 4,000 of the 486,000 combinations, and every valid first one
    every = list(itertools.product(*values.values()))
    cases = [dict(zip(values, c, strict=True)) for c in every[:50] + rng.sample(every, 4000)]
    fast = [outcome(kw) for kw in cases]
    passed = sum(f == "ok" for f in fast)
    monkeypatch.setattr(parallel, "_plain", lambda p: False)  # every check, one by one
    assert [outcome(kw) for kw in cases] == fast
    assert 0 < passed < len(cases)


def test_dense_rows_at_once_beside_per_plan_rows_equal_solve_exactly() -> None:
    """One call holding rows filled at once (dense training stages sharing a base) and rows
    lowered per plan (a mixture of experts, FP8 training) in the same table: every point is
    ``solve()``'s, the step time exactly under the default recomputation."""
    s = mlsysim.sweep(["Mixtral_8x7B", "Llama3_8B"], "DGX_H100", phase="training",
                      devices=16, tp=[1, 2], pp=[1, 2], precision=["bf16", "fp8"],
                      batch=[32, 64], seq_len=512)  # fmt: skip
    assert len(s) == 32
    _check(s, fresh=True)
    for i in range(len(s)):
        row = s.row(i)
        kw = {k: v for k, v in row.items() if k in _INPUTS}
        r = mlsysim.solve(**kw, seq_len=row["seq_len"])
        assert row["step_time_s"] == r.step_time_s and row["latency_s"] == r.latency_s


def test_combinations_are_numpy_unique_without_its_sort() -> None:
    """Each part's representatives and every structure's combination (``_first_of``) are
    ``np.unique``'s first indices and inverse, dense codes or sparse."""
    rng = np.random.default_rng(16)
    for _ in range(300):
        n, size = int(rng.integers(1, 300)), int(rng.integers(1, 2000))
        code = rng.integers(0, size, n)
        first, inverse = distributed_sweep._first_of(np, code, size)
        _, want_first, want_inverse = np.unique(code, return_index=True, return_inverse=True)
        assert np.array_equal(first, want_first) and np.array_equal(inverse, want_inverse)


def test_equal_optimizer_updates_are_timed_once() -> None:
    """ZeRO-1 … 3 shard the optimizer state alike, and recomputation does not change the
    update: 4 ZeRO stages × 2 recomputations time 3 updates (ZeRO-0's whole state, ZeRO-1's
    shard with fp32 main gradients, ZeRO-2/3's with gradients in the weights' format), not
    one per structure."""
    from mlsysim.core.cache import clear_all

    timing = importlib.import_module("mlsysim.solvers.distributed.timing")
    clear_all()
    axes = {"zero": [0, 1, 2, 3], "recompute": ["none", "full"]}
    s = mlsysim.sweep(
        "Llama2_7B", "DGX_A100", phase="training", devices=8, tp=2, pp=2, **axes,
        batch=[32, 64], seq_len=1024,
    )  # fmt: skip
    assert len(timing._OPTIMIZER) == 3
    _check(s)


def test_the_default_policys_head_is_the_bases_own_timing(count_calls: Any) -> None:
    """A dense training lowering's LM head has one recomputation class: the base times its
    ops once, in their order, and the default policy's head is that timing with the step's
    launch cost added (head_timing's own sum): no lowering times the head twice, and every
    point still equals solve() on emptied caches."""
    from mlsysim.core.cache import clear_all

    lowering = importlib.import_module("mlsysim.solvers.sweeps.distributed_lowering")
    heads = count_calls(lowering, "head_timing")
    clear_all()
    s = mlsysim.sweep("Llama2_7B", "DGX_A100", phase="training", devices=8, tp=[1, 2],
                      pp=[1, 2], recompute=["none", "selective", "full"], batch=[32, 64],
                      seq_len=1024)  # fmt: skip
    assert distributed_sweep.lowerings[0] == 2  # one per tp: every depth and policy share it
    assert heads[0] == 0
    _check(s, fresh=True)


def test_plans_of_one_class_make_its_default_policy_plan_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Resolved plans equal but for their recomputation find their class by their fields:
    the plan under the default recomputation is built once per class, not once per plan."""
    import dataclasses

    from mlsysim.core.cache import clear_all
    from mlsysim.execution.plan import ExecutionPlan

    made = [0]
    replace = dataclasses.replace

    def counted(obj: Any, /, **changes: Any) -> Any:
        if isinstance(obj, ExecutionPlan):
            made[0] += 1
        return replace(obj, **changes)

    monkeypatch.setattr(dataclasses, "replace", counted)
    clear_all()
    s = mlsysim.sweep("Llama2_7B", "DGX_A100", phase="training", devices=8, tp=[1, 2],
                      recompute=["none", "selective", "full"], batch=32, seq_len=1024)  # fmt: skip
    assert made[0] == 1
    _check(s, fresh=True)
