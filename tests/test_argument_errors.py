"""A value that is no quantity says what it is, which argument or field, where, and how to fix.

``as_quantity`` once raised ``size: expected a quantity, got NoneType None`` with no place and no
fix, and a formula's wrong-dimension or unknown-precision error did not name the formula. The
formulas' argument checks read quantities through cached per-unit checks, never pint's
``.dimensionless`` (which derives root units on every call).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pydantic
import pytest

from mlsysim import Q_
from mlsysim.core import formulas as F
from mlsysim.core.exceptions import ConfigError, DimensionError, MlsysimError
from mlsysim.core.formulas._args import count, fraction
from mlsysim.core.formulas._meta import REGISTRY
from mlsysim.core.types import Q
from mlsysim.core.units import as_quantity, check_dimension, si, ureg


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "NoneType None"), ([1, 2], "list [1, 2]"), ({"a": 1}, "dict {'a': 1}")],
)
def test_a_value_that_is_no_quantity_says_what_where_and_how(value: Any, shown: str) -> None:
    with pytest.raises(DimensionError) as info:
        si(value, "bandwidth", "bandwidth", "collective")
    err = info.value
    assert err.where == "collective"
    assert err.what == f"bandwidth must be a quantity of bandwidth (information/time), got {shown}"
    assert "'3.35 TB/s'" in err.fix and "Q_(3.35, 'TB/s')" in err.fix
    assert "plain number" not in err.fix  # a bare number is no bandwidth
    assert "(in collective)" in str(err) and "How to fix" in str(err)


def test_the_example_follows_the_expected_dimension() -> None:
    with pytest.raises(DimensionError, match=r"quantity of time.*'200 ms'"):
        check_dimension(None, "time", name="duration", where="training_run")
    with pytest.raises(DimensionError, match=r"'GB' without a number"):
        as_quantity(ureg.GB, name="size", expected="information")
    with pytest.raises(DimensionError, match="plain number for a dimensionless figure"):
        as_quantity(object(), name="share")


def test_unreadable_text_names_where_it_was_passed() -> None:
    with pytest.raises(MlsysimError) as info:
        si("3 XB", "information", "size", "checkpoint_time")
    assert info.value.where == "checkpoint_time"


def test_numpy_scalars_are_numbers() -> None:
    assert as_quantity(np.int64(3)).magnitude == 3
    assert count(np.int64(4), "n", "w") == 4.0
    assert fraction(np.float32(0.5), "f", "w") == 0.5
    with pytest.raises(MlsysimError, match="must be a number"):
        count(np.bool_(True), "n", "w")


_REQUIRED = {
    name: [p for p in inspect.signature(fn).parameters.values() if p.default is p.empty]
    for name, fn in sorted(REGISTRY.items())
}


@pytest.mark.parametrize("name", [n for n, req in _REQUIRED.items() if req])
def test_every_formula_names_itself_when_given_nothing(name: str) -> None:
    """None for every required argument: an mlsysim error located at the formula (never an
    AttributeError on a spec, never a location-less unit error)."""
    with pytest.raises(MlsysimError) as info:
        REGISTRY[name](*[None] * len(_REQUIRED[name]))
    assert info.value.where, str(info.value)
    assert name in info.value.where or info.value.where in name, (name, info.value.where)


def test_formula_errors_carry_the_formula() -> None:
    with pytest.raises(DimensionError) as info:
        F.checkpoint_time("1 GB", "1 GB")
    assert info.value.where == "checkpoint_time" and "bandwidth" in info.value.what
    with pytest.raises(MlsysimError) as unknown:
        F.quantization_speedup("fp7", "fp16")
    assert unknown.value.where == "quantization_speedup"
    with pytest.raises(ConfigError, match=r"mlsysim.Models\['Llama2_7B'\]") as spec:
        F.weights_bytes("Llama2_7B")
    assert spec.value.where == "weights_bytes"


def test_a_registry_field_names_itself() -> None:
    link = pydantic.create_model(
        "Link",
        __config__=pydantic.ConfigDict(arbitrary_types_allowed=True),
        bandwidth=(Q["bandwidth"], ...),
    )
    with pytest.raises(pydantic.ValidationError) as info:
        link(bandwidth=None)
    text = str(info.value)
    assert "bandwidth" in text and "must be a quantity of bandwidth" in text


def test_counts_and_fractions_skip_pints_slow_dimension_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = [Q_(4096, "token"), Q_(12, ""), Q_(7, "percent"), Q_(3, "param")]
    before = [
        count(v, "n", "w", dim="token" if i == 0 else "", minimum=0)
        for i, v in enumerate(values[:3])
    ]
    share = fraction(Q_(95, "percent"), "share", "w")
    pint_share = Q_(95, "percent").to("").magnitude  # pint's own number (0.9500000000000001)
    params = count(values[3], "params", "w", dim="parameter")  # each unit checked once, cached

    def slow(*_: Any, **__: Any) -> Any:
        raise AssertionError("pint's per-call dimension path was taken")

    quantity = type(values[0])
    monkeypatch.setattr(quantity, "dimensionless", property(slow))
    monkeypatch.setattr(quantity, "to", slow)
    after = [
        count(v, "n", "w", dim="token" if i == 0 else "", minimum=0)
        for i, v in enumerate(values[:3])
    ]
    assert after == before == [4096.0, 12.0, 0.07]
    assert fraction(Q_(95, "percent"), "share", "w") == share == pint_share
    assert count(values[3], "params", "w", dim="parameter") == params == 3.0
