"""Rendered values -> docutils nodes: math where it is math, text where it is the author's words.

``nodes.math`` / ``nodes.math_block`` are rendered by every Sphinx builder (MathJax ``\\(…\\)``
in HTML, ``\\(…\\)`` / ``equation*`` in LaTeX). With ``mlsysim_siunitx`` the LaTeX builder gets
the siunitx form (``\\qty``) of each quantity through a post-transform, while HTML keeps the
plain form MathJax understands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

if TYPE_CHECKING:
    from mlsysim.viz.rendered import Rendered

__all__ = [
    "SIUNITX_ATTR",
    "SiunitxForLatex",
    "block_nodes",
    "error_node",
    "inline_nodes",
    "plain_latex",
]

#: node attribute holding the siunitx LaTeX of a quantity (used by LaTeX builders only)
SIUNITX_ATTR = "mlsysim_siunitx_latex"


def plain_latex(rendered: Rendered) -> str:
    """The delimiter-free LaTeX every math renderer understands (MathJax included).

    ``Rendered.latex`` is the siunitx form (``\\qty{…}{…}``) when the engine runs with
    ``siunitx=True``; ``Rendered.markdown`` always holds the plain form between ``$``/``$$``.
    """
    md = rendered.markdown.strip()
    for delim in ("$$", "$"):
        if len(md) > 2 * len(delim) and md.startswith(delim) and md.endswith(delim):
            return md[len(delim) : -len(delim)].strip()
    return rendered.latex


def _mark(node: nodes.Element, rendered: Rendered, plain: str) -> None:
    node["classes"].append("napkin")
    if plain != rendered.latex:
        node[SIUNITX_ATTR] = rendered.latex


def inline_nodes(rawtext: str, rendered: Rendered) -> list[nodes.Node]:
    """One inline value: a math node, or plain text when the rendering is not math."""
    if not rendered.math:
        return [nodes.inline(rawtext, rendered.text, classes=["napkin"])]
    plain = plain_latex(rendered)
    node = nodes.math(rawtext, plain)
    _mark(node, rendered, plain)
    return [node]


def block_nodes(rendered: Rendered, docname: str, label: str | None = None) -> nodes.math_block:
    """A display-math block (``napkin-eq``)."""
    plain = plain_latex(rendered)
    node = nodes.math_block(plain, plain, docname=docname, label=label, number=None, nowrap=False)
    _mark(node, rendered, plain)
    return node


def error_node(rawtext: str, placeholder: Rendered | None) -> nodes.Node:
    """What a failed item shows: the engine's placeholder, else the raw source, marked up."""
    text = placeholder.text if placeholder is not None else rawtext
    return nodes.inline(rawtext, text, classes=["napkin", "napkin-error"])


class SiunitxForLatex(SphinxPostTransform):
    """LaTeX builders: swap each quantity's plain LaTeX for its siunitx form."""

    default_priority = 100
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for node in self.document.findall(nodes.math):
            if SIUNITX_ATTR in node:
                node.children = [nodes.Text(node[SIUNITX_ATTR])]
        for block in self.document.findall(nodes.math_block):
            if SIUNITX_ATTR in block:
                block.children = [nodes.Text(block[SIUNITX_ATTR])]
