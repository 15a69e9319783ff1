"""``mlsysim lint``: hand-typed figures with units in prose that no value or claim binds.

"The H100 has 3.35 TB/s" typed by hand goes stale when the datasheet value changes; written
``{napkin}`H100.memory.bandwidth``` (or claimed, ``{claim}`3.35 TB/s ~ H100.memory.bandwidth```)
it cannot. The linter reads prose only — never code (fences, indented literal blocks, inline
code), napkin items (roles, shortcodes, pandoc spans and blocks), math, comments, URLs or
front matter — in one linear pass per line, finds each number with a unit, and looks it up in
the registry by dimension and value (:mod:`~mlsysim.book.figures`): a figure a registry value
rounds to is reported with the napkin expression to write instead (entries the paragraph names
first). ``--all`` also reports, as warnings, figures no registry value matches.

Intentional literals: ``<!-- mlsysim-lint: allow -->`` on the line (reST: a
``.. mlsysim-lint: allow`` comment before the paragraph); ``<!-- mlsysim-lint: off -->`` …
``<!-- mlsysim-lint: on -->`` (reST ``.. mlsysim-lint: off`` / ``on``) around a region; and a
project allow-list, ``.mlsysim-lint-allow`` at the project root (or ``--allow FILE``): one
entry per line — a figure (``3.35 TB/s``: that value anywhere), ``path:LINE`` or ``path``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mlsysim.book.failures import Failure
from mlsysim.book.figures import Figure, RegistryValue, quantity_index, read_figure
from mlsysim.book.prose import LINT_MARK, prose_segments

__all__ = ["ALLOW_FILE", "Allowed", "LintRun", "lint_paths", "lint_text", "prose_segments"]

ALLOW_FILE = ".mlsysim-lint-allow"
_MAX_SUGGESTIONS = 3


@dataclass
class Allowed:
    """The project allow-list: figures allowed anywhere, and ``path[:line]`` entries."""

    figures: list[Figure] = field(default_factory=list)
    places: set[tuple[str, int | None]] = field(default_factory=set)

    @classmethod
    def read(cls, path: Path) -> Allowed:
        out = cls()
        base = path.parent
        for raw in path.read_text(encoding="utf-8").splitlines():
            entry = raw.split("#", 1)[0].strip()
            if not entry:
                continue
            if entry[0].isdigit():
                fig = read_figure(entry, 0)
                if fig is not None:
                    out.figures.append(fig)
                continue
            where, _, line = entry.rpartition(":")
            if where and line.isdigit():
                out.places.add((os.path.normpath(str(base / where)), int(line)))
            else:
                out.places.add((os.path.normpath(str(base / entry)), None))
        return out

    def allows(self, file: str, line: int, fig: Figure) -> bool:
        f = os.path.normpath(os.path.abspath(file))
        if (f, None) in self.places or (f, line) in self.places:
            return True
        return any(
            a.dimension == fig.dimension and abs(a.si - fig.si) <= 1e-9 * max(abs(a.si), 1e-300)
            for a in self.figures
        )


def _suggest(matches: list[RegistryValue], context: str) -> list[RegistryValue]:
    """Matches ranked: entries the paragraph names first, then in registry order."""
    low = context.lower()

    def named(r: RegistryValue) -> bool:
        return any(n and n.lower() in low for n in r.names)

    ranked = sorted(matches, key=lambda r: not named(r))
    return ranked[:_MAX_SUGGESTIONS]


def _item_form(expr: str, syntax: str) -> str:
    if syntax == "rst":
        return f":napkin:`{expr}`"
    if syntax == "pandoc":
        return f"`{expr}`{{.napkin}}"
    return f"{{napkin}}`{expr}`"


def lint_text(
    file: str,
    text: str,
    syntax: str = "markdown",
    *,
    allowed: Allowed | None = None,
    unmatched: bool = False,
) -> tuple[list[Failure], int]:
    """Findings in one source, and how many figures were read."""
    index = quantity_index()
    rst = syntax == "rst"
    findings: list[Failure] = []
    off = False
    allow_next = allow_active = False  # allowed: the next paragraph, once it has begun
    seen = 0
    context: list[str] = []
    for k, line in prose_segments(text, rst):
        if LINT_MARK in line:
            word = line.split(LINT_MARK, 1)[1].replace("-->", " ").split()[:1]
            if word == ["off"]:
                off = True
            elif word == ["on"]:
                off = False
            elif word == ["allow"] and not (not rst and line.split("<!--", 1)[0].strip()):
                allow_next = True  # the next paragraph (a line with prose: that line only)
            continue
        if not line.strip():
            context = []
            if allow_active:  # the allowed paragraph ended
                allow_next = allow_active = False
            continue
        context = [*context[-2:], line]
        if off:
            continue
        skip = allow_next
        allow_active = allow_next
        i, n = 0, len(line)
        while i < n:
            if not line[i].isdigit():
                i += 1
                continue
            fig = read_figure(line, i)
            if fig is None:
                while i < n and (line[i].isdigit() or line[i] in ".,"):
                    i += 1
                continue
            i = fig.end
            seen += 1
            if skip or (allowed is not None and allowed.allows(file, k + 1, fig)):
                continue
            matches = _suggest(index.matches(fig), " ".join(context))
            if not matches and not unmatched:
                continue
            findings.append(_finding(file, k + 1, fig, matches, syntax))
    return findings, seen


def _finding(
    file: str, line: int, fig: Figure, matches: list[RegistryValue], syntax: str
) -> Failure:
    marker = ".. mlsysim-lint: allow" if syntax == "rst" else "<!-- mlsysim-lint: allow -->"
    if matches:
        best = matches[0]
        others = [m.expression for m in matches[1:]]
        also = f" (or {', '.join(others)})" if others else ""
        message = f"hand-typed figure {fig.text} is {best.expression} = {best.text}{also}"
        claim = _item_form(f"{fig.text} ~ {best.expression}", syntax).replace("napkin", "claim", 1)
        hint = (
            f"write {_item_form(best.expression, syntax)} so it follows the data, or claim it: "
            f"{claim}; if the literal is intended, add {marker}"
        )
        extra = {"type": "hand-typed figure", "suggestions": [m.expression for m in matches]}
        severity: dict[str, object] = {}
    else:
        message = f"hand-typed figure {fig.text} is bound to no value or claim"
        hint = f"compute it with a napkin expression, claim it, or add {marker}"
        extra = {"type": "unbound figure", "suggestions": []}
        severity = {"severity": "warning"}
    return Failure(
        file=file,
        line=line,
        kind="lint",
        message=message,
        expression=fig.text,
        column=fig.start + 1,
        hint=hint,
        extra={**extra, **severity},
    )


@dataclass
class LintRun:
    """What ``mlsysim lint`` found: files read, figures read and every finding."""

    files: int = 0
    figures: int = 0
    findings: list[Failure] = field(default_factory=list)


def lint_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    allow_file: str | os.PathLike[str] | None = None,
    unmatched: bool = False,
) -> LintRun:
    """Lint every source under ``paths`` (as ``mlsysim check`` finds them)."""
    from mlsysim.book.sources import read_source
    from mlsysim.book.sources.check import add_project_data, iter_sources, unreadable
    from mlsysim.book.sources.project import project_of, syntax_for

    run = LintRun()
    lists: dict[Path, Allowed] = {}
    explicit = Allowed.read(Path(allow_file)) if allow_file else None
    added: set[Path] = set()
    for path in iter_sources(paths):
        run.files += 1
        add_project_data(path, added)
        try:
            text = read_source(path)
        except (OSError, UnicodeDecodeError) as exc:
            run.findings.append(unreadable(str(path), exc))
            continue
        try:
            project = project_of(path)
        except Exception:
            project = None
        allowed = explicit
        if allowed is None:
            root = project.root if project is not None else Path.cwd()
            if root not in lists:
                candidate = root / ALLOW_FILE
                lists[root] = Allowed.read(candidate) if candidate.is_file() else Allowed()
            allowed = lists[root]
        found, seen = lint_text(
            str(path), text, syntax_for(path, project), allowed=allowed, unmatched=unmatched
        )
        run.figures += seen
        run.findings.extend(found)
    return run
