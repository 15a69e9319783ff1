"""Every scanner is linear: as the input grows 10×, the work grows about 10×.

Work is counted, not timed: the Python lines each scanner executes (``sys.settrace``) plus
the characters its searches pass over (``mlsysim.book.sources.text.SCANNED``). Each input is
a hostile pattern (unclosed quotes with backslashes, runs that never close, overlapping
openers) repeated ``n`` and ``10 n`` times; a backtracking or rescanning scanner would do
~100× the work for the 10× input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import mlsysim
from mlsysim.book.claims import parse_stated
from mlsysim.book.lang import lexer
from mlsysim.book.lang.literals import prepare
from mlsysim.book.sources import scan_text
from mlsysim.book.sources.frontmatter import front_matter
from mlsysim.book.sources.inline import Syntax, scan_paragraph
from mlsysim.book.sources.locate import normalize
from mlsysim.book.sources.shortcodes import ShortcodeReader
from mlsysim.book.sources.text import SCANNED, BacktickRuns, parse_attrs, plain_markup
from mlsysim.book.syntax import parse_column, split_options
from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.unit_text import read_number

_PACKAGE = str(Path(mlsysim.__file__).parent)
#: largest work ratio accepted for a 10× input (linear work plus a constant: about 10)
_RATIO = 13


def work(fn: Callable[[], Any]) -> int:
    """Lines of mlsysim executed by ``fn`` plus characters its searches scanned."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(_PACKAGE) else None

    scanned = SCANNED[0]
    sys.settrace(tracer)
    try:
        fn()
    except MlsysimError:
        pass  # hostile input is usually refused: the work done until then is what counts
    finally:
        sys.settrace(None)
    return count + SCANNED[0] - scanned


def _myst(text: str) -> Any:
    return scan_text(text, "c.md", "myst")


def _pandoc(text: str) -> Any:
    return scan_text(text, "c.qmd", "pandoc")


def _rst(text: str) -> Any:
    return scan_text(text, "c.rst", "rst")


_BOTH = Syntax(myst=True, pandoc=True)

