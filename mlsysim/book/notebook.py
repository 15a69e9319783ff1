"""Napkin values for notebooks (Jupyter, Quarto ``engine: jupyter`` inline ``{python}``).

>>> from mlsysim.book import napkin
>>> str(napkin("80 GB / 3.35 TB/s -> ms"))
'23.9 ms'

:func:`napkin` returns a :class:`NapkinValue` that renders itself via ``_repr_markdown_``
(``$23.9\\,\\mathrm{ms}$``) and ``_repr_latex_``; :func:`check` returns a :class:`CheckResult`
located at the caller's file and line, and raises a NapkinError carrying the failure when
``raise_on_failure=True`` (the default), so a notebook render stops at a broken invariant with
its location instead of printing a wrong number.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from mlsysim.book.document import Document
from mlsysim.book.failures import Failure
from mlsysim.book.lang.lexer import binding_head
from mlsysim.book.options import Options
from mlsysim.core.exceptions import NapkinError
from mlsysim.viz.rendered import Rendered

__all__ = ["CheckResult", "NapkinValue", "check", "napkin", "notebook_document"]

_DOC: Document | None = None


def notebook_document() -> Document:
    """The notebook's shared document: ``napkin("x = 3 ms")`` bindings live here."""
    global _DOC
    if _DOC is None:
        _DOC = Document("<notebook>", Options())
    return _DOC


def _caller() -> tuple[str, int]:
    frame = inspect.currentframe()
    try:
        outer = frame.f_back.f_back if frame and frame.f_back else None  # caller of napkin/check
        if outer is None:
            return "<notebook>", 1
        return outer.f_code.co_filename, outer.f_lineno
    finally:
        del frame


@dataclass(frozen=True, slots=True)
class NapkinValue:
    """A rendered napkin value: ``.value`` (Quantity/number) and ``.rendered`` forms."""

    expression: str
    value: Any
    rendered: Rendered

    def _repr_markdown_(self) -> str:
        return self.rendered.markdown

    def _repr_latex_(self) -> str:
        return f"${self.rendered.latex}$" if self.rendered.math else self.rendered.text

    def __str__(self) -> str:
        return self.rendered.text

    def __format__(self, spec: str) -> str:
        return format(self.rendered.text, spec)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of :func:`check`: truthy when it passed; ``failure`` when it did not."""

    ok: bool
    why: str
    failure: Failure | None = None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return (
            f"✓ {self.why}"
            if self.ok
            else (self.failure.headline() if self.failure else f"✗ {self.why}")
        )

    def _repr_markdown_(self) -> str:
        return str(self)


def napkin(
    expr: str,
    *,
    unit: str | None = None,
    sig_figs: int | None = None,
    style: str | None = None,
    document: Document | None = None,
) -> NapkinValue:
    """Evaluate a napkin expression (or ``name = expr`` binding); raises NapkinError on failure.

    Bindings go to the notebook's shared document (or ``document``), so later calls see them.
    """
    doc = document or notebook_document()
    file, line = _caller()
    before = len(doc.failures)
    stripped = expr.strip()
    head = binding_head(stripped)
    if head is not None:
        doc.block(stripped, line)
        if len(doc.failures) > before:
            _raise(doc.failures[-1], file)
        stripped = head.name
    result = doc.inline(stripped, line, unit=unit, sig_figs=sig_figs, style=style)
    if not result.ok or result.rendered is None:
        assert result.failure is not None
        _raise(result.failure, file)
    return NapkinValue(expr, result.value, result.rendered)  # type: ignore[arg-type]


def check(
    cond: Any, why: str = "", *, raise_on_failure: bool = True, document: Document | None = None
) -> CheckResult:
    """Check a condition (a bool, or a napkin expression as text) at the caller's location."""
    doc = document or notebook_document()
    file, line = _caller()
    if isinstance(cond, str):
        before = len(doc.failures)
        doc.block(f"check({cond}, {why!r})", line)
        failure = doc.failures[-1] if len(doc.failures) > before else None
    elif isinstance(cond, bool):
        failure = (
            None
            if cond
            else Failure(
                file=file,
                line=line,
                kind="check",
                message=f"check failed: {why}" if why else "check failed",
                value="false",
                expected=why or "true",
            )
        )
    else:
        raise NapkinError(
            "check() needs a condition: a bool or a napkin expression",
            why="it is neither true/false nor text",
        )
    if failure is not None:
        failure = _relocate(failure, file)
        if raise_on_failure:
            _raise(failure, file)
        return CheckResult(False, why, failure)
    return CheckResult(True, why)


def _relocate(f: Failure, file: str) -> Failure:
    from dataclasses import replace

    return replace(f, file=file)


def _raise(f: Failure, file: str) -> None:
    f = _relocate(f, file)
    err = NapkinError(
        f"{f.location()}: {f.message}", why=f.hint or "", expression=f.expression, column=f.column
    )
    err.failure = f  # type: ignore[attr-defined]
    raise err
