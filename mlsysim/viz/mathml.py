"""Typeset formulas as MathML, so a page shows its derivations without MathJax.

Every current browser renders MathML Core (Chromium since 109, Firefox, Safari), so HTML
output needs no script to show a derivation, offline or behind a firewall. The conversion is
latex2mathml's (the LaTeX comes from the formulas' own templates, never from author text);
LaTeX it cannot convert falls back to the derivation's plain text.
"""

from __future__ import annotations

import html
from functools import lru_cache

__all__ = ["display_mathml"]


@lru_cache(maxsize=512)
def display_mathml(latex: str, fallback_text: str) -> str:
    """A ``<math display="block">`` element for ``latex``, or ``fallback_text`` in a ``<div>``
    when the LaTeX cannot be converted."""
    try:
        from latex2mathml.converter import convert

        mathml = str(convert(latex, display="block"))
    except Exception:  # a construct the converter does not know: show the text form
        return f'<div class="mlsysim-eq-text">{html.escape(fallback_text)}</div>'
    # a slash is ordinary in LaTeX (TFLOP/s, p/s): no operator spacing around it
    return mathml.replace("<mo>&#x0002F;</mo>", '<mo lspace="0" rspace="0">&#x0002F;</mo>')
