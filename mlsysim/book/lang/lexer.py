"""The napkin language's surface, read in single linear passes (no regular expressions).

Napkin text is Python expression syntax plus three additions handled here before :mod:`ast`
sees it:

* **conversion** — ``expr -> unit``: the rightmost top-level ``->`` (outside brackets and
  strings) splits the expression from its display unit;
* **claims** — ``stated ~ expr [@ tolerance]``;
* **statements** — a napkin block is one statement per line (brackets and a trailing ``\\``
  continue it; ``#`` starts a comment); ``[rebind] name = expr`` binds a name.

Every function here visits each character a bounded number of times, whatever the input
(unclosed quotes, runs of backslashes, brackets that never close): their cost is linear.
Columns are 0-based character offsets into the text given.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from mlsysim.core.exceptions import NapkinSyntaxError

__all__ = [
    "Binding",
    "Statement",
    "binding_head",
    "first_top_level",
    "is_ident_char",
    "is_ident_start",
    "mask_strings",
    "split_claim",
    "split_conversion",
    "split_statements",
    "split_top",
    "top_level",
]

_OPEN, _CLOSE = "([{", ")]}"
_QUOTES = "'\""


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a napkin block: its text, 0-based line offset and start column."""

    text: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Binding:
    """The head of ``[rebind] name = expr``: the name and where its expression starts."""

    name: str
    rebind: bool
    expression_start: int


def is_ident_start(ch: str) -> bool:
    """Whether ``ch`` may start a Python identifier (letters of any script, ``_``)."""
    return ch == "_" or ch.isalpha()


def is_ident_char(ch: str) -> bool:
    """Whether ``ch`` may continue a Python identifier."""
    return ch == "_" or ch.isalnum()


def mask_strings(text: str) -> str:
    """``text`` with the contents of string literals replaced by spaces (quotes kept).

    Triple quotes, backslash escapes and unterminated strings (masked to the end of their
    line) are handled in one pass; newlines are kept so lines and columns do not move.
    """
    if "'" not in text and '"' not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    # the next ' and " at or after i (each search resumes where the last one ended: linear)
    nxt = {q: text.find(q) for q in _QUOTES}
    while i < n:
        for q, at in nxt.items():
            if 0 <= at < i:
                nxt[q] = text.find(q, i)
        ahead = [at for at in nxt.values() if at >= 0]
        if not ahead:
            out.append(text[i:])
            break
        nearest = min(ahead)
        if nearest > i:
            out.append(text[i:nearest])
            i = nearest
        ch = text[i]
        triple = text.startswith(ch * 3, i)
        quote = ch * 3 if triple else ch
        j = i + len(quote)
        end = -1
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "\n" and not triple:
                break
            if c == ch and (not triple or text.startswith(quote, j)):
                end = j
                break
            j += 1
        j = min(j, n)
        if end < 0:  # unterminated: mask to the end of the line (or text)
            out.append(quote)
            out.append(_blank(text, i + len(quote), j))
            i = j
            continue
        out.append(quote)
        out.append(_blank(text, i + len(quote), end))
        out.append(quote)
        i = end + len(quote)
    return "".join(out)


def _blank(text: str, start: int, end: int) -> str:
    """Spaces for ``text[start:end]``, keeping its newlines."""
    piece = text[start:end]
    if "\n" not in piece:
        return " " * len(piece)
    return "".join("\n" if c == "\n" else " " for c in piece)


def top_level(text: str, wanted: str, *, masked: str | None = None) -> list[int]:
    """Positions of the characters in ``wanted`` outside brackets and strings, in order.

    ``-`` in ``wanted`` matches only the ``-`` of ``->``.
    """
    if not any(c in text for c in wanted):
        return []
    m = mask_strings(text) if masked is None else masked
    found: list[int] = []
    depth = 0
    for i, ch in enumerate(m):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0 and ch in wanted and (ch != "-" or m.startswith("->", i)):
            found.append(i)
    return found


