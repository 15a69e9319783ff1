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
* content — one column per line, ``Header = expression``; ``{row}`` (or plain ``row``) is the
  row's value; ``-> unit`` sets the column's unit (``-> %`` / ``-> ×`` a percent/multiplier).
* ``:stub:`` — header of the label column; ``:sig:`` / ``:style:`` — display options for
  every cell; ``:no-sources:`` — omit the sources footnote.

The napkin engine evaluates and formats the whole table (:meth:`mlsysim.book.Document.table`);
this directive turns it into a docutils table (math cells) plus a numbered sources footnote,
and reports each failing cell at its column's line (a failing row at the ``:rows:`` line).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from mlsysim_sphinx.lines import content_line
from mlsysim_sphinx.render import inline_nodes
from mlsysim_sphinx.roles import host_failure
from mlsysim_sphinx.state import document_for, report
from mlsysim_sphinx.syntax import SyntaxProblem, parse_column, split_top

__all__ = ["NapkinTableDirective", "parse_rows"]

_ROW_PLACEHOLDER = re.compile(r"\{\s*row\s*\}")
_ROWS_OPTION = re.compile(r"^\s*:?rows:")
_STYLE_UNITS = {
    "%": "percent",
    "percent": "percent",
    "×": "multiplier",
    "x": "multiplier",
    "times": "multiplier",
}


def parse_rows(text: str) -> list[str]:
    """``'H100, f(a, b)'`` -> ``['H100', 'f(a, b)']`` (top-level commas only)."""
    return split_top(text)


@dataclasses.dataclass(frozen=True, slots=True)
class _Col:
    line: int
    header: str
    expression: str  # with {row} replaced by the name ``row``, without ``-> unit``
    unit: str | None
    style: str | None


def _column(line: int, text: str) -> _Col:
    from mlsysim.book.lang import split_conversion
    from mlsysim.core.exceptions import MlsysimError

    col = parse_column(text)
    expression = _ROW_PLACEHOLDER.sub("row", col.expression)
    try:
        body, unit, _ = split_conversion(expression)
    except MlsysimError as err:
        raise SyntaxProblem(f"column {col.header!r}: {err}") from None
    style = _STYLE_UNITS.get(unit or "")
    return _Col(line, col.header, body.strip(), None if style else unit, style)


def _cell(*children: nodes.Node) -> nodes.entry:
    return nodes.entry("", nodes.paragraph("", "", *children))


class NapkinTableDirective(SphinxDirective):
    """A table of napkin values with units and a sources footnote."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {
        "rows": directives.unchanged_required,
        "stub": directives.unchanged,
        "sig": directives.positive_int,
        "style": directives.unchanged,
        "no-sources": directives.flag,
        "class": directives.class_option,
        "name": directives.unchanged,
    }

    def _rows_line(self) -> int:
        for i, text in enumerate(self.block_text.splitlines()):
            if _ROWS_OPTION.match(text):
                return int(self.lineno) + i
        return int(self.lineno)

    def _columns(self) -> list[_Col]:
        cols = [
            _column(content_line(self, i), text)
            for i, text in enumerate(self.content)
            if text.strip()
        ]
        if not cols:
            raise SyntaxProblem(
                "napkin-table needs columns: one 'Header = expression' per "
                "content line, e.g. 'Bandwidth = {row}.memory.bandwidth'"
            )
        return cols

    def run(self) -> list[nodes.Node]:
        env = self.env
        doc = document_for(env)
        try:
            rows = parse_rows(self.options.get("rows", ""))
            if not rows:
                raise SyntaxProblem("napkin-table needs ':rows:', e.g. ':rows: H100, A100'")
            cols = self._columns()
        except SyntaxProblem as problem:
            report(env, host_failure(env, self.lineno, str(problem), ""))
            return []
        header = [self.options.get("stub", ""), *(c.header for c in cols)]
        styles = [None, *(c.style or self.options.get("style") for c in cols)]
        result = doc.table(
            rows,
            [(c.header, c.expression) for c in cols],
            cols[0].line,
            header=header,
            units=[None, *(c.unit for c in cols)],
            sig_figs=self.options.get("sig"),
            styles=styles,
        )
        rows_line = self._rows_line()
        by_expression = {c.expression: c.line for c in cols}
        for failure in result.failures:
            line = (
                rows_line
                if failure.expression in rows
                else by_expression.get(failure.expression, failure.line)
            )
            report(env, dataclasses.replace(failure, line=line))
        if result.rendered is None:
            return []
        out: list[nodes.Node] = [self._table(result.rendered)]
        sources = list(result.rendered.sources)
        if sources and "no-sources" not in self.options:
            out.append(self._sources(sources))
        return out

    def _table(self, rendered: Any) -> nodes.table:
        table = nodes.table(classes=["napkin-table", *self.options.get("class", [])])
        if self.arguments:
            title = nodes.title(self.arguments[0], self.arguments[0])
            self.set_source_info(title)
            table += title
        group = nodes.tgroup(cols=len(rendered.header))
        table += group
        for _ in rendered.header:
            group += nodes.colspec(colwidth=1)
        thead = nodes.thead()
        thead += nodes.row("", *(_cell(nodes.Text(h)) for h in rendered.header))
        group += thead
        tbody = nodes.tbody()
        for cells in rendered.rows:
            tbody += nodes.row("", *(_cell(*inline_nodes(c.text, c)) for c in cells))
        group += tbody
        self.set_source_info(table)
        self.add_name(table)
        return table

    def _sources(self, sources: list[str]) -> nodes.Node:
        container = nodes.container(classes=["napkin-sources"])
        container += nodes.paragraph("", "Sources:")
        items = nodes.enumerated_list(enumtype="arabic", prefix="[", suffix="]")
        for source in sources:
            items += nodes.list_item("", nodes.paragraph("", source))
        container += items
        return container
