"""What every compiler rule shares: the closure type, the compiler's interface, located errors.

A compiled node is a closure ``run(env, trace)``. Rules (:mod:`~mlsysim.book.lang.operators`,
:mod:`~mlsysim.book.lang.access`) receive the compiler through the :class:`Compiling`
interface, so they depend on this module and not on each other or on the compiler. Runtime
errors are located at the column of the operation that failed (:func:`attempt`,
:func:`locate`); an exception from outside mlsysim becomes a NapkinError worded for authors.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, Protocol

from mlsysim.book.lang.literals import Literal, Prepared
from mlsysim.book.lang.values import Env, Trace
from mlsysim.core.exceptions import LimitError, MlsysimError, NapkinError, NapkinSyntaxError

__all__ = ["Compiling", "Run", "attempt", "locate", "wrap_error"]

#: A compiled node: evaluates it in a scope, recording provenance in the trace.
Run = Callable[[Env, Trace], Any]


class Compiling(Protocol):
    """The compiler as the rules see it."""

    prep: Prepared

    def compile(self, node: ast.AST) -> Run: ...

    def refuse(self, node: ast.AST, what: str, fix: str = "") -> NapkinSyntaxError: ...

    def col(self, node: ast.AST) -> int: ...

    def op_col(self, left: ast.AST) -> int: ...

    def attr_col(self, node: ast.Attribute) -> int: ...

    def segment(self, node: ast.AST) -> str: ...

    def literal(self, node: ast.Name) -> Literal | None: ...


def attempt(op: Callable[..., Any], col: int, src: str, *args: Any) -> Any:
    """``op(*args)``, any error raised located at ``col`` of ``src`` (see :func:`locate`)."""
    try:
        return op(*args)
    except MlsysimError as exc:
        raise locate(exc, col, src) from None
    except Exception as exc:
        raise wrap_error(exc, col, src) from None


def locate(exc: MlsysimError, col: int, src: str) -> MlsysimError:
    """Attach a column (0-based in the expression) unless an inner node already did."""
    if getattr(exc, "column", None) is None:
        exc.column = col  # type: ignore[attr-defined]
    if not getattr(exc, "expression", ""):
        exc.expression = src  # type: ignore[attr-defined]
    return exc


def wrap_error(exc: BaseException, col: int, src: str) -> NapkinError:
    """An exception from outside mlsysim, as a located NapkinError worded for authors."""
    if isinstance(exc, ZeroDivisionError):
        return NapkinError(
            "division by zero", column=col, expression=src, fix="check the value of the divisor"
        )
    if isinstance(exc, RecursionError | OverflowError | MemoryError):
        return LimitError(
            "computation is too large",
            column=col,
            expression=src,
            why="a result grew beyond what napkin math computes",
        )
    return NapkinError(
        "cannot evaluate this operation",
        column=col,
        expression=src,
        why="its operands are not of the kinds it takes",
        fix="check the argument types and units at this position",
    )
