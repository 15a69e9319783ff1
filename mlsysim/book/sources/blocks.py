"""The block-level pieces of Markdown the scanner recognizes, as MyST and pandoc define them.

Line prefixes (block quotes, list markers), fences and their info strings, MyST directive
options, pandoc code-block attributes, and what a MyST directive's content is (Markdown to
scan, or code to skip). Each function reads one line or one info string, in one pass.
"""

from __future__ import annotations

import re
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
    "pandoc_fence_info",
    "pandoc_marker",
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
    return _content_column(text, i)


#: a roman numeral of one case (pandoc's fancy_lists: ``iv.``, ``(XII)``)
_ROMAN = re.compile(r"m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")
#: the longest marker token read (a roman numeral or an example label)
_MAX_TOKEN = 12


def pandoc_marker(text: str) -> tuple[int, int]:
    """(width of the marker plus its spaces, the indent the item's later blocks need) for a
    list marker pandoc has and CommonMark lacks at the start of ``text`` ((0, 0): none):
    ``fancy_lists`` (``a.``, ``B)``, ``(iv)``, ``#.``, ``(3)``), ``example_lists`` (``(@)``,
    ``(@label)``, ``@.``) and ``definition_lists`` (``:`` or ``~``). Later blocks need the
    item's content column, as pandoc 3 reads them, but an example's need four spaces at
    most; a capital letter with a period needs two spaces after it (``A. Smith`` is prose)."""
    width = _marker_width(text)
    return width, min(width, 4) if "@" in text[: min(width, _MAX_TOKEN + 2)] else width


def _marker_width(text: str) -> int:
    n = len(text)
    if n and text[0] in ":~":
        i = 1
    else:
        paren = text.startswith("(")
        j = 1 if paren else 0
        k = j
        while k < n and k - j <= _MAX_TOKEN and (text[k].isalnum() or text[k] in "@#_-"):
            k += 1
        token = text[j:k]
        if not _marker_token(token) or k >= n:
            return 0
        if text[k] != ")" and (paren or text[k] != "."):
            return 0
        i = k + 1
        if text[k] == "." and len(token) == 1 and token.isupper() and text[i : i + 2] != "  ":
            return 0
    return _content_column(text, i)


def _content_column(text: str, i: int) -> int:
    """Where a list item's content starts after its marker, which ends at ``i`` (0: the
    marker is not followed by a space, so no marker): CommonMark's one to four spaces, or one
    when more follow (the rest is the content's indent) or the line ends."""
    n = len(text)
    if i < n and text[i] not in " \t":
        return 0
    j = i
    while j < n and text[j] == " " and j - i < 4:
        j += 1
    if j >= n:
        return i + 1
    return j if j - i <= 4 else i + 1


def _marker_token(token: str) -> bool:
    if token in ("#", "@") or (len(token) == 1 and token.isascii() and token.isalpha()):
        return True
    if token.startswith("@"):
        return all(c.isalnum() or c in "_-" for c in token[1:])
    if token.isdigit():
        return len(token) <= 9
    if token.isascii() and (token.islower() or token.isupper()):
        return _ROMAN.fullmatch(token.lower()) is not None
    return False


def pandoc_fence_info(info: str) -> bool:
    """Whether a backtick fence's info string that holds a backtick still opens a code block
    in pandoc: a language word and/or an attribute block that ends it, the backticks inside
    the block's quoted values (```` ```{#lst-a .py lst-cap="`f`"} ````); CommonMark never
    opens one (an inline code span)."""
    rest = info
    if rest and not rest.startswith("{"):
        word, _, rest = rest.partition(" ")
        if "`" in word:
            return False
        rest = rest.strip()
    attrs = parse_attrs(rest, 0) if rest.startswith("{") else None
    return attrs is not None and not rest[attrs.end :].strip()


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
