"""Choosing the unit a value is shown in: a prefix of its dimension family (``989.4 TFLOP/s``,
``123 µs``, ``1.00 TB``), scientific notation beyond the family, and scale words for counts
(``6.74 billion params``).

What :func:`mlsysim.viz.format.render_value` does with ``unit=None``/``"auto"``; a value that
cannot be shown in its family's base unit falls back to its own unit (:mod:`.in_unit`).
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import Any

from mlsysim.core.units import ureg
from mlsysim.viz.forms import Out, join_unit, math_rendered, siunitx_unit
from mlsysim.viz.in_unit import NOTATION, Shown, carried_digits, render_converted
from mlsysim.viz.magnitude import Number, format_magnitude
from mlsysim.viz.units_fmt import Family, unit_form

__all__ = ["is_count", "render_count", "render_in_family"]

_UNDERFLOW = 1e-3  # below a thousandth of a family's smallest unit: scientific notation
_OVERFLOW = 1e3  # a thousand times the family's largest unit: scientific notation

#: Count dimensions shown with a scale word (``6.74 billion params``): never ``B``, which in
#: this book means bytes.
_COUNT_SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))

_COUNT_DIMS = ("[parameter]", "[token]", "[sample]", "[request]")


def _pick(family: Family, base_magnitude: float, style: str | None) -> tuple[int, str]:
    """Index of the family unit to show ``base_magnitude`` in, and the notation to use."""
    size = abs(base_magnitude)
    if style in ("scientific", "engineering"):
        # the power of ten carries the scale: the number is written in the family's base unit
        # (1.23 × 10³ W, never 1.23 × 10⁶ mW)
        return family.factors.index(1.0), style
    single = len(family.factors) == 1
    if size == 0 or single:
        return family.underflow, NOTATION.get(style or "", "fixed")
    index = 0
    for i, factor in enumerate(family.factors):
        if size >= factor:
            index = i
    if size < family.factors[0] * _UNDERFLOW:
        return (0, "plain") if style == "plain" else (family.underflow, "scientific")
    if size >= family.factors[-1] * _OVERFLOW:
        last = len(family.factors) - 1
        return (last, "plain") if style == "plain" else (family.overflow, "scientific")
    return index, NOTATION.get(style or "", "fixed")


def render_in_family(q: Any, family: Family, shown: Shown) -> Out:
    """``q`` in the unit of ``family`` its size picks; scientific beyond the family's range, and
    rounding may carry it into the next unit (999.96 GB → 1.00 TB). An integer magnitude left
    in its own unit prints exactly (``shown.exact_int``)."""
    base = family.units[family.factors.index(1.0)].unit
    base_magnitude = float(q.magnitude) * _factor(q.units, base)
    if not math.isfinite(base_magnitude):
        # beyond a float in the family's base unit: shown as written, in scientific notation
        return render_converted(q, q.units, shown._replace(style="scientific", exact_int=False))
    index, notation = _pick(family, base_magnitude, shown.style)
    form = family.units[index]
    same_unit = (
        shown.exact_int and isinstance(q.magnitude, numbers.Integral) and q.units == form.unit
    )
    magnitude = q.magnitude if same_unit else base_magnitude / family.factors[index]
    digits = carried_digits(shown.digits, shown.floor_digits, q.magnitude, magnitude)
    thousands = shown.thousands
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
    return join_unit(num, text, latex, siunitx_unit(text), shown.siunitx)


def _reaches(num: Number, ratio: float) -> bool:
    try:
        return abs(float(num.siunitx)) >= ratio * (1 - 1e-12)
    except ValueError:
        return False


def is_count(q: Any) -> bool:
    """Whether ``q`` counts parameters, tokens, samples or requests (shown with a scale word)."""
    dims = dict(q.dimensionality)
    return len(dims) == 1 and next(iter(dims)) in _COUNT_DIMS and next(iter(dims.values())) == 1


_COUNT_ROOT = {
    "[parameter]": "param",
    "[token]": "token",
    "[sample]": "sample",
    "[request]": "request",
}


def render_count(q: Any, shown: Shown) -> Out:
    """Parameter/token/sample counts: ``6.74 billion params``, ``15.0 trillion tokens``,
    ``1,024 samples``."""
    digits, thousands, siunitx = shown.digits, shown.thousands, shown.siunitx
    form = unit_form(_COUNT_ROOT[next(iter(q.dimensionality))])
    same_unit = shown.exact_int and q.units == form.unit
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


@lru_cache(maxsize=1024)
def _factor(source: Any, target: Any) -> float:
    """Multiplicative factor from one unit to another (cached; the registry has no offsets)."""
    return float(ureg.Quantity(1.0, source).to(target).magnitude)
