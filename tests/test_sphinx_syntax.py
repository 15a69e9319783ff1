"""How the Sphinx extension maps its syntax onto the engine's item syntax, and finds role lines.

Option and column parsing belong to :mod:`mlsysim.book.syntax` (tested with the engine); these
tests pin what the adapter adds: directive options -> item attributes, and exact role lines.
"""

from __future__ import annotations

import pytest
from mlsysim_sphinx.table import TABLE_ATTRS

from mlsysim.book.items import parse_table
from mlsysim.book.sources import scan_text
from mlsysim.book.sources.locate import Locator
from mlsysim.book.syntax import split_options
from mlsysim.core.exceptions import ConfigError, UnknownNameError

_COLUMNS = """Peak BF16 = {row}.peak_flops("bf16") -> TFLOP/s

# a comment line is not a column
Ridge point = ridge_point({row}, "bf16")
"""


def _attrs(**options: str) -> dict[str, str]:
    return {TABLE_ATTRS[key]: value for key, value in options.items()}


def test_table_directive_options_reach_the_engine() -> None:
    spec = parse_table(
        _COLUMNS, _attrs(rows='H100, Hardware["A100"]', sig="3, 2", style="-, plain")
    )
    assert spec["rows"] == ["H100", 'Hardware["A100"]']
    # a column's cells evaluate its conversion as written, so a bad unit fails at its column
    assert spec["columns"] == [
        ("Peak BF16", 'row.peak_flops("bf16") -> TFLOP/s'),
        ("Ridge point", 'ridge_point(row, "bf16")'),
    ]
    assert spec["units"] == [None, "TFLOP/s", None]
    assert spec["sig_figs"] == [None, 3, 2]
    assert spec["styles"] == [None, None, "plain"]
    assert spec["offsets"] == [0, 3]  # content lines of the columns, for their file lines


def test_table_unit_list_option_and_bad_counts() -> None:
    spec = parse_table("A = row\nB = row", _attrs(rows="1 ms", units="us, ns"))
    assert spec["units"] == [None, "us", "ns"]
    with pytest.raises(ConfigError, match="3 values for 2 columns"):
        parse_table("A = row\nB = row", _attrs(rows="1 ms", sig="1, 2, 3"))


def test_role_options_are_the_engines() -> None:
    body, opts = split_options('about 300 FLOP/B | of=ridge_point(H100, "bf16"), tol=10%')
    assert body == "about 300 FLOP/B"
    assert opts == {"of": 'ridge_point(H100, "bf16")', "tol": "10%"}
    with pytest.raises(UnknownNameError):
        split_options("x | colour=red")
    with pytest.raises(ConfigError, match="is not key=value"):
        split_options("x | sig")


def test_repeated_roles_are_located_in_turn_not_by_searching_text() -> None:
    src = "intro `{napkin}`x``\n\nA {napkin}`x` and\nagain {napkin}`x`\n\n```\n{napkin}`y`\n```\n"
    locator = Locator(scan_text(src, "c.md", "myst"))
    first, second = locator.match("inline", "x"), locator.match("inline", "x")
    assert first is not None and (first.line, first.column) == (3, 12)
    assert second is not None and (second.line, second.column) == (4, 16)
    assert locator.match("inline", "x") is None  # the one in inline code is not an item
    assert locator.match("inline", "y") is None  # nor the one in a code block
