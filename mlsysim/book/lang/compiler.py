"""The whitelist compiler: from :mod:`ast` to closures, nothing ever passed to ``eval``/``exec``.

An expression is parsed once (cached by its text) and *compiled*: every AST node is checked
against the whitelist and turned into a small Python closure, so re-evaluating the same text
costs a few function calls. The rules live in :mod:`~mlsysim.book.lang.operators` (constants,
arithmetic, comparisons, logic, lists) and :mod:`~mlsysim.book.lang.access` (names, fields,
subscripts, calls); a node type with no rule, or a construct in :data:`REFUSED`, raises
:class:`~mlsysim.core.exceptions.NapkinSyntaxError` at the node's column.

Refused: lambdas, comprehensions, f-strings, sets, dicts, slices, starred arguments, walrus,
``_`` names — anything but the small safe subset.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlsysim.book.lang import access, operators
from mlsysim.book.lang.literals import Literal, Prepared
from mlsysim.book.lang.located import Run
from mlsysim.book.lang.parse import parse_expression
from mlsysim.core.exceptions import NapkinSyntaxError

__all__ = ["REFUSED", "Compiled", "compile_expression", "sig_digits"]

#: Constructs refused outright, with how a message names them.
REFUSED = {
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

_RULES: dict[type, Any] = {**operators.RULES, **access.RULES}


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


class _Compiler:
    """Dispatch to the rules, and the source positions every refusal and error carries."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self._lines = prep.code.split("\n")
        self._starts = [0]
        for ln in self._lines[:-1]:
            self._starts.append(self._starts[-1] + len(ln) + 1)
        self._ascii = prep.code.isascii()

    def compile(self, node: ast.AST) -> Run:
        """The closure of ``node``; raises NapkinSyntaxError for anything off the whitelist."""
        refused = REFUSED.get(type(node))
        if refused is not None:
            raise self.refuse(node, refused)
        rule = _RULES.get(type(node))
        if rule is None:
            raise self.refuse(node, "this construct")
        fn: Run = rule(self, node)
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

    # -- locations ----------------------------------------------------------------------
    def col(self, node: ast.AST) -> int:
        """0-based character offset of ``node`` in the expression text."""
        return self._offset(max(getattr(node, "lineno", 1), 1), getattr(node, "col_offset", 0))

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
        if getattr(node, "end_col_offset", None) is None:
            return self.col(node)
        return self.end_col(node) - len(node.attr)

    def segment(self, node: ast.AST) -> str:
        """The author's own text of ``node`` (literals as written, never placeholders)."""
        return self.prep.source[self.col(node) : self.end_col(node)]

    def literal(self, node: ast.Name) -> Literal | None:
        """The quantity literal (``3.35 TB/s``) the pre-pass replaced by ``node``, if any."""
        return self.prep.literals.get((node.lineno, node.col_offset))

    def _offset(self, lineno: int, byte_col: int) -> int:
        """Character offset in the whole text of a (1-based line, UTF-8 byte column) position."""
        idx = min(lineno, len(self._lines)) - 1
        if self._ascii:
            return self._starts[idx] + min(byte_col, len(self._lines[idx]))
        line = self._lines[idx].encode("utf-8")
        return self._starts[idx] + len(line[:byte_col].decode("utf-8", "ignore"))

    def literal_digits(self, node: ast.expr) -> int | None:
        """Significant digits as written when ``node`` is a literal number or quantity."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            node = node.operand
        if isinstance(node, ast.Name):
            lit = self.literal(node)
            return sig_digits(lit.number) if lit else None
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            seg = self.segment(node)
            return sig_digits(seg) if seg else None
        return None


def sig_digits(number: str) -> int:
    """Significant digits of a number as written (``3.0`` → 2, ``300`` → 3, ``1e9`` → 1)."""
    mant = number.replace("_", "").lstrip("+-").split("e")[0].split("E")[0]
    digits = mant.replace(".", "").lstrip("0")
    return max(len(digits), 1)


def compile_expression(text: str) -> Compiled:
    """Parse and compile ``text`` (no ``->``); cached by text. Raises NapkinSyntaxError."""
    return _compile_cached(text)


@lru_cache(maxsize=4096)
def _compile_cached(text: str) -> Compiled:
    node, prep = parse_expression(text)
    if isinstance(node, ast.Tuple | ast.List) and node.elts and isinstance(node, ast.Tuple):
        # `1,979 TFLOP/s` is a tuple in Python syntax: say so instead of a puzzling result
        comp = _Compiler(prep)
        raise NapkinSyntaxError(
            "a top-level comma makes this a tuple, not one value",
            why="commas separate items in napkin expressions; they are not thousands separators",
            fix="write the number without separators (1979) or with underscores (1_979)",
            column=comp.end_col(node.elts[0]),
            expression=text,
        )
    comp = _Compiler(prep)
    fn = comp.compile(node)
    return Compiled(text, fn, comp.literal_digits(node), node, prep)
