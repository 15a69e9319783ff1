"""What a host reads as Markdown around napkin items, and what it does not.

The small syntax facts the Markdown scanner needs beyond paragraphs and fences: which MyST
directives take a Markdown title, what a directive option line looks like, a GFM table's
delimiter row and the ``|`` that ends a MyST table cell, the div attributes Quarto reads as
Markdown (titles, captions), where markdown-it ends YAML front matter, and what both read as
a URL, never Markdown (a link reference definition, an autolink). Each is one linear pass
over one line.
"""

from __future__ import annotations

__all__ = [
    "CAPTION_KEYS",
    "INLINE_OPTIONS",
    "LISTING_CAPTION",
    "MARKUP_ARGUMENT",
    "autolink_end",
    "caption_attributes",
    "front_matter_end",
    "is_delimiter_row",
    "is_option",
    "myst_closes_front_matter",
    "reference_definition",
    "unescaped_bar",
]

#: MyST directives whose argument is inline Markdown (a title; for admonitions without
#: arguments, MyST makes it the first line of the content).
MARKUP_ARGUMENT = frozenset(
    {
        "admonition",
        "attention",
        "caution",
        "danger",
        "error",
        "hint",
        "important",
        "note",
        "seealso",
        "tip",
        "warning",
        "topic",
        "sidebar",
        "rubric",
        "table",
        "list-table",
        "dropdown",
        "card",
        "tab-item",
        "margin",
        "csv-table",
        "centered",
        "versionadded",
        "versionchanged",
        "versionremoved",
        "deprecated",
    }
)
#: directive options whose value Sphinx parses as inline markup (their roles run): a code
#: listing's caption, a sidebar's subtitle (reST also parses a csv-table's header cells)
INLINE_OPTIONS: dict[str, frozenset[str]] = {
    "code-block": frozenset({"caption"}),
    "sourcecode": frozenset({"caption"}),
    "literalinclude": frozenset({"caption"}),
    "sidebar": frozenset({"subtitle"}),
}


def is_delimiter_row(text: str) -> bool:
    """``|---|:--:|``: the row under a GFM table's header."""
    body = text.strip().strip("|")
    cells = body.split("|")
    return bool(body) and all(c.strip(" :") and set(c.strip(" :")) == {"-"} for c in cells)


def unescaped_bar(text: str, start: int, end: int, code: bool = False) -> bool:
    """Whether ``text[start:end]`` holds a ``|`` that no backslash escapes (with ``code``:
    nor a code span holds, as pandoc's pipe tables read a row: a run of backticks opens a
    span that the next run of the same length closes)."""
    j = text.find("|", start, end)
    if j < 0:
        return False
    open_run = 0  # the length of the backtick run that opened the code span we are in
    i = start
    while i < end:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`" and code:
            k = i
            while k < end and text[k] == "`":
                k += 1
            open_run = (k - i) if open_run == 0 else (0 if k - i == open_run else open_run)
            i = k
            continue
        if ch == "|" and open_run == 0:
            return True
        i += 1
    return False


def is_option(text: str) -> bool:
    """``:name: value`` (a MyST directive option line)."""
    if not text.startswith(":"):
        return False
    end = text.find(":", 1)
    name = text[1:end] if end > 1 else ""
    return bool(name) and name.replace("-", "").replace("_", "").isalnum()


#: Div attributes whose value Quarto parses as Markdown (a callout's title, a float's caption).
CAPTION_KEYS = frozenset({"title", "fig-cap", "tbl-cap", "lst-cap"})
#: the one a code block has: a listing's caption (Quarto reads it when the id is ``#lst-…``)
LISTING_CAPTION = frozenset({"lst-cap"})


def caption_attributes(
    info: str, keys: frozenset[str] = CAPTION_KEYS
) -> list[tuple[str, list[int]]]:
    """The quoted values of ``keys`` in a pandoc attribute block ``{…}``, escapes resolved,
    each with the index in ``info`` of every character (one linear pass)."""
    out: list[tuple[str, list[int]]] = []
    if not info.startswith("{"):
        return out
    i, n = 1, len(info)
    while i < n and info[i] != "}":
        if info[i] in " \t":
            i += 1
            continue
        j = i
        while j < n and info[j] not in " \t=}":
            j += 1
        key = info[i:j]
        if j < n and info[j] == "=":
            j += 1
            if j < n and info[j] in "\"'":
                quote, j = info[j], j + 1
                chars: list[str] = []
                offsets: list[int] = []
                while j < n and info[j] != quote:
                    if info[j] == "\\" and j + 1 < n:
                        j += 1
                    chars.append(info[j])
                    offsets.append(j)
                    j += 1
                j += 1
                if key in keys:
                    out.append(("".join(chars), offsets))
            else:
                while j < n and info[j] not in " \t}":
                    j += 1
        i = max(j, i + 1)
    return out


def myst_closes_front_matter(line: str) -> bool:
    """markdown-it's closing fence: up to three columns of indent, then 3+ dashes only."""
    body = line.lstrip(" ")
    return len(line) - len(body) <= 3 and len(body) >= 3 and body.count("-") == len(body)


def front_matter_end(lines: list[str], myst: bool) -> tuple[int, int]:
    """The line after the front matter's closing fence (0: none), and the steps spent.
    Pandoc closes it at ``---`` or ``...`` alone at column 0; MyST (``myst``: markdown-it's
    front-matter rule) also at a run of at least as many dashes indented up to three spaces
    (so ``  ---`` inside a YAML block scalar ends a MyST chapter's front matter, and what
    follows is text)."""
    if not lines or lines[0].rstrip() != "---":
        return 0, 0
    for k in range(1, len(lines)):
        line = lines[k].rstrip()
        if line in ("---", "...") or (myst and myst_closes_front_matter(line)):
            return k + 1, k
    return 0, len(lines) - 1


#: what may follow an autolink's scheme (CommonMark: 2-32 characters in all)
_SCHEME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def autolink_end(text: str, i: int) -> int:
    """The end of the autolink ``<scheme:…>`` opening at ``text[i] == "<"`` (0: none). Its
    text is a URL in MyST and pandoc alike (``<https://x.org/`a`>`` holds no code span), and
    an autolink binds before code spans. Reads up to the first ``>``, space or ``<``."""
    n = len(text)
    j = i + 1
    while j < n and j - i <= 33 and text[j] in _SCHEME:
        j += 1
    if j - i < 3 or j >= n or text[j] != ":" or not text[i + 1].isalpha():
        return 0
    k = j + 1
    while k < n and text[k] not in "<> \t\n":
        k += 1
    return k + 1 if k < n and text[k] == ">" else 0


def reference_definition(text: str) -> bool:
    """Whether the line ``text`` (a block's first) is a link reference definition,
    ``[label]: destination "title"``: its title is text, never Markdown, in MyST and pandoc
    (``[^note]:`` is a footnote's). A title running onto later lines is not recognized."""
    if not text.startswith("[") or text.startswith("[^"):
        return False
    close = text.find("]:")
    if close < 2 or "[" in text[1:close]:
        return False
    rest = text[close + 2 :].strip()
    if not rest:
        return False
    if rest.startswith("<"):
        shut = rest.find(">")
        if shut < 0:
            return False
        after = rest[shut + 1 :].strip()
    else:
        after = rest.partition(" ")[2].strip()
    if not after or after.startswith("{"):  # pandoc may end it with attributes
        return True
    closer = {'"': '"', "'": "'", "(": ")"}.get(after[0])
    return closer is not None and len(after) > 1 and after.rstrip().endswith(closer)
