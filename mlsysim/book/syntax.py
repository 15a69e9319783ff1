"""Host-independent item syntax: role options after ``|`` and ``napkin-table`` columns.

Every host (Sphinx roles and directives, Quarto/pandoc attributes, ``mlsysim check``'s
scanner) reads napkin items through these functions, so one chapter means the same thing
wherever it is evaluated.

* Role options: ``EXPRESSION | key=value, key=value``. Napkin expressions never use ``|``;
  commas inside brackets or quotes belong to the value (``of=ridge_point(H100, "bf16")``).
  Keys: ``unit``, ``sig`` (``sig-figs``), ``style`` for values; ``of``, ``tol``
  (``tolerance``) for claims.
* Table columns, one per content line: ``Header = expression`` or ``Header: expression``;
  ``row`` (or ``{row}``) is the row's value; a trailing ``-> unit`` sets the column's unit,
  ``-> %`` / ``-> ×`` its style.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

from mlsysim.book.lang.lexer import first_top_level, split_conversion, split_top, top_level
from mlsysim.core.exceptions import ConfigError, MlsysimError, UnknownNameError

__all__ = [
    "ITEM_KINDS",
    "KIND_OPTIONS",
    "MAX_ITEM_TEXT",
    "OPTION_KEYS",
    "PLOT_OPTIONS",
    "UNSUPPORTED_SHORTCODE",
    "Column",
    "Item",
    "ItemKind",
    "option_offset",
    "parse_column",
    "source_column",
    "source_offset",
    "split_options",
    "split_top",
]

ItemKind = Literal["block", "inline", "claim", "eq", "table", "plot", "formula", "registry"]
#: Kinds of napkin item: statements, inline value, claim, derivation, table, plot, and the
#: reference a book shows (a formula card, a registry table).
ITEM_KINDS: tuple[ItemKind, ...] = (
    "block",
    "inline",
    "claim",
    "eq",
    "table",
    "plot",
    "formula",
    "registry",
)
#: The attribute that marks a table or plot written as a Quarto shortcode (``{{< napkin-table
#: >}}``, ``{{< napkin-plot >}}``), which does not exist: its value is the shortcode's name,
#: and the item fails at its place in every host, saying what to write instead.
UNSUPPORTED_SHORTCODE = "shortcode"
#: Options a napkin-plot reads (anything else is an error naming the option); hosts declare
#: them as their directive's options without importing the engine.
PLOT_OPTIONS = frozenset(
    {
        "kind",
        "devices",
        "precision",
        "x",
        "x-label",
        "y-label",
        "x-unit",
        "y-unit",
        "x-scale",
        "y-scale",
        "x-goal",
        "y-goal",
        "title",
        "alt",
        "caption",
        "name",
    }
)


@dataclass(frozen=True, slots=True)
class Item:
    """One napkin item found in a source.

    ``line``/``column`` are 1-based: the line and column of the first character of the
    item's expression (of its content for blocks and tables). ``file`` is the file the item
    was written in when it differs from the document's (an included file).
    """

    kind: ItemKind
    text: str
    line: int
    column: int | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    #: (option, 1-based line) of directive options, so option errors point at their line
    option_lines: tuple[tuple[str, int], ...] = ()
    #: (attribute, line, column) of attribute values written apart from the text (pandoc
    #: ``of="…"``), so an error inside one points into it
    attr_at: tuple[tuple[str, int, int], ...] = ()
    #: (line, column) of each character of the text or of an attribute value that the host
    #: drops as written (an escape's backslash, the first quote of CSV's ``""``): failures
    #: inside are moved past them (``source_column``)
    escapes: tuple[tuple[int, int], ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its fields in order: a build sends and stores thousands of items, and
        a frozen slotted dataclass's own pickling is ten times slower."""
        return (Item, _ITEM_FIELDS(self))


_ITEM_FIELDS = attrgetter(*Item.__slots__)


def source_column(item: Item, line: int, column: int) -> int:
    """The file column of a failure placed at ``column`` of ``line`` as if the item were
    written without its dropped characters: one more for each of them, in the same string
    (the text or an attribute value, which start at their true places) before it (an escaped
    character is placed at its escape)."""
    if not item.escapes:
        return column
    base = 0  # the string the position is in starts on this line at `base` (else before it)
    for start_line, start_col in [(item.line, item.column), *((n, c) for _, n, c in item.attr_at)]:
        if start_col is not None and start_line == line and base < start_col <= column:
            base = start_col
    for at_line, at_col in sorted(item.escapes):
        if at_line == line and base <= at_col < column:
            column += 1
    return column


#: option spelling -> canonical item attribute
OPTION_KEYS = {
    "unit": "unit",
    "sig": "sig-figs",
    "sig-figs": "sig-figs",
    "sig_figs": "sig-figs",
    "style": "style",
    "of": "of",
    "tol": "tol",
    "tolerance": "tol",
}
_STYLE_UNITS = {"%": "percent", "percent": "percent", "×": "multiplier", "x": "multiplier"}
#: Longest item text read (characters): a block may be long, one expression is shorter.
MAX_ITEM_TEXT = 100_000
#: options each item kind reads (canonical names); anything else given to it is an error
KIND_OPTIONS: dict[str, frozenset[str]] = {
    "inline": frozenset({"unit", "sig-figs", "style"}),
    "eq": frozenset({"unit", "sig-figs", "style"}),
    "claim": frozenset({"of", "tol"}),
}


