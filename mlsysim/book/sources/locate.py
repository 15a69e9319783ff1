"""How a host finds the scanned item behind each napkin element it renders.

Hosts see items their own way — docutils hands a role its text and a paragraph's line,
pandoc keeps no source positions at all — so they never search the text for an item's line
(which lands on earlier prose, front matter or code listings). Instead the host scans the
source with the shared scanner and asks :class:`Locator` for the next scanned item of the same
kind and text: the item's exact file, line and column, and the very text ``mlsysim check``
evaluates, so every host gives the verdict ``check`` gives.

Texts are compared after :func:`normalize` (whitespace runs, typographic quotes, dashes
and escapes as pandoc and MyST turn them), by a queue per (kind, text): each lookup is O(1),
and identical items map to successive occurrences.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from mlsysim.book.syntax import Item

__all__ = ["Locator", "normalize"]

_TYPOGRAPHIC = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "–": "--", "—": "---", "\u00a0": " "}
)
#: Item kinds a host may name differently from the scanner (a shortcode's napkin is inline).
_KIND = {"inline": "inline", "claim": "claim", "eq": "eq", "block": "block", "table": "table"}


def normalize(text: str) -> str:
    """Text as compared between a host and the scanner: typographic characters made plain,
    backslash escapes dropped, whitespace runs as one space, ends stripped."""
    plain = text.translate(_TYPOGRAPHIC)
    out: list[str] = []
    space = False
    i, n = 0, len(plain)
    while i < n:
        ch = plain[i]
        if ch == "\\" and i + 1 < n and not plain[i + 1].isalnum() and not plain[i + 1].isspace():
            ch = plain[i + 1]
            i += 1
        if ch.isspace():
            space = bool(out)
        else:
            if space:
                out.append(" ")
                space = False
            out.append(ch)
        i += 1
    return "".join(out)


class Locator:
    """The scanned items of a source, handed out to a host in document order."""

    def __init__(self, items: Iterable[Item]) -> None:
        self._queues: dict[tuple[str, str], deque[Item]] = {}
        for item in items:
            key = (_KIND.get(item.kind, item.kind), normalize(item.text))
            self._queues.setdefault(key, deque()).append(item)

    def match(self, kind: str, text: str) -> Item | None:
        """The next scanned item of ``kind`` whose text is ``text``, or None."""
        queue = self._queues.get((_KIND.get(kind, kind), normalize(text)))
        if not queue:
            return None
        return queue.popleft()
