"""Render one value — a Quantity, a number, a bool or a string — for text, Markdown, LaTeX, HTML.

Rules (DESIGN.md §6):

* magnitudes are formatted here, with decimal rounding (half up) on the value as written, so
  significant figures keep their trailing zeros (``3.0 ms`` at 2 s.f.); pint only converts;
* a non-zero value never prints as ``0``: tiny or huge values switch to scientific notation;
* ``unit=None``/``"auto"`` picks a prefix from the value's dimension family (``989.4 TFLOP/s``,
  ``123 µs``, ``1.00 TB``); binary prefixes stay binary, ``Wh`` stays ``Wh``;
* ``given_digits`` (the digits of a registry value or literal as written) is used when no
  ``sig_figs`` is asked, so ``989.4 TFLOP/s`` is not silently re-rounded to ``989``; Python
  ints (and Quantities holding ints, shown in their own unit) print exactly;
* LaTeX is plain math-mode content ``295\\,\\mathrm{FLOP/B}`` (µ as ``\\mu``, thousands as
  ``1{,}979``); with ``siunitx=True`` the LaTeX field uses ``\\qty{…}{…}``/``\\num{…}`` instead
  (hosts then need :data:`SIUNITX_PREAMBLE`).
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import Any

from mlsysim.core.exceptions import ConfigError, MlsysimError
from mlsysim.core.units import convert, describe_dimension, fmt_quantity, ureg
from mlsysim.viz.forms import (
    SIUNITX_PREAMBLE,
    Out,
    escape_latex_text,
    escape_markdown,
    join_unit,
    math_rendered,
    math_value,
    siunitx_unit,
    text_rendered,
    value_html,
)
from mlsysim.viz.magnitude import (
    MAX_SIG_FIGS,
    Number,
    decimal_of,
    float_digits,
    format_magnitude,
    significant_digits,
)
from mlsysim.viz.rendered import Rendered
from mlsysim.viz.units_fmt import Family, family_for, format_unit, parse_unit, unit_form

__all__ = [
    "MAX_SIG_FIGS",
    "SIUNITX_PREAMBLE",
    "STYLES",
    "escape_latex_text",
    "escape_markdown",
    "float_digits",
    "format_unit",
    "math_value",
    "render_value",
    "render_value_exact",
    "significant_digits",
    "value_html",
]

#: Display styles accepted by :func:`render_value`.
STYLES = (None, "percent", "multiplier", "scientific", "engineering", "plain")

_UNDERFLOW = 1e-3  # below a thousandth of a family's smallest unit: scientific notation
_OVERFLOW = 1e3  # a thousand times the family's largest unit: scientific notation

#: Count dimensions shown with a scale word (``6.74 billion params``): never ``B``, which in
#: this book means bytes.
_COUNT_SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))

_COUNT_DIMS = ("[parameter]", "[token]", "[sample]", "[request]")


# --------------------------------------------------------------------------------------------
# Options


def _check_options(
    sig_figs: int | None, style: str | None, given_digits: int | None, default_sig_figs: int
) -> None:
    if style not in STYLES:
        raise ConfigError(
            f"unknown display style {style!r}",
            why=f"styles are {', '.join(repr(s) for s in STYLES if s)}",
            fix="pick one of those, or leave the style unset",
        )
    if given_digits is not None and (isinstance(given_digits, bool) or given_digits < 1):
        raise ConfigError(f"given_digits must be a whole number ≥ 1, got {given_digits!r}")
    for name, value in (("sig_figs", sig_figs), ("default_sig_figs", default_sig_figs)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIG_FIGS:
            raise ConfigError(
                f"{name} must be a whole number from 1 to {MAX_SIG_FIGS}, got {value!r}",
                fix=f"set {name.replace('_', '-')} to e.g. 3",
            )


def _digits(sig_figs: int | None, given_digits: int | None, default_sig_figs: int) -> int:
    if sig_figs is not None:
        return sig_figs
    if given_digits is not None:  # a double holds no more: clamp rather than fail
        return min(given_digits, MAX_SIG_FIGS)
    return default_sig_figs


# --------------------------------------------------------------------------------------------
# Choosing a display unit

_NOTATION = {"scientific": "scientific", "engineering": "engineering", "plain": "plain"}


def _pick(family: Family, base_magnitude: float, style: str | None) -> tuple[int, str]:
    """Index of the family unit to show ``base_magnitude`` in, and the notation to use."""
    size = abs(base_magnitude)
    if style in ("scientific", "engineering"):
        # the power of ten carries the scale: the number is written in the family's base unit
        # (1.23 × 10³ W, never 1.23 × 10⁶ mW)
        return family.factors.index(1.0), style
    single = len(family.factors) == 1
    if size == 0 or single:
        return family.underflow, _NOTATION.get(style or "", "fixed")
    index = 0
    for i, factor in enumerate(family.factors):
        if size >= factor:
            index = i
    if size < family.factors[0] * _UNDERFLOW:
        return (0, "plain") if style == "plain" else (family.underflow, "scientific")
    if size >= family.factors[-1] * _OVERFLOW:
        last = len(family.factors) - 1
        return (last, "plain") if style == "plain" else (family.overflow, "scientific")
    return index, _NOTATION.get(style or "", "fixed")


def _carried(digits: int, floor_digits: int, written: Any, shown: Any) -> int:
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


def _render_in_family(
    q: Any,
    family: Family,
    digits: int,
    style: str | None,
    thousands: bool,
    siunitx: bool,
    exact_int: bool,
    floor_digits: int = 0,
) -> Out:
    base = family.units[family.factors.index(1.0)].unit
    base_magnitude = float(q.magnitude) * _factor(q.units, base)
    if not math.isfinite(base_magnitude):
        # beyond a float in the family's base unit: shown as written, in scientific notation
        return _render_converted(
            q, q.units, digits, "scientific", thousands, siunitx, False, floor_digits
        )
    index, notation = _pick(family, base_magnitude, style)
    form = family.units[index]
    same_unit = exact_int and q.units == form.unit
    magnitude = q.magnitude if same_unit else base_magnitude / family.factors[index]
    digits = _carried(digits, floor_digits, q.magnitude, magnitude)
    num = format_magnitude(
        magnitude,
        digits=None if same_unit else digits,
        thousands=thousands,
        notation=notation,
        exact_int=same_unit,
    )
    # Rounding may carry into the next unit (999.96 GB → 1.00 TB).
    if (
        notation in ("fixed", "plain")
        and index + 1 < len(family.units)
        and _reaches(num, family.factors[index + 1] / family.factors[index])
    ):
        form = family.units[index + 1]
        num = format_magnitude(
            base_magnitude / family.factors[index + 1],
            digits=digits,
            thousands=thousands,
            notation=notation,
            exact_int=False,
        )
    text, latex = form.text, form.latex
    if text in ("days", "years") and num.text == "1":
        text, latex = text[:-1], rf"\mathrm{{{text[:-1]}}}"
    return join_unit(num, text, latex, siunitx_unit(text), siunitx)


def _reaches(num: Number, ratio: float) -> bool:
    try:
        return abs(float(num.siunitx)) >= ratio * (1 - 1e-12)
    except ValueError:
        return False


def _count_dimension(q: Any) -> bool:
    dims = dict(q.dimensionality)
    return len(dims) == 1 and next(iter(dims)) in _COUNT_DIMS and next(iter(dims.values())) == 1


_COUNT_ROOT = {
    "[parameter]": "param",
    "[token]": "token",
    "[sample]": "sample",
    "[request]": "request",
}


def _render_count(q: Any, digits: int, thousands: bool, siunitx: bool, exact_int: bool) -> Out:
    """Parameter/token/sample counts: ``6.74 billion params``, ``15.0 trillion tokens``,
    ``1,024 samples``."""
    form = unit_form(_COUNT_ROOT[next(iter(q.dimensionality))])
    same_unit = exact_int and q.units == form.unit
    magnitude = q.magnitude if same_unit else float(q.to(form.unit).magnitude)
    for scale, word in _COUNT_SCALES:
        if abs(magnitude) >= scale * (1 - 1e-12):
            num = format_magnitude(
                magnitude / scale,
                digits=digits,
                thousands=thousands,
                notation="fixed",
                exact_int=False,
            )
            if _reaches(num, 1000.0) and word != "trillion":
                continue
            text = f"{num.text} {word} {form.text}"
            words = f"\\mathrm{{{word}}}\\ {form.latex}"
            latex = f"{num.latex}\\,{words}"
            si = f"\\num{{{num.siunitx}}}\\,{words}" if siunitx else None
            return math_rendered(text, latex, si, num.exact)
    num = format_magnitude(
        magnitude,
        digits=None if same_unit else digits,
        thousands=thousands,
        notation="fixed",
        exact_int=same_unit,
    )
    return join_unit(num, form.text, form.latex, form.text, siunitx)


# --------------------------------------------------------------------------------------------
# Styles for dimensionless values


def _dimensionless(value: Any, style: str) -> float | int:
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


def _render_styled(
    x: float | int, style: str | None, digits: int, thousands: bool, siunitx: bool, exact_int: bool
) -> Out:
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
        notation=_NOTATION.get(style or "", "fixed"),
        exact_int=exact_int,
    )
    return join_unit(num, "", "", "", siunitx)


# --------------------------------------------------------------------------------------------
# Public entry point


def render_value(
    value: Any,
    *,
    unit: Any = None,
    sig_figs: int | None = None,
    style: str | None = None,
    given_digits: int | None = None,
    siunitx: bool = False,
    thousands: bool = True,
    default_sig_figs: int = 3,
) -> Rendered:
    """Render ``value`` (Quantity, int, float, bool, str or a registry spec) for every output.

    ``unit`` converts (``"ms"``, ``"TB/s"``; ``None``/``"auto"`` picks a prefix); converting to
    a unit of another dimension raises DimensionError. ``sig_figs`` fixes the significant
    figures; otherwise ``given_digits`` (digits as written) or ``default_sig_figs`` is used,
    and Python ints print exactly. ``style`` is one of :data:`STYLES`. ``siunitx`` switches
    the LaTeX field to ``\\qty{…}{…}``/``\\num{…}`` (see :data:`SIUNITX_PREAMBLE`).

    >>> render_value(0.953, style="percent").text
    '95.3 %'
    """
    return render_value_exact(
        value,
        unit=unit,
        sig_figs=sig_figs,
        style=style,
        given_digits=given_digits,
        siunitx=siunitx,
        thousands=thousands,
        default_sig_figs=default_sig_figs,
    )[0]


def render_value_exact(
    value: Any,
    *,
    unit: Any = None,
    sig_figs: int | None = None,
    style: str | None = None,
    given_digits: int | None = None,
    siunitx: bool = False,
    thousands: bool = True,
    default_sig_figs: int = 3,
) -> tuple[Rendered, bool]:
    """:func:`render_value` plus whether the shown digits are the value exactly (no rounding).

    Derivations use this to choose ``=`` over ``\\approx``.
    """
    _check_options(sig_figs, style, given_digits, default_sig_figs)
    if isinstance(value, bool):
        return text_rendered("true" if value else "false"), True
    if isinstance(value, str):
        return text_rendered(value), True
    digits = _digits(sig_figs, given_digits, default_sig_figs)
    exact_int = sig_figs is None and given_digits is None
    # written digits survive a decimal rescaling only (see _carried)
    floor_digits = default_sig_figs if sig_figs is None and given_digits is not None else 0
    if isinstance(value, numbers.Real) and not isinstance(value, ureg.Quantity):
        number: float | int = int(value) if isinstance(value, numbers.Integral) else float(value)
        if unit not in (None, "auto"):
            return _render_quantity(
                ureg.Quantity(number), unit, digits, style, thousands, siunitx, exact_int
            )
        return _render_styled(number, style, digits, thousands, siunitx, exact_int)
    if isinstance(value, ureg.Quantity):
        return _render_quantity(
            value, unit, digits, style, thousands, siunitx, exact_int, floor_digits
        )
    label = getattr(value, "id", None) or getattr(value, "name", None)
    if isinstance(label, str):
        return text_rendered(label), True
    what = "a list of values" if isinstance(value, list | tuple) else "this value"
    raise MlsysimError(
        f"cannot render {what}",
        why="values to render are quantities, numbers, booleans, text or registry entries",
        fix="render one of its fields instead (e.g. result.time)",
    )


def _render_quantity(
    q: Any,
    unit: Any,
    digits: int,
    style: str | None,
    thousands: bool,
    siunitx: bool,
    exact_int: bool,
    floor_digits: int = 0,
) -> Out:
    if unit is not None and unit != "auto":
        target = parse_unit(unit) if isinstance(unit, str) else unit
        return _render_converted(
            q, target, digits, style, thousands, siunitx, exact_int, floor_digits
        )
    if _is_dimensionless(q.units):
        if style is None and q.units == ureg.percent:
            mag = q.magnitude
            return _render_styled(
                float(decimal_of(mag) / 100), "percent", digits, thousands, siunitx, False
            )
        return _render_styled(
            _dimensionless(q, style or "plain"), style, digits, thousands, siunitx, exact_int
        )
    if style in ("percent", "multiplier"):
        _dimensionless(q, style)  # raises: a dimensioned quantity has no percent form
    if _count_dimension(q) and style is None:
        return _render_count(q, digits, thousands, siunitx, exact_int)
    family = family_for(q.units)
    if family is not None:
        keep_int = exact_int and isinstance(q.magnitude, numbers.Integral)
        return _render_in_family(
            q, family, digits, style, thousands, siunitx, keep_int, floor_digits
        )
    shown = q.to_reduced_units() if _repeats_dimension(q) else q
    return _render_converted(
        shown, shown.units, digits, style, thousands, siunitx, exact_int, floor_digits
    )


def _render_converted(
    q: Any,
    target: Any,
    digits: int,
    style: str | None,
    thousands: bool,
    siunitx: bool,
    exact_int: bool,
    floor_digits: int = 0,
) -> Out:
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
    digits = _carried(digits, floor_digits, q.magnitude, mag)
    keep_int = exact_int and q.units == target and isinstance(mag, numbers.Integral)
    if style in ("percent", "multiplier"):
        return _render_styled(
            _dimensionless(converted, style), style, digits, thousands, siunitx, keep_int
        )
    if target == ureg.percent:
        return _render_styled(
            float(decimal_of(mag) / 100), "percent", digits, thousands, siunitx, False
        )
    text, latex = format_unit(target)
    num = format_magnitude(
        mag if keep_int else float(mag),
        digits=None if keep_int else digits,
        thousands=thousands,
        notation=_NOTATION.get(style or "", "fixed"),
        exact_int=keep_int,
    )
    return join_unit(num, text, latex, siunitx_unit(text), siunitx)


@lru_cache(maxsize=1024)
def _factor(source: Any, target: Any) -> float:
    """Multiplicative factor from one unit to another (cached; the registry has no offsets)."""
    return float(ureg.Quantity(1.0, source).to(target).magnitude)


@lru_cache(maxsize=1024)
def _is_dimensionless(units: Any) -> bool:
    return bool(ureg.Quantity(1.0, units).dimensionless)


def _repeats_dimension(q: Any) -> bool:
    seen = set()
    for name in q.units._units:
        dim = str(ureg.get_dimensionality(name))
        if dim in seen:
            return True
        seen.add(dim)
    return False
