"""Magnitudes as text: significant figures (half-up, trailing zeros kept), thousands, 10^n.

The number half of :mod:`mlsysim.viz.format`: no units here. Rounding is decimal, on the
value's shortest round-trip form (``2.675`` → ``2.68`` at 3 s.f., not binary ``2.67``).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from mlsysim.core.exceptions import MlsysimError

__all__ = [
    "MAX_SIG_FIGS",
    "Number",
    "decimal_of",
    "float_digits",
    "format_magnitude",
    "significant_digits",
]

#: The most significant figures a value may be shown with (a double holds ~15–17).
MAX_SIG_FIGS = 15

_SCI_LOW = Decimal("1e-4")  # plain numbers below this switch to scientific notation
_SCI_HIGH = Decimal("1e9")  # plain non-integers at or above this switch to scientific
_INT_PLAIN_DIGITS = 15  # exact ints with more digits switch to scientific
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_DECIMAL_CONTEXT = Context(prec=60)


@dataclass(frozen=True, slots=True)
class Number:
    """A formatted magnitude: its text and LaTeX forms, plus whether it is exact."""

    text: str
    latex: str
    siunitx: str
    exact: bool


# --------------------------------------------------------------------------------------------
# Significant digits


_NUMBER_RE = re.compile(
    r"^\s*[+-]?(?P<int>[0-9][0-9,_]*)?(?:\.(?P<frac>[0-9_]*))?(?:[eE][+-]?[0-9]+)?"
)


def significant_digits(text: str) -> int:
    """Significant digits of a number as written: ``"989.4"`` → 4, ``"80"`` → 2, ``"1e-3"`` → 1.

    Leading zeros never count; trailing zeros count (``"3.0"`` → 2, ``"80"`` → 2, ``"700"``
    → 3) because authors and datasheets write the digits they mean. Thousands separators and
    underscores are ignored (``"1,979"`` → 4). Text after the number (a unit) is ignored.
    """
    match = _NUMBER_RE.match(text)
    if match is None or (match.group("int") is None and not match.group("frac")):
        raise MlsysimError(
            f"cannot count significant digits of {text!r}",
            why="it does not start with a number",
            fix="pass the number as written, e.g. '989.4' or '3.35 TB/s'",
        )
    digits = (match.group("int") or "") + (match.group("frac") or "")
    digits = digits.replace(",", "").replace("_", "").lstrip("0")
    return max(len(digits), 1)


def float_digits(x: float | int) -> int:
    """Significant digits of a number's shortest round-trip form: ``989.4`` → 4, ``80.0`` → 2.

    Unlike :func:`significant_digits` on ``repr(x)``, the ``.0`` that ``repr`` appends to a
    whole float is not counted (``2.0`` was written ``2``); ints count their digits without
    trailing zeros (``1000`` → 1), since an int carries no written precision of its own.
    """
    if isinstance(x, numbers.Integral):
        return max(len(str(abs(int(x))).rstrip("0")), 1)
    mantissa = repr(float(x)).partition("e")[0]
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    if mantissa.lstrip("-") in ("inf", "nan"):
        return 1
    return significant_digits(mantissa)


# --------------------------------------------------------------------------------------------
# Magnitudes


def decimal_of(x: float | int) -> Decimal:
    if isinstance(x, numbers.Integral):
        return Decimal(int(x))
    return Decimal(repr(float(x)))


def _round_sig(d: Decimal, n: int) -> Decimal:
    """``d`` rounded half-up to ``n`` significant figures, keeping trailing zeros."""
    if d == 0:
        return Decimal(0)
    with localcontext(_DECIMAL_CONTEXT):
        exp = d.adjusted()
        rounded = d.quantize(Decimal(1).scaleb(exp - n + 1), rounding=ROUND_HALF_UP)
        if rounded.adjusted() > exp:  # 9.99 → 10.0: keep n figures after the carry
            rounded = d.quantize(Decimal(1).scaleb(exp - n + 2), rounding=ROUND_HALF_UP)
    return rounded


def _group(digits: str, sep: str) -> str:
    out = []
    for i, ch in enumerate(reversed(digits)):
        if i and i % 3 == 0:
            out.append(sep)
        out.append(ch)
    return "".join(reversed(out))


def _fixed(d: Decimal, thousands: bool) -> tuple[str, str]:
    """Fixed-point text and LaTeX of a Decimal (already rounded)."""
    s = format(d, "f")
    sign = ""
    if s.startswith("-"):
        sign, s = "-", s[1:]
    int_part, _, frac = s.partition(".")
    text_int, latex_int = int_part, int_part
    if thousands and len(int_part) > 3:
        text_int, latex_int = _group(int_part, ","), _group(int_part, "{,}")
    tail = f".{frac}" if frac else ""
    return sign + text_int + tail, sign + latex_int + tail


def _scientific(d: Decimal, n: int, *, engineering: bool = False) -> tuple[str, str, str]:
    """Mantissa × 10^exponent: text, LaTeX and siunitx input forms."""
    rounded = _round_sig(d, n)
    exp = rounded.adjusted()
    if engineering:
        exp = exp - exp % 3
    mantissa = rounded.scaleb(-exp)
    m_text = format(mantissa, "f")
    text = f"{m_text} × 10{str(exp).translate(_SUPERSCRIPT)}"
    latex = f"{m_text} \\times 10^{{{exp}}}"
    return text, latex, f"{m_text}e{exp}"


def format_magnitude(
    x: float | int,
    *,
    digits: int | None,
    thousands: bool,
    notation: str,
    exact_int: bool,
) -> Number:
    """Format a magnitude. ``digits=None`` with ``exact_int`` prints an integer exactly."""
    if isinstance(x, float) and not math.isfinite(x):
        word = "NaN" if math.isnan(x) else ("-∞" if x < 0 else "∞")
        latex = r"\mathrm{NaN}" if math.isnan(x) else ("-\\infty" if x < 0 else "\\infty")
        return Number(word, latex, latex, exact=False)
    d = decimal_of(x)
    if d == 0:
        return Number("0", "0", "0", exact=True)
    if exact_int and isinstance(x, numbers.Integral):
        n_digits = len(str(abs(int(x))))
        if notation in ("plain", "fixed") and n_digits <= _INT_PLAIN_DIGITS:
            text, latex = _fixed(d, thousands)
            return Number(text, latex, str(int(x)), exact=True)
        digits = min(len(str(abs(int(x))).rstrip("0")), MAX_SIG_FIGS)
    n = digits if digits is not None else 3
    rounded = _round_sig(d, n)
    exact = rounded == d
    use_sci = notation in ("scientific", "engineering")
    if notation == "fixed":  # plain unless the magnitude is unreadable that way
        use_sci = abs(rounded) < _SCI_LOW or (
            abs(rounded) >= _SCI_HIGH and rounded != rounded.to_integral_value()
        )
        use_sci = use_sci or abs(rounded) >= Decimal(10) ** _INT_PLAIN_DIGITS
    if use_sci:
        text, latex, si = _scientific(d, n, engineering=notation == "engineering")
        return Number(text, latex, si, exact)
    text, latex = _fixed(rounded, thousands)
    return Number(text, latex, format(rounded, "f"), exact)
