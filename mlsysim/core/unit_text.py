"""The grammar of unit and quantity text, read by hand so that no author text reaches pint's parser.

pint's own string parser evaluates what it reads (``'9**9**9 B'`` never returns), so every unit
or quantity written in a document or a data file is read here instead, in one linear pass, with
limits on length, factor count and exponents::

    quantity := number [spaces] [unit]
    number   := [+|-] digits [. digits] [(e|E) [+|-] digits]      (digits may hold single _)
    unit     := "%" | ["1"] "/" factor (sep factor)* | factor (sep factor)*
    sep      := "/" | "*" | "·"                                   (no spaces around it)
    factor   := name [("**" | "^") [-] digits]
    name     := letter (letter | digit | _)*                      (letters include µ and μ)

``a/b/c`` divides by both ``b`` and ``c``; ``a/b*c`` multiplies by ``c`` (left to right, as in
Python). Names are resolved against the unit registry by :mod:`mlsysim.core.units`; this module
only knows the shapes. Errors are :class:`~mlsysim.core.exceptions.NapkinSyntaxError` with the
0-based column of the offending character.

>>> read_unit("TB/s -> ms", 0)
(UnitText(factors=(('TB', 1), ('s', -1))), 4)
"""

from __future__ import annotations

from dataclasses import dataclass

from mlsysim.core.exceptions import NapkinSyntaxError

__all__ = [
    "MAX_FACTORS",
    "MAX_NAME",
    "MAX_POWER",
    "MAX_TEXT",
    "NumberText",
    "UnitText",
    "is_name_char",
    "is_name_start",
    "parse_quantity_text",
    "parse_unit_text",
    "read_number",
    "read_unit",
]

#: Longest unit or quantity text read (characters).
MAX_TEXT = 80
#: Most factors in one unit (``GB·s/TB`` has three).
MAX_FACTORS = 8
#: Longest unit name (``kilowatt_hour`` has 13 characters).
MAX_NAME = 32
#: Largest |exponent| of a unit factor (``m**3``, ``s^-2``).
MAX_POWER = 12

_MICRO = "µμ"
_SEPARATORS = "/*·"
_UNIT_HINT = "write a unit such as ms, TB/s, FLOP/B or gCO2e/kWh"


@dataclass(frozen=True, slots=True)
class UnitText:
    """A unit as written: ``(name, exponent)`` factors in order (``TB/s`` → TB¹, s⁻¹)."""

    factors: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class NumberText:
    """A number as written: its text, value, significant digits and span end."""

    text: str
    value: int | float
    digits: int
    end: int


def is_name_start(ch: str) -> bool:
    """Whether ``ch`` may start a unit name (an ASCII letter or a micro sign)."""
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ch in _MICRO


def is_name_char(ch: str) -> bool:
    """Whether ``ch`` may continue a unit name."""
    return is_name_start(ch) or ("0" <= ch <= "9") or ch == "_"


def _error(what: str, text: str, column: int, fix: str = _UNIT_HINT) -> NapkinSyntaxError:
    return NapkinSyntaxError(what, column=column, expression=text, fix=fix)


def _is_digit(text: str, i: int) -> bool:
    return 0 <= i < len(text) and "0" <= text[i] <= "9"


def _digits_end(text: str, i: int) -> int:
    """End of a run of digits starting at ``i`` (single underscores between digits allowed)."""
    n = len(text)
    while i < n:
        ch = text[i]
        if "0" <= ch <= "9" or (
            ch == "_" and i + 1 < n and "0" <= text[i + 1] <= "9" and "0" <= text[i - 1] <= "9"
        ):
            i += 1
        else:
            break
    return i


def read_number(text: str, start: int) -> NumberText | None:
    """The number starting exactly at ``start``, or None when there is none.

    Signs are not part of the number (the caller decides); ``1.``, ``.5``, ``2e-3`` and
    ``1_000`` are numbers; an ``e`` not followed by digits ends the number before it.
    """
    n = len(text)
    i = start
    had_int = i < n and "0" <= text[i] <= "9"
    i = _digits_end(text, i)
    frac = False
    if i < n and text[i] == ".":
        j = _digits_end(text, i + 1) if i + 1 < n and "0" <= text[i + 1] <= "9" else i + 1
        if not had_int and j == i + 1:
            return None  # a lone "."
        frac, i = True, j
    elif not had_int:
        return None
    exp = False
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and "0" <= text[j] <= "9":
            exp, i = True, _digits_end(text, j)
    raw = text[start:i]
    clean = raw.replace("_", "")
    value: int | float = float(clean) if (frac or exp) else int(clean)
    mantissa = clean.partition("e")[0].partition("E")[0]
    digits = max(len(mantissa.replace(".", "").lstrip("0")), 1)
    return NumberText(raw, value, digits, i)


def _read_name(text: str, i: int) -> int:
    n = len(text)
    j = i
    while j < n and is_name_char(text[j]):
        j += 1
    if j - i > MAX_NAME:
        raise _error(f"unit name {text[i : i + 12]!r}… is too long", text, i)
    return j


