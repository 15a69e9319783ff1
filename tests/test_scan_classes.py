"""The scanner's reading of the held-out input classes of sessions 25 and 26, without a host
build (tests/test_heldout_classes.py builds them through Sphinx and the Quarto filter).

Session 26: pandoc's other list markers and definition lists (MyST's deflist too) hold their
later blocks by indent (never an indented code block); a pandoc code block's attributes may
hold backticks (a listing's ``lst-cap``, Markdown under a ``#lst-`` id); pandoc's inline math
closes at the next ``$`` or not at all; link reference definitions and autolinks are URLs;
an executable cell's ``#| fig-cap:`` / ``#| tbl-cap:`` is its output's Markdown caption; a
pandoc pipe table's row ends a cell at a ``|`` outside code, also in a span's attributes; an
item in a pandoc chapter's front matter is never evaluated (a problem at its place); an HTML
``<span class="claim">`` is a pandoc span (an item); Sphinx
parses a code directive's ``:caption:``, a ``csv-table``'s cells and the arguments of
``versionadded`` & co. as inline markup."""

from __future__ import annotations

import re

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


def _roles(text: str) -> str:
    """Pandoc's inline items (`` `x`{.napkin} ``) written as MyST roles."""
    return re.sub(r"`(\w+)`\{\.napkin\}", r"{napkin}`\1`", text)


FANCY = """a. first `a1`{.napkin}

    continued `a2`{.napkin}

#. hash

    `h2`{.napkin}

(iv) roman: later blocks need its content column (5)

    `r2`{.napkin}

(ii) roman

     `r3`{.napkin}

(@ex) example

    `e2`{.napkin}

B) upper

    `b2`{.napkin}

A. Smith wrote it, not a list:

    `code`{.napkin}
"""


def test_pandoc_fancy_lists_hold_their_blocks() -> None:
    s = _scan(FANCY, "pandoc")
    assert [(i.text, i.line, i.column) for i in s.items] == [
        ("a1", 1, 11),
        ("a2", 3, 16),
        ("h2", 7, 6),
        ("r3", 15, 7),
        ("e2", 19, 6),  # an example's need four spaces
        ("b2", 23, 6),
    ]  # "A. Smith" is prose: the block under it is code, as under "(iv)"
    assert [i.text for i in _scan(_roles(FANCY), "myst").items] == ["a1"]  # CommonMark: code


DEFINITIONS = """Term
: Definition `d1`{.napkin}

    Four spaces in, still the definition: `d2`{.napkin}

Other term

~   Wide marker `d3`{.napkin}

        Eight spaces in: code `d4`{.napkin}
"""


def test_definition_lists_hold_their_blocks() -> None:
    s = _scan(DEFINITIONS, "pandoc")
    assert [(i.text, i.line, i.column) for i in s.items] == [
        ("d1", 2, 15),
        ("d2", 4, 44),
        ("d3", 8, 18),
    ]
    myst = _roles(DEFINITIONS)
    assert [i.text for i in _scan(myst, "myst-deflist").items] == ["d1", "d2", "d3"]
    assert [i.text for i in _scan(myst, "myst").items] == ["d1", "d3"]  # no deflist: code


LISTING = (
    '```{#lst-a .python lst-cap="The `a`{.napkin} loop"}\n'
    "x = `not_an_item`{.napkin}\n"
    "```\n\n"
    '```{.python lst-cap="No id: `b`{.napkin}"}\n'
    "y = 1\n"
    "```\n\n"
    "After `c`{.napkin}.\n"
)


def test_pandoc_code_attributes_may_hold_backticks() -> None:
    s = _scan(LISTING, "pandoc")
    # a listing's caption is Markdown; other code blocks' lst-cap is not read; the fences
    # still pair (the code after them is prose)
    assert [(i.text, i.line, i.column) for i in s.items] == [("a", 1, 34), ("c", 9, 8)]
    myst = _scan(_roles(LISTING), "myst")  # CommonMark: a backtick in the info is no fence
    assert "not_an_item" in [i.text for i in myst.items]


def test_pandoc_inline_math_closes_at_the_next_dollar() -> None:
    text = "From $700-$800 with `a`{.napkin} to $1$ and $x `b`{.napkin}$ then `c`{.napkin}.\n"
    assert [i.text for i in _scan(text, "pandoc").items] == ["a", "c"]
    assert plain_markup("$700-$800 x $1$ y") == "$700-$800 x 1 y"
    # MyST's dollarmath (its defaults allow spaces and digits): the next '$' closes
    myst = "From $700-$800 with {napkin}`a`, $5 {napkin}`b` $6 then {napkin}`c`.\n"
    assert [i.text for i in _scan(myst, "myst-dollarmath").items] == ["a", "c"]


@pytest.mark.parametrize("syntax", ["pandoc", "myst"])
def test_link_definitions_and_autolinks_are_urls(syntax: str) -> None:
    item = "`x`{.napkin}" if syntax == "pandoc" else "{napkin}`x`"
    text = (
        f'[r]: https://example.com "A {item} title"\n\n'
        f"<https://example.com/{item}> and {item}.\n\n"
        f"[r]: not a definition {item}\n"
    )
    s = _scan(text, syntax)
    places = [(3, 41), (5, 24)] if syntax == "pandoc" else [(3, 48), (5, 32)]
    assert [(i.line, i.column) for i in s.items] == places


