"""Napkin items written beside a block rather than in its text, where a host still reads
Markdown: a pandoc div's ``title`` / ``fig-cap`` / ``tbl-cap`` / ``lst-cap`` attribute, a
code listing's ``lst-cap`` and an executable cell's ``#| fig-cap:`` / ``#| tbl-cap:``
options (Quarto reads them as Markdown: the engine writes them as the caption of the cell's
figure or table), a code directive's ``:caption:`` (Sphinx parses it as inline markup).
Each function reads one info string, one cell's option lines or one directive's options,
once."""

from __future__ import annotations

from mlsysim.book.sources.blocks import directive_options
from mlsysim.book.sources.flavours import Syntax
from mlsysim.book.sources.inline import scan_paragraph
from mlsysim.book.sources.markup import CAPTION_KEYS, LISTING_CAPTION, caption_attributes
from mlsysim.book.sources.paragraphs import may_hold_items
from mlsysim.book.sources.text import parse_attrs
from mlsysim.book.syntax import Item

__all__ = [
    "CELL_CAPTIONS",
    "attribute_items",
    "cell_captions",
    "executable_cell",
    "inline_options",
    "listing_caption",
]

#: an executable cell's options that Quarto renders as Markdown (the output's caption)
CELL_CAPTIONS = frozenset({"fig-cap", "tbl-cap"})


def attribute_items(
    info: str, i: int, start: int, syntax: Syntax, keys: frozenset[str] = CAPTION_KEYS
) -> tuple[list[Item], int]:
    """(items, steps) inside the ``keys`` attributes of the pandoc attribute block ``info``,
    which begins at 0-based column ``start`` of 0-based line ``i``."""
    out: list[Item] = []
    steps = 0
    for value, offsets in caption_attributes(info, keys):
        steps += _value_items(out, value, [start + o for o in offsets], i, syntax)
    return out, steps


def _value_items(out: list[Item], value: str, columns: list[int], i: int, syntax: Syntax) -> int:
    """Append the items of ``value``, a caption whose characters stand at the 0-based
    ``columns`` of 0-based line ``i``; return the steps spent."""
    if not may_hold_items(value):
        return 0
    found, steps = scan_paragraph(value, syntax)
    for f in found:
        at = tuple((k, i + 1, columns[p] + 1) for k, p in f.attr_starts.items())
        out.append(Item(f.kind, f.text, i + 1, columns[f.start] + 1, f.attrs, attr_at=at))
    return steps + len(value)


def executable_cell(info: str) -> bool:
    """Whether a code fence's info string opens a cell an engine runs (```` ```{python} ````,
    ```` ```{r, echo=FALSE} ````), not a pandoc attribute block (``{.python}``, ``{=html}``)."""
    if not (info.startswith("{") and info.endswith("}")):
        return False
    word = info[1:-1].strip().split(" ", 1)[0].split(",", 1)[0]
    return bool(word) and word.replace("_", "").replace("-", "").isalnum()


def cell_captions(
    lines: list[str], first: int, stop: int, syntax: Syntax
) -> tuple[list[Item], int]:
    """(items, steps) in the caption options (:data:`CELL_CAPTIONS`) among the ``#|`` lines
    that open the cell whose content runs from line ``first`` to ``stop``. A value is a
    one-line YAML scalar: plain, ``"double-quoted"`` (backslash escapes) or
    ``'single-quoted'`` (``''`` is ``'``); a folded or multi-line value is not read."""
    out: list[Item] = []
    steps = 0
    for k in range(first, stop):
        raw = lines[k]
        body = raw.lstrip(" \t")
        if not body.startswith("#|"):
            break
        steps += 1
        key, colon, rest = body[2:].partition(":")
        if colon and key.strip() in CELL_CAPTIONS:
            value, columns = _yaml_scalar(raw, len(raw) - len(rest))
            steps += _value_items(out, value, columns, k, syntax)
    return out, steps


def _yaml_scalar(raw: str, i: int) -> tuple[str, list[int]]:
    """The one-line YAML scalar starting at (or after spaces from) ``raw[i]``, and the index
    in ``raw`` of each of its characters."""
    n = len(raw)
    while i < n and raw[i] in " \t":
        i += 1
    chars: list[str] = []
    columns: list[int] = []
    quote = raw[i] if i < n and raw[i] in "\"'" else ""
    j = i + 1 if quote else i
    while j < n:
        ch = raw[j]
        if quote == '"' and ch == "\\" and j + 1 < n:
            j += 1
            ch = raw[j]
        elif quote == "'" and ch == "'" and raw[j + 1 : j + 2] == "'":
            j += 1
        elif ch == quote or (not quote and ch == "#" and raw[j - 1] in " \t"):
            break
        chars.append(ch)
        columns.append(j)
        j += 1
    value = "".join(chars)
    if not quote:
        value = value.rstrip()
        columns = columns[: len(value)]
    return value, columns


def listing_caption(info: str, i: int, start: int, syntax: Syntax) -> tuple[list[Item], int]:
    """(items, steps) inside a code block's ``lst-cap``, which Quarto reads as Markdown when
    the block's id is ``#lst-…`` (its info string ``info`` begins at column ``start``)."""
    brace = info.find("{")
    attrs = parse_attrs(info, brace) if brace >= 0 else None
    if attrs is None or not attrs.identifier.startswith("lst-"):
        return [], 0
    return attribute_items(info[brace:], i, start + brace, syntax, LISTING_CAPTION)


def inline_options(
    body: list[str], lines: list[str], i: int, keys: frozenset[str]
) -> list[tuple[int, int, str]]:
    """The options named in ``keys`` of the MyST directive opening at line ``i`` (the lines
    after it: ``body``), each a one-line paragraph to scan: (0-based line, 0-based column,
    text)."""
    attrs, _, where = directive_options(body)
    out = []
    for key, k in where:
        if key in keys and attrs[key]:
            raw = lines[i + 1 + k]
            out.append((i + 1 + k, raw.find(attrs[key], raw.find(key)), attrs[key]))
    return out
