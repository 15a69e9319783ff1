"""``mlsysim.sweep``: every point equals ``solve()``; the grid, chunks, columns and errors."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim.core.exceptions import ConfigError, InfeasibleError, MlsysimError
from mlsysim.solvers.sweeps.kernel import SINGLE_COLUMNS

sweep_module = importlib.import_module("mlsysim.solvers.sweeps.fill")

_MODELS = (
    "Llama2_7B",
    "Llama3_8B",
    "Mixtral_8x7B",
    "DeepSeekV3",
    "BERT_Base",
    "ResNet50",
    "MobileNetV2",
    "DSCNN_KWS",
)
_HARDWARE = ("A100", "H100", "T4", "MI300X", "TPUv5e", "JetsonOrinNano", "STM32H743")


def _expected(r: object, column: str) -> float:
    """A solve result's value for a sweep column (NaN where solve has none)."""
    if column in ("throughput", "mfu", "hfu"):
        try:
            v = getattr(r, column)
        except InfeasibleError:
            return math.nan
        return float(getattr(v, "magnitude", v))
    if column == "memory_bytes":
        return r.memory.total_bytes  # type: ignore[attr-defined]
    if column.endswith("_bytes") and column != "bytes_total":
        return float(getattr(r.memory, column))  # type: ignore[attr-defined]
    v = getattr(r, column)
    return math.nan if v is None else float(v)


def _agrees(got: float, want: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=0.0)


def _check_points(s: mlsysim.solvers.Sweep, solve_kw: dict[str, object]) -> None:
    for i in range(len(s)):
        row = s.row(i)
        seq = row["seq_len"]
        r = mlsysim.solve(
            row["model"],
            row["system"],
            phase=row["phase"],
            batch=row["batch"],
            seq_len=None if isinstance(seq, float) and math.isnan(seq) else int(seq),
            **solve_kw,
        )
        assert row["feasible"] == r.feasible, (i, row)
        assert row["binding_wall"] == r.binding_wall, (i, row)
        for c in SINGLE_COLUMNS:
            assert _agrees(row[c], _expected(r, c)), (i, c, row[c], _expected(r, c), row)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    model=st.sampled_from(_MODELS),
    hardware=st.sampled_from(_HARDWARE),
    phase=st.sampled_from(("prefill", "decode", "training", "inference")),
    precision=st.sampled_from((None, "fp16", "fp8", "int8", "int4")),
    extra=st.sampled_from(({}, {"recompute": "full"}, {"attention": "unfused"})),
    engine=st.sampled_from((None, "eager", "compiled", "tensorrt_llm", "llamacpp", "cmsis_nn")),
    formats=st.sampled_from(({}, {"kv_cache": "fp8"}, {"kv_cache": "int8"}, {"group_size": 32})),
    batch=st.lists(  # small batches fit (every wall), large ones test the capacity wall
        st.one_of(st.integers(1, 16), st.integers(1, 4096)), min_size=1, max_size=3, unique=True
    ),
    seq=st.one_of(st.none(), st.lists(st.integers(0, 4500), min_size=1, max_size=3, unique=True)),
)
def test_every_point_equals_solve(
    model: str,
    hardware: str,
    phase: str,
    precision: str | None,
    extra: dict[str, object],
    engine: str | None,
    formats: dict[str, object],
    batch: list[int],
    seq: list[int] | None,
) -> None:
    """Engines (their efficiencies, fusion and wave tiles), KV-cache formats and quantization
    group sizes included: the sweep runs the solver's own lowering and timing."""
    extra = {**extra, **formats, **({} if engine is None else {"engine": engine})}
    axes: dict[str, object] = {"phase": phase, "precision": precision, **extra, "batch": batch}
    if seq is not None:
        axes["seq_len"] = seq
    points = [(b, s) for b in batch for s in (seq or [None])]
    failures = []
    for b, s in points:
        try:
            mlsysim.solve(
                model, hardware, phase=phase, precision=precision, batch=b, seq_len=s, **extra
            )
        except MlsysimError as exc:
            failures.append(exc)
    if failures:  # a grid with a point solve refuses is refused, with solve's own error kind
        with pytest.raises(MlsysimError) as caught:
            mlsysim.sweep(model, hardware, **axes)
        assert any(isinstance(caught.value, type(f)) for f in failures)
        return
    s = mlsysim.sweep(model, hardware, **axes)
    assert len(s) == len(points)
    _check_points(s, {"precision": precision, **extra})


def test_moe_and_mla_over_many_batches() -> None:
    """Expert occupancy (one token: exactly k experts) and MLA decode, element-wise."""
    for model in ("Mixtral_8x7B", "DeepSeekV3"):
        s = mlsysim.sweep(
            model,
            "MI300X",
            phase=["decode", "prefill"],
            precision="int4",
            batch=[1, 2, 7, 300],
            seq_len=[1, 64, 4000],
        )
        _check_points(s, {"precision": "int4"})


