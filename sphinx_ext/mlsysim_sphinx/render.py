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
from sphinx.transforms import SphinxTransform
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
    "napkin_waiting",
    "plain_latex",
    "value_node",
]

_translate = get_translation("sphinx")
#: node attribute holding the siunitx LaTeX of a quantity (used by LaTeX builders only)
SIUNITX_ATTR = "mlsysim_siunitx_latex"


class napkin_value(nodes.Text):  # docutils node classes are lowercase
    """An inline value or claim: a text node (its text is what every builder but HTML and
    LaTeX writes, the search index included) that also carries the engine's ``html``,
    ``latex`` (math when ``math``) and ``siunitx`` forms and whether it ``failed``.

    One leaf per value, not an element with a text child: a book holds thousands of values,
    and every transform walks every node (and every full garbage collection visits every
    element's attribute dict and lists), so an element per value cost more than the values'
    evaluation did. Smart quotes leave it alone (``support_smartquotes``); Sphinx's
    translators fall back to ``visit_Text`` for the builders it has no visitor for.
    """

    support_smartquotes = False
    html: str = ""
    latex: str = ""
    math: bool = False
    siunitx: str | None = None
    failed: bool = False

    def _with(self, text: str) -> napkin_value:
        """A new value node with ``text`` and this one's forms (not its place in a tree)."""
        new = type(self)(text)
        new.__dict__.update((k, v) for k, v in self.__dict__.items() if k in _VALUE_FIELDS)
        return new

    def copy(self) -> napkin_value:
        return self._with(str(self))

    def deepcopy(self) -> napkin_value:
        return self._with(str(self))

    def rstrip(self, chars: str | None = None) -> napkin_value:  # substitutions' ``trim``
        return self._with(str.rstrip(self, chars))

    def lstrip(self, chars: str | None = None) -> napkin_value:
        return self._with(str.lstrip(self, chars))


_VALUE_FIELDS = frozenset({"html", "latex", "math", "siunitx", "failed"})


class napkin_waiting(napkin_value):
    """The place of a value whose chapter's record is on its way (:mod:`.waiting`): the
    value replaces it before reading ends."""


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
    """One inline value, claim or failed item, as the engine rendered it (``rawtext``, the
    author's source of it, is not kept: a text node has no raw source)."""
    node = napkin_value(rendered.text)
    node.html = rendered.html
    if failed:
        node.failed = True
    if rendered.math:
        node.math = True
        plain = plain_latex(rendered)
        node.latex = plain
        if plain != rendered.latex:
            node.siunitx = rendered.latex
    else:
        node.latex = rendered.latex
    return node


def block_nodes(
    rendered: Rendered, docname: str, label: str | None = None, *, failed: bool = False
) -> napkin_equation:
    """A display-math block (``napkin-eq``); ``failed``: the mark of a failed one (its HTML
    is the engine's mark, with the message)."""
    from mlsysim.book.drafts import FAILED_MATH

    plain = FAILED_MATH if failed else plain_latex(rendered)
    node = napkin_equation(plain, plain, docname=docname, label=label, number=None, nowrap=False)
    node["classes"].append("napkin")
    node["mathml"] = rendered.html
    if failed:
        node["classes"].append("napkin-error")
    elif plain != rendered.latex:
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
    cls = "napkin napkin-error" if node.failed else "napkin"
    self.body.append(f'<span class="{cls}">{node.html}</span>')
    raise nodes.SkipNode


def _latex_value(self: Any, node: napkin_value) -> None:
    if node.math:
        latex = node.siunitx or node.latex
        if getattr(self, "in_title", False):
            self.body.append(rf"\protect\({latex}\protect\)")
        else:
            self.body.append(rf"\({latex}\)")
    else:
        self.body.append(node.latex)
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
    """Register the nodes with the HTML and LaTeX writers (others write their text or their
    children), and keep values through smart quotes."""
    app.add_node(napkin_value, html=(_html_value, _skip), latex=(_latex_value, _skip))
    app.add_node(napkin_equation, html=(_html_equation, _skip))
    # numfig numbers a domain's enumerable nodes by exact class: without this, an {eq} to a
    # labelled napkin-eq under `numfig = True` finds no 'displaymath' numbers (KeyError)
    from sphinx.domains.math import MathDomain

    if napkin_equation not in MathDomain.enumerable_nodes:
        MathDomain.enumerable_nodes = {
            **MathDomain.enumerable_nodes,
            napkin_equation: ("displaymath", None),
        }
    app.add_node(napkin_banner, html=(_html_banner, _skip), latex=(_latex_banner, _skip))
    app.add_transform(_NoteValuePlaces)
    app.add_transform(_PutValuesBack)


_PLACES_KEY = "mlsysim_value_places"


class _NoteValuePlaces(SphinxTransform):
    """Before smart quotes (priority 750): where each value sits in its parent.

    Docutils' ``SmartQuotes`` replaces every text node of a paragraph by a new plain
    ``Text``, those it leaves unchanged too (a value is one: ``support_smartquotes``), which
    would turn a value into bare text. Only when smart quotes are on (reStructuredText;
    MyST turns them off unless asked).
    """

    default_priority = 749

    def apply(self, **kwargs: Any) -> None:
        if not getattr(self.document.settings, "smart_quotes", False):
            return
        from mlsysim_sphinx import waiting

        if waiting.quoted(self.env):  # the quotes next to a value read its text
            from mlsysim_sphinx.state import resolve

            resolve(self.env)
        places = []
        for value in self.document.findall(napkin_value):
            parent = value.parent
            if parent is not None:
                index = next(k for k, c in enumerate(parent.children) if c is value)
                places.append((value, parent, index))
        if places:
            self.env.temp_data[_PLACES_KEY] = places


class _PutValuesBack(SphinxTransform):
    """After smart quotes: each value back in the place of the plain text that replaced it."""

    default_priority = 751

    def apply(self, **kwargs: Any) -> None:
        places: list[tuple[napkin_value, nodes.Element, int]] = (
            self.env.temp_data.pop(_PLACES_KEY, None) or []
        )
        for value, parent, index in places:
            if index < len(parent.children):
                now = parent.children[index]
                if now is not value and type(now) is nodes.Text and str(now) == str(value):
                    parent.children[index] = value


class SiunitxForLatex(SphinxPostTransform):
    """LaTeX builders: a derivation's siunitx form in place of its plain LaTeX."""

    default_priority = 100
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for block in self.document.findall(napkin_equation):
            if SIUNITX_ATTR in block:
                block.children = [nodes.Text(block[SIUNITX_ATTR])]
