"""The statements of a napkin block: bindings, ``check(cond, "why")``, claims and expressions.

A block runs its statements in source order in the document's scope. ``name = expr`` binds
once (``rebind name = expr`` rebinds on purpose); a name that already means something (a unit,
a helper, a formula, a registry id) cannot be bound. A binding keeps its trace and the
bindings it used, so a later failure can show how its value was computed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mlsysim.book.claims import run_claim
from mlsysim.book.diagnostics import cite_ids
from mlsysim.book.evaluator import Recorder
from mlsysim.book.lang import Fn, split_claim, split_statements, unwrap
from mlsysim.book.lang.lexer import Binding as Head
from mlsysim.book.lang.lexer import binding_head
from mlsysim.book.lang.qualified import import_target
from mlsysim.book.outcomes import BlockResult, Located
from mlsysim.book.scope import Binding
from mlsysim.core.exceptions import MlsysimError, NapkinError

__all__ = ["bound_names", "run_block"]


def bound_names(block_text: str) -> list[tuple[str, int]]:
    """(name, 0-based line offset) of every first binding in a block (for use-before-bind)."""
    out = []
    for st in split_statements(block_text):
        head = binding_head(st.text)
        if head is not None and not head.rebind:
            out.append((head.name, st.line))
    return out


def _is_check(text: str) -> bool:
    return text.startswith("check") and text[5:].lstrip().startswith("(")


def run_block(doc: Recorder, text: str, line: int, column: int | None) -> BlockResult:
    """Run a napkin block's statements in order; ``line`` is its first content line."""
    result = BlockResult()
    # a statement's lines after its first, as written: its block's content starts at
    # `column`, so an offset after a newline is the file column
    margin = "\n" + " " * ((column or 1) - 1)
    for st in split_statements(text):
        st_line = line + st.line
        st_col = (column or 1) + st.column
        if margin != "\n" and "\n" in st.text:
            st = replace(st, text=st.text.replace("\n", margin))
        before = len(doc.failures)
        head = binding_head(st.text)
        if head is not None:
            _bind(doc, head, st.text, st_line, st_col)
        elif _is_check(st.text):
            doc.count("check", st.text, st_line, st_col)
            _check(doc, st.text, st_line, st_col)
        elif split_claim(st.text) is not None:
            doc.count("claim", st.text, st_line, st_col)
            item = run_claim(doc, st.text, st_line, of=None, tolerance=None, column=st_col)
            if item.rendered is not None:
                result.rendered.append((st_line, item.rendered))
        else:
            doc.count("expression", st.text, st_line, st_col)
            try:
                doc.evaluator.evaluate(st.text)
            except Located as loc:
                doc.record_located(loc, st.text, st_line, st_col)
        result.failures.extend(doc.failures[before:])
    return result


def _bind(doc: Recorder, head: Head, text: str, line: int, col: int) -> None:
    scope = doc.evaluator.scope
    name = head.name
    expr = text[head.expression_start :]
    offset = head.expression_start + (len(expr) - len(expr.lstrip()))
    doc.count("binding", text, line, col)
    is_import = import_target(name, expr) is not None
    old = scope.bindings.get(name)
    try:
        problem = _bind_problem(doc, name, head.rebind)
    except MlsysimError as exc:
        problem = NapkinError(exc.what, why=exc.why, fix=exc.fix)
    # a book name is defined once; `name = chapter::name` imports it, never defines it
    if problem is None and scope.shared is not None and not head.rebind and not is_import:
        problem = scope.shared.conflict(name)
    if problem is not None:
        doc.record("error", problem, text, line, col, 0)
        if old is None and not _means_something(doc, name):
            scope.bindings[name] = Binding(name, None, line, expr, error=problem)
        return
    try:
        ev = doc.evaluator.evaluate(expr)
        value = ev.value
        if ev.unit is not None:
            value = doc.evaluator.convert(value, ev.unit)
    except Located as loc:  # its column counts expr's leading blanks: shift from expr's start
        doc.record_located(loc, text, line, col, head.expression_start)
        scope.bindings[name] = Binding(name, None, line, expr, error=loc.error)
        return
    except MlsysimError as exc:
        doc.record("error", exc, text, line, col, offset)
        scope.bindings[name] = Binding(name, None, line, expr, error=exc)
        return
    scope.bindings[name] = Binding(
        name,
        value,
        line,
        expr.strip(),
        ev.digits,
        trace=ev.trace,
        deps=tuple(b for n in dict.fromkeys(ev.trace.names) if (b := scope.binding(n))),
        cites=tuple(cite_ids(ev.trace, scope)),
    )


def _means_something(doc: Recorder, name: str) -> bool:
    """Whether ``name`` is a unit, helper, formula or registry id (True if that is unknown)."""
    try:
        return doc.evaluator.scope.reserved(name) is not None
    except MlsysimError:
        return True


def _bind_problem(doc: Recorder, name: str, rebind: bool) -> NapkinError | None:
    """Why ``name`` cannot be bound (or rebound) here, or None."""
    scope = doc.evaluator.scope
    old = scope.bindings.get(name)
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
    reserved = scope.reserved(name) if old is None else None
    if reserved:
        return NapkinError(
            f"cannot bind {name!r}: it is {reserved}",
            why="a binding may not change what a name already means in napkin math",
            fix="choose another name (e.g. with a suffix)",
        )
    return None


def _check(doc: Recorder, text: str, line: int, col: int) -> None:
    def check(cond: Any, why: Any = "") -> tuple[Any, Any]:
        return cond, why

    try:
        ev = doc.evaluator.evaluate(text, extra={"check": Fn(check, "check", "helper")})
    except Located as loc:
        doc.record_located(loc, text, line, col)
        return
    cond, why = unwrap(ev.value)
    if not isinstance(cond, bool):
        err = NapkinError(
            "check() needs a true/false condition",
            why="its first argument is not a comparison",
            fix='compare values: `check(x < 1 ms, "why")`',
        )
        doc.record("error", err, text, line, col, 0)
        return
    if not cond:
        message = f"check failed: {why}" if why else "check failed"
        failed = MlsysimError(message, why=f"{text} is false")
        doc.record(
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
