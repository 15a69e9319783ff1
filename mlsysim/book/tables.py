"""``napkin-table``: one row per expression, one column per expression of ``row``.

A failing cell is reported at its column's line and a failing row at the ``:rows:`` line; the
table still renders (failed cells show ``⟨error⟩``). A table has at most :data:`MAX_CELLS`
cells, so its cost is bounded like every other item's.
"""

from __future__ import annotations

from typing import Any

from mlsysim.book.diagnostics import cited as cited_sources
from mlsysim.book.evaluator import Recorder, headline
from mlsysim.book.failures import Failure
from mlsysim.book.lang import unwrap
from mlsysim.book.outcomes import Located, TableResult
from mlsysim.book.syntax import source_offset
from mlsysim.core.exceptions import LimitError, MlsysimError
from mlsysim.viz.table import Source

__all__ = ["MAX_CELLS", "run_table"]

#: Most cells (rows × columns) in one table.
MAX_CELLS = 2000


def _label(value: Any, text: str) -> str:
    v = unwrap(value)
    return str(getattr(v, "id", None) or text.strip())


def _column_unit(units: Any, k: int) -> str | None:
    """The unit of value column ``k`` a table option sets (``units``: label column first)."""
    if isinstance(units, str):
        return units
    if isinstance(units, list | tuple) and k + 1 < len(units):
        unit = units[k + 1]
        return unit if isinstance(unit, str) else None
    return None


def run_table(
    doc: Recorder,
    rows: list[str],
    columns: list[Any],
    line: int,
    *,
    header: list[str] | None = None,
    units: Any = None,
    sig_figs: Any = None,
    styles: Any = None,
    caption: str = "",
    column: int | None = None,
    column_lines: list[int] | None = None,
    column_columns: list[int] | None = None,
    shifts: list[tuple[tuple[int, int], ...]] | None = None,
    rows_line: int | None = None,
    rows_columns: list[int] | None = None,
) -> TableResult:
    """Evaluate and render a table; see :meth:`mlsysim.book.document.Document.table`."""
    from mlsysim.viz.table import render_table

    cols = [c if isinstance(c, tuple) else (str(c), str(c)) for c in columns]
    if len(rows) * max(len(cols), 1) > MAX_CELLS:
        err = LimitError(
            "the table has too many cells",
            why=f"{len(rows)} rows × {len(cols)} columns; the limit is {MAX_CELLS}",
            fix="split it into several tables",
        )
        doc.count("table", "napkin-table", line, column)
        return TableResult(False, None, [doc.record("error", err, "napkin-table", line, column, 0)])
    labels = header or ["", *(label for label, _ in cols)]
    evaluator = doc.evaluator
    failures: list[Failure] = []
    grid: list[list[Any]] = []
    digits: list[list[int | None]] = []
    cited: list[Source] = []
    for r, r_text in enumerate(rows):
        doc.count("table row", r_text, rows_line or line, column)
        try:
            row_ev = evaluator.evaluate(r_text)
        except Located as loc:
            r_col = rows_columns[r] if rows_columns and r < len(rows_columns) else None
            failures.append(doc.record_located(loc, r_text, rows_line or line, r_col))
            continue
        row_vals: list[Any] = [_label(row_ev.value, r_text)]
        row_digits: list[int | None] = [None]
        for k, (_, c_text) in enumerate(cols):
            c_line = column_lines[k] if column_lines else line
            c_col = column_columns[k] if column_columns else None
            try:
                ev = evaluator.evaluate(c_text, extra={"row": row_ev.value})
                unit = _column_unit(units, k)
                if unit is not None and ev.unit is None:  # a table option's unit
                    evaluator.convert(ev.value, unit)
            except (Located, MlsysimError) as exc:
                if isinstance(exc, MlsysimError):  # the option's unit: at the column's start
                    failures.append(doc.record("error", exc, c_text, c_line, c_col, 0))
                else:  # the column as written had {row}: offsets in the author's line
                    at = source_offset(exc.column, shifts[k]) if shifts else exc.column
                    located = Located(exc.error, at)
                    failures.append(doc.record_located(located, c_text, c_line, c_col))
                row_vals.append("⟨error⟩")
                row_digits.append(None)
                continue
            row_vals.append(headline(unwrap(ev.value)))
            row_digits.append(ev.digits)
            cited += [s for s in cited_sources(ev.trace, evaluator.scope) if s not in cited]
        grid.append(row_vals)
        digits.append(row_digits)
    try:
        table = render_table(
            labels,
            grid,
            units=units,
            sig_figs=sig_figs,
            styles=styles,
            given_digits=digits,
            sources=cited,
            caption=caption,
            siunitx=evaluator.options.siunitx,
            thousands=evaluator.options.thousands,
            default_sig_figs=evaluator.options.sig_figs,
        )
    except MlsysimError as exc:
        f = doc.record("error", exc, "napkin-table", line, column, 0)
        return TableResult(False, None, [*failures, f])
    return TableResult(not failures, table, failures)
