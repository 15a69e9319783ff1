"""Napkin items of a reStructuredText source, read the way docutils reads them.

* directives ``.. napkin::``, ``.. napkin-eq::`` (expression as argument or content) and
  ``.. napkin-table::`` with their options and indented content;
* ``.. include:: file`` (with ``:start-line:``, ``:end-line:``, ``:literal:``, ``:code:``)
  — the caller reads it, so included roles are located in the included file;
* roles ``:napkin:`x` ``, ``:claim:`…` `` and ``:napkin-eq:`…` `` in paragraphs, also spanning
  lines, with docutils' start- and end-string rules; ````inline literals```` are opaque;
* skipped: comments (``..`` blocks that are no directive), targets, the content of code,
  math and raw directives, and ``::`` literal blocks.

One pass over the lines; inside a paragraph, closing backticks are looked up through a
pointer that only moves forward, so the scan is linear however the backticks are arranged.
"""

from __future__ import annotations

import bisect

from mlsysim.book.sources.blocks import Include, list_marker
from mlsysim.book.sources.markup import INLINE_OPTIONS
from mlsysim.book.sources.text import find, indent_of, laid_out
from mlsysim.book.syntax import Item, ItemKind

__all__ = ["RstScanner"]

_KIND: dict[str, ItemKind] = {
    "napkin": "block",
    "napkin-eq": "eq",
    "napkin-table": "table",
    "napkin-plot": "plot",
    "napkin-formula": "formula",
    "napkin-registry": "registry",
}
_ROLE_KIND: dict[str, ItemKind] = {"napkin": "inline", "claim": "claim", "napkin-eq": "eq"}
#: Directives whose content docutils does not parse as reStructuredText.
CODE_DIRECTIVES = frozenset(
    {
        "code",
        "code-block",
        "sourcecode",
        "literalinclude",
        "math",
        "raw",
        "highlight",
        "doctest",
        "ipython",
        "jupyter-execute",
        "testcode",
        "testoutput",
        "graphviz",
        "mermaid",
    }
)
# (``csv-table`` is not one: docutils parses each cell as reStructuredText, so its roles run)
#: options docutils and Sphinx parse as inline reST: MyST's, and a csv-table's header cells
_INLINE_OPTIONS = {**INLINE_OPTIONS, "csv-table": frozenset({"header"})}
_START_BEFORE = frozenset(" \t\n'\"([{<-/:")
_END_AFTER = frozenset(" \t\n'\")]}>-/:.,;!?\\_")
_ROLE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.+")


def _directive(text: str) -> tuple[str, str] | None:
    """``.. name:: argument`` (``text`` without indentation) → (name, argument)."""
    if not text.startswith(".. "):
        return None
    rest = text[3:]
    close = rest.find("::")
    if close <= 0:
        return None
    name = rest[:close]
    if any(c not in _ROLE_NAME for c in name):
        return None
    return name.lower(), rest[close + 2 :].strip()  # docutils' names ignore case


def _is_border(text: str) -> bool:
    t = text.rstrip()
    if len(t) >= 2 and t[0] == "+" and all(c in "+-=:|" for c in t):
        return True
    core = t.replace(" ", "")
    return len(core) >= 3 and len(set(core)) == 1 and core[0] in "=-~^\"'`#*+_.:<>"


class _Closings:
    """A paragraph's valid end-strings (a backtick, or two), found once, looked up in order."""

    def __init__(self, text: str, marker: str) -> None:
        self.positions: list[int] = []
        n, m = len(text), len(marker)
        i = find(text, marker, 0)
        while i >= 0:
            run = 0  # backslashes just before: an odd number escapes the backtick
            while run < i and text[i - 1 - run] == "\\":
                run += 1
            escaped = run % 2 == 1
            end = i + m
            longer = end < n and text[end] == "`"
            if not escaped and not longer and (end >= n or text[end] in _END_AFTER):
                self.positions.append(i)
            i = find(text, marker, i + 1 if not longer else end)
        self._k = 0

    def next(self, after: int) -> int:
        k = self._k
        while k < len(self.positions) and self.positions[k] < after:
            k += 1
        self._k = k
        return self.positions[k] if k < len(self.positions) else -1


