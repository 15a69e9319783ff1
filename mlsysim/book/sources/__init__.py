"""One source scanner per host syntax, shared by ``mlsysim check`` and every host.

* :mod:`~mlsysim.book.sources.markdown` (+ :mod:`~mlsysim.book.sources.inline`,
  :mod:`~mlsysim.book.sources.shortcodes`) — MyST for Sphinx, pandoc Markdown for Quarto;
* :mod:`~mlsysim.book.sources.rst` — reStructuredText for Sphinx;
* :mod:`~mlsysim.book.sources.project` and :mod:`~mlsysim.book.sources.frontmatter` — the
  project a chapter belongs to, its syntax and its options;
* :mod:`~mlsysim.book.sources.locate` — hosts find the scanned item behind each element
  they render, so a host never searches the text for an item's line;
* :mod:`~mlsysim.book.sources.check` — ``mlsysim check``: every chapter under some paths.

:func:`scan_source` reads a chapter and the files it includes; included items carry their own
file. Every scanner is linear in its input.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlsysim.book.sources.blocks import Include
from mlsysim.book.sources.inline import Syntax
from mlsysim.book.sources.markdown import MarkdownScanner
from mlsysim.book.sources.rst import RstScanner
from mlsysim.book.sources.substitutions import Definition, conf_substitutions
from mlsysim.book.syntax import Item

__all__ = [
    "SYNTAXES",
    "Problem",
    "Scanned",
    "read_source",
    "scan_source",
    "scan_text",
    "syntax_named",
]

#: Source syntaxes: Markdown flavours by host, and reStructuredText.
SYNTAXES = {
    "myst": Syntax(myst=True, pandoc=False),
    "myst-dollarmath": Syntax(myst=True, pandoc=False, math=True),
    "pandoc": Syntax(myst=False, pandoc=True, math=True),
    "markdown": Syntax(myst=True, pandoc=True),
}
_MAX_INCLUDE_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Problem:
    """A source that could not be read (a failure of ``mlsysim check``, located)."""

    file: str
    line: int
    message: str
    why: str = ""
    column: int | None = None
    #: an item the host cannot see as written (it cuts it apart): every host reports it
    blind: bool = False


@dataclass(slots=True)
class Scanned:
    """A chapter's items in document order (included files' items inline), problems, and the
    included files it read or tried to read (what a cached result depends on)."""

    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    steps: int = 0
    includes: list[str] = field(default_factory=list)


def read_source(path: Path) -> str:
    """A source file's text; OSError (also for a path the system cannot name, e.g. with a
    NUL byte) or UnicodeDecodeError. A UTF-8 byte-order mark is dropped, as docutils, MyST
    and pandoc drop it (front matter after it is front matter; columns start after it)."""
    try:
        data = path.read_bytes()
    except ValueError as exc:
        raise OSError(f"not a usable path ({exc})") from None
    return data.decode("utf-8-sig")


def syntax_named(name: str) -> Syntax:
    """The Syntax a name stands for: a key of SYNTAXES, or ``myst`` followed by the MyST
    extensions it enables (``myst-dollarmath-substitution-amsmath``,
    :func:`~mlsysim.book.sources.project.myst_syntax`); unknown names read as Markdown."""
    known = SYNTAXES.get(name)
    if known is not None:
        return known
    base, *flags = name.split("-")
    if base != "myst":
        return SYNTAXES["markdown"]
    return Syntax(
        myst=True,
        pandoc=False,
        math="dollarmath" in flags,
        substitution="substitution" in flags,
        amsmath="amsmath" in flags,
        html_admonition="html_admonition" in flags,
        deflist="deflist" in flags,
    )


def _scan(
    text: str, syntax: str, subs: dict[str, Definition] | None = None
) -> tuple[list[Item | Include], int, list[tuple[int, int, str, str]]]:
    if syntax == "rst":
        rst = RstScanner(text)
        return rst.scan(), rst.steps, []
    md = MarkdownScanner(text, syntax_named(syntax), subs)
    return md.scan(), md.steps, md.problems


def _conf_subs(file: str, syntax: str, root: Path | None) -> dict[str, Definition]:
    """The project's conf.py substitutions, named as ``file`` is (from the working folder)."""
    if root is None or not syntax_named(syntax).substitution:
        return {}
    found = conf_substitutions(str(root))
    if not found or os.path.isabs(file):
        return found
    return {k: replace(d, file=os.path.relpath(str(d.file))) for k, d in found.items()}


