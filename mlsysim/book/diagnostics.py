"""Located failures, with the derivation that led there and the sources cited.

:func:`make_failure` turns an error at a column of an item's text into a
:class:`~mlsysim.book.failures.Failure` at the exact file line and column. When the item was
evaluated, its :class:`~mlsysim.book.lang.values.Trace` becomes the derivation (each binding,
registry read and formula call, with its value) and the list of sources.

Derivations are made only when a failure is reported, and in bounded time and size whatever
the shape of the document: every binding is visited once (bindings that use one another twice
— a diamond — are not re-expanded), the walk is iterative (a chain of a thousand bindings
cannot overflow the stack) and at most :data:`MAX_DERIVATION_LINES` lines are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlsysim.book.evaluator import Evaluator, trace_cites, written_digits
from mlsysim.book.failures import Failure, FailureKind
from mlsysim.book.lang import Trace
from mlsysim.book.scope import Binding, Scope
from mlsysim.core.exceptions import MlsysimError, NapkinError
from mlsysim.viz.table import Source

__all__ = [
    "MAX_DERIVATION_LINES",
    "cite_ids",
    "cited",
    "derivation",
    "make_failure",
    "sources",
]

#: Most lines in one failure's derivation (the latest steps are kept).
MAX_DERIVATION_LINES = 60
#: Most bindings a derivation or citation walk visits.
_MAX_VISITS = 2000


def make_failure(
    evaluator: Evaluator,
    file: str,
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
    """The failure of ``error`` at ``offset`` in ``expression``.

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
    steps: list[str] = []
    cited: list[str] = []
    if trace is not None:
        steps = derivation(evaluator, trace)
        cited = sources(trace, evaluator.scope)
    extra: dict[str, Any] = {"type": type(error).__name__}
    if isinstance(error, NapkinError) and "unavailable" in error.what:
        extra["depends_on_failed"] = True
    return Failure(
        file=file,
        line=file_line,
        kind=kind,
        message=error.what + (f" (in {error.where})" if error.where else ""),
        expression=expression.strip(),
        column=file_col,
        value=value,
        expected=expected,
        derivation=tuple(steps),
        sources=tuple(cited),
        hint=_hint(error),
        extra=extra,
    )


def _bindings_used(
    trace: Trace, names: Mapping[str, Binding]
) -> list[tuple[Binding, Mapping[str, Binding]]]:
    """Every binding ``trace`` depends on, dependencies first, each once (iterative)."""
    order: list[tuple[Binding, Mapping[str, Binding]]] = []
    seen: set[int] = set()
    # (binding, its names, expanded?) — a binding is emitted after its dependencies
    stack: list[tuple[Binding, Mapping[str, Binding], bool]] = [
        (b, names, False) for n in reversed(list(dict.fromkeys(trace.names))) if (b := names.get(n))
    ]
    while stack and len(seen) < _MAX_VISITS:
        b, scope, expanded = stack.pop()
        if expanded:
            order.append((b, scope))
            continue
        if id(b) in seen:
            continue
        seen.add(id(b))
        stack.append((b, scope, True))
        if b.trace is not None:
            deps = {d.name: d for d in b.deps}
            stack.extend(
                (d, deps, False)
                for n in reversed(list(dict.fromkeys(b.trace.names)))
                if (d := deps.get(n)) is not None and id(d) not in seen
            )
    return order


def derivation(evaluator: Evaluator, tr: Trace) -> list[str]:
    """One line per binding, registry read and formula call the evaluation used.

    Made only when a failure is reported (never on the hot path); bounded in lines and work.
    """
    lines: list[str] = []
    for b, _ in _bindings_used(tr, evaluator.scope.visible()):
        shown = evaluator.text(b.value, digits=b.digits)
        written = " ".join(b.expression.split())  # a binding over several lines reads as one
        same = shown.replace(",", "") == written.replace(",", "")
        lines.append(
            f"{b.name} = {written}" + ("" if same else f" = {shown}") + f"  (line {b.line})"
        )
    for label, value, _cite in tr.reads:
        lines.append(f"{label} = {evaluator.text(value, digits=written_digits(value))}")
    for label, result, info, _args in tr.calls:
        cite = f"  [{info.citation}]" if info is not None and info.citation else ""
        lines.append(f"{label} = {evaluator.text(result)}{cite}")
    unique = list(dict.fromkeys(lines))
    if len(unique) > MAX_DERIVATION_LINES:
        dropped = len(unique) - MAX_DERIVATION_LINES + 1
        unique = [f"… {dropped} earlier steps", *unique[-(MAX_DERIVATION_LINES - 1) :]]
    return unique


def cite_ids(tr: Trace, scope: Scope | None = None) -> list[str]:
    """Citation ids of everything ``tr`` touched, bindings' own citations included."""
    return trace_cites(tr, scope)


def cited(tr: Trace, scope: Scope | None = None) -> list[Source]:
    """Each source ``tr`` touched, as a reader sees it: its title (with publisher and year)
    and its URL; a citation id the catalog lacks is shown as written."""
    try:
        from mlsysim.core.registry import catalog

        cites = catalog().sources
    except MlsysimError:
        cites = {}
    out: list[Source] = []
    for cid in cite_ids(tr, scope):
        cite = cites.get(cid)
        out.append(Source(cite.short(), cite.url) if cite is not None else Source(cid))
    return out


def sources(tr: Trace, scope: Scope | None = None) -> list[str]:
    """The citation of each source ``tr`` touched, by title (never by internal id)."""
    return [s.text for s in cited(tr, scope)]


def _hint(error: MlsysimError) -> str | None:
    parts = [p for p in (error.why, f"How to fix: {error.fix}" if error.fix else "") if p]
    return ". ".join(parts) or None
