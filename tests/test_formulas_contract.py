"""The formula machinery itself: argument checks, their messages, and the @formula metadata.

Mutation testing found these unpinned: the words of the argument checks' errors, which bounds
are inclusive, and the metadata every formula carries (domain, parameters, doc line, template
variables, operands with ``expand``).
"""

from __future__ import annotations

import inspect
import math

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import (
    DimensionError,
    FormulaDomainError,
    MlsysimError,
    UnknownNameError,
)
from mlsysim.core.formulas import FORMULAS, formula
from mlsysim.core.formulas._args import choice, count, fraction, positive, rate
from mlsysim.core.formulas._meta import MODULE_DOMAINS


def test_count_accepts_numbers_and_quantities_and_explains_refusals() -> None:
    assert count(4096, "seq_len", "f") == 4096.0
    assert count(Q_("4096 token"), "seq_len", "f", dim="token") == 4096.0
    assert count(Q_(3.0, ""), "n", "f") == 3.0
    assert count(0, "n", "f", minimum=0) == 0.0
    with pytest.raises(DimensionError) as wrong:
        count(Q_("4 GB"), "n", "f")
    assert "n must be a count" in str(wrong.value) and "(in f)" in str(wrong.value)
    with pytest.raises(FormulaDomainError) as kind:
        count("4", "n", "f")
    assert kind.value.what == "n must be a number, got '4'"
    assert kind.value.where == "f" and kind.value.fix == "pass n as a number"
    with pytest.raises(FormulaDomainError) as small:
        count(0, "layers", "f")
    err = small.value
    assert err.what == "layers must be at least 1, got 0" and err.where == "f"
    assert err.why == "the formula is defined only for such counts"
    assert err.fix == "pass layers ≥ 1"
    for bad in (math.inf, math.nan, True):
        with pytest.raises(FormulaDomainError):
            count(bad, "n", "f")


def test_fraction_bounds_are_inclusive_and_percentages_work() -> None:
    assert fraction(0.0, "p", "f") == 0.0 and fraction(1.0, "p", "f") == 1.0
    assert fraction(Q_("95 %"), "p", "f") == pytest.approx(0.95)
    assert fraction(1.5, "pue", "f", low=1.0, high=math.inf) == 1.5
    with pytest.raises(FormulaDomainError) as out:
        fraction(1.01, "p", "f")
    assert out.value.what == "p must be between 0 and 1, got 1.01"
    assert out.value.fix == "pass p in [0, 1]" and out.value.where == "f"
    with pytest.raises(FormulaDomainError) as kind:
        fraction("half", "p", "f")
    assert kind.value.what == "p must be a number, got 'half'"
    assert kind.value.fix == "pass p as a number between 0 and 1"
    with pytest.raises(DimensionError) as wrong:
        fraction(Q_("1 s"), "p", "f")
    assert "p must be dimensionless" in str(wrong.value)
    with pytest.raises(FormulaDomainError):
        fraction(math.nan, "p", "f")


def test_positive_strict_and_not() -> None:
    assert positive(2.0, "x", "f") == 2.0
    assert positive(0.0, "x", "f", strict=False) == 0.0
    with pytest.raises(FormulaDomainError) as zero:
        positive(0.0, "x", "f")
    assert zero.value.what == "x must be positive, got 0 (root units)"
    assert zero.value.fix == "pass a positive x" and zero.value.where == "f"
    with pytest.raises(FormulaDomainError) as neg:
        positive(-1.0, "x", "f", strict=False)
    assert neg.value.what.startswith("x must be non-negative")
    with pytest.raises(FormulaDomainError):
        positive(math.nan, "x", "f", strict=False)


def test_rate_takes_requests_or_frequencies() -> None:
    assert rate(Q_("100 req/s"), "arrival_rate", "f") == pytest.approx(100)
    assert rate(Q_("100 / s"), "arrival_rate", "f") == pytest.approx(100)
    with pytest.raises(FormulaDomainError, match="arrival_rate must be positive"):
        rate(Q_("0 / s"), "arrival_rate", "f")
    with pytest.raises(FormulaDomainError, match="arrival_rate must be positive"):
        rate(Q_("0 req/s"), "arrival_rate", "f")
    with pytest.raises(DimensionError, match="arrival_rate"):
        rate(Q_("3 GB"), "arrival_rate", "f")


def test_choice_suggests() -> None:
    assert choice("ring", "algorithm", "f", ["ring", "tree"]) == "ring"
    with pytest.raises(UnknownNameError) as err:
        choice("rnig", "algorithm", "f", ["ring", "tree"])
    assert err.value.suggestions == ["ring"] and err.value.where == "f"
    assert err.value.fix == "use one of ring, tree"


def test_every_formula_carries_its_metadata() -> None:
    for name, fn in FORMULAS.items():
        info = fn.formula
        assert info.name == name
        module = fn.__module__.rpartition(".")[2]
        assert info.domain == MODULE_DOMAINS.get(module, module)
        assert info.params == tuple(inspect.signature(fn).parameters)
        assert info.doc == (fn.__doc__ or "").strip().split("\n", 1)[0]
        assert info.doc


