"""The napkin evaluator: a whitelist compiler from :mod:`ast` to closures, with resource limits.

An expression is parsed once (cached by its text) and *compiled*: every AST node is checked
against the whitelist and turned into a small Python closure, so re-evaluating the same text
costs a few function calls. Nothing is ever passed to ``eval``/``exec``.

Allowed: numbers, strings (short), booleans, quantity literals, names, ``+ - * / // % **``,
unary ``- + not``, comparisons, ``and``/``or``, ``a if c else b``, tuples/lists, attribute
access on registry entries, formula results and quantities (``magnitude`` only), subscripts on
registry tables and results, and calls to whitelisted callables (formulas, math helpers,
``solve``, registry methods such as ``peak_flops``) with keyword arguments. Everything else —
lambdas, comprehensions, f-strings, starred arguments, walrus, ``_`` names — is refused with
the column of the offending construct.

Limits (:class:`~mlsysim.core.exceptions.LimitError`): expression length, AST size and depth,
exponents, magnitudes and string length, each checked before the costly operation runs.

The parts: :mod:`~mlsysim.book.limits` (the limits), :mod:`~mlsysim.book.compiler` (dispatch,
refusals, columns), :mod:`~mlsysim.book.operators` and :mod:`~mlsysim.book.access` (the rules)
and :mod:`~mlsysim.book.trace` (provenance). This module puts them together.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from mlsysim.book.access import AccessRules
from mlsysim.book.compiler import Run
from mlsysim.book.lang import Prepared, parse_expression
from mlsysim.book.limits import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_MAGNITUDE,
    MAX_NODES,
    MAX_STRING,
    check_size,
)
from mlsysim.book.operators import OperatorRules
from mlsysim.book.trace import Fn, Method, Trace, View, unwrap
from mlsysim.core.exceptions import NapkinSyntaxError

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_MAGNITUDE",
    "MAX_NODES",
    "MAX_STRING",
    "Compiled",
    "Fn",
    "Method",
    "Trace",
    "View",
    "compile_expression",
    "unwrap",
]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A checked, compiled expression: call ``run(env, trace)`` to evaluate it.

    ``digits`` is the number of significant digits as written when the whole expression is a
    literal number or quantity (``3.0 ms`` → 2), else None.
    """

    source: str
    run: Run
    digits: int | None
    node: ast.expr
    prepared: Prepared


def compile_expression(text: str) -> Compiled:
    """Parse and compile ``text`` (no ``->``); cached by text. Raises NapkinSyntaxError."""
    return _compile_cached(text)


class _Compiler(OperatorRules, AccessRules):
    """All the rules: operators and constants, names, attributes, subscripts and calls."""


@lru_cache(maxsize=4096)
def _compile_cached(text: str) -> Compiled:
    node, prep = parse_expression(text)
    check_size(node, text)
    if isinstance(node, ast.Tuple | ast.List) and node.elts:
        # `1,979 TFLOP/s` is a tuple in Python syntax: say so instead of a puzzling result
        raise NapkinSyntaxError(
            "a top-level comma makes this a tuple, not one value",
            why="commas separate items in napkin expressions; they are not thousands separators",
            fix="write the number without separators (1979) or with underscores (1_979)",
            column=getattr(node.elts[0], "end_col_offset", None),
            expression=text,
        )
    comp = _Compiler(prep)
    fn = comp.compile(node)
    return Compiled(text, fn, comp.literal_digits(node), node, prep)
