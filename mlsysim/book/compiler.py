"""The whitelist compiler's frame: node dispatch, refusals, source columns and located errors.

:class:`CompilerBase` turns one AST node into a closure ``run(env, trace)`` by dispatching to
a ``c_<NodeType>`` method; the rules for operators (:mod:`mlsysim.book.operators`) and for
names, attributes, subscripts and calls (:mod:`mlsysim.book.access`) supply those methods.
A node type with no rule, or one of the constructs in the refusal list, raises
:class:`~mlsysim.core.exceptions.NapkinSyntaxError` at the node's column. Runtime errors are
located with :func:`locate` / :func:`attempt` at the column of the operation that failed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from mlsysim.book.lang import Literal, Prepared
from mlsysim.book.limits import check_magnitude
from mlsysim.book.trace import Env, Trace
from mlsysim.core.exceptions import LimitError, MlsysimError, NapkinError, NapkinSyntaxError

__all__ = [
    "CompilerBase",
    "Run",
    "attempt",
    "locate",
    "make_quantity",
    "sig_digits",
    "wrap_error",
]

#: A compiled node: evaluates it in a scope, recording provenance in the trace.
Run = Callable[[Env, Trace], Any]

_NOT_ALLOWED = {
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.NamedExpr: "':=' (walrus)",
    ast.Starred: "'*' unpacking",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.Slice: "a slice",
}


class CompilerBase:
    """Dispatch and locations shared by the rules; every refusal carries the node's column."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        lines = prep.code.split("\n")
        self._lines = lines
        self._starts = [0]
        for ln in lines[:-1]:
            self._starts.append(self._starts[-1] + len(ln) + 1)

    # -- dispatch ---------------------------------------------------------------------
    def compile(self, node: ast.AST) -> Run:
        """The closure of ``node``; raises NapkinSyntaxError for anything off the whitelist."""
        for bad, label in _NOT_ALLOWED.items():
            if isinstance(node, bad):
                raise self.refuse(node, label)
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            raise self.refuse(node, f"'{type(node).__name__}'")
        fn: Run = method(node)
        return fn

    def refuse(self, node: ast.AST, what: str, fix: str = "") -> NapkinSyntaxError:
        """The error refusing ``what`` at ``node``."""
        return NapkinSyntaxError(
            f"{what} is not allowed in napkin expressions",
            column=self.col(node),
            expression=self.prep.source,
            why="napkin math is a small safe subset of Python expressions",
            fix=fix or "use numbers, units, names, arithmetic and calls to formulas",
        )

    # -- locations --------------------------------------------------------------------
    def col(self, node: ast.AST) -> int:
        """0-based character offset of ``node`` in the expression text."""
        lineno = max(getattr(node, "lineno", 1), 1)
        return self._offset(lineno, getattr(node, "col_offset", 0))

    def end_col(self, node: ast.AST) -> int:
        """0-based offset just after ``node`` in the expression text."""
        end_line: int = getattr(node, "end_lineno", None) or getattr(node, "lineno", 1) or 1
        return self._offset(end_line, int(getattr(node, "end_col_offset", None) or 0))

    def op_col(self, left: ast.AST) -> int:
        """0-based offset of the binary operator that follows ``left``."""
        code = self.prep.code
        i = self.end_col(left)
        while i < len(code) and code[i] in " \t\n)\\":
            i += 1
        return min(i, max(len(code) - 1, 0))

    def attr_col(self, node: ast.Attribute) -> int:
        """0-based offset of the attribute *name* (``x.name``) in the expression text."""
        end_line = getattr(node, "end_lineno", None) or node.lineno
        end_col = getattr(node, "end_col_offset", None)
        if end_col is None:
            return self.col(node)
        return self._offset(end_line, end_col) - len(node.attr)

    def _offset(self, lineno: int, byte_col: int) -> int:
        """Character offset in the whole text of a (1-based line, UTF-8 byte column) position."""
        idx = min(lineno, len(self._lines)) - 1
        line = self._lines[idx].encode("utf-8")
        return self._starts[idx] + len(line[:byte_col].decode("utf-8", "ignore"))

    # -- literals ---------------------------------------------------------------------
    def literal_digits(self, node: ast.expr) -> int | None:
        """Significant digits as written when ``node`` is a literal number or quantity."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            node = node.operand
        if isinstance(node, ast.Name):
            lit = self.literal(node)
            return sig_digits(lit.number) if lit else None
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            seg = ast.get_source_segment(self.prep.code, node) or ""
            return sig_digits(seg) if seg else None
        return None

    def literal(self, node: ast.Name) -> Literal | None:
        """The quantity literal (``3.35 TB/s``) the pre-pass replaced by ``node``, if any."""
        return self.prep.literals.get((node.lineno, node.col_offset))


def sig_digits(number: str) -> int:
    """Significant digits of a number as written (``3.0`` → 2, ``300`` → 3, ``1e9`` → 1)."""
    mant = number.replace("_", "").lstrip("+-").split("e")[0].split("E")[0]
    digits = mant.replace(".", "").lstrip("0")
    return max(len(digits), 1)


@lru_cache(maxsize=1024)
def _unit_of(unit: str) -> Any:
    from mlsysim.core.units import ureg

    return ureg.parse_units(unit.replace("^", "**").replace("·", "*"))


def make_quantity(lit: Literal, col: int, src: str) -> Any:
    """The pint Quantity of a quantity literal, its magnitude checked against the limits."""
    from mlsysim.core.units import ureg

    text = lit.number.replace("_", "")
    try:
        mag: int | float = int(text) if text.isdigit() else float(text)
    except ValueError:
        raise NapkinSyntaxError(
            f"cannot read the number {lit.number!r}", column=col, expression=src
        ) from None
    check_magnitude(mag, col, src)
    return ureg.Quantity(mag, _unit_of(lit.unit))


# -- located errors ------------------------------------------------------------------------
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
    """A non-mlsysim exception from an operation, as a located NapkinError."""
    if isinstance(exc, ZeroDivisionError):
        return NapkinError(
            "division by zero", column=col, expression=src, fix="check the value of the divisor"
        )
    if isinstance(exc, RecursionError | OverflowError | MemoryError):
        return LimitError(
            "computation is too large", column=col, expression=src, why=type(exc).__name__
        )
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return NapkinError(
        f"cannot evaluate: {text}",
        column=col,
        expression=src,
        why=type(exc).__name__,
        fix="check the argument types and units at this position",
    )
