"""Located failures of a document, with the derivation that led there and the sources cited.

:meth:`DocumentDiagnostics._failure` turns an error at a column of an item's text into a
:class:`~mlsysim.book.failures.Failure` at the exact file line and column, and records it.
When the item was evaluated, its :class:`~mlsysim.book.trace.Trace` becomes the derivation
(each binding, registry read and formula call, with its value) and the list of sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlsysim.book.evaluation import DocumentState, written_digits
from mlsysim.book.evaluator import Trace
from mlsysim.book.failures import Failure, FailureKind
from mlsysim.book.outcomes import Located
from mlsysim.book.scope import Binding, Scope
from mlsysim.core.exceptions import MlsysimError, NapkinError

__all__ = ["DocumentDiagnostics", "cite_ids", "sources"]


class DocumentDiagnostics(DocumentState):
    """Failure construction and derivation text for a document's items."""

    def _failure(
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
        """Record and return the failure of ``error`` at ``offset`` in ``expression``.

        ``line``/``column`` locate the expression in the file (column may be unknown);
        ``offset`` is the 0-based position of the error in it (None: the whole expression).
        """
        file_line, file_col = line, column
        if offset is not None:
            before = expression[:offset]
            nl = before.count("\n")
            file_line = line + nl
            if nl:
                file_col = offset - before.rfind("\n")
            elif column is not None:
                file_col = column + offset
        derivation: list[str] = []
        cited: list[str] = []
        if trace is not None:
            derivation = self._derivation(trace)
            cited = sources(trace, self.scope)
        extra: dict[str, Any] = {"type": type(error).__name__}
        if isinstance(error, NapkinError) and "unavailable" in error.what:
            extra["depends_on_failed"] = True
        f = Failure(
            file=self.file,
            line=file_line,
            kind=kind,
            message=error.what,
            expression=expression.strip(),
            column=file_col,
            value=value,
            expected=expected,
            derivation=tuple(derivation),
            sources=tuple(cited),
            hint=_hint(error),
            extra=extra,
        )
        self.failures.append(f)
        return f

    def _failed(
        self, loc: Located, text: str, line: int, column: int | None, shift: int = 0
    ) -> Failure:
        """The error failure of ``loc``, raised at ``shift + loc.column`` in ``text``."""
        return self._failure("error", loc.error, text, line, column, shift + loc.column)

    def _derivation(self, tr: Trace, bindings: Mapping[str, Binding] | None = None) -> list[str]:
        """One line per binding, registry read and formula call the evaluation used.

        Made only when a failure is reported (never on the hot path). ``bindings`` are the
        names as they were when ``tr`` was evaluated (a binding's own dependencies)."""
        names = self.scope.bindings if bindings is None else bindings
        lines: list[str] = []
        for name in dict.fromkeys(tr.names):
            b = names.get(name)
            if b is not None:
                if b.trace is not None:
                    lines.extend(self._derivation(b.trace, {d.name: d for d in b.deps}))
                shown = self._text(b.value, digits=b.digits)
                same = shown.replace(",", "") == b.expression.replace(",", "")
                lines.append(
                    f"{name} = {b.expression}"
                    + ("" if same else f" = {shown}")
                    + f"  (line {b.line})"
                )
        for label, value, _cite in tr.reads:
            lines.append(f"{label} = {self._text(value, digits=written_digits(value))}")
        for label, result, info, _args in tr.calls:
            cite = f"  [{info.citation}]" if info is not None and info.citation else ""
            lines.append(f"{label} = {self._text(result)}{cite}")
        return list(dict.fromkeys(lines))


def cite_ids(tr: Trace, scope: Scope | None = None) -> list[str]:
    """Citation ids of everything ``tr`` touched, bindings' own citations included."""
    ids: list[str] = []
    if scope is not None:
        for name in tr.names:
            b = scope.bindings.get(name)
            if b is not None:
                ids += list(b.cites)
    ids += [c for _, _, c in tr.reads if c]
    for _, _, info, _ in tr.calls:
        ids += list(getattr(info, "sources", ()) or ())
    ids += [s.source for s in tr.specs]
    return list(dict.fromkeys(ids))


def sources(tr: Trace, scope: Scope | None = None) -> list[str]:
    """``id: short citation`` of each source ``tr`` touched (the id alone if not in the catalog)."""
    ids = cite_ids(tr, scope)
    out: list[str] = []
    try:
        from mlsysim.core.registry import catalog

        cites = catalog().sources
    except MlsysimError:
        cites = {}
    for cid in dict.fromkeys(ids):
        cite = cites.get(cid)
        out.append(f"{cid}: {cite.short()}" if cite is not None else cid)
    return out


def _hint(error: MlsysimError) -> str | None:
    parts = [p for p in (error.why, f"How to fix: {error.fix}" if error.fix else "") if p]
    return ". ".join(parts) or None
