"""Find napkin items in chapter sources without building them: ``.md`` (MyST and pandoc
forms), ``.qmd`` (Quarto) and ``.rst``, each item with its exact 1-based line and column.

Markdown (``.md``, ``.qmd``):

* fenced blocks ```` ```{napkin} ```` / ``{napkin-eq}`` / ``{napkin-table}`` (MyST, also with
  ``:::`` colon fences) and ```` ```{.napkin} ```` (pandoc/Quarto); MyST ``:key: value`` option
  lines at the top of the block become attributes; the content of any other fence is skipped;
* roles ``{napkin}`expr` ``, ``{claim}`300 FLOP/B ~ ridge` ``, ``{napkin-eq}`…` ``;
* pandoc inline code ``` `expr`{.napkin unit="ms"} ``` and spans
  ``[300 FLOP/B]{.claim of="ridge"}``;
* Quarto shortcodes ``{{< napkin "expr" unit="ms" >}}`` and ``{{< claim "300 FLOP/B ~ ridge" >}}``.

reStructuredText: ``.. napkin::`` (and ``napkin-eq``/``napkin-table``) directives with their
options and indented content; roles ``:napkin:`expr` `` and ``:claim:`…` ``; the content of
code directives and ``::`` literal blocks is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlsysim.book.document import Document
from mlsysim.book.failures import Failure
from mlsysim.book.frontmatter import options_line, options_mapping
from mlsysim.book.items import Item, ItemKind, run_item
from mlsysim.book.options import Options
from mlsysim.core.exceptions import MlsysimError

__all__ = [
    "SUFFIXES",
    "Item",
    "check_document",
    "check_paths",
    "iter_sources",
    "scan_file",
    "scan_text",
]

#: Source suffixes ``mlsysim check`` reads.
SUFFIXES = (".md", ".qmd", ".rst")
_SKIP_DIRS = {"_build", "build", "_site", "node_modules", "__pycache__", "_freeze"}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*?)\s*$")
_MYST_BLOCK = re.compile(r"^\{(?P<name>napkin(?:-eq|-table)?)\}\s*(?P<arg>.*)$")
_PANDOC_BLOCK = re.compile(r"^\{\s*\.(?P<name>napkin(?:-eq|-table)?)\b(?P<attrs>[^}]*)\}$")
_MYST_DIRECTIVE = re.compile(r"^\{(?P<name>[\w-]+)\}")
_CODE_DIRECTIVES = {
    "code",
    "code-block",
    "code-cell",
    "sourcecode",
    "literalinclude",
    "math",
    "raw",
    "eval-rst",
    "mermaid",
    "python",
    "r",
    "julia",
    "ojs",
    "bash",
    "sh",
    "dot",
    "graphviz",
    "csv-table",
    "list-table",
}
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
_MYST_ROLE = re.compile(
    r"\{(?P<name>napkin|claim|napkin-eq)\}(?P<ticks>`+)(?P<body>[^`]+?)(?P=ticks)"
)
_PANDOC_CODE = re.compile(
    r"(?<![`\w}])(?P<ticks>`{1,2})(?P<body>[^`]+?)(?P=ticks)"
    r"\{(?P<attrs>[^}]*)\}"
)
_PANDOC_SPAN = re.compile(r"(?<!!)\[(?P<body>[^\]\[]+)\]\{(?P<attrs>[^}]*\.claim\b[^}]*)\}")
_SHORTCODE = re.compile(r"\{\{<\s*(?P<name>napkin|claim|napkin-eq)\s+(?P<args>.*?)\s*>\}\}")
_ATTR = re.compile(
    r"""(?P<key>[\w-]+)\s*=\s*(?:"(?P<dq>(?:\\.|[^"])*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s}]+))"""
)
_FIRST_ARG = re.compile(r"""^\s*(?:"(?P<dq>(?:\\.|[^"])*)"|'(?P<sq>[^']*)')""")

_RST_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\.\s+(?P<name>[\w:-]+)::\s*(?P<arg>.*)$")
_RST_ROLE = re.compile(r":(?P<name>napkin|claim|napkin-eq):`(?P<body>[^`]+)`")
_RST_CODE = {
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
}
_KIND: dict[str, ItemKind] = {"napkin": "block", "napkin-eq": "eq", "napkin-table": "table"}
_ROLE_KIND: dict[str, ItemKind] = {"napkin": "inline", "claim": "claim", "napkin-eq": "eq"}


def _attrs(text: str) -> dict[str, str]:
    out = {}
    for m in _ATTR.finditer(text):
        value = m["dq"] if m["dq"] is not None else m["sq"] if m["sq"] is not None else m["bare"]
        out[m["key"]] = value.replace('\\"', '"')
    return out


