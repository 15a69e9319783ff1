"""Claims: the author's own figure, bound to a formula and checked against it.

``300 FLOP/B ~ ridge`` states a figure (``300 FLOP/B``) and the napkin expression it must agree
with (``ridge``). The figure renders exactly as the author wrote it; the build fails when the
computed value is off by more than the tolerance:

* ``@ 10%`` (or ``@ 0.1``): relative, |computed − stated| ≤ 10 % of |stated|;
* ``@ 0.5 ms``: absolute, in any unit of the stated figure's dimension (for values near zero);
* neither: the document's default (``Options.tolerance``, 5 %) and ``Options.abs_tolerance``.

A stated figure may end in ``%`` (``95%`` is 0.95) or ``×``/``x`` (``19.5×`` is 19.5), may use
thousands separators (``1,979 TFLOP/s``) and a leading ``≈``/``~``/``about``. A figure whose
dimension differs from the computed value is an error naming both dimensions, never a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mlsysim.book.lang import prepare
from mlsysim.core.exceptions import DimensionError, NapkinError, NapkinSyntaxError
from mlsysim.viz.rendered import Rendered

__all__ = ["Stated", "Tolerance", "compare", "parse_stated", "parse_tolerance", "render_stated"]

_LEAD = re.compile(r"^\s*(?:≈|~|about\s+|approximately\s+|roughly\s+|around\s+)?\s*", re.I)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SUFFIX = re.compile(r"^(?P<body>.*?)\s*(?P<suffix>%|×|x)\s*$")


@dataclass(frozen=True, slots=True)
class Stated:
    """The author's figure: its text as written, the napkin expression to evaluate and style."""

    text: str
    expression: str
    style: str | None  # "percent" | "multiplier" | None
    offset: int  # column of ``expression`` within ``text``


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Relative fraction and/or absolute quantity; ``text`` as written for messages."""

    relative: float | None
    absolute: Any | None
    text: str


def parse_stated(text: str) -> Stated:
    """Split off ``≈``/``about`` and a ``%``/``×`` suffix; drop thousands separators."""
    lead = _LEAD.match(text)
    start = lead.end() if lead else 0
    body = text[start:].rstrip()
    style: str | None = None
    m = _SUFFIX.match(body)
    if m and m["body"] and (m["suffix"] != "x" or re.search(r"[\d.]\s*x$", body)):
        style = "percent" if m["suffix"] == "%" else "multiplier"
        body = m["body"]
    expr = _THOUSANDS.sub("", body)
    if not expr.strip():
        raise NapkinSyntaxError(
            "the claim states no figure",
            column=0,
            expression=text,
            fix="write the figure before '~', e.g. `300 FLOP/B ~ ridge`",
        )
    return Stated(text.strip(), expr, style, start)


def parse_tolerance(text: str, *, evaluate: Any) -> Tolerance:
    """``10%`` / ``0.1`` (relative) or ``0.5 ms`` (absolute); ``evaluate`` reads quantities."""
    t = text.strip()
    if t.endswith("%"):
        try:
            return Tolerance(float(t[:-1]) / 100, None, t)
        except ValueError:
            pass
    try:
        return Tolerance(float(t), None, t)
    except ValueError:
        pass
    value = evaluate(t)
    from mlsysim.core.units import ureg

    if not isinstance(value, ureg.Quantity) or value.dimensionless:
        raise NapkinError(
            f"cannot read the tolerance {t!r}",
            expression=t,
            column=0,
            fix="write a percentage (`@ 10%`), a fraction (`@ 0.1`) or a quantity (`@ 0.5 ms`)",
        )
    return Tolerance(None, value, t)


def _as_number(value: Any) -> Any:
    from mlsysim.core.units import ureg

    if isinstance(value, ureg.Quantity) and value.dimensionless:
        return float(value.to("").magnitude)
    return value


def compare(
    stated: Any, computed: Any, tol: Tolerance, *, stated_text: str, expression: str
) -> tuple[bool, float | None]:
    """Whether ``computed`` agrees with ``stated`` within ``tol``; also the relative error.

    Raises DimensionError (naming both dimensions) when they cannot be compared.
    """
    from mlsysim.core.units import describe_dimension, ureg

    s, c = _as_number(stated), _as_number(computed)
    s_q, c_q = isinstance(s, ureg.Quantity), isinstance(c, ureg.Quantity)
    if s_q != c_q or (s_q and s.dimensionality != c.dimensionality):
        raise DimensionError(
            "compare",
            stated_text,
            describe_dimension(s) if s_q else "dimensionless",
            f"{expression} = {_short(c)}",
            describe_dimension(c) if c_q else "dimensionless",
            fix="state the figure in a unit of the computed value's dimension, or bind the "
            "claim to the right formula",
        )
    if not isinstance(c, int | float | ureg.Quantity) or isinstance(c, bool):
        raise NapkinError(f"a claim needs a number, but {expression} is {type(c).__name__}")
    if s_q:
        s_mag = float(s.magnitude)
        c_any: Any = c
        c_mag = float(c_any.to(s.units).magnitude)
    else:
        s_mag, c_mag = float(s), float(c)
    diff = abs(c_mag - s_mag)
    rel = diff / abs(s_mag) if s_mag else None
    ok = False
    if tol.relative is not None and rel is not None:
        ok = rel <= tol.relative + 1e-12
    if tol.relative is not None and s_mag == 0:
        ok = diff == 0
    if tol.absolute is not None:
        a = tol.absolute
        if s_q:
            if a.dimensionality != s.dimensionality:
                raise DimensionError(
                    "compare",
                    tol.text,
                    describe_dimension(a),
                    stated_text,
                    describe_dimension(s),
                    fix="give the absolute tolerance in the figure's dimension",
                )
            a_mag = float(a.to(s.units).magnitude)
        else:
            a_mag = float(_as_number(a)) if not isinstance(_as_number(a), ureg.Quantity) else -1.0
        ok = ok or diff <= abs(a_mag)
    return ok, rel


def _short(value: Any) -> str:
    from mlsysim.viz.format import render_value

    try:
        return render_value(value, sig_figs=4).text
    except Exception:
        return str(value)


def render_stated(stated: Stated, value: Any) -> Rendered:
    """The author's figure, as written, for every output (math when it is number + unit)."""
    from mlsysim.core.units import ureg

    text = stated.text
    body = text[stated.offset :].rstrip()
    if stated.style is not None:
        body = _SUFFIX.match(body)["body"]  # type: ignore[index]
    prep = prepare(_THOUSANDS.sub("", body))
    lits = list(prep.literals.values())
    number = re.fullmatch(r"\s*[+-]?[\d,]*\.?\d+(?:[eE][+-]?\d+)?\s*", body)
    if (len(lits) == 1 and prep.code.strip("_ \t") == "") or number:
        num_text = body.strip() if number else _number_as_written(body)
        latex_num = num_text.replace(",", "{,}")
        if stated.style == "percent":
            latex = latex_num + r"\,\%"
        elif stated.style == "multiplier":
            latex = latex_num + r"\times"
        elif lits and isinstance(value, ureg.Quantity):
            from mlsysim.viz.format import format_unit

            latex = latex_num + r"\," + format_unit(value.units)[1]
        else:
            latex = latex_num
        return Rendered(
            text=text, latex=latex, html=f"\\({latex}\\)", markdown=f"${latex}$", math=True
        )
    from mlsysim.viz.format import escape_markdown

    return Rendered(
        text=text,
        latex=r"\text{" + text.replace("%", r"\%") + "}",
        html=_html_escape(text),
        markdown=escape_markdown(text),
        math=False,
    )


def _number_as_written(body: str) -> str:
    m = re.match(r"\s*([+-]?[\d,]*\.?\d+(?:[eE][+-]?\d+)?)", body)
    return m[1] if m else body.strip()


def _html_escape(text: str) -> str:
    import html

    return html.escape(text)
