"""The ``napkin`` (statements) and ``napkin-eq`` (derivation) directives.

reStructuredText::

    .. napkin::
       :listing:

       ridge = ridge_point(H100, "bf16")
       check(ridge > 100 FLOP/B, "the H100 is compute-rich")

    .. napkin-eq:: amdahl(p=0.95, speedup=247)
       :label: eq-amdahl

MyST: the same inside a ```` ```{napkin} ```` / ```` ```{napkin-eq} ```` fence (or ``:::``).
A ``napkin`` block renders nothing unless ``:listing:`` is given (then its statements are
shown as code); ``napkin-eq`` renders one display equation, symbolic = substituted ≈ result,
with the display options ``:unit:``, ``:sig:`` and ``:style:`` (or ``| sig=2`` after the
expression). Both run through :func:`mlsysim.book.items.run_item`, like every other host.
"""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.nodes import make_id
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from mlsysim_sphinx.lines import content_line
from mlsysim_sphinx.render import block_nodes, value_node
from mlsysim_sphinx.roles import host_failure
from mlsysim_sphinx.state import hold, located, report, run

__all__ = ["NapkinDirective", "NapkinEqDirective"]

#: napkin-eq directive option -> item attribute read by the engine
_EQ_ATTRS = {"unit": "unit", "sig": "sig-figs", "style": "style"}


class NapkinDirective(SphinxDirective):
    """Statements: bindings, ``check(cond, "why")`` and claims, evaluated in source order."""

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "listing": directives.flag,
        "class": directives.class_option,
    }

    def run(self) -> list[nodes.Node]:
        env = self.env
        text = "\n".join(self.content)
        if not text.strip():
            report(
                env,
                host_failure(
                    env,
                    self.lineno,
                    "the napkin block is empty: write "
                    "statements such as 'ridge = ridge_point(H100, \"bf16\")'",
                    "",
                ),
            )
            return []
        item = located(env, "block", text, content_line(self))
        if not hold(env, item, None):  # (its chapter's record on its way: it waits)
            run(env, item)
        if "listing" not in self.options:
            return []
        listing = nodes.literal_block(
            text, text, language="python", classes=["napkin", *self.options.get("class", [])]
        )
        self.set_source_info(listing)
        return [listing]


class NapkinEqDirective(SphinxDirective):
    """A derivation as display math: ``symbolic = substituted ≈ result``."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {
        "label": directives.unchanged,
        "class": directives.class_option,
        "unit": directives.unchanged_required,
        "sig": directives.unchanged_required,
        "style": directives.unchanged_required,
    }

    def _expression(self) -> tuple[str, int]:
        if self.arguments and self.arguments[0].strip():
            return self.arguments[0].strip(), self.lineno
        return " ".join(line.strip() for line in self.content), content_line(self)

    def run(self) -> list[nodes.Node]:
        env = self.env
        expression, line = self._expression()
        if not expression:
            report(
                env,
                host_failure(
                    env,
                    self.lineno,
                    "napkin-eq needs an expression, e.g. 'amdahl(p=0.95, speedup=247)'",
                    "",
                ),
            )
            return []
        from dataclasses import replace

        attrs = {attr: self.options[key] for key, attr in _EQ_ATTRS.items() if key in self.options}
        item = located(env, "eq", expression, line)
        outcome = run(env, item if item.attrs else replace(item, attrs=attrs))
        if outcome.rendered is None:
            return []
        label = self.options.get("label")
        if not outcome.ok and not label:
            return [nodes.paragraph("", "", value_node(expression, outcome.rendered, failed=True))]
        # a failed equation with a label keeps its number and anchor: {eq} still resolves
        node = block_nodes(outcome.rendered, env.docname, label=label, failed=not outcome.ok)
        node["classes"].extend(self.options.get("class", []))
        self.set_source_info(node)
        out: list[nodes.Node] = [node]
        from mlsysim_sphinx.cite import citation_nodes

        cited = citation_nodes(self, outcome.cites)
        if cited:  # the derivation's sources, linked to the book's bibliography
            out.append(nodes.paragraph("", "", *cited, classes=["napkin-cites"]))
        if label:
            math_domain: Any = env.get_domain("math")  # env.domains is a dict before Sphinx 8
            math_domain.note_equation(env.docname, label, location=node)
            node["number"] = math_domain.get_equation_number_for(label)
            target = nodes.target("", "", ids=[make_id(f"equation-{label}")])
            self.state.document.note_explicit_target(target)
            out.insert(0, target)
        return out
