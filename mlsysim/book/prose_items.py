"""The items that put napkin math into prose: inline values, claims, derivations and tables.

Each method of :class:`DocumentItems` evaluates its item in the document scope, renders it
and never raises: a failure is recorded (located in the file) and the item renders as
``⟨error⟩``, except a claim that merely disagrees, which still renders the author's text.
"""

from __future__ import annotations

from typing import Any

from mlsysim.book.claims import Tolerance, compare, parse_stated, parse_tolerance, render_stated
from mlsysim.book.diagnostics import DocumentDiagnostics, sources
from mlsysim.book.evaluation import headline
from mlsysim.book.evaluator import unwrap
from mlsysim.book.failures import Failure
from mlsysim.book.lang import split_claim
from mlsysim.book.outcomes import Evaluated, ItemResult, Located, TableResult, error_rendering
from mlsysim.core.exceptions import MlsysimError, NapkinError, NapkinSyntaxError
from mlsysim.viz.rendered import Rendered

__all__ = ["DocumentItems"]

#: Percent per unit of a relative tolerance or deviation (0.05 → 5 %).
_PERCENT = 100


class DocumentItems(DocumentDiagnostics):
    """``inline``, ``claim``, ``derivation`` and ``table`` items of a document."""

    def inline(
        self,
        expr: str,
        line: int,
        *,
        unit: str | None = None,
        sig_figs: int | None = None,
        style: str | None = None,
        column: int | None = None,
    ) -> ItemResult:
        """Evaluate and render one expression (``{napkin}`…```); never raises."""
        return self._rendered_item(expr, line, column, unit, sig_figs, style, derive=False)

    def claim(
        self,
        text: str,
        line: int,
        *,
        of: str | None = None,
        tolerance: Any = None,
        column: int | None = None,
    ) -> ItemResult:
        """Check the author's figure against a formula; renders the author's own text."""
        self.checked += 1
        return self._claim(text, line, of=of, tolerance=tolerance, column=column)

    def derivation(
        self,
        expr: str,
        line: int,
        *,
        unit: str | None = None,
        sig_figs: int | None = None,
        style: str | None = None,
        column: int | None = None,
    ) -> ItemResult:
        """``napkin-eq``: render a formula call as symbolic = substituted ≈ result."""
        return self._rendered_item(expr, line, column, unit, sig_figs, style, derive=True)

    def table(
        self,
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
        rows_line: int | None = None,
    ) -> TableResult:
        """``napkin-table``: one row per expression in ``rows``, one column per expression in
        ``columns`` where the name ``row`` is the row's value (``row.memory.bandwidth``,
        ``ridge_point(row)``). ``columns`` items may be ``(label, expr)`` pairs.

        A failing cell is reported at its column's line (``column_lines``, one per column) and
        a failing row at ``rows_line``; both default to ``line``."""
        from mlsysim.viz.table import render_table

        cols = [c if isinstance(c, tuple) else (str(c), str(c)) for c in columns]
        labels = header or ["", *(label for label, _ in cols)]
        failures: list[Failure] = []
        grid: list[list[Any]] = []
        digits: list[list[int | None]] = []
        cited: list[str] = []
        for r_text in rows:
            self.checked += 1
            row_vals: list[Any] = [r_text]
            row_digits: list[int | None] = [None]
            try:
                row_ev = self._evaluate(r_text)
            except Located as loc:
                failures.append(self._failed(loc, r_text, rows_line or line, None))
                continue
            row_vals[0] = _label(row_ev.value, r_text)
            for k, (_, c_text) in enumerate(cols):
                try:
                    ev = self._evaluate(c_text, extra={"row": row_ev.value})
                except Located as loc:
                    c_line = column_lines[k] if column_lines else line
                    failures.append(self._failed(loc, c_text, c_line, None))
                    row_vals.append("⟨error⟩")
                    row_digits.append(None)
                    continue
                row_vals.append(headline(unwrap(ev.value)))
                row_digits.append(ev.digits)
                cited += [s for s in sources(ev.trace, self.scope) if s not in cited]
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
                siunitx=self.options.siunitx,
                thousands=self.options.thousands,
                default_sig_figs=self.options.sig_figs,
            )
        except MlsysimError as exc:
            f = self._failure("error", exc, "napkin-table", line, column, 0)
            return TableResult(False, None, [*failures, f])
        return TableResult(not failures, table, failures)

    # -- shared steps -----------------------------------------------------------------------
    def _rendered_item(
        self,
        expr: str,
        line: int,
        column: int | None,
        unit: str | None,
        sig_figs: int | None,
        style: str | None,
        *,
        derive: bool,
    ) -> ItemResult:
        """An inline value, or with ``derive`` a derivation, of ``expr``; never raises."""
        self.checked += 1
        try:
            ev = self._evaluate(expr)
            if derive:
                rendered = self._derive(ev, expr, unit, sig_figs, style)
            else:
                rendered = self._render(ev, unit=unit, sig_figs=sig_figs, style=style)
        except Located as loc:
            f = self._failed(loc, expr, line, column)
            return ItemResult(False, error_rendering(), f)
        value = headline(ev.value)
        if not derive and (unit or ev.unit):
            value = self._convert(value, unit or ev.unit or "")
        return ItemResult(True, rendered, None, value)

    def _derive(
        self, ev: Evaluated, expr: str, unit: str | None, sig_figs: int | None, style: str | None
    ) -> Rendered:
        """symbolic = substituted ≈ result of the formula call ``expr``; raises Located."""
        call = _top_call(ev, expr)
        from mlsysim.viz.derivation import render_derivation

        opts = self._render_opts(ev, unit, sig_figs, style)
        try:
            return render_derivation(call[2], call[3], headline(unwrap(call[1])), **opts)
        except MlsysimError as exc:
            raise Located(exc, 0) from None

    def _claim(
        self, text: str, line: int, *, of: str | None, tolerance: Any, column: int | None
    ) -> ItemResult:
        try:
            if of is not None:
                stated_text, expr, tol_text, expr_col = text, of, None, 0
            else:
                parts = split_claim(text)
                if parts is None:
                    raise Located(
                        NapkinSyntaxError(
                            "a claim needs '~' between the figure and the expression",
                            fix="write e.g. `300 FLOP/B ~ ridge`",
                        ),
                        0,
                    )
                stated_text, expr, tol_text, expr_col, _ = parts
            stated = parse_stated(stated_text)
            try:
                stated_value = self._evaluate(stated.expression).value
            except Located as loc:
                raise Located(loc.error, stated.offset + loc.column) from None
            stated_value = _with_style(stated_value, stated.style)
            tol = self._tolerance(tol_text if tol_text is not None else tolerance)
            try:
                ev = self._evaluate(expr)
            except Located as loc:
                raise Located(loc.error, expr_col + loc.column) from None
            computed = headline(unwrap(ev.value))
            rendered = render_stated(stated, stated_value)
            try:
                ok, rel = compare(
                    stated_value, computed, tol, stated_text=stated.text, expression=expr.strip()
                )
            except MlsysimError as exc:
                raise Located(exc, expr_col) from None
        except Located as loc:
            f = self._failed(loc, text, line, column)
            return ItemResult(False, error_rendering(), f)
        if ok:
            return ItemResult(True, rendered, None, computed)
        shown = self._text(computed, stated_value)
        off = f"off by {rel * _PERCENT:.1f} %" if rel is not None else "not zero"
        err = MlsysimError(
            f"claim {stated.text} disagrees with {expr.strip()} = {shown}",
            why=f"{off}; tolerance {tol.text}",
            fix="correct the figure in the prose, or the inputs of the formula",
        )
        f = self._failure(
            "claim",
            err,
            text,
            line,
            column,
            None,
            trace=ev.trace,
            value=shown,
            expected=f"{stated.text} ± {tol.text}",
        )
        return ItemResult(False, rendered, f, computed)

    def _tolerance(self, given: Any) -> Tolerance:
        if given is None:
            absolute = None
            if self.options.abs_tolerance:
                absolute = self._evaluate(self.options.abs_tolerance).value
            rel = self.options.tolerance
            return Tolerance(rel, absolute, f"{rel * _PERCENT:g} %")
        if isinstance(given, int | float) and not isinstance(given, bool):
            return Tolerance(float(given), None, f"{float(given) * _PERCENT:g} %")
        try:
            return parse_tolerance(str(given), evaluate=lambda t: self._evaluate(t).value)
        except MlsysimError as exc:
            raise Located(exc, 0) from None


def _label(value: Any, text: str) -> str:
    v = unwrap(value)
    return str(getattr(v, "id", None) or text.strip())


def _with_style(value: Any, style: str | None) -> Any:
    if style == "percent":
        from mlsysim.core.units import ureg

        return ureg.Quantity(unwrap(value), "percent") if not hasattr(value, "units") else value
    return value


def _top_call(ev: Evaluated, expr: str) -> tuple[str, Any, Any, dict[str, Any]]:
    import ast

    node = ev.compiled.node
    if not isinstance(node, ast.Call) or not ev.trace.calls:
        raise Located(
            NapkinError(
                "a derivation needs a formula call",
                why=f"{expr.strip()!r} is not a call of a formula",
                fix="write e.g. `amdahl(p=0.95, speedup=247)`",
            ),
            0,
        )
    call = ev.trace.calls[-1]
    if call[2] is None:
        raise Located(
            NapkinError(
                f"{call[0]} has no derivation template",
                fix="derivations work for formulas of mlsysim.core.formulas",
            ),
            0,
        )
    return call
