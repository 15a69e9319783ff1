"""Documents: blocks, bindings in source order, checks, claims and failure collection."""

from __future__ import annotations

import pytest

from mlsysim.book import Document, Options
from mlsysim.book.sources import scan_text

BLOCK = """\
bw = H100.memory.bandwidth   # 3.35 TB/s (datasheet)
peak = H100.peak_flops("bf16")
ridge = (peak
         / bw)
check(ridge > 100 FLOP/B, "compute-rich")
295 FLOP/B ~ ridge
300 FLOP/B ~ ridge @ 10%
"""


def test_block_binds_checks_and_claims() -> None:
    doc = Document("ch.md")
    res = doc.block(BLOCK, line=10)
    assert res.ok, res.failures
    assert [ln for ln, _ in res.rendered] == [15, 16]
    assert res.rendered[0][1].latex == r"{295\,\mathrm{FLOP/B}}"
    assert doc.inline("ridge", 20).rendered.text == "295 FLOP/B"  # type: ignore[union-attr]
    assert doc.inline("bw", 21).rendered.text == "3.35 TB/s"  # type: ignore[union-attr]


def test_claim_tolerances() -> None:
    doc = Document("ch.md")
    doc.block("ridge = 989.4 TFLOP/s / 3.35 TB/s", 1)
    assert doc.claim("300 FLOP/B ~ ridge", 2).ok  # 1.6 % off, default 5 %
    assert not doc.claim("280 FLOP/B ~ ridge", 3).ok  # 5.5 % off
    assert doc.claim("280 FLOP/B ~ ridge @ 10%", 4).ok
    assert doc.claim("280 FLOP/B ~ ridge @ 20 FLOP/B", 5).ok  # absolute
    assert doc.claim("300 FLOP/B", 6, of="ridge").ok
    strict = Document("ch.md", Options(tolerance=0.01))
    strict.block("ridge = 989.4 TFLOP/s / 3.35 TB/s", 1)
    assert not strict.claim("300 FLOP/B ~ ridge", 2).ok


def test_claim_renders_the_authors_text() -> None:
    doc = Document("ch.md")
    r = doc.claim("about 1,979 TFLOP/s ~ H100.peak_flops('fp8')", 1)
    assert r.ok and r.rendered is not None
    assert r.rendered.text == "about 1,979 TFLOP/s"
    assert r.rendered.latex == r"{1{,}979\,\mathrm{TFLOP/s}}"
    pct = doc.claim("95% ~ 0.953", 2)
    assert pct.ok and pct.rendered is not None and pct.rendered.latex == r"{95\,\%}"
    times = doc.claim("18.6× ~ 1 / (0.05 + 0.95 / 247)", 3)
    assert times.ok


def test_claim_with_wrong_dimension_is_an_error() -> None:
    doc = Document("ch.md")
    r = doc.claim("295 TB/s ~ 989.4 TFLOP/s / 3.35 TB/s", 7, column=3)
    assert not r.ok and r.failure is not None
    assert r.failure.kind == "error"
    assert "bandwidth" in r.failure.message and "intensity" in r.failure.message


def test_failed_claim_is_located_with_derivation_and_sources() -> None:
    doc = Document("ch.md")
    doc.block("bw = H100.memory.bandwidth\nridge = H100.peak_flops('bf16') / bw", 3)
    r = doc.claim("200 FLOP/B ~ ridge", 9, column=5)
    f = r.failure
    assert f is not None and f.kind == "claim" and (f.line, f.column) == (9, 5)
    assert f.expected == "200 FLOP/B ± 5 %"
    assert any(line.startswith("ridge = ") for line in f.derivation)
    assert any("H100" in s for s in f.sources)


def test_rebinding_is_an_error_unless_marked() -> None:
    doc = Document("ch.md")
    doc.block("x = 1 ms\nx = 2 ms\nrebind x = 3 ms", 1)
    assert [f.line for f in doc.failures] == [2]
    assert "already bound at line 1" in doc.failures[0].message
    assert doc.inline("x", 5).rendered.text == "3 ms"  # type: ignore[union-attr]


def test_use_before_bind_says_where() -> None:
    src = "Early {napkin}`later`.\n\n```{napkin}\nlater = 3 ms\n```\n"
    doc = Document("ch.md", source=src)
    doc.declare_blocks(scan_text(src, "ch.md"))
    r = doc.inline("later", 1, column=16)
    assert r.failure is not None and "bound later, at line 4" in (r.failure.hint or "")


