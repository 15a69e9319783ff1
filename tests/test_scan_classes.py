"""The scanner's reading of the held-out input classes of session 25, without a host build
(tests/test_heldout_classes.py builds them through Sphinx and the Quarto filter)."""

from __future__ import annotations

import pytest

from mlsysim.book.claims import parse_stated
from mlsysim.book.sources import Scanned, scan_source
from mlsysim.book.sources.text import plain_markup
from mlsysim.core.exceptions import NapkinSyntaxError


def _scan(text: str, syntax: str) -> Scanned:
    return scan_source("c.md" if syntax != "pandoc" else "c.qmd", text, syntax)


def _places(s: Scanned) -> list[tuple[str, int, int | None]]:
    return [(i.kind, i.line, i.column) for i in s.items]


ADMONITION = (
    '<div class="admonition tip">\n'
    '<p class="title">T {napkin}`a`</p>\n'
    "<p>body {claim}`1 W ~ b`</p>\n"
    "<pre>{napkin}`code`</pre><ul><li>{napkin}`raw`</li></ul>\n"
    "</div>\n"
    "\n"
    '<div class="plain"><p>{napkin}`raw too`</p></div>\n'
)


def test_html_admonition_is_markdown_only_with_the_extension() -> None:
    on = _scan(ADMONITION, "myst-html_admonition")
    assert _places(on) == [("inline", 2, 29), ("claim", 3, 17)]
    assert not _scan(ADMONITION, "myst").items  # raw HTML without the extension


def test_role_and_directive_names_ignore_case() -> None:
    s = _scan("{NAPKIN}`a` and {Claim}`1 W ~ b`\n\n```{Napkin}\nx = 1\n```\n", "myst")
    assert [i.kind for i in s.items] == ["inline", "claim", "block"]
    rst = scan_source("c.rst", "Text :NAPKIN:`a`.\n\n.. Napkin::\n\n   x = 1\n", "rst")
    assert [i.kind for i in rst.items] == ["inline", "block"]


SUBS = """---
myst:
  substitutions:
    inner: "{napkin}`a`"
    outer: "see {{ inner }}"
    loop: "{{ loop }} {napkin}`c`"
    padded: "  {napkin}`b`  "
---
{{ outer }} {{ padded | trim }} {{ padded | upper }} {{ loop }} {{ inner.strip() }}
"""


def test_substitutions_nested_and_through_jinja() -> None:
    s = _scan(SUBS, "myst-substitution")
    got = [(i.kind, i.text, i.line, i.column) for i in s.items]
    assert got == [
        ("inline", "a", 4, 22),  # inside outer: where inner's value is written
        ("inline", "b", 9, 13),  # trimmed: at its {{
        ("inline", "B", 9, 33),  # upper-cased role still runs (any case), at its {{
        ("inline", "c", 6, 32),  # a circular use renders nothing more
    ]
    assert [(p.line, p.column, p.blind) for p in s.problems] == [(9, 65, True)]
    assert "inner.strip()" in s.problems[0].message


def test_shortcodes_inside_code_are_problems_at_their_place() -> None:
    text = (
        "Inline `{{< napkin a >}}` and `{{{< napkin a >}}}`.\n\n"
        "```bash\necho {{< claim '1 W' of=b >}} {{</* napkin a */>}}\n```\n\n"
        "    {{< napkin-eq f(x) >}}\n\n"
        "A card {{< napkin-formula amdahl >}} in a sentence.\n"
    )
    s = _scan(text, "pandoc")
    assert not s.items
    assert [(p.line, p.column) for p in s.problems] == [(1, 9), (4, 6), (7, 5), (9, 27)]
    assert all(p.blind for p in s.problems)


def test_items_inside_raw_tex_are_problems() -> None:
    text = (
        "\\begin{marginfigure}\n[1 W]{.claim of=b}\n\\end{marginfigure}\n\n"
        "\\noindent Text [2 W]{.claim of=b} \\marginnote{x [3 W]{.claim of=b}} "
        "\\index{P!Q} $\\frac{a}{b}$.\n"
    )
    s = _scan(text, "pandoc")
    assert [(i.text, i.line, i.column) for i in s.items] == [("2 W", 5, 17)]
    assert [(p.line, p.column) for p in s.problems] == [(2, 2), (5, 50)]
    assert _scan(text, "myst").problems == []  # MyST has no raw TeX commands


def test_span_math_reads_as_pandoc_gives_it() -> None:
    assert plain_markup("18.6$\\times$") == "18.6\\times"
    assert plain_markup("$5 and $6") == "$5 and $6"  # not math: a digit after the closer
    assert plain_markup("a $ b $") == "a $ b $"


@pytest.mark.parametrize("text", ["18.6$\\times$", "18.6\\times", "18.6×"])
def test_a_tex_times_is_a_multiplier(text: str) -> None:
    assert parse_stated(text).style == "multiplier" and parse_stated(text).expression == "18.6"


@pytest.mark.parametrize("text", ["2--4", "2–4×", "about 2—4 %"])
def test_a_stated_range_is_an_error(text: str) -> None:
    with pytest.raises(NapkinSyntaxError, match="range"):
        parse_stated(text)
