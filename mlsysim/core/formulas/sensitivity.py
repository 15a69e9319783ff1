"""Sensitivity: how much an output moves when one input moves (elasticities).

The synthesis step of a design question: which input would pay off most if improved. For a
roofline-bound time, the elasticity to the binding resource is −1 and to the other ≈ 0.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core.exceptions import DimensionError, FormulaDomainError
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import as_quantity, describe_dimension, fmt_quantity

__all__ = ["elasticity"]


def _ratio(new: Any, old: Any, name: str, base: str, where: str) -> float:
    a = as_quantity(new, name=name, where=where)
    b = as_quantity(old, name=base, where=where)
    if a.dimensionality != b.dimensionality:
        raise DimensionError.for_argument(
            name, fmt_quantity(a), describe_dimension(a), describe_dimension(b), where=where
        )
    for label, q in ((name, a), (base, b)):
        if not math.isfinite(float(q.magnitude)):
            raise FormulaDomainError(
                f"{label} must be a finite number, got {q.magnitude!r}",
                where=where,
                fix=f"pass a finite {label}",
            )
    if b.magnitude == 0:
        raise FormulaDomainError(
            f"{base} is zero: the base of a relative change cannot be zero",
            where=where,
            fix="elasticities are relative changes; use a non-zero base",
        )
    return float((a / b).to("").magnitude)


@formula(
    symbol=r"\varepsilon = \frac{\Delta y / y_0}{\Delta x / x_0}",
    substituted=(r"\frac{({{y1}} - {{y0}}) / {{y0}} }{({{x1}} - {{x0}}) / {{x0}} }"),
    sources=("saltelli2008",),
    citation="Saltelli et al. (2008), Global Sensitivity Analysis: The Primer",
    result="dimensionless",
)
def elasticity(y0: Any, y1: Any, x0: Any, x1: Any) -> float:
    """Arc elasticity: relative change of an output over relative change of an input.

    ε = −1 for time vs. the binding bandwidth means a 10 % faster link gives 10 % less time.
    Source: Saltelli et al. 2008.
    """
    where = "elasticity"
    ry = _ratio(y1, y0, "y1", "y0", where) - 1.0
    rx = _ratio(x1, x0, "x1", "x0", where) - 1.0
    if rx == 0:
        raise FormulaDomainError(
            "x1 equals x0: no change in the input",
            where=where,
            fix="pass two different input values",
        )
    eps = ry / rx
    return eps