def first_top_level(text: str, char: str) -> int:
    """Position of the first ``char`` outside brackets and strings, or -1."""
    hits = top_level(text, char)
    return hits[0] if hits else -1


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside brackets and strings; parts stripped, empty parts dropped."""
    cuts = [-1, *top_level(text, sep), len(text)]
    parts = (text[a + 1 : b].strip() for a, b in itertools.pairwise(cuts))
    return [p for p in parts if p]


def split_conversion(text: str) -> tuple[str, str | None, int | None]:
    """Split ``expr -> unit`` at the rightmost top-level ``->``; (expr, unit, unit column)."""
    arrows = top_level(text, "-")
    if not arrows:
        return text, None, None
    found = arrows[-1]
    tail = text[found + 2 :]
    unit = tail.strip()
    if not unit:
        raise NapkinSyntaxError(
            "nothing after '->'",
            column=found,
            expression=text,
            fix="write the unit to convert to, e.g. `expr -> ms`",
        )
    return text[:found], unit, found + 2 + (len(tail) - len(tail.lstrip()))


def split_claim(text: str) -> tuple[str, str, str | None, int, int | None] | None:
    """``stated ~ expr [@ tol]`` → (stated, expr, tol, expr column, tol column), else None."""
    masked = mask_strings(text)
    marks = top_level(text, "~@", masked=masked)
    tilde = next((i for i in marks if masked[i] == "~" and masked[:i].strip()), -1)
    if tilde < 0:
        return None
    ats = [i for i in marks if i > tilde and masked[i] == "@"]
    at = ats[-1] if ats else -1
    end = at if at >= 0 else len(text)
    expr = text[tilde + 1 : end]
    tol = text[at + 1 :].strip() if at >= 0 else None
    lead = len(expr) - len(expr.lstrip())
    return text[:tilde].strip(), expr, tol, tilde + 1 + lead, (at + 1 if at >= 0 else None)


def _strip_comment(line: str) -> str:
    masked = mask_strings(line)
    idx = masked.find("#")
    return line if idx < 0 else line[:idx]


def split_statements(text: str) -> list[Statement]:
    """Split a napkin block into statements: one per line unless brackets continue it.

    ``#`` comments (outside strings) are blanked; blank lines are skipped. A trailing ``\\``
    also continues a statement. Lines and columns are 0-based within ``text``.
    """
    out: list[Statement] = []
    buf: list[str] = []
    start_line = start_col = 0
    depth = 0
    for i, raw in enumerate(text.split("\n")):
        line = _strip_comment(raw)
        if not buf:
            if not line.strip():
                continue
            start_line, start_col = i, len(line) - len(line.lstrip())
            line = line[start_col:]
        masked = mask_strings(line)
        for ch in masked:
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth -= 1
        continued = line.rstrip().endswith("\\")
        buf.append(line.rstrip()[:-1] if continued else line)
        if depth > 0 or continued:
            continue
        out.append(Statement("\n".join(buf).rstrip(), start_line, start_col))
        buf, depth = [], 0
    if buf:
        out.append(Statement("\n".join(buf).rstrip(), start_line, start_col))
    return out


def binding_head(text: str) -> Binding | None:
    """``[rebind] name = expr`` → its name and where ``expr`` starts; None otherwise.

    ``==`` is a comparison, not a binding; the name must be an identifier.
    """
    n = len(text)
    i = 0
    rebind = False
    if text.startswith("rebind", 0) and n > 6 and text[6] in " \t":
        j = 6
        while j < n and text[j] in " \t":
            j += 1
        if j < n and is_ident_start(text[j]):
            rebind, i = True, j
    if i >= n or not is_ident_start(text[i]) or text[i].isdigit():
        return None
    j = i
    while j < n and is_ident_char(text[j]):
        j += 1
    name = text[i:j]
    while j < n and text[j] in " \t":
        j += 1
    if j >= n or text[j] != "=" or text.startswith("==", j):
        return None
    return Binding(name, rebind, j + 1)
