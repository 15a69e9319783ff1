"""One document's napkin math: its evaluator, its items in source order, and its failures.

Hosts (Sphinx, the Quarto batch, ``mlsysim check``, notebooks) create one :class:`Document` per
source file and feed it items in document order: napkin blocks (:meth:`Document.block`),
inline expressions (:meth:`~Document.inline`), claims (:meth:`~Document.claim`), derivations
(:meth:`~Document.derivation`) and tables (:meth:`~Document.table`). Every item returns its
rendering and, when it fails, a located :class:`~mlsysim.book.failures.Failure`; the document
collects them all (never first-one-wins) in :attr:`Document.failures`.

A document *owns* an :class:`~mlsysim.book.evaluator.Evaluator` (scope and options); the item
kinds live in their own modules (:mod:`~mlsysim.book.statements`, :mod:`~mlsysim.book.claims`,
:mod:`~mlsysim.book.tables`), which see the document only as a
:class:`~mlsysim.book.evaluator.Recorder`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlsysim.book.claims import run_claim
from mlsysim.book.diagnostics import make_failure
from mlsysim.book.evaluator import Evaluator, headline
from mlsysim.book.failures import Checked, Failure, FailureKind
from mlsysim.book.lang import Trace, unwrap
from mlsysim.book.options import Options
from mlsysim.book.outcomes import (
    BlockResult,
    Evaluated,
    ItemResult,
    Located,
    TableResult,
    error_rendering,
)
from mlsysim.book.scope import Scope
from mlsysim.book.statements import bound_names, run_block
from mlsysim.book.tables import run_table
from mlsysim.core.cache import DerivedCache
from mlsysim.core.exceptions import MlsysimError, NapkinError
from mlsysim.viz.rendered import Rendered

__all__ = ["BlockResult", "Document", "ItemResult", "TableResult", "error_rendering"]

#: passing values and claims by (kind, text, options, registry generation): the bindings
#: each read (checked by identity on reuse) and its result
_REPEATS = DerivedCache("book.repeated_items")
_MAX_REPEATS = 4096


def _generation() -> int:
    from mlsysim.core.registry import generation

    return generation()


class Document:
    """The per-document scope and failure list.

    ``file`` names the source in failures; ``source`` (optional) is its text. Whoever scans
    the source passes its items to :meth:`declare_blocks` first, so a name used before its
    binding says where it is bound later.
    """

    def __init__(self, file: str, options: Options | None = None, source: str | None = None):
        self.file = str(file)
        self.source = source
        self.evaluator = Evaluator(options)
        self.failures: list[Failure] = []
        self.checked = 0
        #: (file, line, column, kind, text, index of its first failure) of each checked item
        self.checks: list[tuple[str, int, int | None, str, str, int]] = []

    @property
    def options(self) -> Options:
        return self.evaluator.options

    @property
    def scope(self) -> Scope:
        return self.evaluator.scope

    # -- what was checked ---------------------------------------------------------------------
    def count(self, kind: str, text: str, line: int, column: int | None) -> None:
        """Count one checked item (a value, claim, check, binding, table row…) where it is.

        Failures recorded from here until the next count belong to it (:meth:`items`).
        """
        self.checked += 1
        self.checks.append((self.file, line, column, kind, text, len(self.failures)))

    def items(self) -> list[Checked]:
        """Every checked item with its own failures, in source order; a failure recorded
        before any item (an unreadable file, a bad option) is an item of its own."""
        out: list[Checked] = []
        first = self.checks[0][5] if self.checks else len(self.failures)
        out += [Checked.of_failure(f) for f in self.failures[:first]]
        for k, (file, line, column, kind, text, start) in enumerate(self.checks):
            end = self.checks[k + 1][5] if k + 1 < len(self.checks) else len(self.failures)
            out.append(Checked(file, line, column, kind, text, tuple(self.failures[start:end])))
        return out

    # -- failures ---------------------------------------------------------------------------
    def record(
        self,
        kind: FailureKind,
        error: MlsysimError,
        expression: str,
        line: int,
        column: int | None,
        offset: int | None,
        *,
        trace: Trace | None = None,
        value: str | None = None,
        expected: str | None = None,
    ) -> Failure:
        """Record and return the failure of ``error`` at ``offset`` in ``expression``."""
        f = make_failure(
            self.evaluator,
            self.file,
            kind,
            error,
            expression,
            line,
            column,
            offset,
            trace=trace,
            value=value,
            expected=expected,
        )
        self.failures.append(f)
        return f

    def record_located(
        self, loc: Located, text: str, line: int, column: int | None, shift: int = 0
    ) -> Failure:
        """Record the error failure of ``loc``, raised at ``shift + loc.column`` in ``text``."""
        return self.record("error", loc.error, text, line, column, shift + loc.column)

    # -- declarations -------------------------------------------------------------------------
    def declare_blocks(self, items: Iterable[Any]) -> None:
        """Record the names every block item of a scanned source binds, ahead of evaluation,
        so a name used before its binding says where it is bound later."""
        for item in items:
            if item.kind == "block":
                self.declare(item.text, item.line)

    def declare(self, block_text: str, line: int) -> None:
        """Record the names a block binds (for use-before-bind messages)."""
        for name, offset in bound_names(block_text):
            self.scope.future.setdefault(name, line + offset)

    # -- items ----------------------------------------------------------------------------------
    def block(self, text: str, line: int, *, column: int | None = None) -> BlockResult:
        """Run a napkin block's statements in order; ``line`` is its first content line."""
        return run_block(self, text, line, column)

    def inline(
        self,
        expr: str,
        line: int,
        *,
        unit: str | None = None,
        sig_figs: int | None = None,
        style: str | None = None,
        column: int | None = None,
        options_at: Mapping[str, tuple[int, int | None]] | None = None,
    ) -> ItemResult:
        """Evaluate and render one expression (``{napkin}`…```); never raises.
        ``options_at``: where ``unit`` / ``style`` are written (line, column), where a
        failure that is theirs points (a unit the value cannot take, a style it cannot)."""
        return self._rendered_item(
            expr, line, column, unit, sig_figs, style, derive=False, at=options_at
        )

    def claim(
        self,
        text: str,
        line: int,
        *,
        of: str | None = None,
        tolerance: Any = None,
        column: int | None = None,
        of_at: tuple[int, int] | None = None,
        tol_at: tuple[int, int] | None = None,
    ) -> ItemResult:
        """Check the author's figure against a formula; renders the author's own text.
        ``of_at`` / ``tol_at``: the (line, column) where ``of`` / ``tolerance`` are written,
        where their errors point."""
        self.count("claim", text, line, column)
        key = ("claim", text, of, str(tolerance), self.options, _generation())
        hit = self._repeat(key)
        if hit is not None:
            return hit
        self.evaluator.recording = []
        try:
            result = run_claim(
                self,
                text,
                line,
                of=of,
                tolerance=tolerance,
                column=column,
                of_at=of_at,
                tol_at=tol_at,
            )
        finally:
            read, self.evaluator.recording = self.evaluator.recording, None
        if result.ok:
            self._remember(key, read, result)
        return result

    def _repeat(self, key: tuple[Any, ...]) -> ItemResult | None:
        """The result of an item shown before with the same key and the very bindings."""
        hit = _REPEATS.get(key)
        if hit is not None and all(self.scope.binding(n) is b for n, b in hit[0]):
            return hit[1]
        return None

    def _remember(self, key: tuple[Any, ...], read: list[str], result: ItemResult) -> None:
        deps = tuple((n, self.scope.binding(n)) for n in dict.fromkeys(read))
        if len(_REPEATS) >= _MAX_REPEATS:
            _REPEATS.clear()
        _REPEATS.put(key, (deps, result))

    def derivation(
        self,
        expr: str,
        line: int,
        *,
        unit: str | None = None,
        sig_figs: int | None = None,
        style: str | None = None,
        column: int | None = None,
        options_at: Mapping[str, tuple[int, int | None]] | None = None,
    ) -> ItemResult:
        """``napkin-eq``: render a formula call as symbolic = substituted ≈ result
        (``options_at`` as for :meth:`inline`)."""
        return self._rendered_item(
            expr, line, column, unit, sig_figs, style, derive=True, at=options_at
        )

    def table(self, rows: list[str], columns: list[Any], line: int, **kwargs: Any) -> TableResult:
        """``napkin-table``: one row per expression in ``rows``, one column per expression in
        ``columns`` where the name ``row`` is the row's value (``row.memory.bandwidth``,
        ``ridge_point(row)``). ``columns`` items may be ``(label, expr)`` pairs. Keywords:
        ``header``, ``units``, ``sig_figs``, ``styles``, ``caption``, ``column``,
        ``column_lines`` (one line per column, where a failing cell is reported) and
        ``rows_line`` and ``rows_columns`` (where each failing row is reported)."""
        return run_table(self, rows, columns, line, **kwargs)

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
        at: Mapping[str, tuple[int, int | None]] | None = None,
    ) -> ItemResult:
        """An inline value, or with ``derive`` a derivation, of ``expr``; never raises.

        A value (and a claim) is a pure function of its text, its options, the registry data
        and the document bindings it reads: an item that repeats one that passed (same text
        and options, same generation of the data, the very binding objects) takes its result
        (:data:`_REPEATS`, bounded) instead of evaluating again.
        """
        self.count("derivation" if derive else "value", expr, line, column)
        key: tuple[Any, ...] | None = None
        if not derive:
            key = ("inline", expr, unit, sig_figs, style, self.options, _generation())
            hit = self._repeat(key)
            if hit is not None:
                return hit
        ev: Evaluated | None = None
        try:
            ev = self.evaluator.evaluate(expr)
            rendered, value = self._shown(ev, expr, unit, sig_figs, style, derive)
        except (Located, MlsysimError) as err:
            blamed = None if ev is None else self._blamed(ev, expr, unit, sig_figs, style, derive)
            place = (at or {}).get(blamed or "")
            if place is not None:  # the option's fault: at the option
                exc = err.error if isinstance(err, Located) else err
                f = self.record("error", exc, expr, place[0], place[1], None)
            elif isinstance(err, Located):
                f = self.record_located(err, expr, line, column)
            else:
                f = self.record("error", err, expr, line, column, 0)
            return ItemResult(False, error_rendering(), f)
        result = ItemResult(True, rendered, None, value)
        if key is not None:
            self._remember(key, ev.trace.names, result)
        return result

    def _shown(
        self,
        ev: Evaluated,
        expr: str,
        unit: str | None,
        sig_figs: int | None,
        style: str | None,
        derive: bool,
    ) -> tuple[Rendered, Any]:
        """The rendering of an evaluated item and its value in the unit shown."""
        if derive:
            rendered = self._derive(ev, expr, unit, sig_figs, style)
        else:
            rendered = self.evaluator.render(ev, unit=unit, sig_figs=sig_figs, style=style)
        value = headline(ev.value)
        shown_unit = unit or ev.unit
        if not derive and shown_unit and shown_unit != "auto":
            value = self.evaluator.convert(value, shown_unit)
        return rendered, value

    def _blamed(
        self,
        ev: Evaluated,
        expr: str,
        unit: str | None,
        sig_figs: int | None,
        style: str | None,
        derive: bool,
    ) -> str | None:
        """The option a failed rendering is due to: ``style`` or ``unit``, the first without
        which the value renders (only asked after a failure); None: neither alone."""
        for name, given, kept_unit, kept_style in (
            ("style", style, unit, None),
            ("unit", unit, None, style),
        ):
            if given is None:
                continue
            try:
                self._shown(ev, expr, kept_unit, sig_figs, kept_style, derive)
            except (MlsysimError, Located):
                continue
            return name
        return None

    def _derive(
        self, ev: Evaluated, expr: str, unit: str | None, sig_figs: int | None, style: str | None
    ) -> Rendered:
        """symbolic = substituted ≈ result of the formula call ``expr``; raises Located."""
        import ast

        from mlsysim.viz.derivation import render_derivation

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
        label, result, info, args = ev.trace.calls[-1]
        if info is None:
            raise Located(
                NapkinError(
                    f"{label} has no derivation template",
                    fix="derivations work for formulas of mlsysim.core.formulas",
                ),
                0,
            )
        opts = self.evaluator.render_options(ev, unit, sig_figs, style)
        try:
            return render_derivation(info, args, headline(unwrap(result)), **opts)
        except MlsysimError as exc:
            raise Located(exc, 0) from None