def _read_power(text: str, i: int) -> tuple[int, int]:
    """(exponent, end) of ``**n`` / ``^n`` at ``i``; (1, i) when there is none."""
    n = len(text)
    if text.startswith("**", i):
        j = i + 2
    elif i < n and text[i] == "^":
        j = i + 1
    else:
        return 1, i
    sign = 1
    if j < n and text[j] == "-":
        sign, j = -1, j + 1
    k = j
    while k < n and "0" <= text[k] <= "9" and k - j < 4:
        k += 1
    if k == j:
        raise _error("a unit exponent must be a whole number", text, j, "write e.g. m**2 or s^-1")
    power = sign * int(text[j:k])
    if abs(power) > MAX_POWER or (k < n and "0" <= text[k] <= "9"):
        raise _error(
            f"unit exponent {text[j - (sign < 0) : k]}… is too large",
            text,
            j,
            f"unit exponents are limited to ±{MAX_POWER}",
        )
    if power == 0:
        raise _error("a unit exponent of 0 is not a unit", text, j, "leave the factor out")
    return power, k


def read_unit(text: str, start: int) -> tuple[UnitText, int] | None:
    """The unit written at ``start`` (no leading spaces) and where it ends, or None.

    Reading stops at the first character that cannot continue a unit (a space, an operator
    other than a separator followed by a name, a bracket); the caller decides what follows.
    """
    n = len(text)
    i = start
    if i < n and text[i] == "%":
        return UnitText((("percent", 1),)), i + 1
    if text.startswith("1/", i) and i + 2 < n and is_name_start(text[i + 2]):
        sign, i = -1, i + 2
    elif text.startswith("/", i) and i + 1 < n and is_name_start(text[i + 1]):
        sign, i = -1, i + 1  # "6.5e-3 /d": a rate per day
    elif i < n and is_name_start(text[i]):
        sign = 1
    else:
        return None
    factors: list[tuple[str, int]] = []
    while True:
        name_end = _read_name(text, i)
        power, end = _read_power(text, name_end)
        factors.append((text[i:name_end], sign * power))
        if len(factors) > MAX_FACTORS:
            raise _error("the unit has too many factors", text, i, f"the limit is {MAX_FACTORS}")
        i = end
        if i + 1 < n and text[i] in _SEPARATORS and is_name_start(text[i + 1]):
            if text[i] == "*" and text.startswith("**", i):
                break
            sign = -1 if text[i] == "/" else 1
            i += 1
            continue
        break
    return UnitText(tuple(factors)), i


def parse_unit_text(text: str) -> UnitText:
    """A whole unit text (``"TB/s"``, ``" ms "``, ``"%"``); NapkinSyntaxError otherwise."""
    if len(text) > MAX_TEXT:
        raise _error("the unit text is too long", text[:MAX_TEXT], 0, f"the limit is {MAX_TEXT}")
    start = len(text) - len(text.lstrip())
    stripped_end = len(text.rstrip())
    got = read_unit(text, start)
    if got is None:
        opening = text[start : start + 1]
        raise NapkinSyntaxError(
            f"cannot read {text.strip()!r} as a unit",
            column=start,
            expression=text,
            why="parentheses are not part of unit syntax"
            if opening in ("(", ")")
            else "a unit starts with a letter",
            fix=_UNIT_HINT,
        )
    unit, end = got
    if end != stripped_end:
        bad = text[end]
        rest = text[end:stripped_end]
        why = (
            "parentheses are not part of unit syntax"
            if bad in "()"
            else f"unexpected {rest[:24]!r} after the unit"
        )
        raise NapkinSyntaxError(
            f"cannot read {text.strip()!r} as a unit",
            column=end,
            expression=text,
            why=why,
            fix=_UNIT_HINT + " (factors joined by / or * without spaces)",
        )
    return unit


def parse_quantity_text(text: str) -> tuple[NumberText, UnitText | None, bool]:
    """``"3.35 TB/s"`` → (number, unit or None, negative); NapkinSyntaxError otherwise."""
    if len(text) > MAX_TEXT:
        raise _error(
            "the quantity text is too long", text[:MAX_TEXT], 0, f"the limit is {MAX_TEXT}"
        )
    i = len(text) - len(text.lstrip())
    negative = False
    if i < len(text) and text[i] in "+-":
        negative, i = text[i] == "-", i + 1
    number = read_number(text, i)
    quantity_fix = "write a number followed by a unit, e.g. '3.35 TB/s' or '80 GB'"
    if number is None:
        raise _error(f"cannot read {text.strip()!r} as a number", text, i, quantity_fix)
    j = number.end
    while j < len(text) and text[j] in " \t":
        j += 1
    rest = text[j:].rstrip()
    if not rest:
        return number, None, negative
    try:
        unit = parse_unit_text(text[j:])
    except NapkinSyntaxError as exc:
        raise NapkinSyntaxError(
            f"cannot read {text.strip()!r} as a quantity",
            column=j + (exc.column or 0),
            expression=text,
            why=exc.why or exc.what,
            fix=quantity_fix + " (no arithmetic, no parentheses)",
        ) from None
    return number, unit, negative
