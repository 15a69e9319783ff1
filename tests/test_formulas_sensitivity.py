"""Sensitivity: arc elasticities by hand, their invariants, and the errors they raise.

Mutation testing found that nothing checked what the elasticity's errors say: which argument a
dimension mismatch names, what it shows, and whether every refusal carries a fix.
"""

from __future__ import annotations

import math

import pytest

from mlsysim import Q_
from mlsysim.core.exceptions import DimensionError, FormulaDomainError, MlsysimError
from mlsysim.core.formulas import elasticity


def test_bandwidth_bound_time_has_elasticity_near_minus_one():
    # t = bytes / bandwidth: a 10 % faster link gives t1/t0 = 1/1.1, so by hand
    # ε = (1/1.1 − 1) / 0.1 = −1/1.1 (the arc value; the point elasticity is exactly −1).
    t0 = Q_("10 ms")
    t1 = t0 / 1.1
    eps = elasticity(y0=t0, y1=t1, x0=Q_("1 TB/s"), x1=Q_("1.1 TB/s"))
    assert eps == pytest.approx(-1 / 1.1)


def test_units_of_either_side_do_not_matter():
    # The same change written in other units of the same dimension.
    a = elasticity(y0=Q_("10 ms"), y1=Q_("12 ms"), x0=Q_("2 TB/s"), x1=Q_("1.5 TB/s"))
    b = elasticity(y0=Q_("0.01 s"), y1=Q_("12000 us"), x0=Q_("2000 GB/s"), x1=Q_("1.5 TB/s"))
    # (12/10 − 1) / (1.5/2 − 1) = 0.2 / −0.25
    assert a == pytest.approx(-0.8)
    assert b == pytest.approx(a)


def test_unchanged_output_is_zero_and_proportional_output_is_one():
    assert elasticity(y0=5.0, y1=5.0, x0=2.0, x1=3.0) == 0.0
    assert elasticity(y0=Q_("4 J"), y1=Q_("6 J"), x0=Q_("2 W"), x1=Q_("3 W")) == pytest.approx(1.0)


def test_scaling_both_inputs_or_both_outputs_leaves_it_unchanged():
    base = elasticity(y0=3.0, y1=2.5, x0=7.0, x1=9.0)
    assert elasticity(y0=30.0, y1=25.0, x0=7.0, x1=9.0) == pytest.approx(base)
    assert elasticity(y0=3.0, y1=2.5, x0=0.7, x1=0.9) == pytest.approx(base)


@pytest.mark.parametrize(
    ("kwargs", "arg", "given", "given_dim", "expected_dim"),
    [
        (
            {"y0": Q_("10 ms"), "y1": Q_("9 GB"), "x0": 1.0, "x1": 2.0},
            "y1",
            "9 GB",
            "information",
            "time",
        ),
        (
            {"y0": 1.0, "y1": 2.0, "x0": Q_("1 TB/s"), "x1": Q_("3 W")},
            "x1",
            "3 W",
            "power",
            "bandwidth",
        ),
    ],
)
def test_a_dimension_mismatch_names_the_argument_its_value_and_both_dimensions(
    kwargs, arg, given, given_dim, expected_dim
):
    with pytest.raises(DimensionError) as info:
        elasticity(**kwargs)
    exc = info.value
    assert exc.where == "elasticity"
    assert exc.right == arg
    assert given in exc.left
    assert exc.left_dim.startswith(given_dim), exc.left_dim
    assert exc.right_dim.startswith(expected_dim), exc.right_dim
    text = str(exc)
    assert text.startswith(f"{arg} must be {exc.right_dim}, got "), text
    assert f"({exc.left_dim})" in text, text
    assert exc.fix == f"pass {arg} as a quantity of {exc.right_dim}"


@pytest.mark.parametrize("arg", ["y0", "y1", "x0", "x1"])
def test_a_value_that_is_not_a_quantity_is_refused_by_its_name(arg):
    kwargs = {"y0": 1.0, "y1": 2.0, "x0": 3.0, "x1": 4.0, arg: True}
    with pytest.raises(MlsysimError) as info:
        elasticity(**kwargs)
    text = str(info.value)
    assert text.startswith(f"{arg} must be a number or a quantity, got bool True"), text
    assert info.value.where == "elasticity" and "How to fix" in text, text


@pytest.mark.parametrize("arg", ["y0", "y1", "x0", "x1"])
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_non_finite_value_is_refused_with_a_fix_naming_it(arg, bad):
    kwargs = {"y0": 1.0, "y1": 2.0, "x0": 3.0, "x1": 4.0, arg: bad}
    with pytest.raises(FormulaDomainError) as info:
        elasticity(**kwargs)
    assert info.value.where == "elasticity"
    assert info.value.fix == f"pass a finite {arg}"


@pytest.mark.parametrize(
    ("kwargs", "base"),
    [
        ({"y0": Q_("0 s"), "y1": Q_("1 s"), "x0": 1.0, "x1": 2.0}, "y0"),
        ({"y0": 1.0, "y1": 2.0, "x0": Q_("0 TB/s"), "x1": Q_("1 TB/s")}, "x0"),
    ],
)
def test_a_zero_base_is_refused_with_a_fix(kwargs, base):
    with pytest.raises(FormulaDomainError) as info:
        elasticity(**kwargs)
    exc = info.value
    assert exc.where == "elasticity"
    assert str(exc).startswith(f"{base} is zero"), str(exc)
    assert "non-zero base" in exc.fix
    assert "How to fix: " in str(exc)


def test_an_unchanged_input_is_refused():
    with pytest.raises(FormulaDomainError) as info:
        elasticity(y0=1.0, y1=2.0, x0=Q_("1 TB/s"), x1=Q_("1000 GB/s"))
    assert info.value.where == "elasticity"
    assert info.value.fix
