"""Claims: the author's own figure, bound to a formula and checked against it.

``300 FLOP/B ~ ridge`` states a figure (``300 FLOP/B``) and the napkin expression it must agree
with (``ridge``). The figure renders exactly as the author wrote it; the build fails when the
computed value is off by more than the tolerance:

* ``@ 10%`` (or ``@ 0.1``): relative, |computed − stated| ≤ 10 % of |stated|; a relative
  tolerance is finite and below 100 %;
* ``@ 0.5 ms``: absolute, in any unit of the stated figure's dimension (another dimension is
  an error, never a pass);
* neither: the document's default relative tolerance (``Options.tolerance``, 5 %), or one of
  its absolute tolerances (``Options.abs_tolerance``) *of the claim's dimension*: an absolute
  tolerance in milliseconds never loosens a claim in gigabytes or a plain number.

A stated figure may end in ``%`` (``95%`` is 0.95) or ``×``/``x``/TeX's ``$\\times$``
(``19.5×`` is 19.5), may use
thousands separators (``1,979 TFLOP/s``) and a leading ``≈``/``~``/``about``. A figure whose
dimension differs from the computed value is an error naming both dimensions, never a pass.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from mlsysim.book.evaluator import Recorder, headline
from mlsysim.book.lang import describe, split_claim, unwrap
from mlsysim.book.lang.literals import prepare
from mlsysim.book.outcomes import ItemResult, Located, error_rendering
from mlsysim.book.tolerances import (
    PERCENT,
    AtTolerance,
    Tolerance,
    claim_tolerance,
    parse_tolerance,
)
from mlsysim.core.exceptions import DimensionError, MlsysimError, NapkinError, NapkinSyntaxError
from mlsysim.core.unit_text import read_number
from mlsysim.viz.rendered import Rendered

__all__ = [
    "Stated",
    "Tolerance",
    "compare",
    "parse_stated",
    "parse_tolerance",
    "render_stated",
    "run_claim",
]

_LEAD_WORDS = ("approximately", "roughly", "around", "about")
#: Percent per unit of a deviation (0.05 → 5 %).
_PERCENT = PERCENT


@dataclass(frozen=True, slots=True)
class Stated:
    """The author's figure: its text as written, the napkin expression to evaluate and style."""

    text: str
    expression: str
    style: str | None  # "percent" | "multiplier" | None
    offset: int  # column of ``expression`` within ``text``


def _lead(text: str) -> int:
    """Where the figure starts after an optional ``≈``, ``~`` or ``about``-like word."""
    i = len(text) - len(text.lstrip())
    if text.startswith(("≈", "~"), i):
        i += 1
    else:
        lowered = text[i : i + 16].lower()
        for word in _LEAD_WORDS:
            end = i + len(word)
            if lowered.startswith(word) and text[end : end + 1] in (" ", "\t"):
                i = end
                break
    return i + (len(text[i:]) - len(text[i:].lstrip()))


def _without_thousands(text: str) -> str:
    """``1,979`` → ``1979``: a comma between a digit and exactly three digits is dropped."""
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        group = text[i + 1 : i + 4]
        if (
            ch == ","
            and i > 0
            and text[i - 1].isdigit()
            and len(group) == 3
            and group.isdigit()
            and not (i + 4 < n and text[i + 4].isdigit())
        ):
            continue
        out.append(ch)
    return "".join(out)


def _suffix(body: str) -> tuple[str, str | None]:
    """Split a trailing ``%`` / ``×`` / ``x`` (after a number) off the figure."""
    trimmed = body.rstrip()
    if not trimmed:
        return body, None
    for tex in ("$\\times$", "\\times"):  # TeX's × (a host gives inline math as its TeX)
        if trimmed.endswith(tex) and trimmed[: -len(tex)].strip():
            return trimmed[: -len(tex)].rstrip(), "multiplier"
    last = trimmed[-1]
    head = trimmed[:-1].rstrip()
    if last == "%" and head:
        return head, "percent"
    if last == "×" and head:
        return head, "multiplier"
    if last == "x" and head and (head[-1].isdigit() or head[-1] == "."):
        return head, "multiplier"
    return body, None


