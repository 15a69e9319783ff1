"""Scanning primitives shared by the source scanners, each linear in its input.

No scanner uses a regular expression over author text. Searches go through :func:`find`,
which counts the characters it passes over in :data:`SCANNED` (the linear-time tests read it
together with the steps the scanners take), and every search starts where the previous one
of its kind stopped, so nothing is scanned twice.

* :class:`BacktickRuns` — the backtick runs of a paragraph, for code spans and roles;
* :func:`parse_attrs` — a pandoc attribute block ``{#id .class key="value"}``;
* :func:`indent_of`, :func:`expand_tabs` — indentation, tabs as CommonMark counts them;
* :func:`laid_out` — an item's text over several lines, each at its column in the file.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

__all__ = [
    "MAX_TICKS",
    "SCANNED",
    "Attrs",
    "BacktickRuns",
    "Finder",
    "code_text",
    "find",
    "indent_of",
    "laid_out",
    "parse_attrs",
    "plain_markup",
]

#: Characters passed over by :func:`find` since the process started (for linear-time tests).
SCANNED = [0]
#: Longest backtick run that opens a code span or a role (longer runs are literal text).
MAX_TICKS = 32


def find(text: str, sub: str, start: int, end: int | None = None) -> int:
    """``text.find(sub, start, end)``, counting the characters it passes in :data:`SCANNED`."""
    idx = text.find(sub, start, end) if end is not None else text.find(sub, start)
    stop = idx if idx >= 0 else (len(text) if end is None else end)
    SCANNED[0] += max(stop - start, 0)
    return idx


class Finder:
    """Repeated searches for one string in one text, from increasing positions, in one pass.

    The first occurrence at or after ``j`` is the remembered one whenever ``j`` does not pass
    it, and none exists after a search that found none; so however often a scanner asks (an
    opening ``<!--`` repeated without a ``-->``), the text is scanned once.
    """

    def __init__(self, text: str, sub: str) -> None:
        self.text, self.sub = text, sub
        self._from = -1
        self._found = -2  # nothing searched yet

    def next(self, start: int) -> int:
        if self._found == -1 and start >= self._from:
            return -1
        if self._found >= start and self._from <= start:
            return self._found
        self._from = start
        self._found = find(self.text, self.sub, start)
        return self._found


def laid_out(text: str, start: int, joined: str, starts: list[int], margins: list[int]) -> str:
    """An item's ``text`` found at ``start`` in a paragraph ``joined`` from lines stripped of
    their indentation (line ``k`` begins at ``starts[k]``, at file column ``margins[k]``, 0-based),
    with each line it runs onto as written in the file: a newline, then spaces up to the line's
    column (a code span's newline that became a space is a newline again). So an offset in
    the text after a newline is its column in the file. Text that is not the paragraph's own
    (from an attribute) comes back unchanged."""
    raw = joined[start : start + len(text)]
    if "\n" not in raw or raw.replace("\n", " ") != text.replace("\n", " "):
        return text
    out: list[str] = []
    pos = 0
    k = bisect.bisect_right(starts, start) - 1
    while True:
        nl = find(raw, "\n", pos)
        if nl < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:nl])
        k += 1
        out.append("\n" + " " * margins[k])
        pos = nl + 1


def indent_of(line: str) -> int:
    """Leading spaces of ``line`` (a tab counts to the next multiple of four)."""
    col = 0
    for ch in line:
        if ch == " ":
            col += 1
        elif ch == "\t":
            col += 4 - col % 4
        else:
            break
    return col


class BacktickRuns:
    """Every run of backticks in a text, and the next run of a given length after a position.

    Built in one pass. Lookups must come with non-decreasing positions per length (as a
    left-to-right scan makes them): each length keeps a pointer that only moves forward, so all
    lookups together cost one pass over the runs per length used (at most :data:`MAX_TICKS`).
    """

    def __init__(self, text: str) -> None:
        self.starts: list[int] = []
        self.lengths: list[int] = []
        i, n = 0, len(text)
        while i < n:
            j = find(text, "`", i)
            if j < 0:
                break
            k = j
            while k < n and text[k] == "`":
                k += 1
            self.starts.append(j)
            self.lengths.append(k - j)
            i = k
        self._exact: dict[int, int] = {}
        self._at_least: dict[int, int] = {}

    def run_at(self, pos: int) -> int:
        """Length of the run starting exactly at ``pos`` (0 when none starts there)."""
        # callers ask in increasing order too; a bisect keeps it cheap and monotone-free
        import bisect

        k = bisect.bisect_left(self.starts, pos)
        return self.lengths[k] if k < len(self.starts) and self.starts[k] == pos else 0

    def next_exact(self, after: int, n: int) -> int:
        """Start of the first run of exactly ``n`` backticks starting at or after ``after``."""
        return self._next(self._exact, after, n, exact=True)

    def next_at_least(self, after: int, n: int) -> int:
        """Start of the first place at or after ``after`` where ``n`` backticks follow."""
        k = self._next(self._at_least, after, n, exact=False)
        return k

    def _next(self, pointers: dict[int, int], after: int, n: int, *, exact: bool) -> int:
        k = pointers.get(n, 0)
        starts, lengths = self.starts, self.lengths
        total = len(starts)
        while k < total:
            start, length = starts[k], lengths[k]
            if exact:
                if start >= after and length == n:
                    break
            elif start + length - n >= after and length >= n:
                pointers[n] = k
                return max(start, after)
            k += 1
        pointers[n] = k
        if k >= total:
            return -1
        return starts[k]


@dataclass(slots=True)
class Attrs:
    """A pandoc attribute block: identifier, classes, key-value pairs and where it ends."""

    identifier: str = ""
    classes: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    end: int = 0
    #: where each value starts in the text (its first character, inside any quotes)
    starts: dict[str, int] = field(default_factory=dict)
    #: where the text has a backslash that the value drops (``\\"`` is ``"``)
    escapes: list[int] = field(default_factory=list)


def parse_attrs(text: str, start: int, limit: int = 1000) -> Attrs | None:
    """The attribute block ``{…}`` at ``start`` (``text[start] == "{"``), or None if malformed.

    Tokens are separated by spaces: ``#id``, ``.class``, ``key=value``, ``key="quoted \\" value"``
    or ``key='quoted'``. Reading stops at the closing ``}``; it fails at a character no
    attribute holds outside quotes (a backtick, a brace, a bracket) or after ``limit``
    characters (callers bound the total they spend).
    """
    n = min(len(text), start + limit)
    if start >= n or text[start] != "{":
        return None
    out = Attrs()
    i = start + 1
    while i < n:
        ch = text[i]
        if ch in " \t\n":
            i += 1
            continue
        if ch == "}":
            out.end = i + 1
            return out
        if ch in _NOT_IN_ATTRS:
            return None
        j = i
        while j < n and text[j] not in _WORD_END:
            j += 1
        word = text[i:j]
        if j < n and text[j] == "=" and word and word[0] not in "#.":
            v = j + 1
            value, j = _attr_value(text, v, n, out.escapes)
            if value is None:
                return None
            out.values[word] = value
            out.starts[word] = v + (1 if v < n and text[v] in "\"'" else 0)
        elif word.startswith("#"):
            out.identifier = word[1:]
        elif word.startswith(".") and len(word) > 1:
            out.classes.append(word[1:])
        elif word:
            out.classes.append(word)
        else:
            return None
        i = j
    return None


_NOT_IN_ATTRS = frozenset("`{[]")
_WORD_END = frozenset(" \t\n}=`{[]")


def _attr_value(text: str, i: int, n: int, escapes: list[int]) -> tuple[str | None, int]:
    if i < n and text[i] in "\"'":
        quote = text[i]
        out: list[str] = []
        j = i + 1
        while j < n:
            ch = text[j]
            if ch == "\\" and quote == '"' and j + 1 < n:
                escapes.append(j)
                out.append(text[j + 1])
                j += 2
                continue
            if ch == quote:
                return "".join(out), j + 1
            out.append(ch)
            j += 1
        return None, n
    j = i
    while j < n and text[j] not in " \t\n}":
        if text[j] in _NOT_IN_ATTRS:
            return None, j
        j += 1
    return text[i:j], j


def code_text(raw: str) -> str:
    """A code span's text as pandoc and CommonMark give it: newlines as spaces, one space
    stripped from each end when both ends have one."""
    text = raw.replace("\n", " ")
    if len(text) >= 2 and text[0] == " " and text[-1] == " " and text.strip():
        return text[1:-1]
    return text


_MARKUP = frozenset("*_~`[$")


def plain_markup(raw: str) -> str:
    """A span's Markdown content as text, as the filter reads it from pandoc's inlines:
    emphasis, strong and strikeout marks, code backticks and link syntax dropped
    (``**30** [FLOP/B](url)`` → ``30 FLOP/B``); a lone ``*`` between spaces stays; inline
    math as its TeX (``19$\\times$`` → ``19\\times``, pandoc's Math text). One pass."""
    if not any(c in _MARKUP for c in raw):
        return raw
    out: list[str] = []
    opened: list[int] = []  # where each unclosed '[' would have been in out
    i, n = 0, len(raw)
    math_open = True  # a '$' may still open inline math
    while i < n:
        ch = raw[i]
        if ch == "\\" and i + 1 < n:
            out.append(raw[i : i + 2])
            i += 2
            continue
        if ch in "*~`_":
            j = i
            while j < n and raw[j] == ch:
                j += 1
            before = raw[i - 1] if i > 0 else " "
            after = raw[j] if j < n else " "
            word = before.isalnum() and after.isalnum()
            if (
                (ch == "~" and j - i < 2)
                or (before.isspace() and after.isspace())
                or (ch == "_" and word)
            ):
                out.append(raw[i:j])  # not a mark: a lone ~, a spaced *, an intraword _
            i = j
            continue
        if ch == "$" and math_open:
            shut = _math_close(raw, i)
            if shut > 0:
                out.append(raw[i + 1 : shut])
                i = shut + 1
                continue
            math_open = shut == 0  # -1: no '$' after this one closes: none will
        if ch == "[":
            opened.append(len(out))
            i += 1
            continue
        if ch == "]" and opened:
            opened.pop()
            if raw.startswith("(", i + 1) or raw.startswith("[", i + 1):
                close = ")" if raw[i + 1] == "(" else "]"
                end = raw.find(close, i + 2)
                i = end + 1 if end >= 0 else n
            else:
                i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _math_close(raw: str, i: int) -> int:
    """The closing ``$`` of pandoc inline math opening at ``raw[i]``: > 0 where it is; 0 when
    this ``$`` opens none (a space or ``$`` after it, or the next unescaped ``$`` cannot
    close: pandoc never looks past it); -1 when no later ``$`` is left."""
    if i + 1 >= len(raw) or raw[i + 1].isspace() or raw[i + 1] == "$":
        return 0
    j = raw.find("$", i + 1)
    while j >= 0 and raw[j - 1] == "\\":  # escaped (a backslash pair is consumed first)
        j = raw.find("$", j + 1)
    if j < 0:
        return -1
    return j if not raw[j - 1].isspace() and not raw[j + 1 : j + 2].isdigit() else 0
