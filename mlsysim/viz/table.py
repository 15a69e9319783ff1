"""Render a table of values (``napkin-table``): every cell a :class:`Rendered`, plus sources.

The caller evaluates the cells; this module formats them with :func:`render_value` (per-column
unit, significant figures and style) and assembles whole-table forms for each output: aligned
plain text, a Markdown pipe table, a LaTeX ``tabular`` and an HTML ``<table>``. Numeric
columns align right (:attr:`TableRendered.classes` gives hosts the class of each column,
``align-right`` or ``align-left``, which Sphinx themes style). Cited sources become a footnote
list under the table, each by its title and linked to its URL (:class:`Source`).
"""

from __future__ import annotations

import html as _html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.viz.format import escape_latex_text, escape_markdown, render_value
from mlsysim.viz.rendered import Rendered

__all__ = ["Source", "TableRendered", "render_table"]


@dataclass(frozen=True, slots=True)
class Source:
    """A cited source as a reader sees it: its title (``NVIDIA H100 Tensor Core GPU Datasheet
    (NVIDIA, 2023)``) and, when known, the URL its title links to."""

    text: str
    url: str | None = None
    key: str | None = None  # its citation id in the sources catalog (`mlsysim bib`), if any

    @property
    def html(self) -> str:
        text = _html.escape(self.text)
        if not self.url:
            return text
        return f'<a href="{_html.escape(self.url, quote=True)}">{text}</a>'

    @property
    def markdown(self) -> str:
        text = escape_markdown(self.text)
        if not self.url:
            return text
        return f"[{text}](<{self.url.replace('>', '%3E')}>)"

    def to_dict(self) -> dict[str, str | None]:
        return {"text": self.text, "url": self.url}


def _source(item: Source | str) -> Source:
    return item if isinstance(item, Source) else Source(str(item))


