"""Where an item's options are written, so that a failure that is an option's fault points
at that option: a pandoc attribute the scanner placed, a ``| key=value`` option inside the
item's text, or a directive's ``:key:`` option line."""

from __future__ import annotations

from mlsysim.book.syntax import OPTION_KEYS, Item, option_offset
from mlsysim.core.exceptions import MlsysimError

__all__ = ["offset_place", "option_at", "text_place", "written_at"]


def written_at(item: Item, key: str) -> tuple[int, int] | None:
    """(line, column) of the value of option ``key``: a pandoc attribute the scanner placed,
    or a ``| key=value`` option inside the item's text; None when unknown."""
    for name, line, column in item.attr_at:
        if OPTION_KEYS.get(name, name) == key:
            return line, column
    off = option_offset(item.text, key)
    return None if off is None else offset_place(item, off)


def option_at(item: Item, key: str) -> tuple[int, int | None] | None:
    """Where display option ``key`` is written: as :func:`written_at`, or a directive's
    ``:key:`` line (no column); None when unknown."""
    found = written_at(item, key)
    if found is not None:
        return found
    for name, line in item.option_lines:
        if OPTION_KEYS.get(name, name) == key:
            return line, None
    return None


def offset_place(item: Item, off: int) -> tuple[int, int] | None:
    """(line, column) of offset ``off`` of the item's text; None when the item has no column."""
    if item.column is None:
        return None
    nl = item.text.rfind("\n", 0, off)
    if nl < 0:
        return item.line, item.column + off
    return item.line + item.text.count("\n", 0, off), off - nl


def text_place(item: Item, exc: MlsysimError) -> tuple[int, int | None] | None:
    """Where the option an error of :func:`split_options` is about starts, if known."""
    off = getattr(exc, "text_offset", None)
    return offset_place(item, off) if isinstance(off, int) else None
