"""Compiler rules for constants and operators: arithmetic, ``**``, comparisons, logic, tuples.

Arithmetic on quantities goes through :mod:`mlsysim.book.fastq` (pint's semantics, cached);
every result is checked against :data:`~mlsysim.book.limits.MAX_MAGNITUDE`, ``**`` against the
exponent limits before it runs, and truth tests accept only booleans and numbers. Errors carry
the column of the operator (``/`` in ``a / b``) or of the offending operand.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from mlsysim.book.compiler import CompilerBase, Run, attempt, locate, wrap_error
from mlsysim.book.fastq import binop, compare
from mlsysim.book.limits import (
    MAX_EXPONENT,
    MAX_INT_BITS,
    MAX_MAGNITUDE,
    MAX_STRING,
    MAX_UNIT_EXPONENT,
    check_magnitude,
    checked,
)
from mlsysim.book.trace import Env, Trace, kind_of, unwrap
from mlsysim.core.exceptions import LimitError, MlsysimError, NapkinError

__all__ = ["OperatorRules", "is_numeric"]

_BINOPS: dict[type, tuple[Callable[[Any, Any], Any], str]] = {
    ast.Add: (operator.add, "+"),
    ast.Sub: (operator.sub, "-"),
    ast.Mult: (operator.mul, "*"),
    ast.Div: (operator.truediv, "/"),
    ast.FloorDiv: (operator.floordiv, "//"),
    ast.Mod: (operator.mod, "%"),
}
_FAST = ("+", "-", "*", "/")
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class OperatorRules(CompilerBase):
    """``c_<Node>`` rules for constants, operators, ``a if c else b`` and tuples/lists."""

    def c_Constant(self, node: ast.Constant) -> Run:
        value = node.value
        if type(value) not in (int, float, bool, str):
            raise self.refuse(node, f"a {type(value).__name__} constant")
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise LimitError(
                "string is too long",
                column=self.col(node),
                expression=self.prep.source,
                why=f"strings are limited to {MAX_STRING} characters",
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            check_magnitude(value, self.col(node), self.prep.source)
        return lambda env, tr: value

    def c_BinOp(self, node: ast.BinOp) -> Run:
        left, right = self.compile(node.left), self.compile(node.right)
        col, src = self.col(node.right), self.prep.source
        opcol = self.op_col(node.left)
        if isinstance(node.op, ast.Pow):

            def run_pow(env: Env, tr: Trace) -> Any:
                a, b = unwrap(left(env, tr)), unwrap(right(env, tr))
                return _power(a, b, opcol, src)

            return run_pow
        entry = _BINOPS.get(type(node.op))
        if entry is None:
            raise self.refuse(node, f"the operator {type(node.op).__name__}")
        op, sym = entry

        def run(env: Env, tr: Trace) -> Any:
            a, b = unwrap(left(env, tr)), unwrap(right(env, tr))
            if isinstance(a, str) or isinstance(b, str):
                raise NapkinError(
                    f"text cannot be used with '{sym}'",
                    column=opcol,
                    expression=src,
                    fix="arithmetic works on numbers and quantities",
                )
            try:
                out = binop(sym, a, b, op) if sym in _FAST else op(a, b)
            except ZeroDivisionError:
                raise NapkinError(
                    "division by zero",
                    column=col,
                    expression=src,
                    why="the divisor evaluates to zero",
                    fix="check the value of the divisor",
                ) from None
            except MlsysimError as exc:
                raise locate(exc, opcol, src) from None
            except Exception as exc:
                raise wrap_error(exc, opcol, src) from None
            return checked(out, opcol, src)

        return run

    def c_UnaryOp(self, node: ast.UnaryOp) -> Run:
        inner = self.compile(node.operand)
        col, src = self.col(node), self.prep.source
        if isinstance(node.op, ast.Not):
            return lambda env, tr: not _truth(unwrap(inner(env, tr)), col, src)
        if isinstance(node.op, ast.USub | ast.UAdd):
            neg = isinstance(node.op, ast.USub)

            def run(env: Env, tr: Trace) -> Any:
                v = unwrap(inner(env, tr))
                if isinstance(v, str) or not is_numeric(v):
                    raise NapkinError(f"cannot negate {kind_of(v)}", column=col, expression=src)
                return -v if neg else +v

            return run
        raise self.refuse(
            node,
            "the '~' operator",
            fix="claims use '~' only at the top level of a claim: `300 FLOP/B ~ ridge`",
        )

    def c_BoolOp(self, node: ast.BoolOp) -> Run:
        parts = [self.compile(v) for v in node.values]
        col, src = self.col(node), self.prep.source
        is_and = isinstance(node.op, ast.And)

        def run(env: Env, tr: Trace) -> Any:
            result: Any = None
            for p in parts:
                result = unwrap(p(env, tr))
                truth = _truth(result, col, src)
                if truth != is_and:
                    return result
            return result

        return run

    def c_Compare(self, node: ast.Compare) -> Run:
        first = self.compile(node.left)
        rest = []
        for op, comp in zip(node.ops, node.comparators, strict=True):
            fn = _CMPOPS.get(type(op))
            if fn is None:
                raise self.refuse(node, f"the comparison {type(op).__name__}")
            rest.append((fn, self.compile(comp)))
        col, src = self.col(node), self.prep.source

        def run(env: Env, tr: Trace) -> Any:
            a = unwrap(first(env, tr))
            for fn, comp in rest:
                b = unwrap(comp(env, tr))
                ok = attempt(compare, col, src, fn, a, b)
                if not _truth(ok, col, src):
                    return False
                a = b
            return True

        return run

    def c_IfExp(self, node: ast.IfExp) -> Run:
        test, body, orelse = (
            self.compile(node.test),
            self.compile(node.body),
            self.compile(node.orelse),
        )
        col, src = self.col(node), self.prep.source
        return lambda env, tr: (
            body(env, tr) if _truth(unwrap(test(env, tr)), col, src) else orelse(env, tr)
        )

    def c_Tuple(self, node: ast.Tuple) -> Run:
        items = [self.compile(e) for e in node.elts]
        return lambda env, tr: tuple(i(env, tr) for i in items)

    c_List = c_Tuple


def is_numeric(v: Any) -> bool:
    """True for an int, a float or a pint Quantity (not a bool)."""
    from mlsysim.core.units import ureg

    return (isinstance(v, int | float) and not isinstance(v, bool)) or isinstance(v, ureg.Quantity)


def _power(a: Any, b: Any, col: int, src: str) -> Any:
    from mlsysim.core.units import ureg

    if isinstance(b, ureg.Quantity):
        if not b.dimensionless:
            raise NapkinError(
                "an exponent must be a plain number",
                column=col,
                expression=src,
                why=f"the exponent has units ({b.units:~P})",
            )
        b = b.to("").magnitude
    if not is_numeric(a) or not isinstance(b, int | float) or isinstance(b, bool):
        raise NapkinError("'**' needs numbers", column=col, expression=src)
    limit = (
        MAX_UNIT_EXPONENT if isinstance(a, ureg.Quantity) and not a.dimensionless else MAX_EXPONENT
    )
    if abs(b) > limit:
        raise LimitError(
            f"exponent {b:g} is too large",
            column=col,
            expression=src,
            why=f"exponents are limited to ±{limit}",
            fix="use a smaller exponent or scientific notation (1e9)",
        )
    try:
        if isinstance(a, int) and isinstance(b, int) and b >= 0:
            if a.bit_length() * b > MAX_INT_BITS:
                raise OverflowError
            out = a**b
        elif isinstance(a, int | float):
            out = float(a) ** b
        else:
            out = a**b
    except ZeroDivisionError:
        raise NapkinError("zero raised to a negative power", column=col, expression=src) from None
    except OverflowError:
        raise LimitError(
            "result of '**' is too large",
            column=col,
            expression=src,
            why=f"magnitudes are limited to {MAX_MAGNITUDE:g}",
        ) from None
    if isinstance(out, complex):
        raise NapkinError(
            "a negative number raised to a fractional power",
            column=col,
            expression=src,
            why="the result would be complex",
        )
    return checked(out, col, src)


def _truth(value: Any, col: int, src: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    raise NapkinError(
        f"{kind_of(value)} cannot be used as true/false",
        column=col,
        expression=src,
        fix="compare it with something, e.g. `x > 1 ms`",
    )
