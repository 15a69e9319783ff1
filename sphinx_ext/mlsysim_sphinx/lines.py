"""Directive content lines, for an item the shared scanner did not find (the fallback).

Items are located by :func:`mlsysim_sphinx.state.located` (the scanner ``mlsysim check``
uses); :func:`content_line` gives the line docutils or MyST reports for directive content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

__all__ = ["content_line"]

_CACHE_KEY = "mlsysim_source_lines"
#: how far below a paragraph's first line a role is searched for
_SEARCH_LINES = 400


def content_line(directive: Any, index: int = 0) -> int:
    """1-based file line of a directive's content line ``index``.

    Docutils gives ``content_offset`` as the 0-based absolute offset of the first content
    line; MyST gives it relative to the directive's own line (``lineno``).
    """
    offset = int(directive.content_offset)
    if type(directive.state).__module__.startswith("myst_parser"):
        return int(directive.lineno) + offset + index + 1
    return offset + index + 1
