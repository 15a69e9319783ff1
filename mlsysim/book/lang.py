"""The napkin language's surface syntax: quantity literals, ``->``, claims and statements.

Napkin expressions are Python expression syntax plus three additions, all handled here before
:mod:`ast` sees the text:

* **quantity literals** — a number directly followed by a unit (``3.35 TB/s``, ``80GB``,
  ``57 gCO2e/kWh``) is one atom. Python never allows a number followed by a name, so the rule is
  unambiguous. A unit is unit names joined by ``/``, ``*`` or ``·`` *without spaces*, each with
  an optional exponent (``m**2``, ``s^2``). Each literal's span is replaced by a placeholder
  name of the same length made of underscores (authors cannot write ``_`` names), so the
  columns :mod:`ast` reports still point into the author's text.
* **conversion** — ``expr -> unit``: the rightmost top-level ``->`` (outside brackets and
  strings) splits the expression from its display unit (``ms``, ``TB/s``, ``%``, ``×``).
* **claims** — ``stated ~ expr [@ tolerance]``: the author's figure, the formula it is bound
  to and an optional tolerance (``10%`` relative, ``0.5 ms`` absolute).

Columns in this module are 0-based character offsets into the text given.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass, field
from functools import lru_cache

from mlsysim.core.exceptions import LimitError, NapkinSyntaxError

__all__ = [
    "MAX_SOURCE_CHARS",
    "Literal",
    "Prepared",
    "Statement",
    "is_unit",
    "parse_expression",
    "prepare",
    "split_claim",
    "split_conversion",
    "split_statements",
    "unit_names",
]

#: Longest expression text accepted (characters); longer input fails with LimitError.
MAX_SOURCE_CHARS = 4000

_NUMBER = r"(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_UNIT_ATOM = r"[A-Za-zµμ][A-Za-z0-9µμ_]*(?:(?:\*\*|\^)-?\d+)?"
_UNIT = rf"{_UNIT_ATOM}(?:[/*·]{_UNIT_ATOM})*"
_LITERAL_RE = re.compile(
    rf"(?<![\w.])(?P<num>{_NUMBER})(?![eE][+-]?\d)(?P<gap>[ \t]*)(?P<unit>{_UNIT})"
)
_NAME_RE = re.compile(r"(?<![\w.])[^\W\d]\w*")
_STRING_RE = re.compile(r"""("|')(?:\\.|(?!\1).)*?\1""", re.S)
_OPEN, _CLOSE = "([{", ")]}"


@dataclass(frozen=True, slots=True)
class Literal:
    """A quantity literal as written: ``number`` and ``unit`` text, span in the expression."""

    number: str
    unit: str
    start: int
    end: int

    @property
    def text(self) -> str:
        return f"{self.number} {self.unit}"


