"""Every formula refuses a negative or non-finite number, naming the argument and itself.

The sample call of each formula (``tests/test_formulas_samples.py``) is repeated with one
numeric argument made negative, then NaN: the formula either accepts it (a quantity that may
be negative) or raises a FormulaDomainError whose message names that argument and the formula.
Found by mutation testing: argument names passed to the checks had no test.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import mlsysim
from mlsysim.core.exceptions import DimensionError, FormulaDomainError, MlsysimError
from mlsysim.core.formulas import FORMULAS
from tests.test_formulas_samples import SAMPLES


def _numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int | float | mlsysim.ureg.Quantity)


_NUMERIC_ARGS = [
    (name, arg)
    for name, kwargs in sorted(SAMPLES.items())
    for arg, v in kwargs.items()
    if _numeric(v)
]


def _replace(v: Any, x: float) -> Any:
    if isinstance(v, mlsysim.ureg.Quantity):
        return mlsysim.Q_(x * abs(v.magnitude or 1.0), v.units)
    return x * abs(v or 1.0)


@pytest.mark.parametrize(("name", "arg"), _NUMERIC_ARGS)
@pytest.mark.parametrize("sign", [-1.0, math.nan], ids=["negative", "nan"])
def test_bad_numbers_are_refused_naming_argument_and_formula(name: str, arg: str, sign: float):
    kwargs = dict(SAMPLES[name])
    kwargs[arg] = _replace(kwargs[arg], sign)
    try:
        FORMULAS[name](**kwargs)
    except FormulaDomainError as exc:
        text = str(exc)
        assert arg in text or arg.rstrip("s") in text, text
        assert exc.where == name, (exc.where, name)
    except (DimensionError, MlsysimError) as exc:  # pragma: no cover - a wrong kind of error
        pytest.fail(f"{name}({arg}={kwargs[arg]!r}) raised {type(exc).__name__}: {exc}")
    else:
        # accepted: only legitimate for arguments that may be negative or NaN-free by nature
        assert sign < 0, f"{name} accepted {arg}=NaN"
        assert (name, arg) in _MAY_BE_NEGATIVE, f"{name} accepted a negative {arg}"


#: Arguments a formula accepts below zero (sensitivity takes signed changes).
_MAY_BE_NEGATIVE = {("elasticity", a) for a in ("y0", "y1", "x0", "x1")}