def scan_text(text: str, file: str = "<string>", syntax: str | None = None) -> list[Item]:
    """Every napkin item of a source text, in document order (includes are not followed).

    ``syntax`` is ``rst``, ``myst``, ``pandoc`` or ``markdown`` (both Markdown flavours);
    by default it follows ``file``'s suffix (``.rst``, ``.qmd`` → pandoc, else both).
    """
    if syntax is None:
        suffix = Path(file).suffix.lower()
        syntax = "rst" if suffix == ".rst" else "pandoc" if suffix == ".qmd" else "markdown"
    entries, _, _ = _scan(text, syntax)
    return [e for e in entries if isinstance(e, Item)]


def scan_source(
    file: str, text: str, syntax: str, *, root: Path | None = None, chain: tuple[str, ...] = ()
) -> Scanned:
    """The items of ``text`` (the source ``file``) and of every file it includes."""
    out = Scanned()
    subs = _conf_subs(file, syntax, root)
    if subs:
        out.includes.append(next(iter(subs.values())).file or "")
    entries, out.steps, cut = _scan(text, syntax, subs)
    for line, column, message, why in cut:
        out.problems.append(Problem(file, line, message, why, column, blind=True))
    chain = (*chain, os.path.normpath(file))
    for entry in entries:
        if isinstance(entry, Item):
            out.items.append(entry)
            continue
        _include(out, file, entry, syntax, root, chain)
    return out


def _include(
    out: Scanned,
    file: str,
    inc: Include,
    syntax: str,
    root: Path | None,
    chain: tuple[str, ...],
) -> None:
    if inc.syntax == "rst" and inc.path.startswith("<"):
        return  # a standard docutils include (<isonum.txt>): no napkin math in it
    if "literal" in inc.options or "code" in inc.options:
        return  # shown as code
    if inc.path.startswith("/") and root is not None:
        target = os.path.normpath(os.path.join(str(root), inc.path.lstrip("/")))
        if not os.path.isabs(file):  # named as the including file is (from the working dir)
            target = os.path.relpath(target)
    else:
        target = os.path.normpath(os.path.join(os.path.dirname(file), inc.path))
    out.includes.append(target)
    if target in chain or len(chain) > _MAX_INCLUDE_DEPTH:
        out.problems.append(
            Problem(file, inc.line, f"the include of {inc.path!r} is circular or too deep")
        )
        return
    try:
        text = read_source(Path(target))
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.reason if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
        out.problems.append(Problem(file, inc.line, f"cannot read the included {inc.path!r}", why))
        return
    lines = text.split("\n")
    start = _int_option(inc.options, "start-line", 0)
    end = _int_option(inc.options, "end-line", len(lines))
    shown = "\n".join(lines[start:end])
    # then docutils' (and MyST's) start-after / end-before: the text after the first match,
    # before the next (the first shown line may begin mid-line, `shift` characters in)
    shift = 0
    for option in ("start-after", "end-before"):
        marker = inc.options.get(option)
        if not marker:
            continue
        k = shown.find(marker)
        if k < 0:
            why = f"{option} {marker!r} is not in it (Sphinx stops the build)"
            out.problems.append(Problem(file, inc.line, f"cannot include {inc.path!r}", why))
            return
        if option == "end-before":
            shown = shown[:k]
            continue
        cut = k + len(marker)
        nl = shown.count("\n", 0, cut)
        shift = cut - (shown.rfind("\n", 0, cut) + 1) + (shift if nl == 0 else 0)
        start += nl
        shown = shown[cut:]
    inner_syntax = "rst" if target.endswith(".rst") or inc.syntax == "rst" else syntax
    inner = scan_source(target, shown, inner_syntax, root=root, chain=chain)
    out.steps += inner.steps
    out.includes.extend(inner.includes)
    for item in inner.items:
        out.items.append(_moved(item, target, start, shift) if item.file is None else item)
    out.problems.extend(inner.problems)


def _moved(item: Item, file: str, lines: int, shift: int) -> Item:
    """An item of an included text, placed in its file: the text began ``lines`` lines and,
    on its first line, ``shift`` characters into the file."""

    def at(line: int, column: int | None) -> tuple[int, int | None]:
        moved = column + shift if column is not None and line == 1 else column
        return line + lines, moved

    line, column = at(item.line, item.column)
    return replace(
        item,
        line=line,
        column=column,
        file=file,
        option_lines=tuple((k, n + lines) for k, n in item.option_lines),
        attr_at=tuple((k, *at(n, c)) for k, n, c in item.attr_at),  # type: ignore[misc]
        escapes=tuple(at(n, c) for n, c in item.escapes),  # type: ignore[misc]
    )


def _int_option(options: dict[str, str], key: str, default: int) -> int:
    try:
        return int(options.get(key, default))
    except ValueError:
        return default
