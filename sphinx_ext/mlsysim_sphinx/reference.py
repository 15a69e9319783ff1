"""The ``napkin-formula`` (a formula card) and ``napkin-registry`` (a registry table) directives.

MyST (reStructuredText alike, with ``.. napkin-formula:: amdahl``)::

    ```{napkin-formula} amdahl
    ```

    ```{napkin-registry} H100, A100, MI300X
    :fields: memory.capacity, memory.bandwidth, tdp
    :caption: Three accelerators, as their datasheets give them
    ```

Both are napkin items of the engine (:mod:`mlsysim.book.reference.items`), located by the
shared scanner, so an unknown formula, entry or field fails at its line here and in
``mlsysim check``. This module only turns the engine's card (signature, summary, LaTeX,
argument table, evaluated example, linked sources) and table into docutils nodes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from mlsysim_sphinx.cite import citation_nodes
from mlsysim_sphinx.lines import content_line
from mlsysim_sphinx.render import napkin_equation, value_node
from mlsysim_sphinx.roles import report_new
from mlsysim_sphinx.state import document_for, located
from mlsysim_sphinx.table import source_nodes, sources_node, table_node

__all__ = ["NapkinFormulaDirective", "NapkinRegistryDirective"]


class _ReferenceDirective(SphinxDirective):
    """The item's text is the directive's argument (or its content)."""

    kind: ClassVar[str] = ""
    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True

    def _item(self) -> Any:
        from dataclasses import replace

        if self.arguments and self.arguments[0].strip():
            text, line = self.arguments[0].strip(), self.lineno
        else:
            text, line = "\n".join(self.content).strip(), content_line(self)
        item = located(self.env, self.kind, text, line)
        if not item.attrs:  # not found by the scanner: the directive's own options
            attrs = {k: v for k, v in self.options.items() if k != "class"}
            item = replace(item, attrs=attrs)
        return item

    def run(self) -> list[nodes.Node]:
        from mlsysim.book.items import run_item

        doc = document_for(self.env)
        before = len(doc.failures)
        outcome = run_item(doc, self._item())
        report_new(self.env, doc.failures, before)
        if not outcome.ok or outcome.value is None:
            if outcome.rendered is None:
                return []
            return [nodes.paragraph("", "", value_node(self.kind, outcome.rendered, failed=True))]
        out = self._nodes(outcome.value)
        for node in out:
            self.set_source_info(node)
        return out

    def _nodes(self, value: Any) -> list[nodes.Node]:
        raise NotImplementedError


class NapkinFormulaDirective(_ReferenceDirective):
    """A formula card: signature, summary, LaTeX, arguments, an evaluated example, sources."""

    kind = "formula"
    option_spec: ClassVar[dict[str, Any]] = {
        "name": directives.unchanged,
        "class": directives.class_option,
    }

    def _nodes(self, card: Any) -> list[nodes.Node]:
        r = card.reference
        box = nodes.container(
            classes=["mlsysim-formula-card", *self.options.get("class", [])],
            ids=[nodes.make_id(f"formula-{r.name}")],
        )
        box += nodes.paragraph("", "", nodes.literal(r.signature, r.signature))
        if r.summary:
            box += nodes.paragraph(r.summary, r.summary)
        box += symbol_node(card, self.env.docname)
        spec = addnodes.tabular_col_spec()
        spec["spec"] = card.arguments.latex_colspec
        box += spec
        box += table_node(card.arguments)
        example = nodes.paragraph("", "Example: ")
        example += nodes.literal(r.example, r.example)
        example += nodes.Text(" = ")
        example += value_node(r.example_text, card.example)
        box += example
        if r.sources:
            cited = nodes.paragraph("", "Source: ", classes=["mlsysim-sources"])
            for n, (_cid, source) in enumerate(r.sources):
                if n:
                    cited += nodes.Text("; ")
                cited += source_nodes(source)
            for node in citation_nodes(self, [cid for cid, _ in r.sources]):
                cited += [nodes.Text(" "), node]
            box += cited
        self.add_name(box)
        return [box]


def symbol_node(card: Any, docname: str) -> napkin_equation:
    """The formula's LaTeX as display math (MathML in HTML, from the engine's card)."""
    r = card.reference
    node = napkin_equation(r.symbol, r.symbol, docname=docname, label=None, number=None)
    node["nowrap"] = False
    node["mathml"] = card.symbol_mathml
    return node


class NapkinRegistryDirective(_ReferenceDirective):
    """Registry entries (rows) × fields (columns), every value as its data file wrote it."""

    kind = "registry"
    option_spec: ClassVar[dict[str, Any]] = {
        "registry": directives.unchanged_required,
        "fields": directives.unchanged_required,
        "caption": directives.unchanged,
        "sig": directives.unchanged_required,
        "name": directives.unchanged,
        "class": directives.class_option,
        "no-sources": directives.flag,
    }

    def _nodes(self, rendered: Any) -> list[nodes.Node]:
        spec = addnodes.tabular_col_spec()
        spec["spec"] = rendered.latex_colspec
        table = table_node(rendered, rendered.caption)
        table["classes"] = ["napkin-table", "napkin-registry", *self.options.get("class", [])]
        self.add_name(table)
        out: list[nodes.Node] = [spec, table]
        if rendered.sources and "no-sources" not in self.options:
            out.append(sources_node(list(rendered.sources)))
        return out
