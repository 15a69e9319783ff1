"""The block-level pieces of Markdown the scanner recognizes, as MyST and pandoc define them.

Line prefixes (block quotes, list markers), fences and their info strings, MyST directive
options, pandoc code-block attributes, and what a MyST directive's content is (Markdown to
scan, or code to skip). Each function reads one line or one info string, in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlsysim.book.sources.text import parse_attrs
from mlsysim.book.syntax import ItemKind

__all__ = [
    "BLOCK_KIND",
    "CODE_DIRECTIVES",
    "HTML_TAGS",
    "Include",
    "amsmath_environment",
    "directive_options",
    "fence_run",
    "footnote_marker",
    "is_rule",
    "list_marker",
    "myst_directive",
    "pandoc_block",
    "quote_prefix",
]

CODE_DIRECTIVES = frozenset(
    {
        "code",
        "code-block",
        "code-cell",
        "sourcecode",
        "literalinclude",
        "math",
        "raw",
        "eval-rst",
        "mermaid",
        "graphviz",
        "csv-table",
        "highlight",
        "doctest",
        "ipython",
        "jupyter-execute",
        "testcode",
        "testoutput",
    }
)
BLOCK_KIND: dict[str, ItemKind] = {
    "napkin": "block",
    "napkin-eq": "eq",
    "napkin-table": "table",
    "napkin-plot": "plot",
    "napkin-formula": "formula",
    "napkin-registry": "registry",
}
#: CommonMark HTML block start tags (types 1 and 6): raw HTML until a blank line.
HTML_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "base",
        "basefont",
        "blockquote",
        "body",
        "caption",
        "center",
        "col",
        "colgroup",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "frame",
        "frameset",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "iframe",
        "legend",
        "li",
        "link",
        "main",
        "menu",
        "menuitem",
        "nav",
        "noframes",
        "ol",
        "optgroup",
        "option",
        "p",
        "param",
        "search",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "title",
        "tr",
        "track",
        "ul",
        "pre",
        "script",
        "style",
        "textarea",
    }
)


@dataclass(frozen=True, slots=True)
class Include:
    """An include the caller resolves: the path as written, its line, and its options."""

    path: str
    line: int
    options: dict[str, str] = field(default_factory=dict)
    syntax: str = "markdown"


def quote_prefix(line: str) -> tuple[int, int]:
    """(block-quote depth, column where the content after the ``>`` markers starts)."""
    depth, i, n = 0, 0, len(line)
    while True:
        j = i
        while j < n and j - i < 4 and line[j] == " ":
            j += 1
        if j < n and line[j] == ">":
            depth += 1
            i = j + 1
            if i < n and line[i] == " ":
                i += 1
            continue
        return depth, i


def list_marker(text: str) -> int:
    """Width of a list marker plus its spaces at the start of ``text`` (0: none)."""
    n = len(text)
    i = 0
    if i < n and text[i] in "-*+":
        i += 1
    else:
        while i < n and i < 9 and text[i].isdigit():
            i += 1
        if i == 0 or i >= n or text[i] not in ".)":
            return 0
        i += 1
    if i < n and text[i] not in " \t":
        return 0
    j = i
    while j < n and text[j] == " " and j - i < 4:
        j += 1
    if j >= n:
        return i + 1
    return j if j - i <= 4 else i + 1


#: environments MyST's amsmath extension reads as display math (a starred form too)
_AMSMATH = frozenset(
    {
        "equation",
        "multline",
        "gather",
        "align",
        "alignat",
        "flalign",
        "matrix",
        "pmatrix",
        "bmatrix",
        "Bmatrix",
        "vmatrix",
        "Vmatrix",
        "eqnarray",
    }
)


def amsmath_environment(text: str) -> str | None:
    """The environment a line opening an amsmath block names (``\\begin{align*}`` →
    ``align*``), or None."""
    if not text.startswith("\\begin{"):
        return None
    close = text.find("}", 7)
    name = text[7:close] if close > 0 else ""
    return name if name.removesuffix("*") in _AMSMATH else None


def footnote_marker(text: str) -> int:
    """Width of a footnote definition's ``[^label]:`` plus its spaces at the start of
    ``text`` (0: none). Pandoc and MyST read the note's later blocks indented four spaces
    under it as part of the note, as a list item's."""
    if not text.startswith("[^"):
        return 0
    close = text.find("]", 2)
    if close < 3 or text[close + 1 : close + 2] != ":" or any(c in " \t[" for c in text[2:close]):
        return 0
    j = close + 2
    while j < len(text) and text[j] in " \t":
        j += 1
    return j


def fence_run(text: str) -> tuple[str, int]:
    """(fence character, run length) when ``text`` starts a fence of 3 or more, else ("", 0)."""
    if not text or text[0] not in "`~:":
        return "", 0
    ch = text[0]
    k = 0
    while k < len(text) and text[k] == ch:
        k += 1
    return (ch, k) if k >= 3 else ("", 0)


def myst_directive(info: str) -> tuple[str, str] | None:
    """``{name} argument`` → (name, argument)."""
    if not info.startswith("{"):
        return None
    close = info.find("}")
    if close <= 1:
        return None
    name = info[1:close].strip()
    if not name or any(c in name for c in " {"):
        return None
    return name.lower(), info[close + 1 :].strip()  # docutils' names ignore case


def directive_options(body: list[str]) -> tuple[dict[str, str], int, list[tuple[str, int]]]:
    """MyST directive options at the top of its content, where the content starts, and the
    0-based content line of each option."""
    attrs: dict[str, str] = {}
    where: list[tuple[str, int]] = []
    start = 0
    if body and body[0].strip() == "---":
        close = next((k for k in range(1, len(body)) if body[k].strip() == "---"), 0)
        for k in range(1, close):
            key, _, value = body[k].partition(":")
            if key.strip():
                attrs[key.strip()] = value.strip()
                where.append((key.strip(), k))
        start = close + 1
    while start < len(body):
        line = body[start].strip()
        if not (line.startswith(":") and line.find(":", 1) > 1):
            break
        close = line.find(":", 1)
        key = line[1:close]
        if not key or any(c in key for c in " `"):
            break
        attrs[key] = line[close + 1 :].strip()
        where.append((key, start))
        start += 1
    while start < len(body) and not body[start].strip():
        start += 1
    return attrs, start, where


def pandoc_block(
    info: str, starts: dict[str, int] | None = None
) -> tuple[ItemKind | None, dict[str, str]]:
    """A pandoc code block's napkin kind (by class, in the filter's order) and attributes;
    ``starts`` receives where each attribute value begins in ``info``."""
    classes: list[str] = []
    values: dict[str, str] = {}
    rest = info
    if rest and not rest.startswith("{"):
        word = rest.split(None, 1)
        classes.append(word[0])
        rest = word[1].strip() if len(word) > 1 else ""
    if rest.startswith("{"):
        attrs = parse_attrs(rest, 0)
        if attrs is None:
            return None, {}
        classes += attrs.classes
        values = dict(attrs.values)
        if starts is not None:
            starts.update({k: len(info) - len(rest) + v for k, v in attrs.starts.items()})
    for cls in BLOCK_KIND:
        if cls in classes:
            return BLOCK_KIND[cls], values
    return None, {}


def is_rule(text: str) -> bool:
    stripped = text.replace(" ", "")
    return len(stripped) >= 3 and stripped[0] in "-*_=" and stripped == stripped[0] * len(stripped)
