"""The rendered forms of one value: what every host splices into a page."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rendered"]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One value (or claim, or derivation) rendered for every output.

    ``latex`` is math-mode content *without* delimiters (``295\\,\\mathrm{FLOP/B}``);
    ``markdown`` is ready to splice into Markdown (inline math with ``$…$`` delimiters when
    ``math`` is true); ``html`` is an HTML fragment that reads without MathJax: a value as
    text (narrow no-break spaces between number and unit), a derivation as MathML;
    ``text`` is plain Unicode (``295 FLOP/B``). ``math`` says whether hosts should emit a math
    node (True for quantities and derivations; False for author text such as a claim's own
    words when rendered verbatim, or for strings).
    """

    text: str
    latex: str
    html: str
    markdown: str
    math: bool = True

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "latex": self.latex,
            "html": self.html,
            "markdown": self.markdown,
            "math": self.math,
        }
