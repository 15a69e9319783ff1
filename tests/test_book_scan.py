"""Source scanning (.md/.rst/.qmd) with exact lines, and checking whole chapters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlsysim.book import check_paths, scan_file
from mlsysim.book.reports import format_report
from mlsysim.book.sources import scan_text

DATA = Path(__file__).parent / "data" / "napkin"


def test_markdown_items_and_lines() -> None:
    items = scan_file(DATA / "clean.md")
    kinds = [(i.kind, i.line) for i in items]
    assert kinds[0] == ("block", 7)
    assert ("inline", 17) in kinds and ("claim", 18) in kinds and ("inline", 19) in kinds
    assert ("claim", 26) in kinds  # inside a {note} directive
    assert not any("nonsense_name" in i.text for i in items)  # code fence skipped
    inline = next(i for i in items if i.kind == "inline")
    assert (inline.text, inline.column) == ("bw", 25)


def test_qmd_forms() -> None:
    items = scan_file(DATA / "clean.qmd")
    got = [(i.kind, i.line, i.text, i.attrs) for i in items]
    assert got[0][:2] == ("block", 8)
    assert ("inline", 12, "ridge", {}) in got
    assert ("claim", 12, "295 FLOP/B", {"of": "ridge"}) in got
    assert ("inline", 13, "80 GB / bw", {"unit": "ms"}) in got
    assert ("claim", 14, "24 ms ~ 80 GB / bw", {}) in got
    assert not any(i.text == "nope" for i in items)


def test_rst_forms() -> None:
    items = scan_file(DATA / "clean.rst")
    assert [(i.kind, i.line, i.column) for i in items] == [
        ("block", 6, 4),
        ("inline", 10, 29),
        ("claim", 10, 45),
    ]


def test_myst_options_and_colon_fence() -> None:
    src = "::::{napkin-eq}\n:unit: ms\n80 GB / 3.35 TB/s\n::::\n"
    (item,) = scan_text(src, "x.md")
    assert (item.kind, item.line, item.attrs, item.text) == (
        "eq",
        3,
        {"unit": "ms"},
        "80 GB / 3.35 TB/s",
    )


@pytest.mark.parametrize("directive", ["```{note}\nSee {napkin}`1 GB`.\n```", "```{foo} arg\n```"])
def test_a_bare_fence_closes_a_prose_directive_and_opens_no_code_block(directive: str) -> None:
    """The closing ``` of an admonition (or of any directive with Markdown content, empty or
    not) ends it, as in MyST: the items after it are items, not the content of a code block."""
    src = f"{directive}\n\n```{{napkin}}\nw = 1 GB\n```\n\nIt is {{napkin}}`w`.\n"
    items = scan_text(src, "x.md")
    assert [(i.kind, i.text) for i in items][-2:] == [("block", "w = 1 GB"), ("inline", "w")]


def test_escaped_shortcode_is_ignored() -> None:
    assert scan_text('{{</* napkin "x" */>}}', "x.qmd") == []


def test_clean_chapters_pass() -> None:
    checked, failures = check_paths([DATA / "clean.md", DATA / "clean.rst", DATA / "clean.qmd"])
    assert failures == [] and checked > 15


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("bad.md", [(6, "check"), (7, "claim"), (10, "claim"), (10, "error"), (12, "error")]),
        ("bad.rst", [(8, "claim"), (10, "error")]),
        ("bad.qmd", [(7, "error"), (10, "claim"), (11, "error"), (11, "error")]),
    ],
)
def test_bad_chapter_json_lists_exactly_the_known_lines(
    name: str, lines: list[tuple[int, str]]
) -> None:
    checked, failures = check_paths([DATA / name])
    report = json.loads(format_report(failures, "json", checked=checked))
    assert [(f["line"], f["kind"]) for f in report["failures"]] == lines
    assert all(f["file"].endswith(name) for f in report["failures"])