def _scan_roles(text: str) -> tuple[list[tuple[ItemKind, str, int]], int]:
    """Roles of one paragraph: (kind, content, content start), and the steps taken."""
    singles = _Closings(text, "`")
    doubles = _Closings(text, "``")
    out: list[tuple[ItemKind, str, int]] = []
    steps = 0
    i, n = 0, len(text)
    while i < n:
        steps += 1
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        start_ok = i == 0 or text[i - 1] in _START_BEFORE
        if ch == "`" and start_ok:
            if text.startswith("``", i):
                close = doubles.next(i + 3)
                i = close + 2 if close >= 0 else i + 2
                continue
            close = singles.next(i + 2)
            i = close + 1 if close >= 0 else i + 1
            continue
        if ch == ":" and start_ok:
            j = i + 1
            while j < n and j - i < 40 and text[j] in _ROLE_NAME and text[j] != ":":
                j += 1
            if j < n and text[j] == ":" and j + 1 < n and text[j + 1] == "`" and j > i + 1:
                if text.startswith("``", j + 1):
                    i = j + 1
                    continue
                content = j + 2
                close = singles.next(content + 1)
                if close >= 0 and not text[content].isspace() and not text[close - 1].isspace():
                    kind = _ROLE_KIND.get(text[i + 1 : j].lower())  # any case
                    if kind is not None:
                        out.append((kind, text[content:close], content))
                    i = close + 1
                    continue
        i += 1
    return out, steps


def _shared_indent(lines: list[str]) -> str:
    """The leading whitespace all non-blank ``lines`` start with (one pass)."""
    shared: str | None = None
    for line in lines:
        if not line.strip():
            continue
        lead = line[: len(line) - len(line.lstrip(" \t"))]
        if shared is None:
            shared = lead
            continue
        k, n = 0, min(len(shared), len(lead))
        while k < n and shared[k] == lead[k]:
            k += 1
        shared = shared[:k]
    return shared or ""


def _doubled_quotes(text: str) -> list[int]:
    """Offsets of the first quote of each ``""`` (CSV's escaped quote), left to right."""
    out: list[int] = []
    k = text.find('""')
    while k >= 0:
        out.append(k)
        k = text.find('""', k + 2)
    return out


