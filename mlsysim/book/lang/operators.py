"""Compiler rules for constants and operators: arithmetic, ``**``, comparisons, logic, lists.

Arithmetic takes numbers and quantities only (never text, lists, true/false values or registry
entries) and goes through :mod:`~mlsysim.book.lang.fastq` (pint's semantics, cached). Every
result is checked against the magnitude limit, ``**`` against the exponent limits before it
runs. Comparing quantities of different dimensions (``1 GB == 1 s``) is a DimensionError,
never a silent ``False``. Errors carry the column of the operator or the offending operand.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from mlsysim.book.lang.fastq import binop, compare, same_dimension
from mlsysim.book.lang.limits import (
    MAX_EXPONENT,
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_MAGNITUDE,
    MAX_STRING,
    MAX_UNIT_EXPONENT,
    check_magnitude,
    checked,
)
from mlsysim.book.lang.located import Compiling, Run, attempt, locate, wrap_error
from mlsysim.book.lang.values import Env, Trace, describe, unwrap
from mlsysim.core.exceptions import DimensionError, LimitError, MlsysimError, NapkinError

__all__ = ["RULES", "is_numeric"]

_BINOPS: dict[type, tuple[Callable[[Any, Any], Any], str]] = {
    ast.Add: (operator.add, "+"),
    ast.Sub: (operator.sub, "-"),
    ast.Mult: (operator.mul, "*"),
    ast.Div: (operator.truediv, "/"),
    ast.FloorDiv: (operator.floordiv, "//"),
}
_FAST = ("+", "-", "*", "/")
_CMPOPS: dict[type, tuple[Callable[[Any, Any], Any], str]] = {
    ast.Eq: (operator.eq, "=="),
    ast.NotEq: (operator.ne, "!="),
    ast.Lt: (operator.lt, "<"),
    ast.LtE: (operator.le, "<="),
    ast.Gt: (operator.gt, ">"),
    ast.GtE: (operator.ge, ">="),
}


_QUANTITY: list[Any] = []


def _quantity_class() -> Any:
    if not _QUANTITY:
        from mlsysim.core.units import ureg

        _QUANTITY.append(ureg.Quantity)
    return _QUANTITY[0]


def is_numeric(v: Any) -> bool:
    """True for an int, a float or a pint Quantity (not a bool)."""
    t = type(v)
    if t is float or t is int:
        return True
    if t is bool:
        return False
    return isinstance(v, int | float | _quantity_class())


def c_constant(c: Compiling, node: ast.Constant) -> Run:
    value = node.value
    if type(value) not in (int, float, bool, str):
        kind = "a complex number" if isinstance(value, complex) else "this constant"
        raise c.refuse(node, kind)
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise LimitError(
            "string is too long",
            column=c.col(node),
            expression=c.prep.source,
            why=f"strings are limited to {MAX_STRING} characters",
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        check_magnitude(value, c.col(node), c.prep.source)
    return lambda env, tr: value


def _operand_error(sym: str, value: Any, col: int, src: str) -> NapkinError:
    return NapkinError(
        f"{describe(value)} cannot be used with '{sym}'",
        column=col,
        expression=src,
        fix="arithmetic works on numbers and quantities",
    )


def c_binop(c: Compiling, node: ast.BinOp) -> Run:
    left, right = c.compile(node.left), c.compile(node.right)
    col, src = c.col(node.right), c.prep.source
    opcol = c.op_col(node.left)
    if isinstance(node.op, ast.Pow):

        def run_pow(env: Env, tr: Trace) -> Any:
            a, b = unwrap(left(env, tr)), unwrap(right(env, tr))
            return _power(a, b, opcol, src)

        return run_pow
    entry = _BINOPS.get(type(node.op))
    if entry is None:
        if isinstance(node.op, ast.Mod):
            raise c.refuse(node, "'%' as a remainder", "for a remainder use mod(a, b)")
        raise c.refuse(node, "this operator")
    op, sym = entry
    fast = sym in _FAST

    def run(env: Env, tr: Trace) -> Any:
        a, b = unwrap(left(env, tr)), unwrap(right(env, tr))
        if not is_numeric(a):
            raise _operand_error(sym, a, opcol, src)
        if not is_numeric(b):
            raise _operand_error(sym, b, opcol, src)
        try:
            out = binop(sym, a, b, op) if fast else op(a, b)
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


def c_unaryop(c: Compiling, node: ast.UnaryOp) -> Run:
    inner = c.compile(node.operand)
    col, src = c.col(node), c.prep.source
    if isinstance(node.op, ast.Not):
        return lambda env, tr: not _truth(unwrap(inner(env, tr)), col, src)
    if isinstance(node.op, ast.USub | ast.UAdd):
        neg = isinstance(node.op, ast.USub)

        def run(env: Env, tr: Trace) -> Any:
            v = unwrap(inner(env, tr))
            if not is_numeric(v):
                raise NapkinError(f"cannot negate {describe(v)}", column=col, expression=src)
            return -v if neg else +v

        return run
    raise c.refuse(
        node,
        "the '~' operator",
        fix="claims use '~' only at the top level of a claim: `300 FLOP/B ~ ridge`",
    )


def c_boolop(c: Compiling, node: ast.BoolOp) -> Run:
    parts = [c.compile(v) for v in node.values]
    col, src = c.col(node), c.prep.source
    is_and = isinstance(node.op, ast.And)

    def run(env: Env, tr: Trace) -> Any:
        result: Any = None
        for p in parts:
            result = unwrap(p(env, tr))
            if _truth(result, col, src) != is_and:
                return result
        return result

    return run


def c_compare(c: Compiling, node: ast.Compare) -> Run:
    first = c.compile(node.left)
    rest = []
    for op, comp in zip(node.ops, node.comparators, strict=True):
        entry = _CMPOPS.get(type(op))
        if entry is None:
            raise c.refuse(node, "this comparison", "compare with ==, !=, <, <=, > or >=")
        rest.append((entry, c.compile(comp)))
    col, src = c.col(node), c.prep.source

    def run(env: Env, tr: Trace) -> Any:
        a = unwrap(first(env, tr))
        for (fn, sym), comp in rest:
            b = unwrap(comp(env, tr))
            _comparable(a, b, sym, col, src)
            if not attempt(compare, col, src, fn, a, b):
                return False
            a = b
        return True

    return run


def _comparable(a: Any, b: Any, sym: str, col: int, src: str) -> None:
    """Refuse comparisons that would be silently false or meaningless."""
    from mlsysim.core.units import describe_dimension, fmt_quantity, ureg

    qa, qb = isinstance(a, ureg.Quantity), isinstance(b, ureg.Quantity)
    if qa and qb:
        if not same_dimension(a, b):
            err = DimensionError(
                "compare",
                fmt_quantity(a),
                describe_dimension(a),
                fmt_quantity(b),
                describe_dimension(b),
                fix="compare quantities of one dimension",
            )
            raise locate(err, col, src)
        return
    if qa or qb:
        q, other = (a, b) if qa else (b, a)
        if is_numeric(other) and q.dimensionless:
            return
        if is_numeric(other):
            err = DimensionError(
                "compare",
                fmt_quantity(q),
                describe_dimension(q),
                "a plain number",
                "dimensionless",
                fix="give the number its unit, e.g. `x > 1 ms`",
            )
            raise locate(err, col, src)
    elif is_numeric(a) and is_numeric(b):
        return
    elif isinstance(a, str) and isinstance(b, str):
        if sym in ("==", "!="):
            return
    elif isinstance(a, bool) and isinstance(b, bool) and sym in ("==", "!="):
        return
    raise NapkinError(
        f"cannot compare {describe(a)} with {describe(b)} using '{sym}'",
        column=col,
        expression=src,
        fix="compare numbers or quantities of one dimension (text only with == or !=)",
    )


def c_ifexp(c: Compiling, node: ast.IfExp) -> Run:
    test, body, orelse = c.compile(node.test), c.compile(node.body), c.compile(node.orelse)
    col, src = c.col(node), c.prep.source
    return lambda env, tr: (
        body(env, tr) if _truth(unwrap(test(env, tr)), col, src) else orelse(env, tr)
    )


def c_tuple(c: Compiling, node: ast.Tuple | ast.List) -> Run:
    if len(node.elts) > MAX_ITEMS:
        raise LimitError(
            "the list is too long",
            column=c.col(node),
            expression=c.prep.source,
            why=f"lists hold at most {MAX_ITEMS} values",
        )
    items = [c.compile(e) for e in node.elts]
    return lambda env, tr: tuple(unwrap(i(env, tr)) for i in items)


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
    dimensioned = isinstance(a, ureg.Quantity) and not a.dimensionless
    limit = MAX_UNIT_EXPONENT if dimensioned else MAX_EXPONENT
    if abs(b) > limit:
        raise LimitError(
            f"exponent {b:g} is too large",
            column=col,
            expression=src,
            why=f"exponents are limited to ±{limit}" + (" for quantities" if dimensioned else ""),
            fix="use a smaller exponent or scientific notation (1e9)",
        )
    if dimensioned and float(b) * 2 != int(float(b) * 2):
        raise NapkinError(
            f"a quantity's exponent must be whole or a half, got {b:g}",
            column=col,
            expression=src,
            why="its unit would have a fractional power",
            fix="raise plain numbers to fractional powers: divide by the unit first",
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
        f"{describe(value)} cannot be used as true/false",
        column=col,
        expression=src,
        fix="compare it with something, e.g. `x > 1 ms`",
    )


#: AST node type -> compiler rule.
RULES: dict[type, Callable[[Any, Any], Run]] = {
    ast.Constant: c_constant,
    ast.BinOp: c_binop,
    ast.UnaryOp: c_unaryop,
    ast.BoolOp: c_boolop,
    ast.Compare: c_compare,
    ast.IfExp: c_ifexp,
    ast.Tuple: c_tuple,
    ast.List: c_tuple,
}
