"""Host syntax of the Sphinx extension: role options, comma lists, table columns and rows."""

from __future__ import annotations

import pytest
from mlsysim_sphinx.lines import _role_needles, _Source
from mlsysim_sphinx.syntax import (
    CLAIM_KEYS,
    NAPKIN_KEYS,
    SyntaxProblem,
    parse_column,
    parse_role,
    split_top,
)
from mlsysim_sphinx.table import parse_rows


def test_role_without_options_is_the_expression():
    assert parse_role('ridge_point(H100, "bf16")', NAPKIN_KEYS) == ('ridge_point(H100, "bf16")', {})


def test_role_options_map_to_engine_keywords():
    body, opts = parse_role("t -> ms | sig=2, style=plain, unit=us", NAPKIN_KEYS)
    assert body == "t -> ms"
    assert opts == {"sig_figs": "2", "style": "plain", "unit": "us"}


def test_claim_option_of_may_hold_commas_inside_calls():
    body, opts = parse_role('about 300 FLOP/B | of=ridge_point(H100, "bf16"), tol=10%', CLAIM_KEYS)
    assert body == "about 300 FLOP/B"
    assert opts == {"of": 'ridge_point(H100, "bf16")', "tolerance": "10%"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("x | colour=red", "unknown role option 'colour'"),
        ("x | sig", "is not key=value"),
        ("  | sig=2", "the role is empty"),
    ],
)
def test_bad_role_syntax_says_how_to_fix(text, needle):
    with pytest.raises(SyntaxProblem, match=needle):
        parse_role(text, NAPKIN_KEYS)


def test_split_top_respects_brackets_and_quotes():
    assert split_top('H100, f(a, b), "x,y", [1, 2]') == ["H100", "f(a, b)", '"x,y"', "[1, 2]"]


def test_table_column_is_header_equals_expression():
    col = parse_column('Ridge point = ridge_point({row}, "bf16") -> FLOP/B')
    assert (col.header, col.expression) == ("Ridge point", 'ridge_point({row}, "bf16") -> FLOP/B')
    with pytest.raises(SyntaxProblem, match="Header = expression"):
        parse_column("just an expression")


def test_table_rows_are_ids_or_expressions():
    assert parse_rows('H100, A100, Hardware["H100 SXM"], f(x=1, y=2)') == [
        "H100",
        "A100",
        'Hardware["H100 SXM"]',
        "f(x=1, y=2)",
    ]


def test_role_search_finds_the_exact_line_of_repeated_roles():
    src = _Source(["intro", "A {napkin}`x` and", "again {napkin}`x`", ":napkin:`y`"])
    needles = _role_needles("napkin", ":napkin:`x`")
    assert needles == (":napkin:`x", "{napkin}`x")
    assert src.find(1, needles) == (2, 3)
    assert src.find(1, needles) == (3, 7)
    assert src.find(1, needles) is None
    assert src.find(1, _role_needles("napkin", ":napkin:`y`")) == (4, 1)