@pytest.mark.parametrize(
    ("model", "system", "keywords"),
    [
        ("ResNet50", "A100", {"engine": "tensorrt"}),  # implicit-GEMM waves of a batch-1 net
        ("ResNet50", "T4", {"engine": "eager"}),  # unfused: one kernel per framework layer
        ("Llama2_7B", "H100", {"engine": "eager", "kv_cache": "fp8"}),
        ("Llama2_7B", "A100", {"engine": "llamacpp", "precision": "int4", "group_size": 64}),
        ("Mixtral_8x7B", "H100", {"engine": "tensorrt_llm", "precision": "fp8"}),
        ("DSCNN_KWS", "STM32H743", {"engine": "cmsis_nn", "precision": "int8"}),
    ],
)
def test_engines_waves_and_formats_element_wise(
    model: str, system: str, keywords: dict[str, object]
) -> None:
    """Wave quantization (tiles over SMs, split-K, attention blocks), fusion, dequantizing
    kernels and launch overlap vary with batch and sequence: each point still equals solve."""
    phases = ["decode", "prefill"] if model != "ResNet50" and model != "DSCNN_KWS" else None
    s = mlsysim.sweep(
        model,
        system,
        phase=phases or "inference",
        batch=[1, 3, 17, 64, 129],
        **({"seq_len": [1, 100, 300]} if phases else {}),
        **keywords,
    )
    _check_points(s, keywords)


def test_grid_order_and_inputs() -> None:
    s = mlsysim.sweep(
        ["Llama2_7B", "Llama3_8B"],
        ["A100", "H100"],
        phase="decode",
        batch=[1, 8, 64],
        seq_len=[128, 1024],
    )
    assert len(s) == 2 * 2 * 3 * 2
    assert list(s["model"][:12]) == ["Llama2_7B"] * 12
    assert list(s["system"][:6]) == ["A100"] * 6 and s["system"][6] == "H100"
    assert list(s["batch"][:6]) == [1, 1, 8, 8, 64, 64]  # batch, then seq_len innermost
    assert list(s["seq_len"][:4]) == [128, 1024, 128, 1024]
    assert s.columns[:5] == ("model", "system", "phase", "batch", "seq_len")
    assert s["latency_s"].dtype == np.float64 and s["feasible"].dtype == bool


def test_default_seq_len_and_models_without_a_sequence() -> None:
    s = mlsysim.sweep(["Llama2_7B", "ResNet50"], "A100", phase="inference", batch=[1, 32])
    assert list(s["seq_len"][:2]) == [512, 512]  # solve's default
    assert np.isnan(s["seq_len"][2:]).all()  # a CNN has none: NaN, never 0
    _check_points(s, {})


def test_distributed_points_equal_solve() -> None:
    s = mlsysim.sweep(
        "Llama2_7B",
        "DGX_A100",
        phase="training",
        devices=8,
        tp=[1, 2],
        zero=[0, 1],
        batch=[8, 16],
        seq_len=1024,
    )
    assert len(s) == 8
    for i in range(len(s)):
        row = s.row(i)
        r = mlsysim.solve(
            "Llama2_7B",
            "DGX_A100",
            phase="training",
            devices=8,
            tp=row["tp"],
            zero=row["zero"],
            batch=row["batch"],
            seq_len=1024,
        )
        assert row["step_time_s"] == r.step_time_s
        assert row["binding_wall"] == r.binding_wall and row["feasible"] == r.feasible
        assert row["dp"] == r.dp and row["memory_bytes"] == r.memory.total_bytes
        assert _agrees(row["mfu"], _expected(r, "mfu"))


def test_one_device_and_clusters_in_one_grid() -> None:
    s = mlsysim.sweep("Llama2_7B", ["A100", "DGX_A100"], phase="decode", batch=[8, 16])
    assert list(s["devices"]) == [1, 1, 8, 8]
    assert np.isnan(s["step_time_s"][:2]).all() and not np.isnan(s["step_time_s"][2:]).any()
    assert (
        s["latency_s"][3]
        == mlsysim.solve("Llama2_7B", "DGX_A100", phase="decode", batch=16).latency_s
    )


def test_chunks_stream_and_count_kernel_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    kernel = sweep_module.time_single

    def counted(*args: object) -> object:
        sizes.append(len(args[4]))  # type: ignore[arg-type]
        return kernel(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sweep_module, "time_single", counted)
    axes = {"phase": "decode", "batch": list(range(1, 11)), "seq_len": [64, 128, 256]}
    whole = mlsysim.sweep("Llama2_7B", ["A100", "H100"], **axes)
    sizes.clear()
    parts = list(mlsysim.sweep_chunks("Llama2_7B", ["A100", "H100"], chunk=7, **axes))
    assert [p.offset for p in parts] == list(range(0, 60, 7))
    assert max(len(p) for p in parts) == 7 and max(sizes) <= 7
    assert len(sizes) == 10  # 9 chunks, one of which spans the two systems
    joined = np.concatenate([p["latency_s"] for p in parts])
    assert np.array_equal(joined, whole["latency_s"])


