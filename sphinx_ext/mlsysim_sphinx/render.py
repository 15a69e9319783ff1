"""The engine's renderings -> docutils nodes, written by each builder in its own form.

* :class:`napkin_value` — an inline value or claim. HTML builders write the engine's HTML
  (text with narrow no-break spaces: it reads without MathJax, offline too); LaTeX builders
  write math ``\\(…\\)`` (the siunitx form with ``mlsysim_siunitx``); every other builder
  writes its text child (an ``inline``: text, man, texinfo, the search index).
* :class:`napkin_equation` — a derivation (``napkin-eq``): a ``math_block`` (numbering,
  labels and LaTeX as Sphinx does them) whose HTML is the engine's MathML.
* :class:`napkin_banner` — "n napkin-math failures on this page" at the top of a page.

A failed item carries the engine's failed rendering (marked, its message as a tooltip in
HTML and a footnote in LaTeX); ``static/mlsysim.css`` styles the marks and the banner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx.locale import get_translation
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.math import get_node_equation_number

if TYPE_CHECKING:
    from sphinx.application import Sphinx

    from mlsysim.viz.rendered import Rendered

__all__ = [
    "SIUNITX_ATTR",
    "SiunitxForLatex",
    "add_nodes",
    "banner_node",
    "block_nodes",
    "napkin_banner",
    "napkin_equation",
    "napkin_value",
    "plain_latex",
    "value_node",
]

_translate = get_translation("sphinx")
#: node attribute holding the siunitx LaTeX of a quantity (used by LaTeX builders only)
SIUNITX_ATTR = "mlsysim_siunitx_latex"


class napkin_value(nodes.inline):  # docutils node classes are lowercase
    """An inline value or claim: ``html``, ``latex`` (math when ``math``), ``siunitx``."""


class napkin_equation(nodes.math_block):
    """A derivation: a math block whose HTML is MathML (``mathml``)."""


class napkin_banner(nodes.container):
    """The failures of a page: ``html`` and ``latex``; its children are the text form."""


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


def value_node(rawtext: str, rendered: Rendered, *, failed: bool = False) -> napkin_value:
    """One inline value, claim or failed item, as the engine rendered it."""
    classes = ["napkin", "napkin-error"] if failed else ["napkin"]
    node = napkin_value(rawtext, rendered.text, classes=classes)
    node["html"] = rendered.html
    node["math"] = rendered.math
    if rendered.math:
        plain = plain_latex(rendered)
        node["latex"] = plain
        if plain != rendered.latex:
            node[SIUNITX_ATTR] = rendered.latex
    else:
        node["latex"] = rendered.latex
    node["support_smartquotes"] = False  # a value is shown as the engine wrote it
    return node


def block_nodes(rendered: Rendered, docname: str, label: str | None = None) -> napkin_equation:
    """A display-math block (``napkin-eq``)."""
    plain = plain_latex(rendered)
    node = napkin_equation(plain, plain, docname=docname, label=label, number=None, nowrap=False)
    node["classes"].append("napkin")
    node["mathml"] = rendered.html
    if plain != rendered.latex:
        node[SIUNITX_ATTR] = rendered.latex
    return node


def banner_node(rendered: Rendered) -> napkin_banner:
    """The banner listing a page's failures."""
    node = napkin_banner("", nodes.paragraph("", rendered.text), classes=["mlsysim-banner"])
    node["html"] = rendered.html
    node["latex"] = rendered.latex
    return node


# -- writers ----------------------------------------------------------------------------------


def _html_value(self: Any, node: napkin_value) -> None:
    self.body.append(self.starttag(node, "span", ""))
    self.body.append(node["html"])
    self.body.append("</span>")
    raise nodes.SkipNode


def _latex_value(self: Any, node: napkin_value) -> None:
    if node.get("math"):
        latex = node.get(SIUNITX_ATTR) or node["latex"]
        if getattr(self, "in_title", False):
            self.body.append(rf"\protect\({latex}\protect\)")
        else:
            self.body.append(rf"\({latex}\)")
    else:
        self.body.append(node["latex"])
    raise nodes.SkipNode


def _html_equation(self: Any, node: napkin_equation) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math napkin-eq"))
    if node.get("number"):
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _translate("Link to this equation"))
        self.body.append("</span>")
    self.body.append(node["mathml"])
    self.body.append("</div>\n")
    raise nodes.SkipNode


def _html_banner(self: Any, node: napkin_banner) -> None:
    self.body.append(node["html"])
    raise nodes.SkipNode


def _latex_banner(self: Any, node: napkin_banner) -> None:
    self.body.append("\n" + node["latex"] + "\n")
    raise nodes.SkipNode


def _skip(self: Any, node: nodes.Node) -> None:
    pass


def add_nodes(app: Sphinx) -> None:
    """Register the nodes with the HTML and LaTeX writers (others write their children)."""
    app.add_node(napkin_value, html=(_html_value, _skip), latex=(_latex_value, _skip))
    app.add_node(napkin_equation, html=(_html_equation, _skip))
    app.add_node(napkin_banner, html=(_html_banner, _skip), latex=(_latex_banner, _skip))


class SiunitxForLatex(SphinxPostTransform):
    """LaTeX builders: a derivation's siunitx form in place of its plain LaTeX."""

    default_priority = 100
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for block in self.document.findall(napkin_equation):
            if SIUNITX_ATTR in block:
                block.children = [nodes.Text(block[SIUNITX_ATTR])]
