"""What a failed item and a page with failures render as, so a draft shows its failures.

In warn mode (and in the pages an error-mode build still writes) a failed item must not look
like a passing one. The engine decides what it renders as; hosts only turn these renderings
into their nodes:

* :func:`failed_rendering` — the item marked as failed: what the author wrote (a claim's own
  figure) or ``⟨error⟩``, with the failure's kind and message. HTML: a
  ``<span class="mlsysim-failure">`` with a visible mark and the message as its tooltip
  (styled by the hosts' ``mlsysim.css``); LaTeX/PDF: a framed mark with the message as a
  footnote; text: the message in brackets.
* :func:`failure_banner` — "n napkin-math failures on this page", listing each one with its
  line: a ``<div class="mlsysim-banner">`` in HTML, a framed box in LaTeX.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from mlsysim.book.failures import Failure
from mlsysim.viz.format import escape_latex_text, escape_markdown
from mlsysim.viz.rendered import Rendered

__all__ = [
    "FAILED_MATH",
    "FailedRendering",
    "banner_dict",
    "failed_rendering",
    "failure_banner",
    "failure_note",
]

#: a failed item where only math may stand (a labelled display equation keeps its number):
#: plain LaTeX that MathJax, texmath and pdflatex with amsmath read
FAILED_MATH = r"\boxed{\langle\text{error}\rangle}"

_MAX_NOTE = 400
#: what pdflatex cannot typeset from a message, spelled in ASCII
_LATEX_ASCII = str.maketrans(
    {
        "≈": "~",
        "×": "x",
        "⟨": "<",
        "⟩": ">",
        "µ": "u",
        "·": ".",
        "²": "^2",
        "³": "^3",
        "⁻": "-",
        "→": "->",
        "–": "-",
        "—": "--",
        "…": "...",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "±": "+/-",
        "≤": "<=",
        "≥": ">=",
        "\u202f": " ",
        "\u00a0": " ",
    }
)


def _latex(text: str) -> str:
    """Message text for LaTeX in text mode: escaped, and ASCII for pdflatex."""
    plain = text.translate(_LATEX_ASCII)
    plain = "".join(ch if ord(ch) < 128 else "?" for ch in plain)
    return escape_latex_text(plain)


class FailedRendering(Rendered):
    """A rendering that is the mark of a failed item (hosts place it as it is)."""

    __slots__ = ()


def failure_note(failure: Failure) -> str:
    """One line saying what failed, where: ``line 10: claim 500 FLOP/B disagrees with …``."""
    note = f"line {failure.line}: {failure.message}"
    if failure.hint:
        note += f" ({failure.hint})"
    return note if len(note) <= _MAX_NOTE else note[: _MAX_NOTE - 1] + "…"


def _shown(rendered: Rendered | None) -> tuple[str, str, str]:
    """(text, html, latex in text mode) of what the failed item shows."""
    if rendered is None or rendered.text in ("", "⟨error⟩"):
        return "⟨error⟩", "⟨error⟩", r"$\langle$error$\rangle$"
    latex = f"${rendered.latex}$" if rendered.math else rendered.latex
    return rendered.text, rendered.html, latex


def failed_rendering(rendered: Rendered | None, failures: Sequence[Failure]) -> Rendered:
    """``rendered`` (what the item would show, or None) marked with its failures."""
    text, shown_html, shown_latex = _shown(rendered)
    notes = [failure_note(f) for f in failures] or ["failed"]
    kind = failures[0].kind if failures else "error"
    title = html.escape(" · ".join(notes), quote=True)
    marked_html = (
        f'<span class="mlsysim-failure mlsysim-failure-{kind}" title="{title}" '
        f'role="note" tabindex="0"><span class="mlsysim-failure-mark" aria-hidden="true">'
        f"⚠</span>{shown_html}</span>"
    )
    footnote = _latex("mlsysim: " + " / ".join(notes))
    marked_latex = f"\\fbox{{\\textbf{{!}}\\,{shown_latex}}}\\footnote{{{footnote}}}"
    marked_text = f"⚠{text} [{'; '.join(notes)}]"
    marked_md = f"**⚠{escape_markdown(text)}** [{escape_markdown('; '.join(notes))}]"
    return FailedRendering(marked_text, marked_latex, marked_html, marked_md, math=False)


def failure_banner(failures: Sequence[Failure]) -> Rendered | None:
    """The banner of a page with failures (None when there are none)."""
    if not failures:
        return None
    n = len(failures)
    head = f"{n} napkin-math failure{'s' if n != 1 else ''} on this page"
    notes = [failure_note(f) for f in failures]
    items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    banner_html = (
        f'<div class="mlsysim-banner" role="alert"><p class="mlsysim-banner-title">'
        f"<strong>⚠ {html.escape(head)}</strong></p><ol>{items}</ol></div>"
    )
    lines = r"\par ".join(f"{k}. {_latex(note)}" for k, note in enumerate(notes, 1))
    width = r"\dimexpr\linewidth-2\fboxsep-2\fboxrule\relax"
    banner_latex = (
        r"\par\medskip\noindent\fbox{\parbox{" + width + "}{"
        r"\textbf{" + _latex(head) + r"}\par\smallskip\footnotesize " + lines + r"}}\par\medskip"
    )
    text = head + ":\n" + "\n".join(f"  {k}. {note}" for k, note in enumerate(notes, 1))
    md = f"> **⚠ {escape_markdown(head)}**\n>\n" + "\n".join(
        f"> {k}. {escape_markdown(note)}" for k, note in enumerate(notes, 1)
    )
    return Rendered(text, banner_latex, banner_html, md, math=False)


def banner_dict(failures: Sequence[dict[str, object]]) -> dict[str, object] | None:
    """:func:`failure_banner` of failures in their JSON form (the batch protocol's
    ``banner``), or None."""
    fields = set(Failure.__dataclass_fields__)
    records = []
    for d in failures:
        data = {k: v for k, v in d.items() if k in fields}
        data["derivation"] = tuple(data.get("derivation") or ())  # type: ignore[arg-type]
        data["sources"] = tuple(data.get("sources") or ())  # type: ignore[arg-type]
        records.append(Failure(**data))  # type: ignore[arg-type]
    banner = failure_banner(records)
    return banner.to_dict() if banner is not None else None
