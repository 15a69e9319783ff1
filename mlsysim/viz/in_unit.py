"""A value shown in one given unit or style: converted to an asked unit, or dimensionless as
a percent, a multiplier or a number in a notation.

The leaves of :func:`mlsysim.viz.format.render_value`: no unit is chosen here (that is
:mod:`.auto_unit`), and the digits to show are decided by the caller, except that written
digits carry over a decimal rescaling only (:func:`carried_digits`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

from mlsysim.core.exceptions import ConfigError
from mlsysim.core.units import convert, describe_dimension, fmt_quantity, ureg
from mlsysim.viz.forms import Out, join_unit, math_rendered, siunitx_unit
from mlsysim.viz.magnitude import decimal_of, format_magnitude
from mlsysim.viz.units_fmt import format_unit

__all__ = [
    "NOTATION",
    "Shown",
    "as_dimensionless",
    "carried_digits",
    "render_converted",
    "render_styled",
]

#: The notation of each display style that sets one (any other style is fixed-point).
NOTATION = {"scientific": "scientific", "engineering": "engineering", "plain": "plain"}


class Shown(NamedTuple):
    """How one value is shown, decided once by :func:`~mlsysim.viz.format.render_value` and
    read by every renderer it hands the value to: ``digits`` significant figures in ``style``
    (None: the unit's own notation), ``thousands`` separators, siunitx LaTeX; ``exact_int``
    prints an integer magnitude exactly when the value stays in its own unit; written digits
    fall back to ``floor_digits`` over a non-decimal rescaling (:func:`carried_digits`)."""

    digits: int
    style: str | None
    thousands: bool
    siunitx: bool
    exact_int: bool
    floor_digits: int = 0


def carried_digits(digits: int, floor_digits: int, written: Any, shown: Any) -> int:
    """Digits to show: the written digits carry over a decimal rescaling (2039 GB/s →
    2.039 TB/s) but not a non-decimal one (1 GiB → 1.07 GB, 90 s → 1.50 min), where at
    least ``floor_digits`` (the default significant figures) are shown instead."""
    if floor_digits <= digits:
        return digits
    try:
        ratio = abs(float(shown) / float(written))
    except (ZeroDivisionError, TypeError, ValueError, OverflowError):
        return digits
    if ratio == 0 or not math.isfinite(ratio):
        return digits
    exponent = math.log10(ratio)
    return digits if abs(exponent - round(exponent)) < 1e-9 else floor_digits


def as_dimensionless(value: Any, style: str) -> float | int:
    """``value`` as a plain number for ``style`` (ConfigError when it has a dimension)."""
    if isinstance(value, ureg.Quantity):
        if not value.dimensionless:
            raise ConfigError(
                f"style {style!r} needs a dimensionless value, got {fmt_quantity(value)} "
                f"({describe_dimension(value)})",
                fix="divide by a quantity of the same dimension first, or drop the style",
            )
        mag = value.to("dimensionless").magnitude
        return int(mag) if isinstance(mag, numbers.Integral) else float(mag)
    return value


def render_styled(
    x: float | int, style: str | None, digits: int, thousands: bool, siunitx: bool, exact_int: bool
) -> Out:
    """A plain number in ``style``: ``95.3 %``, ``2.5×`` or in a notation."""
    if style == "percent":
        pct = decimal_of(x) * 100
        scaled: float | int = int(pct) if isinstance(x, numbers.Integral) else float(pct)
        num = format_magnitude(
            scaled, digits=digits, thousands=thousands, notation="fixed", exact_int=exact_int
        )
        si = f"\\qty{{{num.siunitx}}}{{\\percent}}" if siunitx else None
        return math_rendered(f"{num.text} %", f"{num.latex}\\,\\%", si, num.exact)
    if style == "multiplier":
        num = format_magnitude(
            x, digits=digits, thousands=thousands, notation="fixed", exact_int=exact_int
        )
        si = f"\\num{{{num.siunitx}}}\\times" if siunitx else None
        return math_rendered(f"{num.text}×", f"{num.latex}\\times", si, num.exact)
    num = format_magnitude(
        x,
        digits=digits,
        thousands=thousands,
        notation=NOTATION.get(style or "", "fixed"),
        exact_int=exact_int,
    )
    return join_unit(num, "", "", "", siunitx)


def render_converted(q: Any, target: Any, shown: Shown) -> Out:
    """``q`` shown in exactly the unit ``target`` (DimensionError when it cannot be)."""
    converted = q if q.units == target else convert(q, target)
    mag = converted.magnitude
    if isinstance(mag, float) and not math.isfinite(mag):
        from mlsysim.core.exceptions import LimitError

        raise LimitError(
            f"the value is too large to show in {format_unit(target)[0] or 'this unit'}",
            why="converting it overflows a floating-point number",
            fix="show it in a larger unit",
        )
    digits = carried_digits(shown.digits, shown.floor_digits, q.magnitude, mag)
    keep_int = shown.exact_int and q.units == target and isinstance(mag, numbers.Integral)
    style, thousands, siunitx = shown.style, shown.thousands, shown.siunitx
    if style in ("percent", "multiplier"):
        return render_styled(
            as_dimensionless(converted, style), style, digits, thousands, siunitx, keep_int
        )
    if target == ureg.percent:
        return render_styled(
            float(decimal_of(mag) / 100), "percent", digits, thousands, siunitx, False
        )
    text, latex = format_unit(target)
    num = format_magnitude(
        mag if keep_int else float(mag),
        digits=None if keep_int else digits,
        thousands=thousands,
        notation=NOTATION.get(style or "", "fixed"),
        exact_int=keep_int,
    )
    return join_unit(num, text, latex, siunitx_unit(text), siunitx)
