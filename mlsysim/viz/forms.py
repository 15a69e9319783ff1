"""The four forms of a rendered value: text, LaTeX (or siunitx), HTML and Markdown.

:mod:`mlsysim.viz.format` decides the number and the unit; this module escapes author text for
each output (:func:`escape_latex_text`, :func:`escape_markdown`, :func:`value_html`) and
assembles a :class:`~mlsysim.viz.rendered.Rendered`: a number never breaks from its unit (one
TeX group, narrow no-break spaces in HTML), a count of one is singular (``1 token``), and with
``siunitx`` the LaTeX field is ``\\qty{…}{…}``/``\\num{…}`` (hosts then need
:data:`SIUNITX_PREAMBLE`).
"""

from __future__ import annotations

import html as _html

from mlsysim.viz.magnitude import Number
from mlsysim.viz.rendered import Rendered

__all__ = [
    "SIUNITX_PREAMBLE",
    "Out",
    "escape_latex_text",
    "escape_markdown",
    "join_unit",
    "math_rendered",
    "math_value",
    "siunitx_unit",
    "text_rendered",
    "value_html",
]

#: What a LaTeX preamble needs for ``siunitx=True`` output. Units are written literally in
#: ``\\qty{295}{FLOP/B}`` (siunitx ≥ 3 typesets literal units upright), ``µ`` as ``\\micro``,
#: ``%`` as ``\\percent``, so no ``\\DeclareSIUnit`` is required; the declarations below only
#: make ``\\flop``-style macros available to authors who prefer them.
SIUNITX_PREAMBLE = (
    "\\usepackage{siunitx}\n"
    "\\sisetup{group-minimum-digits=4, group-separator={,}}\n"
    "\\DeclareSIUnit\\flop{FLOP}\n"
    "\\DeclareSIUnit\\params{params}\n"
    "\\DeclareSIUnit\\tokens{tokens}\n"
    "\\DeclareSIUnit\\usd{USD}\n"
)

#: A count of exactly one is singular: ``1 token``, ``1 param/s``.
_SINGULAR = {"params": "param", "tokens": "token", "samples": "sample", "requests": "request"}
#: A rendered value and whether its digits are the value exactly.
Out = tuple[Rendered, bool]


def escape_latex_text(text: str) -> str:
    """Escape author text for LaTeX text mode (used when ``math`` is false)."""
    table = {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "%": r"\%",
        "$": r"\$",
        "&": r"\&",
        "#": r"\#",
        "_": r"\_",
        "^": r"\^{}",
        "~": r"\~{}",
    }
    return "".join(table.get(ch, ch) for ch in text)


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>$|"})


def escape_markdown(text: str) -> str:
    """Escape author text so Markdown shows it literally."""
    return text.translate(_MARKDOWN_SPECIAL)


def text_rendered(text: str) -> Rendered:
    """Author text (a bool, a string, a registry id) in its four forms, escaped, not math."""
    return Rendered(
        text, escape_latex_text(text), _html.escape(text), escape_markdown(text), math=False
    )


def value_html(text: str) -> str:
    """A value's HTML, readable without MathJax: its text, with narrow no-break spaces
    (U+202F) so that a number never breaks from its unit."""
    return _html.escape(text).replace(" ", "\u202f")


def _unbreakable(latex: str) -> str:
    """A number with its unit (or its ``×`` or ``%``) as one group: TeX and MathJax never
    break a line inside a ``{…}`` group, so ``295`` and ``FLOP/B`` stay together."""
    return f"{{{latex}}}" if "\\," in latex or "\\times" in latex else latex


def math_value(text: str, latex: str) -> Rendered:
    """A value already typeset (``text`` and its LaTeX) for every output, as one group."""
    return math_rendered(text, latex, None, True)[0]


def math_rendered(text: str, latex: str, siunitx_latex: str | None, exact: bool) -> Out:
    """A typeset value in its four forms (LaTeX as one group, or ``siunitx_latex``) and
    whether its digits are exact."""
    latex = _unbreakable(latex)
    html = value_html(text)
    markdown = f"${latex}$"
    return Rendered(text, siunitx_latex or latex, html, markdown, math=True), exact


def join_unit(
    num: Number, unit_text: str, unit_latex: str, siunitx_unit: str, siunitx: bool
) -> Out:
    """A formatted number with its unit (``295 FLOP/B``; a unit of one is singular)."""
    if not unit_text:
        si_num = f"\\num{{{num.siunitx}}}" if siunitx else None
        return math_rendered(num.text, num.latex, si_num, num.exact)
    if num.text in ("1", "-1"):
        unit_text, unit_latex = _singular(unit_text, unit_latex)
    text = f"{num.text} {unit_text}"
    latex = f"{num.latex}\\,{unit_latex}"
    si = f"\\qty{{{num.siunitx}}}{{{siunitx_unit}}}" if siunitx else None
    return math_rendered(text, latex, si, num.exact)


def _singular(unit_text: str, unit_latex: str) -> tuple[str, str]:
    head, sep, tail = unit_text.partition("/")
    one = _SINGULAR.get(head)
    if one is None:
        return unit_text, unit_latex
    return one + sep + tail, unit_latex.replace(head, one, 1)


def siunitx_unit(unit_text: str) -> str:
    """A unit's text as siunitx writes it literally (``\\micro``, ``\\percent``, ``^2``)."""
    out = unit_text.replace("µ", "\\micro ").replace("%", "\\percent").replace("₂", "_2")
    return out.replace("·", ".").replace("²", "^2").replace("³", "^3")