def test_sphinx_captions_and_arguments_are_inline_markup() -> None:
    myst = (
        "```{code-block} python\n:caption: The {napkin}`a` loop\n\nx = {napkin}`no`\n```\n\n"
        ':::{csv-table} Costs {napkin}`b`\n:header: A, B\n\n1, "{napkin}`c`"\n:::\n\n'
        ":::{versionadded} 1.2 With {napkin}`d`\n:::\n"
    )
    s = _scan(myst, "myst")
    assert [(i.text, i.line, i.column) for i in s.items] == [
        ("a", 2, 24),
        ("b", 7, 31),
        ("c", 10, 14),
        ("d", 13, 37),
    ]
    rst = (
        ".. code-block:: python\n   :caption: The :napkin:`a` loop\n\n   x = :napkin:`no`\n\n"
        '.. csv-table:: T\n   :header: "A", ":napkin:`b`"\n\n   1, 2\n\n'
        ".. sidebar:: S\n   :subtitle: :napkin:`c`\n\n   Body.\n"
    )
    items = scan_source("c.rst", rst, "rst").items
    assert [(i.text, i.line, i.column) for i in items] == [
        ("a", 2, 27),
        ("b", 7, 28),
        ("c", 12, 24),
    ]
    sidebar = ":::{sidebar} S\n:subtitle: at {napkin}`d`\n\nBody {napkin}`e`.\n:::\n"
    found = [(i.text, i.line, i.column) for i in _scan(sidebar, "myst").items]
    assert found == [("d", 2, 24), ("e", 4, 15)]


CELLS = (
    "```{python}\n"
    '#| fig-cap: "At `a`{.napkin} and [7 W]{.claim of=\\"x\\"}"\n'
    "#| tbl-cap: 'It''s `c`{.napkin}'\n"
    '#| fig-alt: "`no`{.napkin}"\n'
    "y = `no`{.napkin}\n"
    "```\n\n"
    "```{r}\n"
    "plot(1)\n"
    "#| fig-cap: not an option after the code `no`{.napkin}\n"
    "```\n\n"
    "```{.python}\n"
    '#| fig-cap: "`no`{.napkin}"\n'
    "```\n"
)


def test_cell_captions_are_markdown() -> None:
    s = _scan(CELLS, "pandoc")
    assert [(i.kind, i.text, i.line, i.column) for i in s.items] == [
        ("inline", "a", 2, 18),
        ("claim", "7 W", 2, 35),
        ("inline", "c", 3, 21),
    ]
    assert s.items[1].attrs == {"of": "x"}  # escapes resolved


def test_a_pandoc_pipe_row_cuts_spans_not_code() -> None:
    text = (
        "| A | B |\n|---|---|\n"
        '| `a | sig=2`{.napkin} | [x]{.napkin expr="b | sig=2"} |\n'
        '| [`c|d`]{.claim of="e"} | [x]{.napkin expr="f \\| sig=2"} |\n'
    )
    s = _scan(text, "pandoc")
    assert [i.text for i in s.items] == ["a | sig=2", "c|d", "f | sig=2"]
    assert [(p.line, p.column, p.message[:19]) for p in s.problems] == [
        (3, 44, "a '|' inside '[x]{."),
    ]
    assert "pandoc's pipe tables" in s.problems[0].why


def test_front_matter_items_are_problems_in_pandoc() -> None:
    text = '---\ntitle: "At `a`{.napkin}"\nabstract: |\n  [1 W]{.claim of=b}\n---\n\n`c`{.napkin}\n'
    s = _scan(text, "pandoc")
    assert [i.text for i in s.items] == ["c"]
    assert [(p.line, p.column, p.blind) for p in s.problems] == [(2, 13, True), (4, 4, True)]
    assert "front matter" in s.problems[0].message
    myst = "---\ntitle: At {napkin}`a`\n---\n\n{napkin}`c`\n"
    assert not _scan(myst, "myst").problems  # Sphinx renders no front matter


def test_pandoc_native_spans_are_items() -> None:
    text = (
        'A <span class="claim" of="b" data-x=\'y\'>7 *W*</span>, <span class=napkin expr="c">'
        'x</span>, <span class="note">`d`{.napkin}</span>, <span class="claim">1 <span>W</span>'
        "</span> and <span class='claim'>unclosed.\n"
    )
    s = _scan(text, "pandoc")
    got = [(i.kind, i.text, i.column, i.attrs) for i in s.items]
    assert got == [
        ("claim", "7 W", 41, {"of": "b", "data-x": "y"}),  # its text, Markdown read
        ("inline", "c", 80, {}),  # at its expr
        ("inline", "d", 113, {}),
    ]  # a span inside it (pandoc nests them) and an unclosed one are not read
    assert not _scan(text.replace("`d`{.napkin}", ""), "myst").items  # MyST: HTML
