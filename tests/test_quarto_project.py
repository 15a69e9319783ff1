"""Quarto projects as ``quarto render`` runs them: one pandoc process per chapter, each in
the chapter's own folder, with the project directory in ``QUARTO_PROJECT_DIR``
(``quarto.project.directory``; tests/quarto_shim/harness.py ``render_project``).

* Paths are reported relative to the project (``chapters/roofline.qmd:6``, not
  ``roofline.qmd:6``) and there is one engine cache, at the project root.
* The first chapter's filter call checks the whole project (one Python process) and, when
  anything in the book stops the render, lists every failure of the book before stopping:
  what a book CI needs from a render that stops at its first failing chapter.
* Later chapters reuse that check without starting Python (the filter verifies the engine's
  manifest with file reads); a changed chapter, data file or option is noticed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "quarto_shim"))
from harness import (
    BOOK,
    BROKEN,
    FILTER,
    book_chapters,
    copy_book,
    expected_failures,
    failure_locations,
    render,
    render_project,
)

from mlsysim.book.batch import process_cached

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parent / "golden" / "quarto"


def _copy(book: Path, tmp_path: Path) -> Path:
    return copy_book(book, tmp_path / book.name)


def _calls(runs: list[tuple[str, object]]) -> int:
    return sum(len(r.calls) for _, r in runs)  # type: ignore[attr-defined]


def test_broken_book_stops_at_its_first_chapter_listing_every_failure(tmp_path: Path) -> None:
    book = _copy(BROKEN, tmp_path)
    runs = render_project(book)
    assert [c for c, _ in runs] == ["index.qmd"], "the render stops at the first chapter"
    (_, r) = runs[0]
    assert r.returncode == 1
    assert failure_locations(r.stderr) == expected_failures(book)
    assert "render stopped" in r.stderr
    assert len(r.calls) == 1, "one Python process checks the whole project"
    caches = sorted(p.relative_to(book) for p in book.rglob(".mlsysim-cache"))
    assert caches == [Path(".mlsysim-cache")], "one cache, at the project root"


def test_every_path_is_relative_to_the_project(tmp_path: Path) -> None:
    book = _copy(BROKEN, tmp_path)
    runs = render_project(book, keep_going=True, env={"MLSYSIM_FAIL_MODE": "warn"})
    printed = [x for _, r in runs for x in failure_locations(r.stderr, "warning")]
    assert printed == expected_failures(book), "each failure once, where its chapter renders"
    assert all(r.returncode == 0 for _, r in runs)
    assert _calls(runs) == 1, "later chapters reuse the project check without Python"


def test_project_input_files_from_the_environment(tmp_path: Path) -> None:
    book = _copy(BROKEN, tmp_path)
    runs = render_project(book, input_files_env=True)
    (_, r) = runs[0]
    assert failure_locations(r.stderr) == expected_failures(book)


def test_plain_filter_without_the_quarto_module_reads_the_environment(tmp_path: Path) -> None:
    book = _copy(BROKEN, tmp_path)
    chapter = book / "chapters" / "serving.qmd"  # no shortcodes: plain pandoc sees every item
    r = render(
        chapter,
        cwd=chapter.parent,
        shim=False,
        env={"QUARTO_PROJECT_DIR": str(book), "MLSYSIM_FAIL_MODE": "warn"},
    )
    assert r.returncode == 0, r.stderr
    own = [x for x in expected_failures(book) if x.startswith("chapters/serving.qmd")]
    assert failure_locations(r.stderr, "warning") == own
    assert not (chapter.parent / ".mlsysim-cache").exists()


def test_sample_book_renders_as_before_and_reuses_on_the_second_render(tmp_path: Path) -> None:
    book = _copy(BOOK, tmp_path)
    chapters = [c for c in book_chapters(book) if "notebook" not in c]
    first = render_project(book, chapters)
    assert all(r.returncode == 0 for _, r in first), [r.stderr for _, r in first]
    assert _calls(first) == 1
    for chapter, r in first:  # the same HTML as a render outside a project
        assert r.stdout == (GOLDEN / (Path(chapter).stem + ".html")).read_text(), chapter
    second = render_project(book, chapters)
    assert _calls(second) == 0, "an unchanged book starts no Python at all"
    assert [r.stdout for _, r in second] == [r.stdout for _, r in first]


def test_an_edit_a_data_file_or_an_option_is_noticed(tmp_path: Path) -> None:
    book = _copy(BOOK, tmp_path)
    chapters = ["index.qmd", "chapters/roofline.qmd"]
    render_project(book, chapters)
    roofline = book / "chapters" / "roofline.qmd"
    roofline.write_text(roofline.read_text() + "\nOne more: `2 * 3`{.napkin}.\n")
    runs = render_project(book, chapters)
    assert _calls(runs) == 1
    assert "6" in runs[1][1].stdout
    data = tmp_path / "data"
    data.mkdir()
    env = {"MLSYSIM_DATA_PATH": str(data)}
    assert _calls(render_project(book, chapters, env=env)) == 1  # a new data path
    assert _calls(render_project(book, chapters, env=env)) == 0
    (data / "extra.toml").write_text('schema = "mlsysim.sources/1"\n')
    assert _calls(render_project(book, chapters, env=env)) == 1  # a data file added
    warn = {**env, "MLSYSIM_FAIL_MODE": "warn"}
    assert _calls(render_project(book, chapters, env=warn)) == 1  # another override


def test_a_chapter_whose_elements_differ_from_the_scan_is_evaluated(tmp_path: Path) -> None:
    book = _copy(BOOK, tmp_path)
    request = {
        "version": 1,
        "file": "chapters/roofline.qmd",
        "format": "html",
        "items": [{"id": "x", "kind": "inline", "text": "2 * 21"}],
        "project": {"dir": str(book), "cache": str(tmp_path / "cache")},
    }
    response = process_cached(request)
    assert response["results"][0]["text"] == "42"
    assert response["cached"] is False and response["project"]["checked_now"] is True
    again = process_cached(request)
    assert again["project"]["checked_now"] is False


def test_filter_file_is_found_by_the_harness() -> None:
    assert FILTER.is_file() and shutil.which("true")


def test_a_quarto_profile_sets_options_for_check_and_the_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlsysim.book.sources.project import chapter_options, project_of

    book = _copy(BROKEN, tmp_path)
    (book / "_quarto-draft.yml").write_text("mlsysim:\n  fail-mode: warn\n")
    chapter = book / "index.qmd"
    assert chapter_options(chapter, "", project_of(chapter)).fail_mode == "error"
    monkeypatch.setenv("QUARTO_PROFILE", "draft")
    assert chapter_options(chapter, "", project_of(chapter)).fail_mode == "warn"
    runs = render_project(book, env={"QUARTO_PROFILE": "draft"}, keep_going=True)
    assert all(r.returncode == 0 for _, r in runs)
