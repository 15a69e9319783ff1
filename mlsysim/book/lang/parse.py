"""Parse one napkin expression with :mod:`ast`, columns kept in the author's text.

:func:`parse_expression` runs the literal pre-pass (:mod:`~mlsysim.book.lang.literals`), parses
the result as a Python expression and checks its size (:func:`~mlsysim.book.lang.limits.
check_size`). Syntax errors carry the 0-based column in the text the author wrote.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from mlsysim.book.lang.limits import check_size
from mlsysim.book.lang.literals import Prepared, prepare
from mlsysim.core.exceptions import LimitError, NapkinSyntaxError

__all__ = ["parse_expression"]


def parse_expression(text: str) -> tuple[ast.expr, Prepared]:
    """Parse one napkin expression (no ``->``) into an AST; errors carry the column."""
    return _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> tuple[ast.expr, Prepared]:
    prep = prepare(text)
    code = prep.code.strip()
    if not code:
        raise NapkinSyntaxError(
            "empty expression",
            column=0,
            expression=text,
            fix="write a value, a name or a formula call",
        )
    lead = len(prep.code) - len(prep.code.lstrip())
    try:
        tree = ast.parse("(" + prep.code.lstrip() + "\n)", mode="eval")
    except SyntaxError as exc:
        if "too many nested" in (exc.msg or "") or "too complex" in (exc.msg or ""):
            raise LimitError(
                "expression is nested too deeply",
                column=0,
                expression=text,
                why=exc.msg,
                fix="split it into named steps in a napkin block",
            ) from None
        col = _syntax_column(exc, prep.code, lead)
        raise NapkinSyntaxError(
            "invalid napkin syntax",
            column=col,
            expression=text,
            why=_syntax_why(exc, text, col),
            fix="napkin expressions use Python syntax with units after numbers, e.g. "
            "`80 GB / 3.35 TB/s -> ms`",
        ) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise LimitError(
            "expression is nested too deeply or too large",
            column=0,
            expression=text,
            why="it does not fit the parser's limits" if str(exc) else "",
            fix="split it into named steps in a napkin block",
        ) from None
    # Undo the '(' we added so columns line up with `prep.code`: shift line-1 columns by lead-1.
    _shift_columns(tree.body, lead - 1)
    check_size(tree.body, text)
    return tree.body, prep


def _syntax_why(exc: SyntaxError, text: str, col: int) -> str:
    message = (exc.msg or "cannot parse").split(" (", 1)[0]
    if "Maybe you meant" in message:
        message = message.split(". Maybe", 1)[0]
    near = text[col : col + 12]
    return message + (f" at {near!r}" if near.strip() else "")


def _syntax_column(exc: SyntaxError, code: str, lead: int) -> int:
    lines = code.lstrip().split("\n")
    lineno = max((exc.lineno or 1), 1)
    offset = max((exc.offset or 1) - 1, 0)
    if lineno == 1:
        offset = max(offset - 1, 0)  # the added '('
        before = lead
    else:
        before = len(code) - len(code.lstrip()) + sum(len(x) + 1 for x in lines[: lineno - 1])
    line_text = lines[min(lineno, len(lines)) - 1] if lines else ""
    # exc.offset counts characters (1-based) in CPython for str input
    return min(before + min(offset, len(line_text)), max(len(code) - 1, 0))


def _shift_columns(node: ast.AST, delta: int) -> None:
    for sub in ast.walk(node):
        if getattr(sub, "lineno", None) == 1 and hasattr(sub, "col_offset"):
            sub.col_offset += delta
            end = getattr(sub, "end_lineno", None)
            if end == 1 and sub.end_col_offset is not None:  # type: ignore[attr-defined]
                sub.end_col_offset += delta  # type: ignore[attr-defined]