def test_failed_binding_is_reported_once_per_use_never_silently() -> None:
    doc = Document("ch.md")
    doc.block("a = H10.tdp\ntwice = a * 2", 1)
    lines = [(f.line, f.message) for f in doc.failures]
    assert lines[0][0] == 1 and "H10" in lines[0][1]
    assert lines[1][0] == 2 and "binding at line 1 failed" in lines[1][1]


def test_all_failures_collected() -> None:
    doc = Document("ch.md")
    doc.block("check(1 ms > 2 ms, 'a')\ncheck(1 > 2, 'b')\n1/0", 1)
    assert [(f.line, f.kind) for f in doc.failures] == [(1, "check"), (2, "check"), (3, "error")]


def test_bindings_cannot_shadow_registry_or_helpers() -> None:
    doc = Document("ch.md")
    doc.block("H100 = 3\nsqrt = 2", 1)
    assert [f.line for f in doc.failures] == [1, 2]


@pytest.mark.parametrize("unit", ["GB", "s", "ms", "b", "W", "tok", "h"])
def test_bindings_cannot_change_what_a_unit_means(unit: str) -> None:
    doc = Document("ch.md")
    doc.block(f"{unit} = 2\nx = 4 GB / GB", 1)
    (f,) = doc.failures
    assert f.line == 1 and f"cannot bind {unit!r}: it is a unit" in f.message
    assert doc.inline("x", 3).rendered.text == "4.00"


def test_multiline_error_is_located_on_its_own_line() -> None:
    doc = Document("ch.md")
    doc.block("y = (1 ms\n     + 2 GB)", 4, column=1)
    f = doc.failures[0]
    assert f.line == 5 and "cannot add" in f.message


def test_derivation_and_table_when_formulas_exist() -> None:
    import pytest

    formulas = pytest.importorskip("mlsysim.core.formulas")
    if "ridge_point" not in getattr(formulas, "FORMULAS", {}):
        pytest.skip("formulas module not complete yet")
    doc = Document("ch.md")
    eq = doc.derivation('ridge_point(H100, "bf16")', 1)
    assert eq.ok and eq.rendered is not None
    assert eq.rendered.latex.endswith(r"\approx {295\,\mathrm{FLOP/B}}")
    assert r"{989.4\,\mathrm{TFLOP/s}}" in eq.rendered.latex
    table = doc.table(["H100"], [("BW", "row.memory.bandwidth")], 3)
    assert table.ok and "3.35 TB/s" in table.rendered.text
    bad = doc.derivation("1 + 2", 4)
    assert not bad.ok and bad.failure is not None and "formula call" in bad.failure.message


def test_a_repeated_item_reuses_its_result_only_while_its_inputs_are_the_same() -> None:
    """Repeats of a passing value or claim take the first one's result; a rebinding, another
    document's binding, other options or a failure are evaluated afresh."""
    from mlsysim.book import Document, Options

    d = Document("a.md")
    d.block("x = 2 GB", 1)
    first = d.inline("x / 1 GB/s -> s", 2)
    again = d.inline("x / 1 GB/s -> s", 3)
    assert again.rendered is first.rendered and again.ok
    d.block("rebind x = 4 GB", 4)
    assert d.inline("x / 1 GB/s -> s", 5).rendered.text == "4.00 s"
    other = Document("b.md")
    other.block("x = 8 GB", 1)
    assert other.inline("x / 1 GB/s -> s", 2).rendered.text == "8.00 s"
    two = Document("c.md", Options(sig_figs=2))
    assert two.inline("1 / 3", 1).rendered.text == "0.33"
    assert Document("d.md").inline("1 / 3", 1).rendered.text == "0.333"
    assert d.claim("2 s ~ 2 GB / 1 GB/s", 6).ok and d.claim("2 s ~ 2 GB / 1 GB/s", 7).ok
    bad = [d.claim("3 s ~ 2 GB / 1 GB/s", n) for n in (8, 9)]
    assert [r.ok for r in bad] == [False, False]
    assert [f.line for f in d.failures] == [8, 9]  # every repeat of a failure is reported
    assert d.checked == 9  # two blocks, three values, four claims