@dataclass(frozen=True, slots=True)
class TableRendered:
    """A rendered table: ``header`` labels, ``rows`` of per-cell :class:`Rendered`, ``sources``.

    ``text``, ``markdown``, ``latex`` and ``html`` are the whole table for each output.
    """

    header: tuple[str, ...]
    rows: tuple[tuple[Rendered, ...], ...]
    sources: tuple[Source, ...] = ()
    caption: str = ""
    align: tuple[str, ...] = field(default=())

    @property
    def classes(self) -> tuple[str, ...]:
        """The class of each column's cells: ``align-right`` for numbers, else ``align-left``."""
        return tuple(
            "align-right" if self._align(i) == "r" else "align-left"
            for i in range(len(self.header))
        )

    @property
    def latex_colspec(self) -> str:
        """A ``tabulary`` column spec (``|L|R|R|``): numbers flush right, as in :attr:`latex`."""
        return "|" + "|".join(self._align(i).upper() for i in range(len(self.header))) + "|"

    @property
    def text(self) -> str:
        """Aligned plain-text table (numbers right-aligned), sources as ``[1] …`` lines."""
        cells = [list(self.header)] + [[c.text for c in row] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.header))]
        lines = []
        for n, row in enumerate(cells):
            parts = [
                c.rjust(w) if self._align(i) == "r" and n else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(parts).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        if self.caption:
            lines.insert(0, self.caption)
        lines += [
            f"[{i}] {s.text}" + (f" <{s.url}>" if s.url else "")
            for i, s in enumerate(self.sources, 1)
        ]
        return "\n".join(lines)

    @property
    def markdown(self) -> str:
        """A pipe table with inline math cells, followed by a numbered source list."""
        head = "| " + " | ".join(escape_markdown(h) for h in self.header) + " |"
        rule = (
            "|"
            + "|".join("---:" if self._align(i) == "r" else ":---" for i in range(len(self.header)))
            + "|"
        )
        body = [
            "| " + " | ".join(c.markdown.replace("|", r"\|") for c in row) + " |"
            for row in self.rows
        ]
        out = [head, rule, *body]
        if self.caption:
            out += ["", f": {escape_markdown(self.caption)}"]
        if self.sources:
            out += [""] + [f"{i}. {s.markdown}" for i, s in enumerate(self.sources, 1)]
        return "\n".join(out)

    @property
    def latex(self) -> str:
        """A ``tabular`` (booktabs-free, so it compiles with a bare preamble)."""
        spec = "".join(self._align(i) for i in range(len(self.header)))
        lines = [
            f"\\begin{{tabular}}{{{spec}}}",
            "\\hline",
            " & ".join(escape_latex_text(h) for h in self.header) + r" \\",
            "\\hline",
        ]
        for row in self.rows:
            lines.append(" & ".join(f"${c.latex}$" if c.math else c.latex for c in row) + r" \\")
        lines += ["\\hline", "\\end{tabular}"]
        if self.sources:
            lines.append("")
            lines += [
                f"\\par\\noindent{{\\footnotesize [{i}] {escape_latex_text(s.text)}}}"
                for i, s in enumerate(self.sources, 1)
            ]
        return "\n".join(lines)

    @property
    def html(self) -> str:
        """An HTML ``<table>`` (cells read without MathJax) and an ``<ol>`` of sources."""
        out = ['<table class="mlsysim-table">']
        if self.caption:
            out.append(f"<caption>{_html.escape(self.caption)}</caption>")
        out.append(
            "<thead><tr>"
            + "".join(f"<th>{_html.escape(h)}</th>" for h in self.header)
            + "</tr></thead>"
        )
        out.append("<tbody>")
        for row in self.rows:
            cells = "".join(
                f'<td class="{cls}" style="text-align:{cls.removeprefix("align-")}">{c.html}</td>'
                for cls, c in zip(self.classes, row, strict=True)
            )
            out.append(f"<tr>{cells}</tr>")
        out.append("</tbody></table>")
        if self.sources:
            out.append(
                '<ol class="mlsysim-sources">'
                + "".join(f"<li>{s.html}</li>" for s in self.sources)
                + "</ol>"
            )
        return "\n".join(out)

    def _align(self, i: int) -> str:
        return self.align[i] if i < len(self.align) else "l"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: header, per-cell renderings, sources and the whole-table forms."""
        return {
            "header": list(self.header),
            "rows": [[c.to_dict() for c in row] for row in self.rows],
            "sources": [s.to_dict() for s in self.sources],
            "classes": list(self.classes),
            "caption": self.caption,
            "text": self.text,
            "markdown": self.markdown,
            "latex": self.latex,
            "html": self.html,
        }


def _per_column(option: Any, name: str, header: Sequence[str]) -> list[Any]:
    """An option given once, per column (list) or by column label (mapping)."""
    if option is None or isinstance(option, str | int):
        return [option] * len(header)
    if isinstance(option, Mapping):
        unknown = [k for k in option if k not in header]
        if unknown:
            raise ConfigError(
                f"table option {name} names unknown columns: {', '.join(map(str, unknown))}",
                why=f"the columns are {', '.join(header)}",
                fix="use the column labels exactly as in the header",
            )
        return [option.get(h) for h in header]
    values = list(option)
    if len(values) != len(header):
        raise ConfigError(
            f"table option {name} has {len(values)} entries for {len(header)} columns",
            fix="give one entry per column (None for the default), or a single value",
        )
    return values


def render_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    units: Any = None,
    sig_figs: Any = None,
    styles: Any = None,
    given_digits: Sequence[Sequence[int | None]] | None = None,
    sources: Sequence[Source | str] = (),
    caption: str = "",
    siunitx: bool = False,
    thousands: bool = True,
    default_sig_figs: int = 3,
) -> TableRendered:
    """Render ``rows`` under ``header``; options apply to all columns, per column or by label.

    ``given_digits``, when given, is a grid like ``rows`` with the digits each registry value
    or literal was written with (``None`` where not applicable). ``sources`` are the citations
    of every registry value used (:class:`Source`, or plain text), shown as footnotes.
    Numeric columns align right.
    """
    header = [str(h) for h in header]
    col_units = _per_column(units, "units", header)
    col_figs = _per_column(sig_figs, "sig_figs", header)
    col_styles = _per_column(styles, "styles", header)
    rendered_rows = []
    numeric = [True] * len(header)
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise ConfigError(
                f"table row {r + 1} has {len(row)} cells for {len(header)} columns",
                fix="give every row one value per column",
            )
        cells = []
        for c, value in enumerate(row):
            digits = given_digits[r][c] if given_digits is not None else None
            cell = render_value(
                value,
                unit=col_units[c],
                sig_figs=col_figs[c],
                style=col_styles[c],
                given_digits=digits,
                siunitx=siunitx,
                thousands=thousands,
                default_sig_figs=default_sig_figs,
            )
            numeric[c] = numeric[c] and cell.math
            cells.append(cell)
        rendered_rows.append(tuple(cells))
    align = tuple("r" if n and rows else "l" for n in numeric)
    cites = tuple(_source(s) for s in sources)
    return TableRendered(tuple(header), tuple(rendered_rows), cites, caption, align)
