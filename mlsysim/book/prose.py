"""The prose of a source: every line with code, napkin items, math, comments, URLs and front
matter blanked out (what ``mlsysim lint`` reads), in one linear pass per line.

Markdown (MyST and Quarto) and reST: fenced and indented code, directives other than prose
admonitions, inline code, roles, shortcodes, pandoc spans and blocks, ``$…$`` math, HTML
comments (except ``mlsysim-lint:`` marks, kept whole) and URLs.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["LINT_MARK", "prose_segments"]

#: the comment that allows figures on a line or switches linting off/on
LINT_MARK = "mlsysim-lint:"
_CODE_FENCE_NAMES = frozenset(
    {"napkin", "napkin-eq", "napkin-table", "napkin-plot", "code", "code-block", "code-cell",
     "math", "raw", "eval-rst", "mermaid", "graphviz", "literalinclude", "csv-table",
     "list-table", "doctest", "testcode", "testoutput", "ipython", "jupyter-execute"}
)  # fmt: skip
_RST_PROSE = frozenset(
    {"note", "warning", "tip", "important", "caution", "hint", "attention", "danger", "error",
     "admonition", "seealso", "topic", "sidebar", "epigraph", "pull-quote", "highlights"}
)  # fmt: skip


def _mask(line: str, rst: bool) -> str:
    """``line`` with everything that is not prose blanked (same length: columns hold)."""
    out = list(line)
    n = len(line)
    i = 0
    opens: list[int] = []
    missing: set[str] = set()  # closers known absent from here on: every search once

    def find(token: str, start: int) -> int:
        if token in missing:
            return -1
        at = line.find(token, start)
        if at < 0:
            missing.add(token)
        return at

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            out[k] = " "

    while i < n:
        ch = line[i]
        if ch == "`":
            run = i
            while run < n and line[run] == "`":
                run += 1
            ticks = line[i:run]
            close = find(ticks, run)
            if close < 0:
                blank(i, n)
                break
            start = i
            # a role before the code span: {napkin}` (MyST) or :napkin:` (reST)
            if start > 0 and line[start - 1] in "}:":
                opener = "{" if line[start - 1] == "}" else " "
                k = line.rfind(opener, max(0, start - 40), start - 1)
                start = k if k >= 0 else start
            end = close + len(ticks)
            if end < n and line[end] == "{":  # pandoc `expr`{.napkin}
                brace = find("}", end)
                end = brace + 1 if brace >= 0 else n
            blank(start, end)
            i = end
            continue
        if not rst and line.startswith("{{<", i):
            close = find(">}}", i)
            end = close + 3 if close >= 0 else n
            blank(i, end)
            i = end
            continue
        if line.startswith("<!--", i):
            close = find("-->", i)
            end = close + 3 if close >= 0 else n
            blank(i, end)
            i = end
            continue
        if ch == "<" and i + 1 < n and (line[i + 1].isalpha() or line[i + 1] == "/"):
            close = find(">", i)
            if close > 0:  # an HTML tag or an autolink / reST link target
                blank(i, close + 1)
                i = close + 1
                continue
        if not rst and ch == "$":
            close = find("$", i + 1)
            if close > i + 1 and line[i + 1] != " " and line[close - 1] != " ":
                blank(i, close + 1)
                i = close + 1
                continue
        if not rst and ch == "[":
            opens.append(i)
        elif not rst and ch == "]" and opens:
            start = opens.pop()
            if line.startswith("](", i):
                close = find(")", i)
                if close > 0:
                    blank(i + 1, close + 1)  # the URL of a link
                    i = close + 1
                    continue
            if line.startswith("]{", i):
                close = find("}", i)
                attrs = line[i : close + 1] if close > 0 else line[i:]
                end = close + 1 if close > 0 else n
                if ".claim" in attrs or ".napkin" in attrs:
                    blank(start, end)
                else:
                    blank(i + 1, end)
                i = end
                continue
        i += 1
    return "".join(out)


def _fence(text: str) -> tuple[str, int, str]:
    """(fence character, run length, info string) when ``text`` opens a fence."""
    if not text or text[0] not in "`~:":
        return "", 0, ""
    k = 0
    while k < len(text) and text[k] == text[0]:
        k += 1
    return (text[0], k, text[k:].strip()) if k >= 3 else ("", 0, "")


def _md_segments(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(0-based line, masked prose) of a Markdown source; linter comments are kept as lines
    of their own so the caller sees ``allow``/``off``/``on``."""
    i, n = 0, len(lines)
    if n and lines[0].strip() == "---":
        i = next((k + 1 for k in range(1, n) if lines[k].strip() in ("---", "...")), n)
    fence: tuple[str, int] | None = None
    in_comment = False
    in_math = False
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if fence is not None:
            ch, run = fence
            if stripped.startswith(ch * run) and not stripped[run:].strip(ch).strip():
                fence = None
            i += 1
            continue
        if in_comment:
            if LINT_MARK in line:
                yield i, line
            if "-->" in line:
                in_comment = False
            i += 1
            continue
        if in_math:
            in_math = stripped != "$$" and not stripped.endswith("$$")
            i += 1
            continue
        body = stripped.lstrip(">").strip()
        ch, run, info = _fence(body)
        if run:
            name = info.strip("{}").split()[0].lstrip(".") if info else ""
            prose = info.startswith("{") and name not in _CODE_FENCE_NAMES and "." not in info[:2]
            if not prose:
                fence = (ch, run)
            i += 1
            continue
        if stripped.startswith("<!--") and "-->" not in stripped:
            in_comment = True
            if LINT_MARK in line:
                yield i, line
            i += 1
            continue
        if stripped == "$$" or (stripped.startswith("$$") and not stripped.endswith("$$")):
            in_math = True
            i += 1
            continue
        if stripped.startswith("%") or (
            stripped.startswith(":")
            and stripped.count(":") >= 2
            and stripped.split(":")[1].replace("-", "").isalnum()
        ):
            i += 1  # a MyST comment, or a directive option line
            continue
        yield i, line
        i += 1


def _rst_segments(lines: list[str]) -> Iterator[tuple[int, str]]:
    i, n = 0, len(lines)
    skip_indent: int | None = None
    literal_next = False
    while i < n:
        line = lines[i]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not stripped or indent > skip_indent:
                i += 1
                continue
            skip_indent = None
        if literal_next and stripped:
            literal_next = False
            if indent > 0:
                skip_indent = indent - 1
                continue
        if stripped.startswith(".. "):
            if LINT_MARK in stripped:
                yield i, stripped
                i += 1
                continue
            head = stripped[3:]
            name = head.split("::", 1)[0].strip() if "::" in head else ""
            if name not in _RST_PROSE:
                skip_indent = indent
                i += 1
                continue
            i += 1
            continue
        if stripped.endswith("::"):
            literal_next = True
            yield i, line[: len(line) - 2] if line.rstrip().endswith("::") else line
            i += 1
            continue
        if stripped.startswith(":") and stripped.count(":") >= 2 and indent:
            i += 1  # a directive option
            continue
        yield i, line
        i += 1


def prose_segments(text: str, rst: bool = False) -> Iterator[tuple[int, str]]:
    """Every prose line of a source as (0-based line, line with non-prose blanked)."""
    lines = text.split("\n")
    source = _rst_segments(lines) if rst else _md_segments(lines)
    for k, line in source:
        if LINT_MARK in line:
            yield k, line
        else:
            yield k, _mask(line, rst)
