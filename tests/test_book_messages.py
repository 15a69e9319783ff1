"""Inputs that used to give puzzling messages now say what, why and how to fix."""

from __future__ import annotations

from mlsysim.book import Document


def _failure(expr: str):
    doc = Document("chapter.md")
    result = doc.inline(expr, line=7, column=1)
    assert not result.ok and result.failure is not None
    return result.failure


def test_thousands_comma_is_explained_at_the_comma() -> None:
    f = _failure("1,979 TFLOP/s")
    assert "tuple" in f.message and "1_979" in (f.hint or f.message)
    assert (f.line, f.column) == (7, 2)


def test_missing_optional_registry_field_says_not_given() -> None:
    f = _failure("H100.list_price")  # NVIDIA publishes no list price for the H100
    assert "H100.list_price is not given" in f.message
    assert "cannot render" not in f.message


def test_underscore_thousands_are_a_number() -> None:
    doc = Document("chapter.md")
    assert doc.inline("1_979 TFLOP/s -> TFLOP/s", line=1).rendered.text == "1,979 TFLOP/s"
