"""The formula and registry reference: every formula's example runs, signatures in errors,
``mlsysim formulas``, ``mlsysim zoo KIND ID``, registry tables, formula cards, MyST pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from mlsysim.book import Document
from mlsysim.book.reference import (
    entry_fields,
    formula_card,
    formula_reference,
    registry_table,
    write_reference,
)
from mlsysim.cli.formulas_cmd import formulas_json_schema
from mlsysim.cli.zoo_cmd import zoo_json_schema
from mlsysim.core.exceptions import UnknownNameError
from mlsysim.core.formulas import FORMULAS
from mlsysim.core.formulas.examples import EXAMPLES


def test_every_formula_has_an_example() -> None:
    assert set(EXAMPLES) == set(FORMULAS)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_every_example_runs_and_calls_its_formula(name: str) -> None:
    ref = formula_reference(name)
    assert ref.example_text and "error" not in ref.example_text
    assert ref.signature.startswith(f"{name}(")
    assert [p.name for p in ref.parameters] == list(FORMULAS[name].formula.params)
    # the example really called this formula: its arguments were seen
    assert any(p.example is not None for p in ref.parameters)
    assert ref.sources and all(s.text for _, s in ref.sources)


def test_ridge_point_reference_has_dimensions_and_links() -> None:
    ref = formula_reference("ridge_point")
    assert ref.signature == 'ridge_point(hw, precision="bf16") -> intensity'
    kinds = {p.name: p.dimension for p in ref.parameters}
    assert kinds == {"hw": "hardware entry", "precision": "text"}
    assert ref.example_text == "295 FLOP/B" and ref.result_unit == "FLOP/B"
    cid, source = ref.sources[0]
    assert cid == "williams2009" and source.url and "Roofline" in source.text
    ring = {p.name: p for p in formula_reference("ring_allreduce").parameters}
    assert ring["size"].dimension == "information" and ring["latency"].default == "0 s"


@pytest.mark.parametrize(
    ("expr", "wanted"),
    [
        ('ridge_point(H100, precison="bf16")', "did you mean precision="),
        ("amdahl(p=0.9)", "write amdahl(p, speedup)"),
        ("ring_allreduce(size=1 s, n=8, bandwidth=100 GB/s)", "ring_allreduce(size, n, bandwidth"),
        ("amdahl(p=1.5, speedup=2)", "e.g. amdahl(p=0.95, speedup=247)"),
    ],
)
def test_a_wrong_call_shows_the_signature(expr: str, wanted: str) -> None:
    result = Document("x.md").inline(expr, 1)
    assert not result.ok and result.failure is not None
    assert wanted in (result.failure.hint or ""), result.failure.hint


def test_formulas_cli(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("formulas")
    assert code == 0 and 'ridge_point(hw, precision="bf16") -> intensity' in out
    assert f"{len(FORMULAS)} formulas" in out
    code, out, _ = cli("formulas", "ridge_point")
    assert code == 0 and "= 295 FLOP/B" in out and "williams2009" in out
    code, out, err = cli("formulas", "ridge_pont")
    assert code == 2 and "did you mean ridge_point" in err
    code, out, _ = cli("formulas", "--domain", "reliability", "--json")
    doc = json.loads(out)
    jsonschema.validate(doc, formulas_json_schema())
    assert doc["count"] == len([f for f in FORMULAS.values() if f.formula.domain == "reliability"])


def test_zoo_entry_lists_every_field_with_units_and_sources(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("zoo", "hardware", "H100")
    assert code == 0
    assert "memory.bandwidth" in out and "3.35 TB/s" in out and "peak.sparse.fp8" in out
    assert "NVIDIA H100 Tensor Core GPU Datasheet" in out and "https://" in out
    code, out, _ = cli("zoo", "grids", "Quebec", "--json")
    doc = json.loads(out)
    jsonschema.validate(doc, zoo_json_schema())
    ci = next(f for f in doc["fields"] if f["field"] == "carbon_intensity")
    assert ci["dimension"] == "carbon intensity" and ci["as_of"]
    code, _, err = cli("zoo", "hardware", "H10")
    assert code == 2 and "did you mean H100" in err


def test_entry_fields_cover_every_figure_of_the_spec() -> None:
    paths = {f.path for f in entry_fields("hardware", "A100")}
    assert {"memory.capacity", "memory.bandwidth", "tdp", "peak.dense.bf16"} <= paths
    assert not {"id", "provenance", "source"} & paths


def test_registry_table_is_the_napkin_table_structure() -> None:
    table = registry_table("hardware", ["H100", "A100"], ["memory.bandwidth", "list_price"])
    assert table.header == ("", "memory.bandwidth", "list_price")
    assert table.rows[0][1].text == "3.35 TB/s" and table.rows[1][1].text == "2.039 TB/s"
    assert any(c.text == "—" for row in table.rows for c in row)  # missing, never zero
    assert table.sources and table.sources[0].url
    assert table.to_dict()["classes"][1] == "align-right"


def test_registry_table_refuses_a_misspelt_key_of_a_mapping_field() -> None:
    """A mapping's key no entry has is a misspelling (did-you-mean), never a column of
    dashes; a key some entry has but a listed one lacks shows as missing."""
    table = registry_table("hardware", ["A100", "H100"], ["peak.dense.fp8"])
    assert table.rows[0][1].text == "—" and table.rows[1][1].text != "—"
    with pytest.raises(UnknownNameError, match=r"did you mean peak\.dense\.bf16"):
        registry_table("hardware", ["A100"], ["peak.dense.bf61"])
    with pytest.raises(UnknownNameError, match=r"memory\.bandwidth\.x"):
        registry_table("hardware", ["A100"], ["memory.bandwidth.x"])
    # a sub-model the first entry lacks (an MCU has no interconnect) is missing, not an error
    table = registry_table("hardware", ["STM32H743", "H100"], ["interconnect.fabric"])
    assert table.rows[0][1].text == "—" and table.rows[1][1].text == "NVLink4"


def test_formula_card_renders_for_every_output() -> None:
    card = formula_card("young_daly")
    assert card.arguments.header == ("argument", "is", "default", "example")
    assert "\\sqrt" in card.latex and "\\[" in card.latex
    assert 'class="mlsysim-formula-card"' in card.html and "<a href=" in card.html
    assert "$$" in card.markdown and set(card.to_dict()) >= {"text", "html", "latex"}


def test_reference_pages_build_with_sphinx_warnings_as_errors(tmp_path: Path) -> None:
    pytest.importorskip("myst_parser")
    files = write_reference(tmp_path / "ref")
    assert [f.name for f in files] == [
        "index.md",
        "formulas.md",
        "walls.md",
        "registries.md",
        "sources.md",
    ]
    before = {f: f.stat().st_mtime_ns for f in files}
    write_reference(tmp_path / "ref")  # unchanged text: files are not rewritten
    assert before == {f: f.stat().st_mtime_ns for f in files}
    (tmp_path / "conf.py").write_text('extensions = ["myst_parser"]\nproject = "t"\n')
    (tmp_path / "index.md").write_text("# Site\n\n```{toctree}\nref/index\n```\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "-q",
            "-b",
            "html",
            str(tmp_path),
            str(tmp_path / "_b"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    walls = (tmp_path / "_b" / "ref" / "walls.html").read_text()
    assert 'href="formulas.html#formula-ridge-point"' in walls
