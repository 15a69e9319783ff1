"""Napkin items written beside a block rather than in its text, where a host still reads
Markdown: a pandoc div's ``title`` / ``fig-cap`` / ``tbl-cap`` / ``lst-cap`` attribute and a
code listing's ``lst-cap`` (Quarto reads them as Markdown), a code directive's ``:caption:``
(Sphinx parses it as inline markup). Each function reads one info string or one directive's
options, once."""

from __future__ import annotations

from mlsysim.book.sources.blocks import directive_options
from mlsysim.book.sources.flavours import Syntax
from mlsysim.book.sources.inline import scan_paragraph
from mlsysim.book.sources.markup import CAPTION_KEYS, LISTING_CAPTION, caption_attributes
from mlsysim.book.sources.paragraphs import may_hold_items
from mlsysim.book.sources.text import parse_attrs
from mlsysim.book.syntax import Item

__all__ = ["attribute_items", "caption_option", "listing_caption"]


def attribute_items(
    info: str, i: int, start: int, syntax: Syntax, keys: frozenset[str] = CAPTION_KEYS
) -> tuple[list[Item], int]:
    """(items, steps) inside the ``keys`` attributes of the pandoc attribute block ``info``,
    which begins at 0-based column ``start`` of 0-based line ``i``."""
    out: list[Item] = []
    steps = 0
    for value, offsets in caption_attributes(info, keys):
        if not may_hold_items(value):
            continue
        found, n = scan_paragraph(value, syntax)
        steps += n + len(value)
        for f in found:
            at = tuple((k, i + 1, start + offsets[p] + 1) for k, p in f.attr_starts.items())
            column = start + offsets[f.start] + 1
            out.append(Item(f.kind, f.text, i + 1, column, f.attrs, attr_at=at))
    return out, steps


def listing_caption(info: str, i: int, start: int, syntax: Syntax) -> tuple[list[Item], int]:
    """(items, steps) inside a code block's ``lst-cap``, which Quarto reads as Markdown when
    the block's id is ``#lst-…`` (its info string ``info`` begins at column ``start``)."""
    brace = info.find("{")
    attrs = parse_attrs(info, brace) if brace >= 0 else None
    if attrs is None or not attrs.identifier.startswith("lst-"):
        return [], 0
    return attribute_items(info[brace:], i, start + brace, syntax, LISTING_CAPTION)


def caption_option(body: list[str], lines: list[str], i: int) -> list[tuple[int, int, str]]:
    """The ``:caption:`` of the code directive opening at line ``i`` (its content ``body``)
    as a paragraph to scan: (0-based line, 0-based column, text), or none."""
    attrs, _, where = directive_options(body)
    for key, k in where:
        if key == "caption" and attrs[key]:
            raw = lines[i + 1 + k]
            return [(i + 1 + k, raw.find(attrs[key], raw.find(key)), attrs[key])]
    return []