class RstScanner:
    """Scans one reStructuredText text; :meth:`scan` returns items and includes in order."""

    def __init__(self, text: str) -> None:
        self.lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
        self.out: list[Item | Include] = []
        self.steps = 0
        self._para: list[tuple[int, int, str]] = []

    def scan(self) -> list[Item | Include]:
        lines = self.lines
        i = 0
        while i < len(lines):
            self.steps += 1
            line = lines[i]
            if not line.strip():
                self._flush()
                i += 1
                continue
            ind = indent_of(line)
            text = line.lstrip(" \t")
            col = len(line) - len(text)
            if text.startswith(".. ") or text.rstrip() == "..":
                self._flush()
                i = self._explicit(i, ind, text, col)
                continue
            if _is_border(text):
                self._flush()
                i += 1
                continue
            marker = list_marker(text)
            if marker:
                self._flush()
                text, col = text[marker:], col + marker
            if text.startswith(">>>") and not self._para:  # a doctest block: literal
                i = self._until_blank(i)
                continue
            if (self._para and col != self._para[-1][1]) or text.startswith("|"):
                self._flush()
            self._para.append((i, col, text))
            if text.startswith("|"):
                self._flush()
            elif text.rstrip().endswith("::"):
                self._flush()
                i = self._block_end(i + 1, ind)
                continue
            i += 1
        self._flush()
        return self.out

    def _flush(self, csv: bool = False) -> None:
        para = self._para
        if not para:
            return
        self._para = []
        joined = "\n".join(t for _, _, t in para)
        if ":" not in joined or "`" not in joined:
            return
        starts = []
        pos = 0
        for _, _, t in para:
            starts.append(pos)
            pos += len(t) + 1
        found, steps = _scan_roles(joined)
        self.steps += steps
        margins = [c for _, c, _ in para]

        def place(pos: int) -> tuple[int, int]:
            k = bisect.bisect_right(starts, pos) - 1
            line_index, col, _ = para[k]
            return line_index + 1, col + pos - starts[k] + 1

        for kind, content, start in found:
            text = laid_out(content, start, joined, starts, margins)
            escapes: tuple[tuple[int, int], ...] = ()
            if csv:
                text = text.replace('""', '"')
                escapes = tuple(place(start + o) for o in _doubled_quotes(content))
            self.out.append(Item(kind, text, *place(start), escapes=escapes))

    def _until_blank(self, i: int) -> int:
        while i < len(self.lines) and self.lines[i].strip():
            self.steps += 1
            i += 1
        return i

    def _block_end(self, start: int, base: int) -> int:
        lines = self.lines
        k = start
        while k < len(lines) and (not lines[k].strip() or indent_of(lines[k]) > base):
            self.steps += 1
            k += 1
        return k

    def _options(self, start: int, base: int) -> tuple[dict[str, str], int]:
        """A directive's ``:key: value`` options starting at line ``start``, and what follows
        (each option's 1-based line in :attr:`_option_lines`)."""
        attrs: dict[str, str] = {}
        lines = self.lines
        self._option_lines: list[tuple[str, int]] = []
        self._option_at: list[tuple[str, int, int]] = []
        k = start
        while k < len(lines) and lines[k].strip() and indent_of(lines[k]) > base:
            text = lines[k].strip()
            close = text.find(":", 1)
            if not text.startswith(":") or close <= 1:
                break
            attrs[text[1:close]] = text[close + 1 :].strip()
            self._option_lines.append((text[1:close], k + 1))
            value = attrs[text[1:close]]
            if value:
                after = len(lines[k]) - len(lines[k].lstrip()) + close + 1
                self._option_at.append((text[1:close], k + 1, lines[k].find(value, after) + 1))
            k += 1
        return attrs, k

    def _explicit(self, i: int, ind: int, text: str, col: int) -> int:
        """An explicit markup block at line ``i``; returns the next line to read."""
        directive = _directive(text)
        if directive is None:
            if text.startswith(".. |") and "::" in text:  # a substitution definition
                rest = text[text.index("::") + 2 :]
                self._para.append((i, col + len(text) - len(rest), rest))
                self._flush()
                return i + 1
            close = text.find("] ", 4) if text.startswith(".. [") else -1
            if close > 4 and " " not in text[4:close]:  # a footnote or citation: body text
                rest = text[close + 2 :]
                self._para.append((i, col + len(text) - len(rest), rest))
                return i + 1  # its indented lines are its body, read on
            return self._block_end(i + 1, ind)  # a comment, a target
        name, arg = directive
        end = self._block_end(i + 1, ind)
        if name in _KIND:
            attrs, k = self._options(i + 1, ind)
            while k < end and not self.lines[k].strip():
                k += 1
            body = self.lines[k:end]
            while body and not body[-1].strip():
                body.pop()
            # the indent every content line shares, as characters (a tab is one column of
            # the file, as in every other host syntax; docutils' expanded tabs are not)
            inner = _shared_indent(body)
            content = "\n".join(b[len(inner) :] if b.startswith(inner) else b.strip() for b in body)
            line, column = k + 1, (len(inner) if body else ind + 3) + 1
            if arg and name in ("napkin-eq", "napkin-formula", "napkin-registry"):
                content, line, column = arg, i + 1, self.lines[i].rfind(arg) + 1
            elif arg and name in ("napkin-table", "napkin-plot"):
                attrs.setdefault("caption", arg)
            where = tuple(self._option_lines)
            at = tuple(self._option_at)
            item = Item(_KIND[name], content, line, column, attrs, option_lines=where, attr_at=at)
            self.out.append(item)
            return end
        if name == "include":
            attrs, _ = self._options(i + 1, ind)
            self.out.append(Include(arg, i + 1, attrs, "rst"))
            return end
        attrs, k = self._options(i + 1, ind)
        if arg and ":" in arg and name not in CODE_DIRECTIVES:
            start = self.lines[i].rfind(arg)
            self._para.append((i, start, arg))
            self._flush()
        inline = _INLINE_OPTIONS.get(name, frozenset())
        for key, line, column in self._option_at:  # options parsed as inline reST
            if key in inline and "`" in attrs[key]:
                self._para.append((line - 1, column - 1, attrs[key]))
                self._flush(csv=name == "csv-table")
        if name in CODE_DIRECTIVES:
            return end
        if name == "csv-table":  # each row's cells are reST, after CSV's "" became "
            for n in range(k, end):
                self.steps += 1
                text = self.lines[n].lstrip(" \t")
                if text.strip():
                    self._para.append((n, len(self.lines[n]) - len(text), text))
                    self._flush(csv=True)
            return end
        return k
