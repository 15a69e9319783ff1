"""MyST substitutions (``{{ name }}``) whose values hold napkin items.

With MyST's ``substitution`` extension, a chapter's front matter may define
``myst: substitutions: {name: value}`` (or the older top-level ``substitutions:``), and
``{{ name }}`` in the text is replaced by the value, parsed as Markdown *where it is used*:
a role in the value runs once per use, under Sphinx. So the scanner gives each use the
value's items, placed where the value is written (the front matter line and column, which
is where an author fixes it); an unused definition has none. Only plain names are read
(``{{ name }}``); a Jinja expression or filter renders at build time and is not scanned.
A project's ``myst_substitutions`` in ``conf.py`` (a literal dict of strings) are read the
same way, placed in conf.py; the chapter's front matter overrides them.

Positions come from the YAML parser's marks (a value on one line, plain or quoted, or a
``|``/``>`` block scalar, one position per source line); the front matter is composed once,
without aliases, within :data:`~mlsysim.book.sources.frontmatter.MAX_YAML`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "SUBSTITUTION",
    "Definition",
    "conf_substitutions",
    "front_matter_substitutions",
    "reference_name",
]

#: the attribute of a found ``{{ name }}`` (its value's items replace it; never an item)
SUBSTITUTION = "\0substitution"


@dataclass(frozen=True, slots=True)
class Definition:
    """A substitution's value and, per line of it, where that line starts in the file
    (1-based line, 0-based column); ``exact`` False: a layout the value does not map onto
    character for character (escapes, folded lines), every item placed at the value's start."""

    value: str
    starts: tuple[tuple[int, int], ...]
    exact: bool = True
    #: the file the value is written in when it is not the chapter (conf.py)
    file: str | None = None

    def place(self, pos: int) -> tuple[int, int]:
        """The file line and 1-based column of offset ``pos`` in the value."""
        if not self.exact:
            return self.starts[0][0], self.starts[0][1] + 1
        k = self.value.count("\n", 0, pos)
        line, col = self.starts[min(k, len(self.starts) - 1)]
        return line, col + pos - (self.value.rfind("\n", 0, pos) + 1) + 1


def reference_name(text: str, start: int, end: int) -> tuple[str, int] | None:
    """The name of ``{{ name }}`` at ``start`` (``text[start:start+2] == "{{"``; ``end``: the
    next ``}}`` after it, -1 if none) and the end of the reference, or None when it is not a
    plain-name reference on one line."""
    if end < 0:
        return None
    inner = text[start + 2 : end]
    name = inner.strip()
    if not name or "\n" in inner or not (name.replace("_", "a").replace("-", "a").isalnum()):
        return None
    return name, end + 2


def front_matter_substitutions(lines: list[str], end: int) -> dict[str, Definition]:
    """The substitutions a MyST front matter (``lines[1:end-1]``) defines, with places."""
    if end < 2:
        return {}
    body = "\n".join(lines[1 : end - 1])
    if "substitutions" not in body:
        return {}
    from mlsysim.book.sources.frontmatter import MAX_YAML

    if len(body) > MAX_YAML:
        return {}
    import yaml

    try:
        root = yaml.compose(body, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}  # the front matter's own error is reported where options are read
    table = _mapping(root, "myst")
    table = _mapping(table, "substitutions") if table is not None else None
    if table is None:
        table = _mapping(root, "substitutions")
    if table is None:
        return {}
    out: dict[str, Definition] = {}
    for key, node in table.value:
        if isinstance(key, yaml.ScalarNode) and isinstance(node, yaml.ScalarNode):
            where = _places(node, body.split("\n"))
            value = str(node.value)
            if where is not None:
                out[str(key.value)] = Definition(value, where)
            else:
                first = ((node.start_mark.line + 2, node.start_mark.column),)
                out[str(key.value)] = Definition(value, first, exact=False)
    return out


def _mapping(node: object, key: str) -> Any:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.MappingNode):
            return v
    return None


def _places(node: object, body: list[str]) -> tuple[tuple[int, int], ...] | None:
    """Where each line of a scalar's value starts (file line 1-based, column 0-based); None
    when its layout is not one the value maps onto character for character."""
    start, stop, style = node.start_mark, node.end_mark, node.style  # type: ignore[attr-defined]
    value = str(node.value)  # type: ignore[attr-defined]
    if style in (None, "'", '"'):
        if start.line != stop.line or "\\" in value or "''" in body[start.line]:
            return None  # folded over lines, or escapes: not one character per character
        return ((start.line + 2, start.column + (0 if style is None else 1)),)
    # a block scalar: its content lines follow the indicator line, at their indentation
    out: list[tuple[int, int]] = []
    for k in range(start.line + 1, min(stop.line + 1, len(body))):
        line = body[k]
        if line.strip():
            out.append((k + 2, len(line) - len(line.lstrip(" "))))
    return tuple(out) if len(out) == len(value.rstrip("\n").split("\n")) else None


def conf_substitutions(root: str) -> dict[str, Definition]:
    """The ``myst_substitutions`` a Sphinx project's ``conf.py`` under ``root`` assigns as
    a literal dict of strings, placed there ({} when there are none or conf.py cannot be
    read; the project's own reading reports that)."""
    import os

    path = os.path.join(root, "conf.py")
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return {}
    return _conf_substitutions(path, stamp)


@lru_cache(maxsize=32)
def _conf_substitutions(path: str, _stamp: int) -> dict[str, Definition]:
    import ast

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(1_000_001)
        tree = ast.parse(text) if len(text) <= 1_000_000 else None
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    lines = text.split("\n")
    out: dict[str, Definition] = {}
    for node in tree.body if tree is not None else ():
        if not (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "myst_substitutions" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            continue
        for key, value in zip(node.value.keys, node.value.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                continue
            line = lines[value.lineno - 1]
            col = len(line.encode("utf-8")[: value.col_offset].decode("utf-8", "replace"))
            written = line[col:]
            quote = written[:1]
            exact = (
                value.end_lineno == value.lineno
                and quote in ("'", '"')
                and written[1 : 1 + len(value.value) + 1] == value.value + quote
            )
            start = ((value.lineno, col + (1 if exact else 0)),)
            out[key.value] = Definition(value.value, start, exact=exact, file=path)
    return out
