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

This module checks the options and dispatches on the value; a value in an asked unit or a
dimensionless style is rendered by :mod:`.in_unit`, one whose unit is chosen by
:mod:`.auto_unit`; numbers are :mod:`.magnitude`'s, units :mod:`.units_fmt`'s and the output
forms :mod:`.forms`'.
"""

from __future__ import annotations

import numbers
from functools import lru_cache
from typing import Any

from mlsysim.core.exceptions import ConfigError, MlsysimError
from mlsysim.core.units import ureg
from mlsysim.viz.auto_unit import is_count, render_count, render_in_family
from mlsysim.viz.forms import (
    SIUNITX_PREAMBLE,
    Out,
    escape_latex_text,
    escape_markdown,
    math_value,
    text_rendered,
    value_html,
)
from mlsysim.viz.in_unit import Shown, as_dimensionless, render_converted, render_styled
from mlsysim.viz.magnitude import MAX_SIG_FIGS, decimal_of, float_digits, significant_digits
from mlsysim.viz.rendered import Rendered
from mlsysim.viz.units_fmt import family_for, format_unit, parse_unit

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


#: ``Shown`` built without its Python-level ``__new__`` (one per rendered value: a hot path)
_new_shown = tuple.__new__

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
    # written digits survive a decimal rescaling only (see in_unit.carried_digits)
    floor_digits = default_sig_figs if sig_figs is None and given_digits is not None else 0
    if isinstance(value, numbers.Real) and not isinstance(value, ureg.Quantity):
        number: float | int = int(value) if isinstance(value, numbers.Integral) else float(value)
        if unit not in (None, "auto"):
            shown = _new_shown(Shown, (digits, style, thousands, siunitx, exact_int, 0))
            return _render_quantity(ureg.Quantity(number), unit, shown)
        return render_styled(number, style, digits, thousands, siunitx, exact_int)
    if isinstance(value, ureg.Quantity):
        shown = _new_shown(Shown, (digits, style, thousands, siunitx, exact_int, floor_digits))
        return _render_quantity(value, unit, shown)
    label = getattr(value, "id", None) or getattr(value, "name", None)
    if isinstance(label, str):
        return text_rendered(label), True
    what = "a list of values" if isinstance(value, list | tuple) else "this value"
    raise MlsysimError(
        f"cannot render {what}",
        why="values to render are quantities, numbers, booleans, text or registry entries",
        fix="render one of its fields instead (e.g. result.time)",
    )


def _render_quantity(q: Any, unit: Any, shown: Shown) -> Out:
    if unit is not None and unit != "auto":
        target = parse_unit(unit) if isinstance(unit, str) else unit
        return render_converted(q, target, shown)
    style = shown.style
    if _isas_dimensionless(q.units):
        digits, thousands, siunitx = shown.digits, shown.thousands, shown.siunitx
        if style is None and q.units == ureg.percent:
            mag = q.magnitude
            return render_styled(
                float(decimal_of(mag) / 100), "percent", digits, thousands, siunitx, False
            )
        number = as_dimensionless(q, style or "plain")
        return render_styled(number, style, digits, thousands, siunitx, shown.exact_int)
    if style in ("percent", "multiplier"):
        as_dimensionless(q, style)  # raises: a dimensioned quantity has no percent form
    if is_count(q) and style is None:
        return render_count(q, shown)
    family = family_for(q.units)
    if family is not None:
        return render_in_family(q, family, shown)
    reduced = q.to_reduced_units() if _repeats_dimension(q) else q
    return render_converted(reduced, reduced.units, shown)


@lru_cache(maxsize=1024)
def _isas_dimensionless(units: Any) -> bool:
    return bool(ureg.Quantity(1.0, units).dimensionless)


def _repeats_dimension(q: Any) -> bool:
    seen = set()
    for name in q.units._units:
        dim = str(ureg.get_dimensionality(name))
        if dim in seen:
            return True
        seen.add(dim)
    return False
