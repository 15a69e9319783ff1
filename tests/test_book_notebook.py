"""Notebook objects: rich reprs, and checks that fail with a location."""

from __future__ import annotations

import pytest

from mlsysim.book import Document, check, napkin
from mlsysim.core.exceptions import NapkinError


def test_napkin_value_reprs() -> None:
    v = napkin("80 GB / 3.35 TB/s -> ms", document=Document("nb"))
    assert str(v) == "23.9 ms"
    assert v._repr_markdown_() == r"${23.9\,\mathrm{ms}}$"
    assert v._repr_latex_() == r"${23.9\,\mathrm{ms}}$"
    assert v.value.to("ms").magnitude == pytest.approx(80 / 3.35)


def test_bindings_persist_in_the_document() -> None:
    doc = Document("nb")
    napkin("lat = 2 ms", document=doc)
    assert str(napkin("lat * 2", document=doc)) == "4 ms"


def test_check_passes_and_fails_located() -> None:
    doc = Document("nb")
    assert check("1 ms < 2 ms", "ok", document=doc)
    res = check(False, "broken", raise_on_failure=False, document=doc)
    assert not res and res.failure is not None and res.failure.file.endswith(".py")
    with pytest.raises(NapkinError, match="check failed: broken") as info:
        check(False, "broken", document=doc)
    assert info.value.failure.line > 0  # type: ignore[attr-defined]


def test_napkin_error_raises() -> None:
    with pytest.raises(NapkinError, match="division by zero"):
        napkin("1/0", document=Document("nb"))
