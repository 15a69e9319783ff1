"""Values shared across chapters (mlsysim.book.shared): check, Sphinx (incremental, -j 2) and
the Quarto project render agree; defined once, cycles and the values file fail with places."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from mlsysim.book.lang.qualified import qualified_names
from mlsysim.book.sources.check import check_sources

sys.path.insert(0, str(Path(__file__).parent / "quarto_shim"))
from harness import copy_book, failure_locations, render_project
from test_sphinx_book import sphinx_build

DATA = Path(__file__).parent / "data" / "shared"


def _book(tmp_path: Path, host: str = "sphinx") -> Path:
    return copy_book(DATA / host, tmp_path / host)


def _failures(book: Path) -> list[tuple[str, int, str]]:
    run = check_sources([book])
    return [(Path(f.file).name, f.line, f.message + " " + (f.hint or "")) for f in run.failures]


def test_qualified_names_keep_columns_and_skip_strings() -> None:
    text = 'roofline::ridge * 2 + f("a::b") + ch/x::y'
    out, refs = qualified_names(text)
    assert len(out) == len(text)
    assert sorted(refs.values()) == [("ch/x", "y"), ("roofline", "ridge")]
    assert '"a::b"' in out
    assert out.index("*") == text.index("*")


@pytest.mark.parametrize("host", ["sphinx", "quarto"])
def test_a_later_chapter_and_the_values_file_are_read_by_check(tmp_path: Path, host: str) -> None:
    book = _book(tmp_path, host)
    run = check_sources([book])
    assert run.failures == [] and run.checked >= 8


def test_two_definitions_of_a_name_another_chapter_reads_name_both_places(tmp_path: Path) -> None:
    book = _book(tmp_path)
    (book / "extra.md").write_text("# Extra\n\n```{napkin}\nbw = 2 TB/s\n```\n")
    found = {(f, n): m for f, n, m in _failures(book)}
    message = found[("serving.md", 8)]
    assert "defined twice" in message
    assert "extra.md:4" in message and "roofline.md:4" in message


def test_a_chapter_may_keep_its_own_name(tmp_path: Path) -> None:
    book = _book(tmp_path)
    (book / "extra.md").write_text(
        "# Extra\n\n```{napkin}\nweights = 3\nmine = weights * 2\n```\n\n"
        "{napkin}`roofline::ridge`\n"
    )
    assert _failures(book) == []


def test_redefining_a_value_of_the_values_file_is_an_error(tmp_path: Path) -> None:
    book = _book(tmp_path)
    (book / "extra.md").write_text("# Extra\n\n```{napkin}\nbatch = 64\n```\n")
    found = _failures(book)
    assert ("extra.md", 4) in [(f, n) for f, n, _ in found]
    assert "mlsysim-values.napkin:2" in found[0][2] and "extra.md:4" in found[0][2]


def test_a_cycle_between_chapters_names_its_places(tmp_path: Path) -> None:
    book = _book(tmp_path)
    (book / "c1.md").write_text("# C1\n\n```{napkin}\nx1 = y1 + 1\n```\n")
    (book / "c2.md").write_text("# C2\n\n```{napkin}\ny1 = x1 * 2\n```\n")
    found = _failures(book)
    assert sorted((f, n) for f, n, _ in found) == [("c1.md", 4), ("c2.md", 4)]
    for _, _, message in found:
        assert "cycle between chapters" in message
        assert "c1.md:4" in message and "c2.md:4" in message


def test_a_failed_shared_binding_fails_its_uses_with_its_place(tmp_path: Path) -> None:
    book = _book(tmp_path)
    roof = book / "roofline.md"
    roof.write_text(roof.read_text().replace("H100.memory.bandwidth", "H100.memory.nope"))
    found = _failures(book)
    uses = [(f, n) for f, n, m in found if "roofline.md:4" in m]
    assert ("serving.md", 8) in uses


@pytest.mark.slow
def test_sphinx_rereads_the_dependent_when_the_defining_chapter_changes(tmp_path: Path) -> None:
    book = _book(tmp_path)
    out = tmp_path / "out"
    first = sphinx_build(book, out, "-j", "2", "-b", "html")
    assert first.returncode == 0, first.stderr
    html = (out / "serving.html").read_text()
    assert "295" in html and "4.18" in html and "32" in html
    time.sleep(0.01)
    roof = book / "roofline.md"
    roof.write_text(roof.read_text().replace("bw = H100", "bw = 2 * H100"))
    second = sphinx_build(book, out, "-b", "html")
    assert second.returncode == 0, second.stderr
    html = (out / "serving.html").read_text()
    assert "148" in html and "2.09" in html, "the dependent chapter was re-read"
    (book / "mlsysim-values.napkin").write_text("batch = 48\n")
    third = sphinx_build(book, out, "-b", "html")
    assert third.returncode == 0, third.stderr
    assert "48" in (out / "serving.html").read_text()
    (book / "extra.md").write_text("# Extra\n\n```{napkin}\nbw = 2 TB/s\n```\n")
    fourth = sphinx_build(book, out, "-j", "2", "-b", "html")
    assert fourth.returncode == 1
    assert "serving.md:8" in fourth.stderr and "defined twice" in fourth.stderr


@pytest.mark.slow
def test_quarto_project_render_reads_other_chapters(tmp_path: Path) -> None:
    book = _book(tmp_path, "quarto")
    runs = render_project(book, keep_going=True)
    assert all(r.returncode == 0 for _, r in runs), [r.stderr for _, r in runs]
    serving = next(r for c, r in runs if c.endswith("serving.qmd"))
    assert "295" in serving.stdout and "4.18" in serving.stdout
    index = next(r for c, r in runs if c == "index.qmd")
    assert "32" in index.stdout
    roof = book / "chapters" / "roofline.qmd"
    roof.write_text(roof.read_text().replace("bw = H100", "bw = 2 * H100"))
    again = dict(render_project(book, keep_going=True))
    assert "148" in again["chapters/serving.qmd"].stdout, "never a stale number"
    (book / "chapters" / "extra.qmd").write_text("# Extra\n\n```{.napkin}\nbw = 2 TB/s\n```\n")
    cfg = book / "_quarto.yml"
    cfg.write_text(
        cfg.read_text().replace(
            "    - chapters/roofline.qmd\n",
            "    - chapters/roofline.qmd\n    - chapters/extra.qmd\n",
        )
    )
    broken = render_project(book)
    assert broken[0][1].returncode == 1, broken[0][1].stderr
    assert "chapters/serving.qmd:7" in failure_locations(broken[0][1].stderr)
    shutil.rmtree(book)


def test_a_name_whose_binding_failed_in_another_chapter_says_where(tmp_path: Path) -> None:
    book = _book(tmp_path)
    (book / "extra.md").write_text(
        "# Extra\n\n```{napkin}\nbroken = 1 GB + 1 s\n```\n\nUses {napkin}`extra::broken`.\n"
    )
    (book / "reader.md").write_text("# Reader\n\nReads {napkin}`extra::broken`.\n")
    found = {(f, n): m for f, n, m in _failures(book)}
    message = found[("reader.md", 3)].replace(f"{book}/", "")
    assert "'extra::broken' is unavailable: its binding at extra.md:4 failed" in message
    assert "cannot add 1 GB (information) to 1 s (time)" in message
    assert "fix the error at extra.md:4 first" in message