def test_bind_defaults_operands_and_render() -> None:
    info = FORMULAS["amdahl"].formula
    assert info.bind(0.9, 10) == {"p": 0.9, "speedup": 10}
    assert info.bind(p=0.9, speedup=10) == {"p": 0.9, "speedup": 10}
    tm = FORMULAS["training_memory"].formula
    assert tm.defaults()["optimizer"] == "adam" and tm.defaults()["zero_stage"] == 0
    ops = tm.operands({"params": 1e9, "optimizer": "sgd", "precision": "bf16"})
    assert ops["K"].to("B").magnitude == 4  # the fp32 master copy only
    assert ops["beta_w"].to("B").magnitude == 2 and ops["beta_g"].to("B").magnitude == 4
    assert (ops["d_1"], ops["d_2"], ops["d_3"]) == (1, 1, 1)
    z = tm.operands({"params": 1e9, "zero_stage": 3, "dp": 8})
    assert (z["d_1"], z["d_2"], z["d_3"]) == (8, 8, 8)
    z1 = tm.operands({"params": 1e9, "zero_stage": 1, "dp": 8})
    assert (z1["d_1"], z1["d_2"], z1["d_3"]) == (8, 1, 1)
    assert info.variables == ("p", "speedup")
    assert info.render({"p": "0.9", "speedup": "10"}) == r"\frac{1}{(1 - 0.9) + 0.9 / 10}"
    assert info.render_symbol() == r"S = \frac{1}{(1 - p) + p / s}"
    with pytest.raises(MlsysimError, match="no value for speedup"):
        info.render({"p": "0.9"})


def test_activation_and_sparse_operands_show_the_coefficients() -> None:
    layer = FORMULAS["activation_bytes_per_layer"].formula
    none = layer.operands({"recompute": "none", "tp": 8, "sp": True, "precision": "fp32"})
    assert (none["c_r"], none["c_p"], none["c_a"], none["t_sp"]) == (10, 24, 5, 8)
    assert none["f_beta"] == 2.0
    flash = layer.operands({"recompute": "none", "tp": 8, "sp": True, "fused_attention": True})
    assert (flash["c_r"], flash["c_p"], flash["c_a"]) == (10, 24, 0)
    full = layer.operands({"recompute": "full", "tp": 8, "sp": False})
    assert (full["c_r"], full["c_p"], full["c_a"], full["t_sp"]) == (2, 0, 0, 1)
    sparse = FORMULAS["sparse_weight_bytes"].formula
    two_four = sparse.operands({"precision": "fp16", "pattern": "2:4"})
    assert two_four["index_bytes"].to("B").magnitude == pytest.approx(0.25)
    assert two_four["bytes_per_element"].to("B").magnitude == 2
    csr = sparse.operands({"precision": "fp16", "pattern": "unstructured"})
    assert csr["index_bytes"].to("B").magnitude == pytest.approx(4)
    kv = FORMULAS["kv_cache_bytes"].formula
    from mlsysim import Models

    k = kv.operands({"model": Models.Llama2_7B, "precision": "fp8"})
    assert k["layers"] == 32 and k["kv_width"] == 2 * 32 * 128
    assert k["bytes_per_element"].to("B").magnitude == 1
    act = FORMULAS["activation_bytes"].formula
    a = act.operands({"model": Models.Llama2_7B, "seq_len": 2048, "batch": 1, "pp": 4})
    assert a["layers"] == 32 and a["f_int"] == 1
    inter = act.operands(
        {"model": Models.Llama2_7B, "seq_len": 2048, "batch": 1, "pp": 4, "interleave": 2}
    )
    assert inter["f_int"] == pytest.approx(1 + 3 / 8)
    wide = act.operands(
        {"model": Models.Llama2_7B, "seq_len": 128, "batch": 1, "precision": "fp32"}
    )
    narrow = act.operands({"model": Models.Llama2_7B, "seq_len": 128, "batch": 1})
    assert wide["per_layer"] == 2 * narrow["per_layer"]  # the per-layer count at fp32
    q = FORMULAS["quantized_weights_bytes"].formula.operands({"precision": "int4"})
    assert q["bytes_per_element"].to("B").magnitude == pytest.approx((4 + 20 / 128) / 8)
    q0 = FORMULAS["quantized_weights_bytes"].formula.operands(
        {"precision": "int4", "group_size": 0}
    )
    assert q0["bytes_per_element"].to("B").magnitude == 0.5


def test_a_formula_needs_a_source_and_a_unique_name() -> None:
    with pytest.raises(MlsysimError, match="at least one literature source"):
        formula(symbol="x", substituted="x", sources=(), citation="c", result="time")
    with pytest.raises(MlsysimError, match="defined twice"):

        @formula(symbol="x", substituted="x", sources=("amdahl1967",), citation="c", result="")
        def amdahl(p: float) -> float:
            """Duplicate."""
            return p
