"""mlsysim bib: the sources a book's values cite as BibTeX that citeproc reads; per-item keys."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlsysim.book.bibliography import _authors, bibtex, book_citations
from mlsysim.book.document import Document
from mlsysim.book.items import run_item
from mlsysim.book.syntax import Item
from mlsysim.core.registry import catalog

BOOK = Path(__file__).resolve().parent.parent / "book_fixtures" / "sphinx"


def test_items_carry_the_citation_keys_of_their_values() -> None:
    doc = Document("x.md")
    run_item(doc, Item("block", 'w = weights_bytes(Llama2_7B, "bf16")', 1))
    out = run_item(doc, Item("inline", "w / H100.memory.bandwidth -> ms", 3))
    assert "nvidia_h100_datasheet" in out.cites and "model_touvron2023_llama2" in out.cites
    assert run_item(doc, Item("inline", "2 ms + 3 ms", 4)).cites == ()
    assert list(doc.evaluator.cites)[:1] == ["ieee754_2019"] or doc.evaluator.cites


def test_a_registry_table_cites_the_sources_of_its_values() -> None:
    doc = Document("x.md")
    out = run_item(doc, Item("registry", "TPUv4", 1, attrs={"fields": "memory.bandwidth"}))
    assert out.ok and out.cites and set(out.cites) <= set(catalog().sources)
    assert set(out.cites) <= set(doc.evaluator.cites)  # what `mlsysim bib` exports


def test_book_citations_are_the_sources_its_values_use() -> None:
    ids, run = book_citations([BOOK])
    assert run.checked and "nvidia_h100_datasheet" in ids and "williams2009" in ids
    assert len(ids) == len(set(ids)) and set(ids) <= set(catalog().sources)


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        (
            "Austin, J., Douglas, S., et al. (Google DeepMind)",
            "Austin, J. and Douglas, S. and others",
        ),
        ("Devlin, J., Chang, M.-W., Lee, K.", "Devlin, J. and Chang, M.-W. and Lee, K."),
        ("Diederik P. Kingma, Jimmy Ba", "Diederik P. Kingma and Jimmy Ba"),
        ("Aakanksha Chowdhery et al.", "Aakanksha Chowdhery and others"),
    ],
)
def test_author_lists_become_bibtex_and_lists(text: str, wanted: str) -> None:
    assert _authors(text) == wanted


def test_every_catalog_entry_is_valid_bibtex_for_citeproc(tmp_path: Path) -> None:
    pypandoc = pytest.importorskip("pypandoc")
    text = bibtex(catalog().sources)
    assert text.count("{") == text.count("}")
    bib = tmp_path / "all.bib"
    bib.write_text(text, encoding="utf-8")
    pandoc = pypandoc.get_pandoc_path()
    proc = subprocess.run(
        [pandoc, "-f", "bibtex", "-t", "csljson", str(bib)], capture_output=True, text=True
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    import json

    assert len(json.loads(proc.stdout)) == len(catalog().sources)
    doc = tmp_path / "c.md"
    doc.write_text("See [@williams2009].\n")
    cited = subprocess.run(
        [pandoc, "--citeproc", "--bibliography", str(bib), "-t", "plain", str(doc)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Williams et al. 2009" in cited.stdout and "Roofline" in cited.stdout


def test_bib_cli(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "book.bib"
    code, _, err = cli("bib", str(BOOK), "-o", str(out))
    assert code == 0 and "sources ->" in err
    assert "@misc{nvidia_h100_datasheet," in out.read_text()
    code, text, _ = cli("bib", "--all")
    assert code == 0 and text.count("@misc{") == len(catalog().sources)
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, _ = cli("bib", str(empty), "--require-items")
    assert code == 2
