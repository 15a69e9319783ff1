"""Hostile chapters never hang, crash or hide a failure: each becomes located failures.

Every case of :mod:`hostile` (one per class of the hardening issue: backtracking scanners,
unit text pint would evaluate, reachable methods and arguments, derivation blow-up, crashes,
wrong numbers) goes through ``mlsysim check`` here, and through Sphinx and the pandoc filter
in ``test_hostile_hosts.py``. Each run must end with located errors, no internal error, and
the sentinel item's own failure still reported.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile import CASES, SENTINEL, chapter, sentinel_line

from mlsysim.book import check_paths
from mlsysim.book.sources.check import check_document
from mlsysim.cli.main import main

_SUFFIX = {"myst": ".md", "rst": ".rst", "pandoc": ".qmd"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_reports_hostile_input_located(name: str, tmp_path: Path) -> None:
    syntax, hostile = CASES[name]
    path = tmp_path / f"{name}{_SUFFIX[syntax]}"
    text = chapter(syntax, hostile)
    (tmp_path / "conf.py").write_text(
        'extensions = ["myst_parser"]\n'
    ) if syntax == "myst" else None
    doc = check_document(path, text=text)
    assert doc.failures, name
    for f in doc.failures:
        assert f.line >= 1 and not f.extra.get("internal"), (name, f)
        assert "Traceback" not in f.message and "object at 0x" not in f.message
    line = sentinel_line(syntax, hostile)
    assert any(f.line == line and f"no name {SENTINEL!r}" in f.message for f in doc.failures), (
        f"{name}: the sentinel's failure at line {line} was lost"
    )


def test_every_hostile_kind_is_refused_with_a_reason(tmp_path: Path) -> None:
    doc = check_document(
        tmp_path / "c.md", text=chapter(*CASES["methods"]) + chapter(*CASES["crashes"])
    )
    messages = "\n".join(f.message for f in doc.failures)
    for needle in (
        "no field of H100 'require'",
        "no field of solve(",  # to_json is not on the allow-list
        "round() digits must be a whole number from -15 to 15",
        "cannot be used with '*'",  # (1,)*10**8
        "servers of erlang_c() is too large",
        "no field of H100 'model_dump'",
        "size of ring_allreduce() must not be negative",
        "unit exponent 40",
        "cannot read 'GB/' as a unit",
        "a true/false value cannot be converted to GB",
        "text cannot be converted to W",
        "a claim compares numbers, but the stated figure 'H100' is the registry entry H100",
        "the value is too large to show in B",
    ):
        assert needle in messages, needle


def test_directory_with_unreadable_files_reports_every_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "a.md").write_text(chapter(*CASES["crashes"]), encoding="utf-8")
    (book / "latin1.md").write_bytes("Caf\xe9 {napkin}`1 + 1`\n".encode("latin-1"))
    os.symlink(book / "gone.md", book / "dangling.md")
    (book / "z.rst").write_text(chapter(*CASES["rst_role_backslashes"]), encoding="utf-8")
    _, failures = check_paths([book])
    files = [Path(f.file).name for f in failures]
    assert "latin1.md" in files and "dangling.md" in files
    assert "a.md" in files and "z.rst" in files  # the others are still checked
    bad = {Path(f.file).name: f for f in failures if f.message == "cannot read this source file"}
    assert bad["latin1.md"].line == 1 and "not UTF-8" in (bad["latin1.md"].hint or "")
    assert "does not exist" in (bad["dangling.md"].hint or "")
    assert main(["check", str(book)]) == 1
    out = capsys.readouterr().out
    assert "latin1.md:1: error[mlsysim.error]: cannot read this source file" in out


def test_symlinked_chapter_folder_is_checked_once(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "c.md").write_text("A {napkin}`H10`.\n", encoding="utf-8")
    book = tmp_path / "book"
    book.mkdir()
    os.symlink(real, book / "chapters")
    os.symlink(book, book / "chapters" / "loop")  # a cycle must not loop
    _, failures = check_paths([book])
    assert [(Path(f.file).name, f.line) for f in failures] == [("c.md", 1)]


def test_paths_the_system_cannot_name_are_failures(tmp_path: Path) -> None:
    """Found by fuzzing: a NUL byte in an include path (or a chapter path)."""
    doc = check_document(tmp_path / "c.rst", text=".. include:: x.rst\x00\n\n:napkin:`H10`\n")
    assert [f.line for f in doc.failures] == [1, 3]
    assert "cannot read the included" in doc.failures[0].message
    _, failures = check_paths([str(tmp_path / "a\x00b.md")])
    assert [f.message for f in failures] == ["cannot read this source file"]
