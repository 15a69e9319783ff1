"""The ``napkin-table`` directive: rows of registry entries (or expressions) × expression columns.

MyST (reStructuredText alike, with ``.. napkin-table::``)::

    ```{napkin-table} Data-centre accelerators (dense BF16)
    :rows: H100, A100, MI300X
    :stub: Accelerator
    :sig: 3

    Peak BF16 = {row}.peak_flops("bf16") -> TFLOP/s
    Bandwidth = {row}.memory.bandwidth -> TB/s
    Ridge point = ridge_point({row}, "bf16")
    ```

* ``:rows:`` — comma-separated (commas inside brackets and quotes do not split): registry
  ids or any expressions. The label column shows a registry entry's id, else the row's text.
* content — one column per line, ``Header = expression`` (or ``Header: expression``);
  ``{row}`` (or plain ``row``) is the row's value; ``-> unit`` sets the column's unit
  (``-> %`` / ``-> ×`` a percent/multiplier); ``#`` lines are comments.
* ``:sig:``, ``:style:``, ``:units:`` — display options, one for every cell or a comma list
  with one per column (``-`` leaves a column at its default).
* host-only: ``:stub:`` (header of the label column), ``:no-sources:`` (omit the sources
  footnote), ``:class:``, ``:name:``.

Columns and options are read by the engine (:func:`mlsysim.book.items.parse_table`), which
also evaluates and formats the whole table (:meth:`mlsysim.book.Document.table`) and locates
each failing cell at its column's line (a failing row at the ``:rows:`` line). This directive
turns the result into a docutils table (value cells; each column's class from the engine, so
numbers align right) plus a numbered sources footnote (titles, linked).
"""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from mlsysim_sphinx.lines import content_line
from mlsysim_sphinx.render import value_node
from mlsysim_sphinx.roles import report_new
from mlsysim_sphinx.state import document_for, located

__all__ = ["TABLE_ATTRS", "NapkinTableDirective", "source_nodes", "sources_node", "table_node"]

#: directive option -> item attribute read by :func:`mlsysim.book.items.parse_table`
TABLE_ATTRS = {"rows": "rows", "sig": "sig-figs", "style": "styles", "units": "units"}


def _cell(*children: nodes.Node, cls: str | None = None) -> nodes.entry:
    return nodes.entry("", nodes.paragraph("", "", *children), classes=[cls] if cls else [])


class NapkinTableDirective(SphinxDirective):
    """A table of napkin values with units and a sources footnote."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {
        "rows": directives.unchanged_required,
        "sig": directives.unchanged_required,
        "style": directives.unchanged_required,
        "units": directives.unchanged_required,
        "stub": directives.unchanged,
        "no-sources": directives.flag,
        "class": directives.class_option,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        from dataclasses import replace

        from mlsysim.book.items import run_table

        env = self.env
        doc = document_for(env)
        before = len(doc.failures)
        item = located(env, "table", "\n".join(self.content), content_line(self))
        if not item.attrs:  # not found by the scanner: the directive's own options
            attrs = {
                attr: self.options[key] for key, attr in TABLE_ATTRS.items() if key in self.options
            }
            item = replace(item, attrs=attrs)
        result = run_table(doc, item, stub=self.options.get("stub", ""))
        report_new(env, doc.failures, before)
        if result.rendered is None:
            return []
        from sphinx import addnodes

        spec = addnodes.tabular_col_spec()  # LaTeX: numbers flush right there too
        spec["spec"] = result.rendered.latex_colspec
        out: list[nodes.Node] = [spec, self._table(result.rendered)]
        sources = list(result.rendered.sources)
        if sources and "no-sources" not in self.options:
            out.append(self._sources(sources))
        return out

    def _table(self, rendered: Any) -> nodes.table:
        table = table_node(rendered, self.arguments[0] if self.arguments else "")
        table["classes"] = ["napkin-table", *self.options.get("class", [])]
        self.set_source_info(table)
        self.add_name(table)
        return table

    def _sources(self, sources: list[Any]) -> nodes.Node:
        return sources_node(sources)


def table_node(rendered: Any, title: str = "") -> nodes.table:
    """The engine's :class:`~mlsysim.viz.table.TableRendered` as a docutils table (value
    cells; each column's class from the engine, so numbers align right)."""
    table = nodes.table()
    if title:
        table += nodes.title(title, title)
    group = nodes.tgroup(cols=len(rendered.header))
    table += group
    for _ in rendered.header:
        group += nodes.colspec(colwidth=1)
    thead = nodes.thead()
    classes = rendered.classes
    thead += nodes.row(
        "",
        *(_cell(nodes.Text(h), cls=k) for h, k in zip(rendered.header, classes, strict=True)),
    )
    group += thead
    tbody = nodes.tbody()
    for cells in rendered.rows:
        row = (_cell(value_node(c.text, c), cls=k) for c, k in zip(cells, classes, strict=True))
        tbody += nodes.row("", *row)
    group += tbody
    return table


def source_nodes(source: Any) -> nodes.Node:
    """One engine :class:`~mlsysim.viz.table.Source`: its title, linked when it has a URL."""
    if source.url:
        return nodes.reference(source.text, source.text, refuri=source.url)
    return nodes.Text(source.text)


def sources_node(sources: list[Any]) -> nodes.Node:
    """A numbered list of cited sources under a table, by title, linked."""
    container = nodes.container(classes=["napkin-sources"])
    container += nodes.paragraph("", "Sources:")
    items = nodes.enumerated_list(enumtype="arabic", prefix="[", suffix="]")
    for source in sources:
        items += nodes.list_item("", nodes.paragraph("", "", source_nodes(source)))
    container += items
    return container