def parse_stated(text: str) -> Stated:
    """Split off ``≈``/``about`` and a ``%``/``×`` suffix; drop thousands separators."""
    start = _lead(text)
    body, style = _suffix(text[start:].rstrip())
    dash = next((d for d in ("--", "–", "—") if d in body), None)
    if dash is not None:  # Markdown's "2--4" is the range 2–4, never 2 - (-4)
        raise NapkinSyntaxError(
            f"the claim states a range ({body.strip()}), not one figure",
            column=start + body.find(dash),
            expression=text,
            fix="claim one figure with a tolerance (2–4× is about `3× ~ speedup @ 35%`), "
            "or claim each end on its own",
        )
    expr = _without_thousands(body)
    if not expr.strip():
        raise NapkinSyntaxError(
            "the claim states no figure",
            column=0,
            expression=text,
            fix="write the figure before '~', e.g. `300 FLOP/B ~ ridge`",
        )
    return Stated(text.strip(), expr, style, start)


def _as_number(value: Any) -> Any:
    from mlsysim.core.units import ureg

    if isinstance(value, ureg.Quantity) and value.dimensionless:
        return float(value.to("").magnitude)
    return value


def compare(
    stated: Any, computed: Any, tol: Tolerance, *, stated_text: str, expression: str
) -> tuple[bool, float | None]:
    """Whether ``computed`` agrees with ``stated`` within ``tol``; also the relative error.

    Raises DimensionError (naming both dimensions) when they cannot be compared, or when a
    tolerance written for this claim has another dimension.
    """
    from mlsysim.core.units import describe_dimension, ureg

    s, c = _as_number(stated), _as_number(computed)
    for side, what in ((s, f"the stated figure {stated_text!r}"), (c, expression)):
        if isinstance(side, bool) or not isinstance(side, int | float | ureg.Quantity):
            raise NapkinError(
                f"a claim compares numbers, but {what} is {describe(side)}",
                fix="state a number with its unit, bound to an expression with a value",
            )
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
    if s_q:
        s_mag, c_mag = float(s.magnitude), float(c.to(s.units).magnitude)
    else:
        s_mag, c_mag = float(s), float(c)
    diff = abs(c_mag - s_mag)
    rel = diff / abs(s_mag) if s_mag else None
    ok = diff == 0
    if tol.relative is not None and rel is not None:
        ok = ok or rel <= tol.relative + 1e-12
    for a in tol.absolute:
        if s_q and a.dimensionality == s.dimensionality:
            ok = ok or diff <= float(a.to(s.units).magnitude)
        elif tol.written:
            err = DimensionError(
                "compare",
                tol.text,
                describe_dimension(a),
                stated_text,
                describe_dimension(s) if s_q else "dimensionless",
                fix="give the absolute tolerance in the figure's dimension",
            )
            raise AtTolerance(err)
    return ok, rel


def _short(value: Any) -> str:
    from mlsysim.viz.format import render_value

    try:
        return render_value(value, sig_figs=4).text
    except MlsysimError:
        return "a value that cannot be shown"


def _plain_number(body: str) -> str | None:
    """``body`` when it is one number as written (signs and thousands commas allowed)."""
    text = body.strip()
    core = text[1:] if text[:1] in "+-" else text
    number = read_number(core.replace(",", ""), 0)
    if number is None or number.end != len(core.replace(",", "")):
        return None
    return text


def _leading_number(body: str) -> str:
    """The number at the start of ``body`` as written (sign, digits, commas, decimals)."""
    text = body.strip()
    i = 1 if text[:1] in "+-" else 0
    n = len(text)
    while i < n and (text[i].isdigit() or text[i] in ",."):
        i += 1
    if i < n and text[i] in "eE":
        j = i + 1 + (text[i + 1 : i + 2] in ("+", "-"))
        if j < n and text[j].isdigit():
            i = j
            while i < n and text[i].isdigit():
                i += 1
    return text[:i]


def render_stated(stated: Stated, value: Any) -> Rendered:
    """The author's figure, as written, for every output (math when it is number + unit)."""
    from mlsysim.core.units import ureg

    text = stated.text
    body = text[stated.offset :].rstrip()
    if stated.style is not None:
        body = _suffix(body)[0]
    number = _plain_number(body)
    prep = prepare(_without_thousands(body)) if number is None else None
    lits = list(prep.literals.values()) if prep is not None else []
    if number is not None or (len(lits) == 1 and prep is not None and not prep.code.strip("_ \t")):
        num_text = number if number is not None else _leading_number(body)
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
        from mlsysim.viz.format import math_value

        return math_value(text, latex)
    from mlsysim.viz.format import escape_latex_text, escape_markdown

    return Rendered(
        text=text,
        latex=r"\text{" + escape_latex_text(text) + "}",
        html=html.escape(text),
        markdown=escape_markdown(text),
        math=False,
    )


