"""The budget every napkin evaluation runs under: sizes checked before costly operations run.

An expression is at most :data:`MAX_SOURCE_CHARS` characters and :data:`MAX_NODES` AST nodes
nested :data:`MAX_DEPTH` deep, and it has no loops, recursion or user functions, so it runs at
most that many steps. What a step may cost is bounded too: every intermediate magnitude
(:data:`MAX_MAGNITUDE`), exact integer (:data:`MAX_INT_BITS`), string (:data:`MAX_STRING`) and
list (:data:`MAX_ITEMS`) is checked, exponents are checked before ``**`` runs, and calls into
the model are charged to a per-evaluation step budget (:data:`MAX_STEPS`, see
:meth:`~mlsysim.book.lang.values.Trace.charge`). A breach raises
:class:`~mlsysim.core.exceptions.LimitError` saying which limit and how to stay inside it.

>>> check_magnitude(1e12, 0, "1e12")
"""

from __future__ import annotations

import ast
import math
from typing import Any

from mlsysim.book.lang.literals import MAX_SOURCE_CHARS
from mlsysim.core.exceptions import LimitError, NapkinError

__all__ = [
    "MAX_ARGS",
    "MAX_COUNT",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "MAX_MAGNITUDE",
    "MAX_NODES",
    "MAX_ROUND_DIGITS",
    "MAX_SOURCE_CHARS",
    "MAX_STEPS",
    "MAX_STRING",
    "MAX_UNIT_EXPONENT",
    "check_magnitude",
    "check_size",
    "checked",
]

#: AST size limits: node count and nesting depth of one expression.
MAX_NODES = 400
MAX_DEPTH = 40
#: Largest |exponent| of ``**`` (numbers); quantities with units allow :data:`MAX_UNIT_EXPONENT`.
MAX_EXPONENT = 1000
MAX_UNIT_EXPONENT = 12
#: Largest |magnitude| of any intermediate value.
MAX_MAGNITUDE = 1e300
#: Most bits of an exact integer (an integer ``**`` is refused before it grows past this).
MAX_INT_BITS = 1000
#: Longest string constant (characters).
MAX_STRING = 200
#: Most values in a list or tuple.
MAX_ITEMS = 64
#: Most positional plus keyword arguments in one call.
MAX_ARGS = 24
#: Largest whole-number count (GPUs, servers, layers…) passed to the model.
MAX_COUNT = 10**9
#: Most decimal places ``round()`` keeps or drops.
MAX_ROUND_DIGITS = 15
#: Steps one evaluation may take: every call into the model is charged (a formula 10, a
#: solve 100); the AST-node bound keeps everything else far below this.
MAX_STEPS = 5000


def check_size(node: ast.AST, text: str) -> None:
    """Refuse an expression with more than :data:`MAX_NODES` nodes or :data:`MAX_DEPTH` depth."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(node, 1)]
    while stack:
        cur, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            what = "too many parts" if count > MAX_NODES else "nested too deeply"
            raise LimitError(
                f"expression has {what}",
                column=0,
                expression=text,
                why=f"limits are {MAX_NODES} nodes and depth {MAX_DEPTH}",
                fix="split it into named steps in a napkin block",
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(cur))


def check_magnitude(x: Any, col: int, src: str) -> None:
    """Refuse a number beyond :data:`MAX_MAGNITUDE`, or a float that is NaN or infinite."""
    if isinstance(x, bool):
        return
    if isinstance(x, int):
        if x.bit_length() > MAX_INT_BITS or abs(x) > MAX_MAGNITUDE:
            raise _too_large(col, src)
        return
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            raise NapkinError(
                "result is not a finite number",
                column=col,
                expression=src,
                why="an operation overflowed or was undefined",
                fix="check for division by a tiny value or a log of zero",
            )
        if abs(x) > MAX_MAGNITUDE:
            raise _too_large(col, src)


def checked(out: Any, col: int, src: str) -> Any:
    """``out`` (a number or quantity) after :func:`check_magnitude` of its magnitude."""
    mag = getattr(out, "_magnitude", out)
    if isinstance(mag, int | float):
        check_magnitude(mag, col, src)
    return out


def _too_large(col: int, src: str) -> LimitError:
    return LimitError(
        "number is too large",
        column=col,
        expression=src,
        why=f"magnitudes are limited to {MAX_MAGNITUDE:g}",
    )
