"""How a host finds the scanned item behind each napkin element it renders.

Hosts see items their own way — docutils hands a role its text and a paragraph's line,
pandoc keeps no source positions at all — so they never search the text for an item's line
(which lands on earlier prose, front matter or code listings). Instead the host scans the
source with the shared scanner and asks :class:`Locator` for the next scanned item of the same
kind and text: the item's exact file, line and column, and the very text ``mlsysim check``
evaluates, so every host gives the verdict ``check`` gives.

Texts are compared after :func:`normalize` (whitespace runs, typographic quotes and dashes
as pandoc and MyST turn them), as written or with escapes resolved (:func:`unescape`, as
docutils and pandoc give text), by a queue per (kind, text): each lookup is amortized O(1),
and identical items map to successive occurrences. A host may meet items in another order
than the source has them (pandoc puts a table's caption before its rows): an item whose
attributes the host gives is matched first among items of the same kind, text *and*
attributes, so two items of the same text with other options (units, tolerances) never
swap their options; only fully identical items can swap places, and they evaluate alike.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from mlsysim.book.syntax import Item

__all__ = ["Locator", "forms", "normalize", "unescape"]

_TYPOGRAPHIC = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "–": "--", "—": "---", "\u00a0": " "}
)
#: Item kinds a host may name differently from the scanner (a shortcode's napkin is inline).
_KIND = {
    "inline": "inline",
    "claim": "claim",
    "eq": "eq",
    "block": "block",
    "table": "table",
    "plot": "plot",
    "formula": "formula",
    "registry": "registry",
}


_Attrs = frozenset[tuple[str, str]]


def _attrs(attrs: Mapping[str, object] | None) -> _Attrs:
    return frozenset((str(k), normalize(str(v))) for k, v in (attrs or {}).items())


def unescape(text: str) -> str:
    """``text`` with backslash escapes resolved, as docutils and pandoc resolve them."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and not text[i + 1].isalnum() and not text[i + 1].isspace():
            ch = text[i + 1]
            i += 1
        out.append(ch)
        i += 1
    return "".join(out)


def normalize(text: str) -> str:
    """Text as compared between a host and the scanner: typographic characters made plain,
    whitespace runs as one space, ends stripped."""
    return " ".join(text.translate(_TYPOGRAPHIC).split())


class Locator:
    """The scanned items of a source, handed out to a host in document order."""

    def __init__(self, items: Iterable[Item]) -> None:
        # the text as written, and as hosts that resolve escapes see it
        self._queues: tuple[dict[tuple[str, str], deque[int]], ...] = ({}, {})
        self._exact: tuple[dict[tuple[str, str, _Attrs], deque[int]], ...] = ({}, {})
        self._items: list[Item] = []
        self._used: set[int] = set()
        for n, item in enumerate(items):
            self._items.append(item)
            kind = _KIND.get(item.kind, item.kind)
            attrs = _attrs(item.attrs)
            for queues, exact, text in zip(
                self._queues, self._exact, forms(item.text), strict=True
            ):
                queues.setdefault((kind, text), deque()).append(n)
                exact.setdefault((kind, text, attrs), deque()).append(n)

    def match(self, kind: str, text: str, attrs: Mapping[str, object] | None = None) -> Item | None:
        """The next scanned item of ``kind`` whose text is ``text`` (and, when the host gives
        them, whose attributes are ``attrs``; else any), or None."""
        key = (_KIND.get(kind, kind), normalize(text))
        if attrs is not None:
            exact_key = (*key, _attrs(attrs))
            for exact in self._exact:
                found = self._take(exact.get(exact_key))
                if found is not None:
                    return found
        for queues in self._queues:
            found = self._take(queues.get(key))
            if found is not None:
                return found
        return None

    def _take(self, queue: deque[int] | None) -> Item | None:
        while queue:
            n = queue.popleft()
            if n not in self._used:
                self._used.add(n)
                return self._items[n]
        return None


def forms(text: str) -> tuple[str, str]:
    """The texts a host may give for an item written as ``text``: normalized as written, and
    with escapes resolved."""
    return normalize(text), normalize(unescape(text))