def _with_style(value: Any, style: str | None) -> Any:
    if style == "percent" and not hasattr(value, "units"):
        from mlsysim.core.units import ureg

        return ureg.Quantity(unwrap(value), "percent")
    return value


def run_claim(
    doc: Recorder,
    text: str,
    line: int,
    *,
    of: str | None,
    tolerance: Any,
    column: int | None,
    of_at: tuple[int, int] | None = None,
    tol_at: tuple[int, int] | None = None,
) -> ItemResult:
    """Check the author's figure against its expression; the failure is recorded in ``doc``.
    An error inside ``of`` points where it is written (``of_at``: line, column) if known, an
    error of the claim's tolerance at the tolerance (``@ …`` in the text, or ``tol_at``)."""
    evaluator = doc.evaluator
    in_of = False
    at_tol: tuple[int, int] | int | None = tol_at if tolerance is not None else None
    try:
        if of is not None:
            stated_text, expr, tol_text, expr_col = text, of, None, 0
        else:
            parts = split_claim(text)
            if parts is None:
                raise Located(
                    NapkinSyntaxError(
                        "a claim needs '~' between the figure and the expression",
                        fix="write e.g. `300 FLOP/B ~ ridge`",
                    ),
                    0,
                )
            stated_text, expr, tol_text, expr_col, tol_col = parts
            if tol_text is not None and tol_col is not None:
                at_tol = tol_col + len(text[tol_col:]) - len(text[tol_col:].lstrip())
        stated = parse_stated(stated_text)
        try:
            stated_value = evaluator.evaluate(stated.expression).value
        except Located as loc:
            raise Located(loc.error, stated.offset + loc.column) from None
        stated_value = _with_style(unwrap(stated_value), stated.style)
        tol = claim_tolerance(doc, tol_text if tol_text is not None else tolerance)
        in_of = of is not None and of_at is not None
        try:
            ev = evaluator.evaluate(expr)
        except Located as loc:  # its column counts expr's leading blanks, as expr_col does
            lead = len(expr) - len(expr.lstrip())
            raise Located(loc.error, expr_col - lead + loc.column) from None
        computed = headline(unwrap(ev.value))
        rendered = render_stated(stated, stated_value)
        try:
            ok, rel = compare(
                stated_value, computed, tol, stated_text=stated.text, expression=expr.strip()
            )
        except MlsysimError as exc:
            raise Located(exc, expr_col) from None
    except Located as loc:
        if in_of and of is not None and of_at is not None:
            f = doc.record_located(loc, of, *of_at)
        else:
            f = doc.record_located(loc, text, line, column)
        return ItemResult(False, error_rendering(), f)
    except AtTolerance as bad:
        if isinstance(at_tol, tuple):
            f = doc.record("error", bad.error, text, *at_tol, 0)
        else:
            f = doc.record("error", bad.error, text, line, column, at_tol or 0)
        return ItemResult(False, error_rendering(), f)
    except MlsysimError as exc:
        f = doc.record("error", exc, text, line, column, 0)
        return ItemResult(False, error_rendering(), f)
    if ok:
        return ItemResult(True, rendered, None, computed)
    shown = evaluator.text(computed, stated_value)
    off = f"off by {rel * _PERCENT:.1f} %" if rel is not None else "not zero"
    figure = " ".join(stated.text.split())  # a claim wrapped across lines reads as one
    err = MlsysimError(
        f"claim {figure} disagrees with {' '.join(expr.split())} = {shown}",
        why=f"{off}; tolerance {tol.text}",
        fix="correct the figure in the prose, or the inputs of the formula",
    )
    f = doc.record(
        "claim",
        err,
        text,
        line,
        column,
        None,
        trace=ev.trace,
        value=shown,
        expected=f"{figure} ± {tol.text}",
    )
    return ItemResult(False, rendered, f, computed)
