"""Napkin language: quantity literals, conversion, claims split, statements, evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from mlsysim import Q_
from mlsysim.book import Document
from mlsysim.book.lang import split_claim, split_conversion, split_statements
from mlsysim.book.lang.literals import prepare
from mlsysim.core.exceptions import NapkinSyntaxError


def value(expr: str) -> Any:
    r = Document("t.md").inline(expr, 1)
    assert r.ok, r.failure
    return r.value


def test_literal_placeholders_keep_columns() -> None:
    p = prepare("1 / 3.35 TB/s + 80GB")
    assert len(p.code) == len(p.source)
    assert [lit.text for lit in p.literals.values()] == ["3.35 TB/s", "80 GB"]
    assert p.code.index("_") == 4


def test_literal_is_one_atom() -> None:
    # 1 / 3.35 TB/s means 1 / (3.35 TB/s), not (1/3.35) TB/s
    assert value("1 / 3.35 TB/s").to("s/TB").magnitude == pytest.approx(1 / 3.35)


def test_scientific_notation_is_not_a_unit() -> None:
    assert value("1e3 * 2") == 2000.0
    assert value("3.35e12 B/s -> TB/s").magnitude == pytest.approx(3.35)


def test_unknown_unit_suggests() -> None:
    with pytest.raises(NapkinSyntaxError, match="unknown unit 'GBs'"):
        prepare("3 GBs")


def test_unit_names_are_values() -> None:
    assert value("GB") == Q_(1, "GB")
    assert value("80 GB / GB") == Q_(80, "")


def test_conversion_split_is_rightmost_top_level() -> None:
    assert split_conversion("f(a -> b) -> ms")[1] == "ms"
    assert split_conversion("'->' + x")[1] is None


def test_claim_split() -> None:
    stated, expr, tol, col, _ = split_claim("300 FLOP/B ~ ridge @ 10%")  # type: ignore[misc]
    assert (stated, expr.strip(), tol, col) == ("300 FLOP/B", "ridge", "10%", 13)
    assert split_claim("~x") is None


def test_statements_continue_in_brackets_and_drop_comments() -> None:
    sts = split_statements("a = 1  # one\n\nb = (a\n     + 2)\nc = '#' \\\n  + 'x'")
    assert [(s.text.split()[0], s.line) for s in sts] == [("a", 0), ("b", 2), ("c", 4)]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("80 GB / 3.35 TB/s -> ms", Q_(80 / 3.35, "ms")),
        ("2 ms * 3 + 1 ms", Q_(7, "ms")),
        ("sqrt(16)", 4.0),
        ("max(2 ms, 3 ms)", Q_(3, "ms")),
        ("ceil(80 GB / 24 GB)", 4),
        ("log2(1024)", 10.0),
        ("1 if 2 ms > 1 ms else 0", 1),
        ("2**10", 1024),
        ("-(3 W) + 5 W", Q_(2, "W")),
        ("700 W * 1 h -> kWh", Q_(0.7, "kWh")),
    ],
)
def test_evaluates(expr: str, expected: object) -> None:
    got = value(expr)
    if hasattr(expected, "units"):
        assert got.to(expected.units).magnitude == pytest.approx(expected.magnitude)  # type: ignore[attr-defined]
    else:
        assert got == pytest.approx(expected)


def test_registry_values_and_methods() -> None:
    # NVIDIA H100 SXM datasheet: 3.35 TB/s HBM3, 989.4 TFLOP/s dense BF16, 700 W
    assert value("H100.memory.bandwidth") == Q_(3.35, "TB/s")
    assert value("H100.peak_flops('bf16')") == Q_(989.4, "TFLOP/s")
    assert value("Hardware['H100 SXM'].tdp") == Q_(700, "W")
    assert value("H100.peak.dense['fp8']").to("TFLOP/s").magnitude == pytest.approx(1979, rel=1e-3)


def test_ridge_point_matches_datasheet_ratio() -> None:
    # 989.4 TFLOP/s / 3.35 TB/s = 295 FLOP/B (the commonly quoted H100 ridge point)
    doc = Document("t.md")
    r = doc.inline("H100.peak_flops('bf16') / H100.memory.bandwidth", 1)
    assert r.rendered is not None and r.rendered.text == "295 FLOP/B"
    assert r.rendered.latex == r"{295\,\mathrm{FLOP/B}}"


def test_registry_value_is_not_re_rounded() -> None:
    r = Document("t.md").inline("H100.peak_flops('bf16')", 1)
    assert r.rendered is not None and r.rendered.text == "989.4 TFLOP/s"


def test_trailing_zero_digits_kept() -> None:
    r = Document("t.md").inline("3.0 ms", 1)
    assert r.rendered is not None and r.rendered.text == "3.0 ms"


def test_percent_and_multiplier_targets() -> None:
    doc = Document("t.md")
    assert doc.inline("0.953 -> %", 1).rendered.text == "95.3 %"  # type: ignore[union-attr]
    # Amdahl's law, p = 0.95, s = 247: 1 / (0.05 + 0.95/247) = 18.57
    r = doc.inline("1 / (1 - 0.95 + 0.95 / 247) -> ×", 1)
    assert r.rendered is not None and r.rendered.text == "18.6×"
    assert doc.inline("19.47 -> ×", 1).rendered.text == "19.47×"  # type: ignore[union-attr]


def test_formula_by_name_when_available() -> None:
    formulas = pytest.importorskip("mlsysim.core.formulas")
    if "ridge_point" not in getattr(formulas, "FORMULAS", {}):
        pytest.skip("formulas module not complete yet")
    r = Document("t.md").inline('ridge_point(H100, "bf16")', 1)
    assert r.ok and r.rendered is not None and r.rendered.text == "295 FLOP/B"
