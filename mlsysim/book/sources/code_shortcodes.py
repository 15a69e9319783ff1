"""mlsysim's Quarto shortcodes where Quarto cannot show them: inside code, or a block
shortcode inside a sentence.

Quarto expands shortcodes everywhere in a chapter, code included: in a code block, a raw
block, a code cell or inline code, ``{{< napkin … >}}`` is replaced by the handler's result
*as plain text* (the handler's ``text`` context), so a value, claim or derivation cannot be
shown there. The scanner reports every such shortcode at its ``{{<`` (a blind problem: every
host reports it, as ``mlsysim check`` does); an escaped one (``{{{< … >}}}``,
``{{</* … */>}}``) is shown literally and is fine. ``{{< napkin-formula >}}`` and
``{{< napkin-registry >}}`` render blocks: one that does not stand alone in its paragraph is
reported the same way.
"""

from __future__ import annotations

from typing import Any

from mlsysim.book.sources.shortcodes import ShortcodeReader

__all__ = [
    "CODE_SHORTCODE",
    "NAMES",
    "block_problems",
    "code_problem",
    "in_code_span",
    "not_alone",
]

#: the attribute of a Found that is one of these shortcodes inside inline code (a problem,
#: never an item)
CODE_SHORTCODE = "\0code-shortcode"
#: the extension's shortcodes (quarto_ext/_extensions/mlsysim/shortcodes.lua)
NAMES = frozenset(
    {
        "napkin",
        "claim",
        "napkin-eq",
        "napkin-formula",
        "napkin-registry",
        "napkin-table",
        "napkin-plot",
    }
)


#: (1-based line, 1-based column, message, why) of what no host can show as written
Problem = tuple[int, int, str, str]


def code_problem(name: str, where: str) -> tuple[str, str]:
    """(message, why and how to fix) for shortcode ``name`` inside ``where``."""
    return (
        f"the {{{{< {name} >}}}} shortcode is inside {where}, where it cannot show an item",
        "Quarto expands shortcodes in code as plain text, so no value, claim or derivation "
        f"renders there. How to fix: move it out of the code, or escape it as "
        f"{{{{{{< {name} … >}}}}}} to show the shortcode itself",
    )


def not_alone(kind: str) -> tuple[str, str]:
    """(message, why) of a formula card or registry table shortcode inside a sentence."""
    name = "napkin-formula" if kind == "formula" else "napkin-registry"
    return (
        f"the {{{{< {name} >}}}} shortcode must stand alone in its paragraph",
        "it renders a block (a card or a table), which a sentence cannot hold. How to fix: "
        "put it on its own line, with a blank line before and after",
    )


def block_problems(lines: list[str], first: int, stop: int) -> tuple[list[Problem], int]:
    """The problems of mlsysim's shortcodes on lines ``first`` to ``stop`` - 1 (0-based) of
    a code block, not escaped: (1-based line, 1-based column, message, why) at each
    ``{{<``; and the steps spent."""
    out: list[Problem] = []
    steps = 0
    for k in range(first, stop):
        line = lines[k]
        if "{{<" not in line:
            continue
        reader = ShortcodeReader(line)
        for start, _, sc in reader.shortcodes():
            if sc is not None and sc.name in NAMES:
                out.append((k + 1, start + 1, *code_problem(sc.name, "a code block")))
        steps += reader.steps
    return out, steps


def in_code_span(
    text: str, shortcodes: dict[int, tuple[int, Any]], start: int, stop: int
) -> list[tuple[int, str]]:
    """(position, name) of mlsysim's shortcodes (of a paragraph's ``shortcodes``: start ->
    (end, Shortcode or None when escaped)) that start inside inline code ``text[start:stop]``."""
    out: list[tuple[int, str]] = []
    j = text.find("{{<", start, stop)
    while j >= 0:
        held = shortcodes.get(j)
        sc = held[1] if held is not None else None
        if sc is not None and sc.name in NAMES:
            out.append((j, sc.name))
        j = text.find("{{<", j + 3, stop)
    return out