#: scanner -> (function of the input, hostile unit repeated n times, n)
SCANNERS: dict[str, tuple[Callable[[str], Any], str, int]] = {
    "mask_strings: quote and backslashes": (lexer.mask_strings, "'\\\\\\", 100),
    "mask_strings: unterminated triple": (lexer.mask_strings, '"""a\\', 100),
    "split_statements": (lexer.split_statements, "x = ('\\\\ # (\n", 30),
    "split_conversion": (lexer.split_conversion, "(a -> [b) '->' ", 30),
    "split_claim": (lexer.split_claim, "1 ~ 2 @ '~@' ", 30),
    "split_top": (lexer.split_top, "a, (b, 'c,' ", 30),
    "binding_head": (lexer.binding_head, "rebind   ", 30),
    "literals.prepare": (prepare, "1 GB/s/b ", 40),
    "read_number": (lambda t: read_number(t, 0), "1_0", 100),
    "split_options": (split_options, "x | unit=(', ", 30),
    "parse_column": (parse_column, "H {row} = {row}.memory.bandwidth ", 30),
    "parse_stated": (parse_stated, "about 1,000,000 ", 30),
    "normalize": (normalize, " \u2019 \\x  ", 100),
    "front_matter: unclosed": (front_matter, "---\n" + "a: b\n", 100),
    "BacktickRuns": (BacktickRuns, "`` `a ", 100),
    "parse_attrs": (lambda t: parse_attrs("{" + t, 0, 10**9), '.c k="v\\" ', 100),
    "shortcodes: overlapping quotes": (
        lambda t: ShortcodeReader(t).shortcodes(),
        '{{< "',
        200,
    ),
    "shortcodes: spaces": (lambda t: ShortcodeReader(t).shortcodes(), "{{< napkin  ", 200),
    "shortcodes: escapes unclosed": (
        lambda t: ShortcodeReader(t).shortcodes(),
        "{{{< a {{</* b ",
        200,
    ),
    "inline: code then brace": (lambda t: scan_paragraph(t, _BOTH), "`a`{", 200),
    "inline: roles unclosed": (lambda t: scan_paragraph(t, _BOTH), "{napkin}`a ", 200),
    "inline: span classes": (lambda t: scan_paragraph(t, _BOTH), "[a]{.claim ", 200),
    "inline: brackets": (lambda t: scan_paragraph(t, _BOTH), "[[a]]{ ", 200),
    "inline: comments": (lambda t: scan_paragraph(t, _BOTH), "<!-- `x` ", 200),
    "markdown myst: fences and lists": (_myst, "- ```{napkin}\n  x = 1\n", 40),
    "markdown myst: quotes and comments": (_myst, "> <!-- {napkin}`a`\n% c\n", 40),
    "markdown myst: unclosed directive": (_myst, ":::{note}\ntext {napkin}`x` more\n", 40),
    "markdown pandoc: divs and html": (_pandoc, "::: {.c}\n<div>`a`{.napkin}\n", 40),
    "markdown pandoc: indented code": (_pandoc, "text\n\n    `a`{.napkin}\n", 40),
    "markdown pandoc: one long line": (_pandoc, "`a`{.napkin} [b]{.claim of=x} ", 200),
    "markdown pandoc: items over many lines": (_pandoc, "x\n[a]{.claim}\n", 40),
    "markdown pandoc: raw TeX commands": (_pandoc, "\\a{[b]{.claim} \\c[ \\d{ ", 60),
    "markdown pandoc: raw TeX blocks unclosed": (_pandoc, "\\begin{m}\n[a]{.claim}\n", 40),
    "markdown pandoc: shortcodes in code": (_pandoc, "```\n{{< napkin a {{< claim\n", 40),
    "markdown myst: html admonitions": (
        lambda t: scan_text(t, "c.md", "myst-html_admonition"),
        '<div class="admonition"><p>{napkin}`a`<b>\n',
        40,
    ),
    "markdown pandoc: fancy and definition lists": (
        _pandoc,
        "(iv) `a`{.napkin}\n\n     b\n: c\n\n    `d`{.napkin}\n(@x) e\n",
        40,
    ),
    "markdown pandoc: backticks in code attributes": (
        _pandoc,
        '```{#lst-a lst-cap="`a`{.napkin} `b"}\n``` {c="`"} d\n',
        40,
    ),
    "markdown pandoc: cell captions": (
        _pandoc,
        "```{python}\n#| fig-cap: \"`a`{.napkin} \\\\\\\" [b]{.claim\n#| tbl-cap: ''' `c\n",
        40,
    ),
    "markdown pandoc: pipe rows": (_pandoc, "|-|\n| `a | [b]{.claim of=`|`} `` | \\| ` ", 40),
    "markdown pandoc: front matter items": (
        lambda t: _pandoc("---\n" + t + "---\n"),
        'a: "`b`{.napkin} [c]{.claim\n',
        40,
    ),
    "markdown pandoc: link definitions": (_pandoc, '[a]: <b "c `d`{.napkin}\n[e]: f\n', 40),
    "markdown myst: captions and deflists": (
        lambda t: scan_text(t, "c.md", "myst-deflist"),
        "```{code-block}\n:caption: {napkin}`a`\n: b\n\n    {napkin}`c`\n",
        40,
    ),
    "inline: autolinks": (lambda t: scan_paragraph(t, _BOTH), "<ab:`c`{.napkin} <d:<e", 200),
    "inline: html spans": (_pandoc, '<span class="claim" of="a <span <span class=napkin>b ', 60),
    "inline: pandoc dollars": (
        lambda t: scan_paragraph(t, Syntax(myst=False, pandoc=True, math=True)),
        "$1-$2 `a`{.napkin} $ b$",
        200,
    ),
    "plain_markup: math dollars": (plain_markup, " $a $1 $ b", 60),
    "rst: roles and escapes": (_rst, ":napkin:`'\\\\\\` ", 100),
    "rst: directives and comments": (_rst, ".. napkin::\n   x = 1\n.. c\n   :napkin:`y`\n", 40),
    "rst: literal blocks": (_rst, "para::\n\n   :napkin:`x`\n\n", 40),
    "rst: code captions": (_rst, ".. code-block:: py\n   :caption: :napkin:`a` `\n", 40),
    "rst: inline options": (_rst, '.. csv-table::\n   :header: ":napkin:`a`, "\n   :b: c\n', 40),
    "markdown myst: inline options": (_myst, ":::{sidebar}\n:subtitle: {napkin}`a` `\n", 40),
}


@pytest.mark.parametrize("name", sorted(SCANNERS))
def test_scanner_work_grows_linearly(name: str) -> None:
    fn, unit, n = SCANNERS[name]
    small = work(lambda: fn(unit * n))
    large = work(lambda: fn(unit * (10 * n)))
    assert small > 0
    assert large <= _RATIO * small, f"{name}: work {small} -> {large} for a 10× input"


def test_the_counter_sees_quadratic_work() -> None:
    """The measure itself: a rescanning search is caught."""

    def quadratic(text: str) -> None:
        from mlsysim.book.sources.text import find

        for i in range(len(text)):
            find(text, "}", i)

    small = work(lambda: quadratic("{" * 100))
    large = work(lambda: quadratic("{" * 1000))
    assert large > 50 * small