@dataclass(frozen=True, slots=True)
class Prepared:
    """An expression ready for :mod:`ast`: literals replaced by placeholders of equal length.

    ``literals`` maps a placeholder's (line, byte column) — as :mod:`ast` reports it — to the
    literal it stands for.
    """

    source: str
    code: str
    literals: dict[tuple[int, int], Literal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a napkin block: its text, 0-based line offset and start column."""

    text: str
    line: int
    column: int


def _mask_strings(text: str) -> str:
    """``text`` with string literal contents replaced by spaces (quotes kept)."""
    return _STRING_RE.sub(lambda m: m[1] + " " * (len(m[0]) - 2) + m[1], text)


def _top_level(text: str) -> list[tuple[int, int]]:
    """(index, depth) for every character outside strings; raises on unbalanced brackets."""
    masked = _mask_strings(text)
    depth = 0
    out: list[tuple[int, int]] = []
    for i, ch in enumerate(masked):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        out.append((i, depth))
    return out


def split_conversion(text: str) -> tuple[str, str | None, int | None]:
    """Split ``expr -> unit`` at the rightmost top-level ``->``; returns (expr, unit, column)."""
    masked = _mask_strings(text)
    depth = 0
    found = -1
    for i, ch in enumerate(masked):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif ch == "-" and depth == 0 and masked.startswith("->", i):
            found = i
    if found < 0:
        return text, None, None
    unit = text[found + 2 :].strip()
    if not unit:
        raise NapkinSyntaxError(
            "nothing after '->'",
            column=found,
            expression=text,
            fix="write the unit to convert to, e.g. `expr -> ms`",
        )
    return (
        text[:found],
        unit,
        found + 2 + (len(text[found + 2 :]) - len(text[found + 2 :].lstrip())),
    )


def split_claim(text: str) -> tuple[str, str, str | None, int, int | None] | None:
    """``stated ~ expr [@ tol]`` → (stated, expr, tol, expr column, tol column), else None."""
    masked = _mask_strings(text)
    depth = 0
    tilde = at = -1
    for i, ch in enumerate(masked):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0 and ch == "~" and tilde < 0 and masked[:i].strip():
            tilde = i
        elif depth == 0 and ch == "@" and tilde >= 0:
            at = i
    if tilde < 0:
        return None
    end = at if at >= 0 else len(text)
    expr = text[tilde + 1 : end]
    tol = text[at + 1 :].strip() if at >= 0 else None
    lead = len(expr) - len(expr.lstrip())
    return text[:tilde].strip(), expr, tol, tilde + 1 + lead, (at + 1 if at >= 0 else None)


def _check_names(text: str, masked: str) -> None:
    for m in _NAME_RE.finditer(masked):
        if m[0].startswith("_"):
            raise NapkinSyntaxError(
                f"names starting with '_' are not allowed ({m[0]!r})",
                column=m.start(),
                expression=text,
                why="private names and attributes are outside the napkin language",
                fix="use the public field or formula name",
            )


def prepare(text: str) -> Prepared:
    """Replace quantity literals by same-length placeholders and reject ``_`` names."""
    if len(text) > MAX_SOURCE_CHARS:
        raise LimitError(
            f"expression is too long ({len(text)} characters)",
            expression=text[:80],
            column=0,
            why=f"the limit is {MAX_SOURCE_CHARS} characters",
            fix="split the computation into named steps in a napkin block",
        )
    masked = _mask_strings(text)
    _check_names(text, masked)
    pieces: list[str] = []
    literals: dict[tuple[int, int], Literal] = {}
    last = 0
    for m in _LITERAL_RE.finditer(masked):
        head = re.match(r"[^\W\d]\w*", m["unit"])
        if head and keyword.iskeyword(head[0]):
            continue  # `3 if x else y`, `2 and x`: a keyword, not a unit
        unit = _longest_unit(m["unit"], text, m.start("unit"))
        end = m.start("unit") + len(unit)
        pieces.append(text[last : m.start()])
        span = end - m.start()
        pieces.append("_" * span)
        before = "".join(pieces[:-1])
        line = before.count("\n") + 1
        line_start = before.rfind("\n") + 1
        byte_col = len(before[line_start:].encode("utf-8"))
        literals[(line, byte_col)] = Literal(m["num"], unit, m.start(), end)
        last = end
    pieces.append(text[last:])
    return Prepared(text, "".join(pieces), literals)


def _longest_unit(unit: str, text: str, column: int) -> str:
    """The longest prefix of ``unit`` (cut at ``/``, ``*`` or ``·``) that is a known unit."""
    cuts = [i for i, ch in enumerate(unit) if ch in "/*·" and unit[i : i + 2] != "**"]
    for end in [len(unit), *reversed(cuts)]:
        if is_unit(unit[:end]):
            return unit[:end]
    first = re.match(r"[^\W\d]\w*", unit)
    bad = first[0] if first else unit
    from mlsysim.core.exceptions import suggest

    hint = suggest(bad, unit_names())
    raise NapkinSyntaxError(
        f"unknown unit {bad!r}" + (f"; did you mean {', '.join(hint)}?" if hint else ""),
        column=column,
        expression=text,
        why="a number followed by a name is read as a quantity, and this name is not a unit",
        fix="use a unit such as GB, TB/s, ms, W or FLOP, or put an operator between the number "
        "and the name",
    )


@lru_cache(maxsize=1024)
def is_unit(text: str) -> bool:
    """Whether ``text`` parses as a unit of the mlsysim registry."""
    from mlsysim.core.units import ureg

    try:
        ureg.parse_units(text.replace("^", "**").replace("·", "*"))
    except Exception:
        return False
    return True


def unit_names() -> list[str]:
    """Every unit name and symbol defined (no prefixed forms), for did-you-mean."""
    from mlsysim.core.units import ureg

    return sorted(
        set(ureg._units)
        | {
            "GB",
            "TB",
            "MB",
            "kB",
            "ms",
            "us",
            "ns",
            "kWh",
            "GFLOP",
            "TFLOP",
            "PFLOP",
            "TB/s",
            "GB/s",
        }
    )


def parse_expression(text: str) -> tuple[ast.expr, Prepared]:
    """Parse one napkin expression (no ``->``) into an AST; syntax errors carry the column."""
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
            why=(exc.msg or "cannot parse")
            + (f" at {text[col : col + 12]!r}" if col < len(text) else ""),
            fix="napkin expressions use Python syntax with units after numbers, e.g. "
            "`80 GB / 3.35 TB/s -> ms`",
        ) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise LimitError(
            "expression is nested too deeply or too large",
            column=0,
            expression=text,
            why=str(exc) or type(exc).__name__,
            fix="split it into named steps in a napkin block",
        ) from None
    # Undo the '(' we added so columns line up with `prep.code`: shift line-1 columns by lead-1.
    _shift_columns(tree.body, lead - 1)
    return tree.body, prep


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


def split_statements(text: str) -> list[Statement]:
    """Split a napkin block into statements: one per line unless brackets continue it.

    ``#`` comments (outside strings) are blanked; blank lines are skipped. A trailing ``\\``
    also continues a statement. Lines and columns are 0-based within ``text``.
    """
    out: list[Statement] = []
    lines = text.split("\n")
    buf: list[str] = []
    start_line = start_col = 0
    depth = 0
    for i, raw in enumerate(lines):
        line = _strip_comment(raw)
        if not buf:
            if not line.strip():
                continue
            start_line, start_col = i, len(line) - len(line.lstrip())
            line = line[start_col:]
        buf.append(line)
        masked = _mask_strings(line)
        depth += sum(masked.count(c) for c in _OPEN) - sum(masked.count(c) for c in _CLOSE)
        if depth > 0 or line.rstrip().endswith("\\"):
            if line.rstrip().endswith("\\"):
                buf[-1] = line.rstrip()[:-1]
            continue
        out.append(Statement("\n".join(buf).rstrip(), start_line, start_col))
        buf, depth = [], 0
    if buf:
        out.append(Statement("\n".join(buf).rstrip(), start_line, start_col))
    return out


def _strip_comment(line: str) -> str:
    masked = _mask_strings(line)
    idx = masked.find("#")
    return line if idx < 0 else line[:idx]