def scan_text(text: str, file: str = "<string>") -> list[Item]:
    """Every napkin item of a source text, in document order (format from ``file``'s suffix)."""
    lines = text.split("\n")
    if str(file).endswith(".rst"):
        return _scan_rst(lines)
    return _scan_markdown(lines)


def scan_file(path: str | os.PathLike[str]) -> list[Item]:
    """Items of one ``.md``/``.qmd``/``.rst`` file; MlsysimError when it cannot be read."""
    return scan_text(_read(Path(path)), str(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MlsysimError(
            f"cannot read {str(path)!r}",
            why=str(exc),
            fix="pass a readable UTF-8 .md, .qmd or .rst file",
        ) from None


# -- Markdown (MyST, pandoc, Quarto) ---------------------------------------------------------------
def _scan_markdown(lines: list[str]) -> list[Item]:
    items: list[Item] = []
    prose: list[str] = []
    i = _skip_front_matter(lines)
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None or (m["fence"][0] == ":" and not _MYST_BLOCK.match(m["info"])):
            items.extend(_scan_inline(lines[i], i + 1))
            i += 1
            continue
        fence, info = m["fence"], m["info"]
        if not info and prose and fence[0] == prose[-1][0] and len(fence) >= len(prose[-1]):
            prose.pop()  # closes a prose directive
            i += 1
            continue
        directive = _MYST_DIRECTIVE.match(info)
        if directive and directive["name"] not in _CODE_DIRECTIVES and not _MYST_BLOCK.match(info):
            prose.append(fence)  # a prose directive ({note}, {admonition}…): content is scanned
            i += 1
            continue
        end = _fence_end(lines, i + 1, fence)
        body = lines[i + 1 : end]
        myst, pandoc = _MYST_BLOCK.match(info), _PANDOC_BLOCK.match(info)
        if myst or pandoc:
            name = (myst or pandoc)["name"]  # type: ignore[index]
            attrs = _attrs(pandoc["attrs"]) if pandoc else {}
            start = 0
            if body and body[0].strip() == "---":  # MyST YAML options
                close = next((k for k in range(1, len(body)) if body[k].strip() == "---"), 0)
                for opt in body[1:close]:
                    key, _, value = opt.partition(":")
                    attrs[key.strip()] = value.strip()
                start = close + 1
            while start < len(body) and _OPTION.match(body[start].strip()):
                om = _OPTION.match(body[start].strip())
                attrs[om["key"]] = om["value"]  # type: ignore[index]
                start += 1
            indent = len(m["indent"])
            content = [ln[indent:] if ln[:indent].isspace() else ln for ln in body[start:]]
            text, line, column = "\n".join(content), i + 2 + start, indent + 1
            arg = myst["arg"].strip() if myst else ""
            if arg and name == "napkin-eq" and not text.strip():
                # ```{napkin-eq} amdahl(p=0.95, speedup=247): the expression is the argument
                text, line, column = arg, i + 1, lines[i].index(arg) + 1
            elif arg and name == "napkin-table":
                attrs.setdefault("caption", arg)
            items.append(Item(_KIND[name], text, line, column, attrs))
        i = end + 1
    return items


def _skip_front_matter(lines: list[str]) -> int:
    if lines and lines[0].strip() == "---":
        for k in range(1, len(lines)):
            if lines[k].strip() in ("---", "..."):
                return k + 1
    return 0


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    for k in range(start, len(lines)):
        s = lines[k].strip()
        if s.startswith(fence[0] * len(fence)) and not s.strip(fence[0]):
            return k
    return len(lines)


def _scan_inline(line: str, lineno: int) -> list[Item]:
    found: list[tuple[int, Item]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in _SHORTCODE.finditer(line):
        if "/*" in m["args"][:3]:
            continue  # escaped shortcode {{</* … */>}}
        first = _FIRST_ARG.match(m["args"])
        if first is None:
            continue
        body = first["dq"] if first["dq"] is not None else first["sq"]
        col = m.start("args") + first.start() + 2
        attrs = _attrs(m["args"][first.end() :])
        taken.append(m.span())
        found.append(
            (
                m.start(),
                Item(
                    _ROLE_KIND[m["name"]],
                    body.replace('\\"', '"'),
                    lineno,
                    col,
                    attrs,
                ),
            )
        )
    for m in _MYST_ROLE.finditer(line):
        if free(*m.span()):
            taken.append(m.span())
            found.append(
                (
                    m.start(),
                    Item(
                        _ROLE_KIND[m["name"]],
                        m["body"],
                        lineno,
                        m.start("body") + 1,
                    ),
                )
            )
    for m in _PANDOC_CODE.finditer(line):
        classes = re.findall(r"\.([\w-]+)", m["attrs"])
        kind: ItemKind | None = (
            "inline" if "napkin" in classes else "eq" if "napkin-eq" in classes else None
        )
        if kind and free(*m.span()):
            taken.append(m.span())
            found.append(
                (
                    m.start(),
                    Item(
                        kind,
                        m["body"],
                        lineno,
                        m.start("body") + 1,
                        _attrs(m["attrs"]),
                    ),
                )
            )
    for m in _PANDOC_SPAN.finditer(line):
        if free(*m.span()):
            taken.append(m.span())
            found.append(
                (
                    m.start(),
                    Item("claim", m["body"], lineno, m.start("body") + 1, _attrs(m["attrs"])),
                )
            )
    return [item for _, item in sorted(found, key=lambda p: p[0])]


# -- reStructuredText ----------------------------------------------------------------------------
def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _rst_block_end(lines: list[str], start: int, base: int) -> int:
    k = start
    while k < len(lines) and (not lines[k].strip() or _indent(lines[k]) > base):
        k += 1
    return k


def _scan_rst(lines: list[str]) -> list[Item]:
    items: list[Item] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _RST_DIRECTIVE.match(line)
        if m:
            base = len(m["indent"])
            end = _rst_block_end(lines, i + 1, base)
            name = m["name"]
            if name in _KIND:
                attrs: dict[str, str] = {}
                k = i + 1
                while k < end and _OPTION.match(lines[k].strip()):
                    om = _OPTION.match(lines[k].strip())
                    attrs[om["key"]] = om["value"]  # type: ignore[index]
                    k += 1
                while k < end and not lines[k].strip():
                    k += 1
                body = lines[k:end]
                while body and not body[-1].strip():
                    body.pop()
                inner = min((_indent(b) for b in body if b.strip()), default=base + 3)
                content = "\n".join(b[inner:] for b in body)
                if m["arg"].strip() and name == "napkin-eq":
                    content, k, inner = m["arg"].strip(), i, m.start("arg")
                items.append(Item(_KIND[name], content, k + 1, inner + 1, attrs))
                i = end
                continue
            if name in _RST_CODE:
                i = end
                continue
            i += 1
            continue
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            items.extend(_rst_roles(line, i + 1))
            end = _rst_block_end(lines, i + 1, _indent(line))
            i = end
            continue
        items.extend(_rst_roles(line, i + 1))
        i += 1
    return items


def _rst_roles(line: str, lineno: int) -> list[Item]:
    return [
        Item(_ROLE_KIND[m["name"]], m["body"], lineno, m.start("body") + 1)
        for m in _RST_ROLE.finditer(line)
    ]


# -- checking ------------------------------------------------------------------------------------
def iter_sources(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Source files under ``paths`` (files as given; directories recursively, sorted)."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
                for f in sorted(files):
                    if f.endswith(SUFFIXES):
                        yield Path(root) / f
        elif p.is_file():
            yield p
        else:
            raise MlsysimError(
                f"no such file or directory: {str(p)!r}",
                fix="pass chapter files or directories that exist",
            )


def check_document(
    path: str | os.PathLike[str],
    options: Options | None = None,
    text: str | None = None,
    *,
    explicit: Mapping[str, Any] | None = None,
) -> Document:
    """Evaluate every item of one source in order; the Document holds failures and count.

    With ``options`` given, they apply as they are. Otherwise the chapter's own options are
    used: its project's ``_quarto.yml`` and its front matter ``mlsysim:`` key, overridden by
    ``explicit`` (command-line flags). An invalid option is a located failure of the chapter.
    """
    file = Path(path)
    source = _read(file) if text is None else text
    config_failure = None
    if options is None:
        try:
            mapping, _ = options_mapping(file, source, explicit)
            options = Options.from_mapping(mapping)
        except MlsysimError as exc:
            config_failure = Failure(
                file=str(file),
                line=options_line(source),
                kind="error",
                message=str(exc),
                hint="fix the mlsysim: options (front matter, _quarto.yml or flags)",
            )
            options = Options.from_mapping(explicit or {})
    doc = Document(str(file), options, source=source)
    if config_failure is not None:
        doc.failures.append(config_failure)
    items = scan_text(source, str(file))
    doc.declare_blocks(items)
    for item in items:
        run_item(doc, item)
    return doc


def check_paths(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    *,
    explicit: Mapping[str, Any] | None = None,
) -> tuple[int, list[Failure]]:
    """Check every source under ``paths``: (items checked, every failure in file order).

    ``options`` forces one set of options for every file; without it each chapter uses its own
    (see :func:`check_document`) with ``explicit`` on top.
    """
    checked = 0
    failures: list[Failure] = []
    for path in iter_sources(paths):
        doc = check_document(path, options, explicit=explicit)
        checked += doc.checked
        failures.extend(doc.failures)
    return checked, failures
