"""A fenced block's extent and content: where it ends, its body lines, a napkin directive.

The Markdown scanner finds where a fence opens; these read what the fence holds, as
CommonMark and pandoc do: the closing fence (same character, at least as long, indented at
most three columns past the opening), or where the fence's container ends first (a block
quote that stops, a list item that is left), or the end of the text. Each returns the number
of lines it looked at, so the scanner's step count stays exact.
"""

from __future__ import annotations

from mlsysim.book.sources.blocks import BLOCK_KIND, directive_options, fence_run, quote_prefix
from mlsysim.book.sources.markup import is_option
from mlsysim.book.sources.text import indent_of
from mlsysim.book.syntax import Item

__all__ = ["fence_content", "fence_end", "myst_item", "past_options"]

#: directives whose argument is the item itself when the body is empty
_ARGUMENT_ITEMS = ("napkin-eq", "napkin-formula", "napkin-registry")
#: directives whose argument is their caption
_ARGUMENT_CAPTIONS = ("napkin-table", "napkin-plot")


def fence_end(
    lines: list[str], i: int, depth: int, ch: str, run: int, fence_indent: int, container: int
) -> tuple[int, int, int]:
    """(end of the content, next line to read, lines looked at) for the fence opening at line
    ``i``: the closing fence, or where its container (block quote of ``depth``, list item of
    content column ``container``) or the text ends."""
    k = i + 1
    while k < len(lines):
        line = lines[k]
        d, c = quote_prefix(line)
        body = line[c:]
        if depth and d < depth and body.strip():
            return k, k, k - i  # the block quote ended
        text = body.lstrip(" \t")
        ind = indent_of(body)
        if container and body.strip() and ind < container and ind < fence_indent:
            return k, k, k - i  # the list item ended
        if ind <= fence_indent + 3:
            c2, r2 = fence_run(text)
            if c2 == ch and r2 >= run and not text[r2:].strip():
                return k, k + 1, k - i
        k += 1
    return k, k, k - i - 1


def fence_content(line: str, qcol: int, fence_indent: int) -> str:
    """One body line of a fence: past its block-quote markers (when the fence is quoted) and
    up to ``fence_indent`` spaces, the fence's own indent."""
    body = line[quote_prefix(line)[1] :] if qcol else line
    strip = 0
    while strip < fence_indent and strip < len(body) and body[strip] == " ":
        strip += 1
    return body[strip:]


def past_options(lines: list[str], k: int, qcol: int) -> tuple[int, int]:
    """(first line after a MyST directive's options from line ``k``, lines looked at): the
    ``:key: value`` lines or a ``---`` YAML block; options are plain values, not Markdown."""
    if k < len(lines) and lines[k][qcol:].strip() == "---":
        for end in range(k + 1, len(lines)):
            if lines[end][qcol:].strip() == "---":
                return end + 1, end - k
        return k, len(lines) - k - 1
    start = k
    while k < len(lines) and is_option(lines[k][qcol:].lstrip(" \t")):
        k += 1
    return k, k - start


def myst_item(lines: list[str], name: str, arg: str, body: list[str], i: int, col: int) -> Item:
    """The item of napkin directive ``name`` opening at line ``i``, column ``col`` (0-based),
    with its argument ``arg`` and its fence's ``body`` lines (options first)."""
    attrs, start, where = directive_options(body)
    content = body[start:]
    while content and not content[-1].strip():
        content.pop()
    text, line, column = "\n".join(content), i + 2 + start, col + 1
    if arg and name in _ARGUMENT_ITEMS and not text.strip():
        text, line, column = arg, i + 1, lines[i].rfind(arg) + 1
    elif arg and name in _ARGUMENT_CAPTIONS:
        attrs.setdefault("caption", arg)
    option_lines = tuple((key, i + 2 + k) for key, k in where)
    at = tuple(  # where each option's value starts (a table's rows fail at their own)
        (key, i + 2 + k, col + 1 + body[k].find(attrs[key]))
        for key, k in where
        if attrs.get(key) and body[k].find(attrs[key]) >= 0
    )
    return Item(BLOCK_KIND[name], text, line, column, attrs, option_lines=option_lines, attr_at=at)
