"""One document's napkin math: its scope, its items in source order, and its failures.

Hosts (Sphinx, the Quarto batch, ``mlsysim check``, notebooks) create one :class:`Document` per
source file and feed it items in document order: napkin blocks (:meth:`Document.block`),
inline expressions (:meth:`~Document.inline`), claims (:meth:`~Document.claim`), derivations
(:meth:`~Document.derivation`) and tables (:meth:`~Document.table`). Every item returns its
rendering and, when it fails, a located :class:`~mlsysim.book.failures.Failure`; the document
collects them all (never first-one-wins) in :attr:`Document.failures`.

This module holds the statements of napkin blocks (bindings, ``check``); the layers below are
:mod:`~mlsysim.book.prose_items` (inline, claim, derivation, table),
:mod:`~mlsysim.book.diagnostics` (located failures, derivation text),
:mod:`~mlsysim.book.evaluation` (evaluating item text) and :mod:`~mlsysim.book.outcomes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from mlsysim.book.diagnostics import cite_ids
from mlsysim.book.evaluator import Fn, unwrap
from mlsysim.book.lang import split_claim, split_statements
from mlsysim.book.options import Options
from mlsysim.book.outcomes import BlockResult, ItemResult, Located, TableResult, error_rendering
from mlsysim.book.prose_items import DocumentItems
from mlsysim.book.scope import Binding
from mlsysim.core.exceptions import MlsysimError, NapkinError

__all__ = ["BlockResult", "Document", "ItemResult", "TableResult", "error_rendering"]

_BIND = re.compile(r"^(?P<rebind>rebind\s+)?(?P<name>[^\W\d]\w*)\s*=(?!=)")
_CHECK = re.compile(r"^check\s*\(")


class Document(DocumentItems):
    """The per-document scope and failure list.

    ``file`` names the source in failures; ``source`` (optional) is its text. Whoever scans
    the source passes its items to :meth:`declare_blocks` first, so a name used before its
    binding says where it is bound later.
    """

    def __init__(self, file: str, options: Options | None = None, source: str | None = None):
        super().__init__(file, options, source)

    def declare_blocks(self, items: Iterable[Any]) -> None:
        """Record the names every block item of a scanned source binds, ahead of evaluation,
        so a name used before its binding says where it is bound later."""
        for item in items:
            if item.kind == "block":
                self.declare(item.text, item.line)

    def declare(self, block_text: str, line: int) -> None:
        """Record the names a block binds (for use-before-bind messages)."""
        for st in split_statements(block_text):
            m = _BIND.match(st.text)
            if m and not m["rebind"]:
                self.scope.future.setdefault(m["name"], line + st.line)

    # -- blocks -----------------------------------------------------------------------------
    def block(self, text: str, line: int, *, column: int | None = None) -> BlockResult:
        """Run a napkin block's statements in order; ``line`` is its first content line."""
        result = BlockResult()
        for st in split_statements(text):
            st_line = line + st.line
            st_col = (column or 1) + st.column
            before = len(self.failures)
            m = _BIND.match(st.text)
            if m:
                self._bind(m, st.text, st_line, st_col)
            elif _CHECK.match(st.text):
                self.checked += 1
                self._check(st.text, st_line, st_col)
            elif split_claim(st.text) is not None:
                self.checked += 1
                item = self._claim(st.text, st_line, of=None, tolerance=None, column=st_col)
                if item.rendered is not None:
                    result.rendered.append((st_line, item.rendered))
            else:
                self.checked += 1
                try:
                    self._evaluate(st.text)
                except Located as loc:
                    self._failed(loc, st.text, st_line, st_col)
            result.failures.extend(self.failures[before:])
        return result

    # -- statements ---------------------------------------------------------------------------
    def _bind(self, m: re.Match[str], text: str, line: int, col: int) -> None:
        name, rebind = m["name"], bool(m["rebind"])
        expr = text[m.end() :]
        offset = m.end() + (len(expr) - len(expr.lstrip()))
        self.checked += 1
        problem = self._bind_problem(name, rebind)
        old = self.scope.bindings.get(name)
        if problem is not None:
            problem.column = 0
            self._failure("error", problem, text, line, col, 0)
            if old is None:
                self.scope.bindings[name] = Binding(name, None, line, expr, error=problem)
            return
        try:
            ev = self._evaluate(expr)
        except Located as loc:
            self._failed(loc, text, line, col, offset)
            self.scope.bindings[name] = Binding(name, None, line, expr, error=loc.error)
            return
        value = ev.value
        if ev.unit is not None:
            value = self._convert(value, ev.unit)
        self.scope.bindings[name] = Binding(
            name,
            value,
            line,
            expr.strip(),
            ev.digits,
            trace=ev.trace,
            deps=tuple(
                b for n in dict.fromkeys(ev.trace.names) if (b := self.scope.bindings.get(n))
            ),
            cites=tuple(cite_ids(ev.trace, self.scope)),
        )

    def _bind_problem(self, name: str, rebind: bool) -> NapkinError | None:
        """Why ``name`` cannot be bound (or rebound) here, or None."""
        reserved = self.scope.reserved(name)
        old = self.scope.bindings.get(name)
        if reserved:
            return NapkinError(
                f"cannot bind {name!r}: it is {reserved}",
                fix="choose another name (e.g. with a suffix)",
            )
        if old is not None and not rebind:
            return NapkinError(
                f"{name!r} is already bound at line {old.line}",
                why="napkin names are bound once, so every use means one value",
                fix=f"choose a new name, or write `rebind {name} = …` to rebind on purpose",
            )
        if old is None and rebind:
            return NapkinError(
                f"nothing to rebind: {name!r} is not bound yet",
                fix=f"write `{name} = …` for a first binding",
            )
        return None

    def _check(self, text: str, line: int, col: int) -> None:
        def check(cond: Any, why: Any = "") -> tuple[Any, Any]:
            return cond, why

        try:
            ev = self._evaluate(text, extra={"check": Fn(check, "check", "helper")})
        except Located as loc:
            self._failed(loc, text, line, col)
            return
        cond, why = unwrap(ev.value)
        if not isinstance(cond, bool):
            err = NapkinError(
                "check() needs a true/false condition",
                why=f"got {type(cond).__name__}",
                fix="compare values: `x < 1 ms`",
            )
            self._failure("error", err, text, line, col, 0)
            return
        if not cond:
            message = f"check failed: {why}" if why else "check failed"
            failed = MlsysimError(message, why=f"{text} is false")
            self._failure(
                "check",
                failed,
                text,
                line,
                col,
                None,
                trace=ev.trace,
                value="false",
                expected=str(why) or "true",
            )
