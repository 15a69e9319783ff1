"""Raw TeX in pandoc Markdown (Quarto), where no napkin item is ever evaluated.

Pandoc's ``raw_tex`` extension passes TeX through untouched: a block from a line starting
``\\begin{name}`` to the line holding ``\\end{name}``, and inline a command ``\\name`` with
the ``{…}`` and ``[…]`` groups written right after it (``\\textbf{…}``, ``\\index{…}``,
``\\marginnote{…}``). A napkin item written there is TeX to pandoc: the filter never sees
it, the HTML page drops it and the PDF typesets it as written. The scanner reports each such
item at its place (a problem every host reports, as ``mlsysim check`` does) instead of
checking it as if it rendered.
"""

from __future__ import annotations

__all__ = ["RAW_TEX", "Groups", "command_end", "raw_problem", "tex_environment"]

#: the attribute of a Found that is an item inside raw TeX (a problem, never an item)
RAW_TEX = "\0raw-tex"


def tex_environment(text: str) -> str | None:
    """The environment a line opening a raw TeX block names (``\\begin{marginfigure}`` →
    ``marginfigure``), or None."""
    if not text.startswith("\\begin{"):
        return None
    close = text.find("}", 7)
    name = text[7:close] if close > 7 else ""
    return name if name and all(c.isalnum() or c in "*@" for c in name) else None


class Groups:
    """Where each ``{`` and ``[`` of a text closes (balanced, a backslash escaping the next
    character), found in one pass per bracket kind: every lookup is O(1)."""

    def __init__(self, text: str) -> None:
        self.close: dict[int, int] = {}
        for opener, closer in ("{}", "[]"):
            stack: list[int] = []
            k = 0
            while k < len(text):
                c = text[k]
                if c == "\\":
                    k += 2
                    continue
                if c == opener:
                    stack.append(k)
                elif c == closer and stack:
                    self.close[stack.pop()] = k + 1
                k += 1


def command_end(text: str, i: int, groups: Groups) -> int:
    """Where the raw TeX command at ``text[i] == "\\"`` ends (after its name and the brace
    and bracket groups that follow it with no space), or -1 when none starts there (not a
    letter after the backslash, or a brace group that does not close)."""
    j = i + 1
    while j < len(text) and text[j].isalpha():
        j += 1
    if j == i + 1:
        return -1
    while j < len(text) and text[j] in "{[":
        end = groups.close.get(j, -1)
        if end < 0:
            return -1 if text[j] == "{" else j  # an unclosed '[' is text after the command
        j = end
    return j


def raw_problem(where: str) -> tuple[str, str]:
    """(message, why and how to fix) of an item inside raw TeX (``where``: what holds it)."""
    return (
        f"this item is inside raw TeX ({where}), where it is never evaluated",
        "pandoc passes raw TeX through untouched: the HTML page drops it and the PDF prints "
        "it as written. How to fix: move the item out of the TeX (a div such as "
        "::: {.column-margin} holds Markdown), or write the number itself",
    )