def test_columns_keep_only_what_is_asked() -> None:
    s = mlsysim.sweep(
        "Llama2_7B", "A100", phase="decode", batch=[1, 2], columns=["latency_s", "binding_wall"]
    )
    assert s.columns == (
        "model",
        "system",
        "phase",
        "batch",
        "seq_len",
        "latency_s",
        "binding_wall",
    )
    with pytest.raises(ConfigError, match="no column 'latency'"):
        mlsysim.sweep("Llama2_7B", "A100", phase="decode", columns=["latency"])
    with pytest.raises(ConfigError, match="no column 'mfu'"):
        s["mfu"]


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        ({"phase": "decode", "batch": []}, "axis batch is empty"),
        ({"phase": "decode", "batch": {1, 2}}, "order is not defined"),
        ({"phase": "decode", "batch": [1, 0]}, "batch must be a whole number"),
        ({"phase": "decode", "batch": np.array([1.0, 2.5])}, "must hold whole numbers"),
        ({"phase": "decode", "batch": np.ones((2, 2), dtype=int)}, "one-dimensional"),
        ({"phase": "prefill", "seq_len": [512, 9000]}, "exceeds Llama2_7B's maximum context"),
        ({"phase": "decode", "kernel_overheads": ["3 us"]}, "kernel_overhead"),
        ({"batch": 4}, "needs a phase"),
        ({"phase": "decode", "chunk": 0}, "chunk must be"),
    ],
)
def test_bad_grids_are_refused(axes: dict[str, object], message: str) -> None:
    with pytest.raises(MlsysimError, match=message):
        mlsysim.sweep("Llama2_7B", "A100", **axes)


def test_strict_raises_for_a_point_that_does_not_fit() -> None:
    s = mlsysim.sweep("Llama2_70B", "A100", phase="decode", batch=[1, 2])
    assert not s["feasible"].any() and np.isnan(s["mfu"]).all()
    with pytest.raises(InfeasibleError, match="does not fit"):
        mlsysim.sweep("Llama2_70B", "A100", phase="decode", batch=[1, 2], strict=True)


def test_tables_and_text_forms() -> None:
    s = mlsysim.sweep("Llama2_7B", ["A100", "T4"], phase="decode", batch=[1, 4])
    df = s.to_pandas()
    assert df.shape == (4, len(s.columns))
    assert list(df["system"]) == ["A100", "A100", "T4", "T4"]
    rows = s.csv().splitlines()
    assert rows[0].startswith("model,system,phase,batch,seq_len,latency_s") and len(rows) == 5
    doc = s.to_dict()
    assert doc["schema"] == "mlsysim.sweep/1" and len(doc["rows"]) == 4
    pa = pytest.importorskip("pyarrow")
    assert isinstance(s.to_arrow(), pa.Table)


def test_dask_arrays_run_the_same_kernel_on_a_local_cluster() -> None:
    da = pytest.importorskip("dask.array", reason="the optional [dask] extra is not installed")
    distributed = pytest.importorskip("distributed", reason="the [dask] extra is not installed")
    axes = {"phase": "training", "seq_len": [128, 1024]}
    ref = mlsysim.sweep(["Llama2_7B", "ResNet50"], "A100", batch=np.arange(1, 41), **axes)
    with (
        # any free port: the scheduler's HTTP server still starts with the dashboard off,
        # and a busy 8787 (another cluster on the runner) warns, an error under -W error
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        lazy = mlsysim.sweep(
            ["Llama2_7B", "ResNet50"], "A100", batch=da.arange(1, 41, chunks=10), **axes
        )
        assert lazy.lazy and len(lazy) == len(ref)
        got = lazy.compute()
    for name in ref.columns:
        a, b = ref[name], got[name]
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
    with pytest.raises(ConfigError, match="only batch and seq_len"):
        mlsysim.sweep("Llama2_7B", "A100", phase="decode", tp=da.arange(1, 3, chunks=1))


def test_the_kernel_takes_dask_arrays_themselves() -> None:
    """The kernel is written against the array API: dask arrays in, dask arrays out."""
    da = pytest.importorskip("dask.array", reason="the optional [dask] extra is not installed")
    from mlsysim.solvers.single_node.solver import SingleNodeSolver

    p = SingleNodeSolver().prepare("Mixtral_8x7B", "H100", phase="decode", precision="fp8")
    b, s = np.arange(1, 9), np.full(8, 1024)
    ref = sweep_module.time_single(p.spec, p.hw, p.phase, p.rp, b, s)
    lazy = sweep_module.time_single(p.spec, p.hw, p.phase, p.rp, da.asarray(b), da.asarray(s))
    for name in ("latency_s", "power_w", "mfu", "binding_wall", "feasible"):
        got = np.broadcast_to(np.asarray(lazy[name].compute()), b.shape)
        assert np.array_equal(got, np.broadcast_to(ref[name], b.shape)), name
