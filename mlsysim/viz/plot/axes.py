"""An axis of a chart: the unit it shows its values in, and each value as a float in it.

Every value of one axis is a quantity of one dimension or a plain number; a value of another
dimension, a plain number on an axis with a unit, a non-finite value, a non-positive value on a
logarithmic axis, or more points than a chart holds is an error that names the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from mlsysim.core.exceptions import ConfigError, DimensionError
from mlsysim.viz.plot.chart import MAX_POINTS

__all__ = ["axis_number", "axis_unit", "check_log", "check_size"]


def _quantity(value: Any) -> Any:
    from mlsysim.core.units import ureg

    return value if isinstance(value, ureg.Quantity) else None


def axis_unit(
    values: Iterable[Any], unit: str | None = None, *, fit: str = "max"
) -> tuple[Any, str]:
    """The unit an axis shows ``values`` in (pint unit or None for plain numbers) and its
    label: ``unit`` when given, else the display family's prefix that fits the largest value
    (``fit="min"``: the smallest, so no value shows below 1)."""
    from mlsysim.viz.units_fmt import family_for, format_unit, parse_unit

    quantities = [q for v in values if (q := _quantity(v)) is not None and not q.dimensionless]
    if unit:
        target = parse_unit(unit)
        return target, format_unit(target)[0]
    if not quantities:
        return None, ""
    first = quantities[0]
    family = family_for(first.units)
    if family is None:
        return first.units, format_unit(first.units)[0]
    base = family.units[family.factors.index(1.0)].unit if 1.0 in family.factors else first.units
    sizes = [abs(float(q.to(base).magnitude)) for q in quantities]
    top = min(sizes) if fit == "min" else max(sizes)
    index = 0
    for i, factor in enumerate(family.factors):
        if top >= factor:
            index = i
    form = family.units[index]
    return form.unit, form.text


def axis_number(value: Any, unit: Any, what: str) -> float:
    """``value`` as a float in ``unit`` (None: a plain number), or an error naming ``what``."""
    from mlsysim.core.units import describe_dimension, fmt_quantity

    q = _quantity(value)
    if q is not None and not q.dimensionless:
        if unit is None:
            raise ConfigError(
                f"{what} is {fmt_quantity(q)} where the other values are plain numbers",
                fix="give every value of an axis the same dimension",
            )
        if q.dimensionality != unit.dimensionality:
            raise DimensionError(
                "plot",
                fmt_quantity(q),
                describe_dimension(q),
                f"{unit:~P}",
                describe_dimension(unit),
                fix=f"give every value of {what.split(' ')[0]}'s axis one dimension",
            )
        x = float(q.to(unit).magnitude)
    elif q is not None:
        x = float(q.to("").magnitude)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if unit is not None:
            raise ConfigError(
                f"{what} is a plain number where the axis has a unit",
                fix="give the value its unit",
            )
        x = float(value)
    else:
        raise ConfigError(f"{what} is not a number or a quantity", fix="plot numbers")
    if not math.isfinite(x):
        raise ConfigError(f"{what} is not finite", fix="plot finite values")
    return x


def check_size(n: int) -> None:
    """Refuse a chart of more than :data:`~mlsysim.viz.plot.chart.MAX_POINTS` points."""
    if n > MAX_POINTS:
        raise ConfigError(
            f"the chart has {n:,} points", why=f"the limit is {MAX_POINTS:,}", fix="plot fewer"
        )


def check_log(values: Iterable[float], axis: str) -> None:
    """Refuse a logarithmic axis with a value that is not positive."""
    if any(v <= 0 for v in values):
        raise ConfigError(
            f"a logarithmic {axis} axis needs positive values",
            fix=f"set {axis}-scale: linear, or plot positive values",
        )