def split_options(text: str, kind: str | None = None) -> tuple[str, dict[str, str]]:
    """``"expr | sig=2, unit=ms"`` -> ``("expr", {"sig-figs": "2", "unit": "ms"})``.

    Text without a top-level ``|`` comes back unchanged with no options. ConfigError for an
    option that is not ``key=value``, whose key is unknown (with did-you-mean), or that an item
    of ``kind`` would not use (``of=`` on a value, ``sig=`` on a claim); the error's
    ``text_offset`` is where that option starts in ``text`` (its failure points there).
    """
    bar = first_top_level(text, "|")
    if bar < 0:
        return text, {}
    body = text[:bar].rstrip()
    options: dict[str, str] = {}
    starts: dict[str, int] = {}
    tail = bar + 1
    cuts = [tail - 1, *(tail + c for c in top_level(text[tail:], ",")), len(text)]
    for a, b in itertools.pairwise(cuts):
        item = text[a + 1 : b]
        if not item.strip():
            continue
        at = a + 1 + len(item) - len(item.lstrip())
        key, eq, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or not value:
            raise _at(
                ConfigError(
                    f"option {item.strip()!r} is not key=value",
                    fix="write options after '|' as e.g. `| sig=2, unit=ms`",
                ),
                at,
            )
        if key not in OPTION_KEYS:
            raise _at(
                UnknownNameError(
                    "option",
                    key,
                    OPTION_KEYS,
                    fix="options are unit, sig, style (values) and of, tol (claims)",
                ),
                at,
            )
        options[OPTION_KEYS[key]] = value.strip("\"'")
        starts.setdefault(OPTION_KEYS[key], at)
    allowed = KIND_OPTIONS.get(kind or "")
    if allowed is not None and set(options) - allowed:
        wrong = sorted(set(options) - allowed)
        raise _at(
            ConfigError(
                f"option {', '.join(wrong)} does not apply to a {kind} item",
                fix=f"its options are {', '.join(sorted(allowed))}",
            ),
            min(starts[k] for k in wrong),
        )
    return body, options


def _at(error: MlsysimError, offset: int) -> MlsysimError:
    """``error`` marked with where the option it is about starts in the item's text."""
    error.text_offset = offset  # type: ignore[attr-defined]
    return error


def option_offset(text: str, key: str) -> int | None:
    """Where the value of option ``key`` (canonical name) starts in ``"expr | k=v, …"``
    (inside its quotes), or None; one pass, like :func:`split_options`."""
    bar = first_top_level(text, "|")
    if bar < 0:
        return None
    tail = bar + 1
    cuts = [tail - 1, *(tail + c for c in top_level(text[tail:], ",")), len(text)]
    for a, b in itertools.pairwise(cuts):
        name, eq, _ = text[a + 1 : b].partition("=")
        if not eq or OPTION_KEYS.get(name.strip().lower()) != key:
            continue
        v = a + 1 + len(name) + 1
        while v < b and text[v] in " \t\n":
            v += 1
        return v + (1 if v < b and text[v] in "\"'" else 0)
    return None


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: header, expression (``row`` = the row's value), unit and style."""

    header: str
    expression: str
    unit: str | None = None
    style: str | None = None
    start: int = 0  # 0-based position of the expression in its line
    shifts: tuple[tuple[int, int], ...] = ()  # where {row} became row (see source_offset)
    #: the expression with its ``-> unit`` as written (what a cell evaluates: a unit that
    #: cannot be read, or does not fit the values, fails at its own column, cell by cell)
    converted: str = ""


def parse_column(line: str) -> Column:
    """``"Ridge = ridge_point({row}, 'bf16') -> FLOP/B"`` -> Column; ConfigError if malformed."""
    cut = _header_cut(line)
    if cut < 0:
        raise ConfigError(
            f"table column {line.strip()!r} has no header",
            fix="write one column per line as `Header = expression`, e.g. "
            "`Bandwidth = row.memory.bandwidth -> TB/s`",
        )
    header, rest = line[:cut].strip(), line[cut + 1 :]
    expression = rest.strip()
    if not header or not expression:
        raise ConfigError(
            f"table column {line.strip()!r} needs a header and an expression",
            fix="write e.g. `Bandwidth = row.memory.bandwidth`",
        )
    plain, shifts = _row_placeholders(expression)
    body, unit, _ = split_conversion(plain)
    style = _STYLE_UNITS.get(unit or "")
    lead = len(body) - len(body.lstrip())
    start = cut + 1 + (len(rest) - len(rest.lstrip())) + lead
    moved = tuple((pos - lead, removed) for pos, removed in shifts)
    converted = plain.strip()
    return Column(header, body.strip(), None if style else unit, style, start, moved, converted)


def _row_placeholders(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``{row}`` (spaces allowed inside the braces) → ``row``, in one pass; also where
    characters were removed (position in the result, how many), to map offsets back."""
    out: list[str] = []
    shifts: list[tuple[int, int]] = []
    length = 0
    i, n = 0, len(text)
    while i < n:
        if text[i] == "{":
            j = i + 1
            while j < n and text[j] in " \t":
                j += 1
            if text.startswith("row", j):
                k = j + 3
                while k < n and text[k] in " \t":
                    k += 1
                if k < n and text[k] == "}":
                    out.append("row")
                    shifts.append((length, k + 1 - i - 3))
                    length += 3
                    i = k + 1
                    continue
        out.append(text[i])
        length += 1
        i += 1
    return "".join(out), tuple(shifts)


def source_offset(offset: int, shifts: tuple[tuple[int, int], ...]) -> int:
    """An offset in a column's expression, as an offset in the line the author wrote."""
    return offset + sum(removed for pos, removed in shifts if pos <= offset)


def _header_cut(line: str) -> int:
    """Position of the first ``=`` or ``:`` (headers contain neither; ``==``, ``<=`` … skip)."""
    for i, ch in enumerate(line):
        if ch == ":":
            return i
        if ch == "=" and line[i + 1 : i + 2] != "=" and line[i - 1 : i] not in ("<", ">", "!"):
            return i
    return -1
