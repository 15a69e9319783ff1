"""Quantity and percent literals: the one addition to Python's tokens, found in a linear pass.

A number directly followed by a unit is one atom: ``3.35 TB/s``, ``80GB``, ``57 gCO2e/kWh``
(Python never allows a number followed by a name, so the rule is unambiguous). A unit is unit
names joined by ``/``, ``*`` or ``·`` *without spaces*, each with an optional integer exponent
(``m**2``, ``s^-1``); the longest prefix that names known units is taken, so ``80 GB/bw`` is
``80 GB`` divided by ``bw``. ``%`` has one meaning: right after a number it is *percent*
(``40%`` is 0.4); anywhere else it is an error with a hint (a remainder is ``mod(a, b)``).

Each literal's span is replaced by a placeholder name of the same length made of underscores
(authors cannot write ``_`` names), and line breaks by spaces (an item may be wrapped across
lines, ``500`` on one and ``FLOP/B`` on the next), so the offsets :mod:`ast` reports are
offsets into the author's text; failures map them back to lines.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field

from mlsysim.book.lang.lexer import is_ident_char, is_ident_start, mask_strings
from mlsysim.core.exceptions import LimitError, NapkinSyntaxError, UnknownNameError
from mlsysim.core.unit_text import UnitText, is_name_start, read_number, read_unit

__all__ = ["MAX_SOURCE_CHARS", "Literal", "Prepared", "prepare"]

#: Longest expression text accepted (characters); longer input fails with LimitError.
MAX_SOURCE_CHARS = 4000

_PERCENT_HINT = (
    "'%' means percent in napkin math (40% is 0.4): write it right after a number; "
    "for a remainder use mod(a, b)"
)


@dataclass(frozen=True, slots=True)
class Literal:
    """A quantity literal as written: ``number`` and ``unit`` text, span in the expression."""

    number: str
    unit: str
    start: int
    end: int
    factors: tuple[tuple[str, int], ...] = ()

    @property
    def text(self) -> str:
        return f"{self.number} {self.unit}"


@dataclass(frozen=True, slots=True)
class Prepared:
    """An expression ready for :mod:`ast`: literals replaced by placeholders of equal length.

    ``literals`` maps a placeholder's (line, UTF-8 byte column) — as :mod:`ast` reports it —
    to the literal it stands for.
    """

    source: str
    code: str
    literals: dict[tuple[int, int], Literal] = field(default_factory=dict)


def _percent_error(text: str, column: int) -> NapkinSyntaxError:
    return NapkinSyntaxError(
        "'%' is percent, not a remainder",
        column=column,
        expression=text,
        why="in napkin math 40% is 0.4 (a percent written right after its number)",
        fix=_PERCENT_HINT,
    )


def _operand_follows(masked: str, i: int) -> bool:
    """Whether an operand (not an operator) starts at the first non-space after ``i``."""
    n = len(masked)
    while i < n and masked[i] in " \t":
        i += 1
    if i >= n:
        return False
    ch = masked[i]
    return ch.isalnum() or ch in "_(.'\"["


def _known_prefix(unit: UnitText) -> int:
    """How many leading factors of ``unit`` are known units (0 when the first is not)."""
    from mlsysim.core.units import unit_name

    for k, (name, _) in enumerate(unit.factors):
        if unit_name(name) is None:
            return k
    return len(unit.factors)


def _after_dot(masked: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and masked[j] in " \t\n":
        j -= 1
    return j >= 0 and masked[j] == "."


def _separators(masked: str, start: int, end: int) -> list[int]:
    """Positions of the separators between the factors of the unit in ``masked[start:end]``."""
    cuts: list[int] = []
    i = start
    while i < end:
        c = masked[i]
        if c == "*" and masked.startswith("**", i):
            i += 2
            continue
        if c in "/*·":
            cuts.append(i)
        i += 1
    return cuts


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
    masked = mask_strings(text)
    pieces: list[str] = []
    spans: list[tuple[int, Literal]] = []
    last = 0
    i, n = 0, len(masked)
    while i < n:
        ch = masked[i]
        if is_ident_start(ch):
            j = i + 1
            while j < n and is_ident_char(masked[j]):
                j += 1
            if ch == "_" and not _after_dot(masked, i):  # attributes: the compiler refuses them
                raise NapkinSyntaxError(
                    f"names starting with '_' are not allowed ({text[i:j]!r})",
                    column=i,
                    expression=text,
                    why="private names and attributes are outside the napkin language",
                    fix="use the public field or formula name",
                )
            i = j
            continue
        if ch == "%":
            raise _percent_error(text, i)
        starts_number = ch.isdigit() or (ch == "." and i + 1 < n and masked[i + 1].isdigit())
        if not starts_number or (i > 0 and (is_ident_char(masked[i - 1]) or masked[i - 1] == ".")):
            i += 1
            continue
        number = read_number(masked, i)
        if number is None:
            i += 1
            continue
        k = number.end
        while k < n and masked[k] in " \t\n":
            k += 1
        literal = _literal_at(text, masked, i, number.text, k)
        if literal is None:
            i = number.end
            continue
        pieces.append(text[last:i])
        pieces.append("_" * (literal.end - i))
        spans.append((i, literal))
        last = i = literal.end
    pieces.append(text[last:])
    # one line for ast: columns are then offsets into the author's text, which has the lines
    code = "".join(pieces).replace("\n", " ").replace("\r", " ")
    return Prepared(text, code, _positions(code, spans))


def _literal_at(text: str, masked: str, start: int, number: str, k: int) -> Literal | None:
    """The literal whose number is at ``start`` and unit at ``k``, or None (a bare number)."""
    n = len(masked)
    if k < n and masked[k] == "%":
        if _operand_follows(masked, k + 1):
            raise _percent_error(text, k)
        return Literal(number, "%", start, k + 1, (("percent", 1),))
    if k >= n or not is_name_start(masked[k]):
        return None
    head = k
    while head < n and is_ident_char(masked[head]):
        head += 1
    if keyword.iskeyword(masked[k:head]):
        return None  # `3 if x else y`, `2 and x`: a keyword, not a unit
    try:
        got = read_unit(masked, k)
    except NapkinSyntaxError as exc:
        raise NapkinSyntaxError(
            exc.what, column=exc.column, expression=text, why=exc.why, fix=exc.fix
        ) from None
    if got is None:
        return None
    unit, end = got
    known = _known_prefix(unit)
    if known == 0:
        from mlsysim.core.units import unit_of

        try:
            unit_of(UnitText(unit.factors[:1]), masked[k:head])
        except UnknownNameError as exc:
            hint = f"; did you mean {', '.join(exc.suggestions)}?" if exc.suggestions else ""
            raise NapkinSyntaxError(
                f"unknown unit {masked[k:head]!r}{hint}",
                column=k,
                expression=text,
                why="a number followed by a name is read as a quantity, and this name is "
                "not a unit",
                fix="use a unit such as GB, TB/s, ms, W or FLOP, or put an operator between "
                "the number and the name",
            ) from None
    if known < len(unit.factors):
        end = _separators(masked, k, end)[known - 1]
        unit = UnitText(unit.factors[:known])
    return Literal(number, text[k:end], start, end, unit.factors)


def _positions(code: str, spans: list[tuple[int, Literal]]) -> dict[tuple[int, int], Literal]:
    """(line, UTF-8 byte column) of each placeholder, as :mod:`ast` reports its Name node."""
    out: dict[tuple[int, int], Literal] = {}
    line, line_start, scanned = 1, 0, 0
    ascii_only = code.isascii()
    for start, literal in spans:
        nl = code.count("\n", scanned, start)
        if nl:
            line += nl
            line_start = code.rfind("\n", scanned, start) + 1
        scanned = start
        col = start - line_start
        if not ascii_only:
            col = len(code[line_start:start].encode("utf-8"))
        out[(line, col)] = literal
    return out
