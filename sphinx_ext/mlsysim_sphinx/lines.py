"""Exact source lines of inline roles, in reStructuredText and MyST alike.

Docutils and MyST both hand a role the line of its *paragraph's first line*, not its own. The
role's text is searched for in the source file from that line on; a per-paragraph cursor makes
repeated identical roles map to successive occurrences. Directive content lines need no
search (see :func:`content_line`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.environment import BuildEnvironment

__all__ = ["content_line", "role_position"]

_CACHE_KEY = "mlsysim_source_lines"
#: how far below a paragraph's first line a role is searched for
_SEARCH_LINES = 400


@dataclass
class _Source:
    """One source file's lines and, per paragraph start line, where the last role matched."""

    lines: list[str]
    cursors: dict[int, tuple[int, int]] = field(default_factory=dict)

    def find(self, start: int, needles: tuple[str, ...]) -> tuple[int, int] | None:
        """1-based (line, column) of the next needle at or after the paragraph's cursor."""
        row, col = self.cursors.get(start, (start - 1, 0))
        stop = min(len(self.lines), start - 1 + _SEARCH_LINES)
        while 0 <= row < stop:
            text = self.lines[row]
            hits = [(i, n) for n in needles if (i := text.find(n, col)) >= 0]
            if hits:
                at, needle = min(hits)
                self.cursors[start] = (row, at + len(needle))
                return row + 1, at + 1
            row, col = row + 1, 0
        return None


def _role_needles(name: str, rawtext: str) -> tuple[str, ...]:
    """How the role is spelt in rst (``:name:`text```) and MyST (``{name}`text```)."""
    first, last = rawtext.find("`"), rawtext.rfind("`")
    if first < 0 or last <= first:
        return ()
    ticks = len(rawtext[first:]) - len(rawtext[first:].lstrip("`"))
    content = rawtext[first + ticks : last + 1].rstrip("`").split("\n", 1)[0]
    if not content.strip():
        return ()
    quoted = "`" * ticks + content
    return (f":{name}:{quoted}", f"{{{name}}}{quoted}")


def role_position(
    env: BuildEnvironment, inliner: Any, lineno: int, name: str, rawtext: str
) -> tuple[int, int | None]:
    """The exact (line, column) of a role; falls back to (paragraph line, None).

    The fallback happens when the role's text is not in the file as written (for example a
    role inserted by a MyST substitution); the paragraph's line is still close.
    """
    source, _ = inliner.reporter.get_source_and_line(lineno)
    needles = _role_needles(name, rawtext)
    if not source or not needles:
        return lineno, None
    cache: dict[str, _Source] | None = env.temp_data.get(_CACHE_KEY)
    if cache is None:
        cache = env.temp_data[_CACHE_KEY] = {}
    entry = cache.get(source)
    if entry is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError:
            text = ""
        entry = cache[source] = _Source(text.splitlines())
    found = entry.find(lineno, needles)
    return found if found is not None else (lineno, None)


def content_line(directive: Any, index: int = 0) -> int:
    """1-based file line of a directive's content line ``index``.

    Docutils gives ``content_offset`` as the 0-based absolute offset of the first content
    line; MyST gives it relative to the directive's own line (``lineno``).
    """
    offset = int(directive.content_offset)
    if type(directive.state).__module__.startswith("myst_parser"):
        return int(directive.lineno) + offset + index + 1
    return offset + index + 1
