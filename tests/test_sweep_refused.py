"""``sweep(invalid="mark")``: a grid's points ``solve()`` refuses are marked, not raised.

Every point of such a sweep is what ``solve()`` gives there: its result when it solves, its
error's text in the ``refused`` column when it raises (with ``feasible`` False,
``binding_wall`` ``"refused"`` and no result values). ``invalid="raise"`` (the default)
stays ``solve()``'s first error.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import mlsysim
from mlsysim.core.exceptions import ConfigError, MlsysimError

#: Columns a refused point keeps (the point's inputs).
_INPUTS = frozenset(
    {"model", "system", "phase", "devices", "tp", "pp", "ep", "zero", "recompute"}
    | {"microbatch", "batch", "seq_len", "strict", "precision", "chunks", "sp", "cp"}
)
_COUNTS = frozenset({"devices", "nodes", "dp", "microbatches"})
_SOLVED = ("step_time_s", "latency_s", "memory_bytes", "throughput", "bubble_fraction")


def _solve_or_error(row: dict[str, Any], fixed: dict[str, Any]) -> Any:
    kw = {k: v for k, v in row.items() if k in _INPUTS and k not in fixed}
    if kw.get("seq_len") == -1 or kw.get("seq_len") != kw.get("seq_len"):  # none given
        del kw["seq_len"]
    try:
        return mlsysim.solve(**fixed, **kw)
    except MlsysimError as err:
        return err


def _same(got: float, want: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=1e-9)


def _check_marked(s: Any, fixed: dict[str, Any]) -> tuple[int, int]:
    """Every point against solve(); returns (solved, refused) counts (and asserts that some
    solved points fit, so their values were compared)."""
    solved = refused = fits = 0
    for i in range(len(s)):
        row = s.row(i)
        want = _solve_or_error(row, fixed)
        if isinstance(want, MlsysimError):
            refused += 1
            assert row["refused"] == str(want), (i, row["refused"], str(want))
            assert row["feasible"] is False and row["binding_wall"] == "refused"
            for name, v in row.items():
                if name in _INPUTS or name in ("refused", "feasible", "binding_wall"):
                    continue
                assert v == -1 if name in _COUNTS else math.isnan(v), (i, name, v)
            continue
        solved += 1
        assert row["refused"] == "", (i, row["refused"])
        assert row["feasible"] == want.feasible and row["binding_wall"] == want.binding_wall
        if not want.feasible:  # a step that does not fit: its values are solve's to refuse
            continue
        fits += 1
        for name in _SOLVED:
            value = getattr(want, name, None)
            if value is not None:
                assert _same(row[name], float(getattr(value, "magnitude", value))), (i, name)
    assert fits, "no solved point fits: nothing was compared"
    return solved, refused


def test_refused_points_are_marked_with_solves_error_and_the_rest_equal_solve() -> None:
    fixed = {"model": "Llama2_7B", "system": "DGX_A100", "phase": "training", "devices": 8}
    fixed["zero"] = 1
    # tp=3 does not divide 8 devices; pp=4 at batch 4 leaves fewer micro-batches than
    # stages; batch 10 does not split over dp 8: each a ConfigError of its own
    axes = {"tp": [1, 2, 3], "pp": [1, 4], "batch": [4, 10, 16], "seq_len": 1024}
    s = mlsysim.sweep(**fixed, **axes, invalid="mark")
    assert len(s) == 18
    solved, refused = _check_marked(s, fixed)
    assert solved and refused >= 3
    reasons = {r for r in s["refused"] if r}
    assert len(reasons) >= 3  # several kinds of refusal, each its own text
    with pytest.raises(ConfigError) as raised:  # the default: solve's first error
        mlsysim.sweep(**fixed, **axes)
    assert str(raised.value) in reasons


def test_a_refusal_in_a_block_of_structures_leaves_the_others_exact() -> None:
    """Whole structures run as one block until one refuses: then the rest are solved apart
    and equal solve() as in a grid with no refusal."""
    fixed = {"model": "Mixtral_8x7B", "system": "DGX_H100", "phase": "training", "devices": 64}
    axes = {"tp": [1, 2, 4, 8], "pp": [1, 2, 4], "ep": [1, 8], "batch": 256, "seq_len": 4096}
    s = mlsysim.sweep(**fixed, **axes, invalid="mark")
    solved, refused = _check_marked(s, fixed)
    assert (solved, refused) == (21, 3)  # ep 8 ∤ dp at tp·pp = 16 (dp 4) and 32 (dp 2)
    ok = s["refused"] == ""
    clean = mlsysim.sweep(**fixed, **{**axes, "ep": 1})
    for name in ("step_time_s", "memory_bytes", "mfu"):
        np.testing.assert_array_equal(s[name][s["ep"] == 1], clean[name])
    assert ok.sum() == 21


def test_streamed_chunks_mark_the_same_points() -> None:
    fixed = {"model": "Llama2_7B", "system": "DGX_A100", "phase": "training", "devices": 8}
    axes = {"tp": [1, 3], "pp": [1, 4], "batch": [4, 16], "seq_len": 1024}
    whole = mlsysim.sweep(**fixed, **axes, invalid="mark")
    parts = list(mlsysim.sweep_chunks(**fixed, **axes, invalid="mark", chunk=3))
    assert [len(p) for p in parts] == [3, 3, 2]
    refused = [r for p in parts for r in p["refused"]]
    assert refused == list(whole["refused"])
    walls = [w for p in parts for w in p["binding_wall"]]
    assert walls == list(whole["binding_wall"])


def test_one_device_points_past_the_context_are_marked_one_by_one() -> None:
    s = mlsysim.sweep(
        "Llama2_7B", "A100", phase="decode", batch=[1, 8], seq_len=[2048, 8192], invalid="mark"
    )
    past = s["seq_len"] > 4096
    assert past.sum() == 2 and (s["refused"][past] != "").all()
    assert (s["refused"][~past] == "").all() and np.isfinite(s["latency_s"][~past]).all()
    with pytest.raises(MlsysimError) as direct:
        mlsysim.solve("Llama2_7B", "A100", phase="decode", batch=1, seq_len=8192)
    assert s["refused"][past][0] == str(direct.value)
    assert list(s["binding_wall"][past]) == ["refused", "refused"]
    assert np.isnan(s["latency_s"][past]).all()


def test_strict_points_that_do_not_fit_are_marked_with_solves_error() -> None:
    fixed = {"model": "Llama2_70B", "system": "DGX_A100", "phase": "training", "devices": 8}
    s = mlsysim.sweep(**fixed, tp=[1, 8], batch=8, seq_len=2048, strict=True, invalid="mark")
    row = s.row(0)  # tp 1: 70B of state on one device
    with pytest.raises(MlsysimError) as direct:
        mlsysim.solve(**fixed, tp=1, batch=8, seq_len=2048, strict=True)
    assert row["refused"] == str(direct.value) and "does not fit" in row["refused"]
    assert s.row(1)["refused"] == "" or "does not fit" in s.row(1)["refused"]


def test_invalid_takes_raise_or_mark_only() -> None:
    with pytest.raises(ConfigError, match="invalid must be 'raise' or 'mark'"):
        mlsysim.sweep("Llama2_7B", "A100", phase="decode", invalid="skip")


def test_mark_is_refused_with_dask_inputs() -> None:
    da = pytest.importorskip("dask.array")
    with pytest.raises(ConfigError, match="numpy chunks"):
        mlsysim.sweep("Llama2_7B", "A100", phase="decode", batch=da.arange(1, 9), invalid="mark")


def test_a_sweep_without_refusals_has_no_refused_column() -> None:
    s = mlsysim.sweep("Llama2_7B", "A100", phase="decode", batch=[1, 2])
    assert "refused" not in s
    m = mlsysim.sweep("Llama2_7B", "A100", phase="decode", batch=[1, 2], invalid="mark")
    assert list(m["refused"]) == ["", ""]
    for name in s:
        np.testing.assert_array_equal(np.asarray(s[name]), np.asarray(m[name]))


def test_cli_marks_and_summarises_refused_points(cli: Any) -> None:
    argv = ("sweep", "Llama2_7B", "DGX_A100", "--phase", "training", "--set", "devices=8",
            "--set", "tp=1,3", "--set", "zero=1", "--batch", "16", "--seq-len", "1024")  # fmt: skip
    code, out, err = cli(*argv, "--invalid", "mark")
    assert code == 0, err
    assert "refused: 1 of 2 (1 reason(s)" in out and "not a multiple" in out
    code, out, err = cli(*argv)
    assert code == 2 and "not a multiple" in err
    code, out, err = cli(*argv, "--invalid", "mark", "--csv")
    assert code == 0 and out.splitlines()[0].split(",")[-1] == "refused"


def test_a_structure_of_one_point_that_refuses_is_marked() -> None:
    """A refusing structure with a single point (one batch, one sequence) is marked too."""
    fixed = {"model": "Llama2_7B", "system": "DGX_A100", "phase": "training", "devices": 16}
    s = mlsysim.sweep(**fixed, pp=[1, 2], chunks=2, zero=1, batch=16, invalid="mark")
    assert len(s) == 2
    with pytest.raises(ConfigError) as direct:
        mlsysim.solve(**fixed, pp=1, chunks=2, zero=1, batch=16)
    assert s.row(0)["refused"] == str(direct.value) and s.row(1)["refused"] == ""
    _check_marked(s, {**fixed, "chunks": 2, "zero": 1})


def test_one_device_structures_the_lowering_refuses_are_marked() -> None:
    """A vision model has no decode phase: its structure is refused whole, with solve's
    error; the language model beside it is solved."""
    s = mlsysim.sweep(["Llama2_7B", "ResNet50"], "A100", phase="decode", batch=[1, 8],
                      invalid="mark")  # fmt: skip
    with pytest.raises(ConfigError) as direct:
        mlsysim.solve("ResNet50", "A100", phase="decode", batch=1)
    assert list(s["refused"]) == ["", "", str(direct.value), str(direct.value)]
    one = mlsysim.solve("Llama2_7B", "A100", phase="decode", batch=8)
    assert math.isclose(s["latency_s"][1], one.latency.to("s").magnitude, rel_tol=1e-9)
    assert np.isnan(s["latency_s"][2:]).all()


def test_a_misspelt_name_raises_in_either_mode() -> None:
    """Only what a point of a grid can meet is marked; a typo is the grid's own error."""
    with pytest.raises(mlsysim.UnknownNameError):
        mlsysim.sweep(["Llama2_7B", "Llama2_7C"], "A100", phase="decode", invalid="mark")
