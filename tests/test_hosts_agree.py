"""Two checks, one verdict: every host and ``mlsysim check`` report the same failures.

Each book is built by its host — Sphinx for the Sphinx books, pandoc with the Quarto filter for
the Quarto ones — and checked by ``mlsysim check``; the failure lists (file, line, column,
kind) must be identical, and equal to the book's ``EXPECTED_FAILURES.txt``. The trap books
hide napkin-like text where a scanner or a text search goes wrong: inline code, comments, raw
HTML, code listings, front matter, list items, block quotes, tables, includes, items across
two lines, options in front matter and project config.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlsysim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
TRAPS = ROOT / "tests" / "data" / "traps"
sys.path.insert(0, str(ROOT / "tests" / "quarto_shim"))
from harness import WITH_SHIM, pandoc_path, quarto_input  # noqa: E402

pytestmark = pytest.mark.slow

_SPHINX_SUMMARY = re.compile(r"^  ([^ :]+):(\d+):(\d+): (?:error|warning)\[mlsysim\.(\w+)\]", re.M)
_FILTER_LINE = re.compile(r"^([^ :]+):(\d+):(\d+): (?:error|warning)\[mlsysim\.(\w+)\]", re.M)


def expected(book: Path) -> list[str]:
    lines = (book / "EXPECTED_FAILURES.txt").read_text(encoding="utf-8").splitlines()
    return [x.strip() for x in lines if x.strip() and not x.startswith("#")]


def check_failures(paths: list[Path], cwd: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        main(["check", *(str(p.relative_to(cwd)) for p in paths), "--format", "json"])
    finally:
        os.chdir(old)
    report = json.loads(capsys.readouterr().out)
    return [f"{f['file']}:{f['line']}:{f['column']}:{f['kind']}" for f in report["failures"]]


def sphinx_run(book: Path, out: Path, *args: str) -> str:
    """Build ``book`` (HTML) and return the build's stderr; the build must fail cleanly."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sphinx_ext")}
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", *args, "-b", "html", str(book), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr


def sphinx_failures(book: Path, out: Path, *args: str) -> list[str]:
    return [":".join(m) for m in _SPHINX_SUMMARY.findall(sphinx_run(book, out, *args))]


def filter_failures(
    book: Path, chapter: str, metadata: str | None, mode: str = "warn"
) -> tuple[int, list[str]]:
    """Render one chapter as Quarto does: includes and executable cells processed first,
    pandoc in the chapter's own folder, the project directory in QUARTO_PROJECT_DIR;
    (exit status, failures printed)."""
    env = {**os.environ, "MLSYSIM_PYTHON": sys.executable, "MLSYSIM_FAIL_MODE": mode}
    env["QUARTO_PROJECT_DIR"] = str(book)
    env.pop("MLSYSIM_CACHE_DIR", None)
    folder = (book / chapter).parent
    args = [pandoc_path(), "-f", "markdown", "-L", str(WITH_SHIM), "-t", "html"]
    if metadata:
        args.append(f"--metadata-file={os.path.relpath(book / metadata, folder)}")
    args += [quarto_input(book / chapter, folder, env), "-o", os.devnull]
    proc = subprocess.run(
        args, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert "Traceback" not in proc.stderr
    return proc.returncode, [":".join(m) for m in _FILTER_LINE.findall(proc.stderr)]


def sort_key(location: str) -> tuple[str, int, int]:
    file, line, col, _ = location.rsplit(":", 3)
    return file, int(line), int(col)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sphinx_traps_book(jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = TRAPS / "sphinx"
    built = sphinx_failures(book, tmp_path / "out", "-j", jobs)
    checked = check_failures([book], book, capsys)
    assert sorted(built, key=sort_key) == sorted(checked, key=sort_key)
    assert sorted(checked, key=sort_key) == sorted(expected(book), key=sort_key)


def test_quarto_traps_chapter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "book"
    shutil.copytree(TRAPS / "quarto", book)
    status, rendered = filter_failures(book, "traps.qmd", "_quarto.yml")
    assert status == 0
    checked = check_failures([book / "traps.qmd"], book, capsys)
    assert rendered == checked == expected(book)


def test_sphinx_broken_twin_agrees_with_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = ROOT / "book_fixtures" / "sphinx-broken"
    built = sphinx_failures(book, tmp_path / "out")
    checked = check_failures([book], book, capsys)
    assert sorted(built, key=sort_key) == sorted(checked, key=sort_key)
    lines = sorted(":".join(x.split(":")[:2]) for x in checked)
    assert lines == sorted(expected(book))


def test_quarto_broken_twin_agrees_with_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book_fixtures" / "quarto-broken", book, symlinks=False)
    import yaml

    chapters = yaml.safe_load((book / "_quarto.yml").read_text("utf-8"))["book"]["chapters"]
    # a draft render (warn mode): every chapter renders and prints its own failures
    runs = [filter_failures(book, c, "_quarto.yml") for c in chapters]
    assert all(status == 0 for status, _ in runs)
    rendered = [x for _, found in runs for x in found]
    checked = check_failures([book / c for c in chapters], book, capsys)
    assert sorted(rendered, key=sort_key) == sorted(checked, key=sort_key)
    assert sorted(":".join(x.split(":")[:2]) for x in checked) == sorted(expected(book))
    # a real render stops at the first chapter, which lists every failure of the book
    status, first = filter_failures(book, chapters[0], "_quarto.yml", mode="error")
    assert status == 1
    assert sorted(first, key=sort_key) == sorted(checked, key=sort_key)


# ---------------------------------------------------------------------------------------------
# Constructs of a real textbook (self-written chapters): Quarto callouts with titles, nested
# divs, an executable cell before a napkin block, a figure caption, an inline image, table
# captions, grid tables, footnotes, raw blocks, labelled math, an include, CRLF line ends, a
# 14,000-character line, parts and appendices in _quarto.yml; and their MyST twin for Sphinx.
REALBOOK = ROOT / "tests" / "data" / "realbook"
JUNIT_XSD = Path(sys.prefix) / "share" / "mlsysim-tests" / "junit-10.xsd"


def realbook_copy(name: str, dest: Path, suffix: str) -> Path:
    """The book copied with its appendix in CRLF and a very long last line in accel."""
    book = dest / name
    shutil.copytree(REALBOOK / name, book)
    appendix = book / "chapters" / f"appendix{suffix}"
    appendix.write_bytes(appendix.read_bytes().replace(b"\n", b"\r\n"))
    accel = next(book.glob(f"chapters/**/accel{suffix}"))
    claim = '[1 W]{.claim of="H100.tdp"}' if suffix == ".qmd" else "{claim}`1 W ~ H100.tdp`"
    accel.write_text(accel.read_text("utf-8") + f"\nA long line: {'napkin ' * 2000}then {claim}.\n")
    return book


def project_chapters(book: Path) -> list[str]:
    """Every rendered file of a Quarto book in order: chapters, part files, appendices."""
    import yaml

    config = yaml.safe_load((book / "_quarto.yml").read_text("utf-8"))["book"]
    out: list[str] = []

    def walk(entries: list[object]) -> None:
        for entry in entries:
            if isinstance(entry, str):
                out.append(entry)
            elif isinstance(entry, dict):
                part = entry.get("part")
                if isinstance(part, str) and part.endswith(".qmd"):
                    out.append(part)
                walk(entry.get("chapters") or [])

    walk(config.get("chapters") or [])
    walk(config.get("appendices") or [])
    return out


def validate_ci_formats(book: Path, paths: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    """The book's JUnit report validates against the JUnit schema, with one uniquely named
    testcase per checked item and one failure per reported failure; its JSON report against
    ``mlsysim schema check``. Returns the JUnit suite element."""
    import xml.etree.ElementTree as ET

    import jsonschema
    import xmlschema

    old = Path.cwd()
    os.chdir(book)
    try:
        main(["schema", "check"])
        schema = json.loads(capsys.readouterr().out)
        main(["check", *paths, "--format", "json"])
        report = json.loads(capsys.readouterr().out)
        main(["check", *paths, "--format", "junit"])
        junit = capsys.readouterr().out
    finally:
        os.chdir(old)
    jsonschema.Draft202012Validator(schema).validate(report)
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(junit)
    suite = ET.fromstring(junit.encode("utf-8"))
    cases = suite.findall(".//testcase")
    assert len(cases) >= report["checked"] > 0
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == len(cases)
    assert sum(1 for c in cases if c.find("failure") is not None) == len(report["failures"])
    return suite


def test_quarto_real_book_constructs_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = realbook_copy("quarto", tmp_path, ".qmd")
    chapters = project_chapters(book)
    assert "chapters/part_one.qmd" in chapters and chapters[-1] == "chapters/appendix.qmd"
    runs = [filter_failures(book, c, "_quarto.yml") for c in chapters]
    assert all(status == 0 for status, _ in runs)
    rendered = [x for _, found in runs for x in found]
    checked = check_failures([book / c for c in chapters], book, capsys)
    assert sorted(rendered, key=sort_key) == sorted(checked, key=sort_key)
    assert sorted(checked, key=sort_key) == sorted(expected(book), key=sort_key)
    # a real render: the first chapter checks the whole project and lists every failure
    status, first = filter_failures(book, chapters[0], "_quarto.yml", mode="error")
    assert status == 1
    assert sorted(first, key=sort_key) == sorted(checked, key=sort_key)
    assert validate_ci_formats(book, ["."], capsys).get("failures") != "0"
    # the filter saw the items check scanned (none more: nothing in math, raw blocks, cells
    # or alt text), less only what Quarto drops for HTML (the PDF-only block)
    assert host_items_missing(book, chapters) == [
        ("block", 'pdf_only = 2 ms check(pdf_only < 1 ms, "a check in PDF-only content")')
    ]


def host_items_missing(book: Path, chapters: list[str]) -> list[tuple[str, str]]:
    """Scanned items the filter's batch did not carry, over the chapters (asserting that it
    carried none the scan lacks); each chapter renders with an empty project cache, so the
    filter sends its elements to the engine (a cached render reuses without a call)."""
    from collections import Counter

    from harness import render

    from mlsysim.book.sources import read_source, scan_source
    from mlsysim.book.sources.locate import normalize

    missing: Counter[tuple[str, str]] = Counter()
    for chapter in chapters:
        source = book / chapter
        shutil.rmtree(book / ".mlsysim-cache", ignore_errors=True)
        run = render(
            source,
            cwd=source.parent,
            metadata_file=Path(os.path.relpath(book / "_quarto.yml", source.parent)),
            env={"QUARTO_PROJECT_DIR": str(book), "MLSYSIM_FAIL_MODE": "warn"},
            log_dir=book / ".engine",
        )
        assert run.calls, chapter
        text = read_source(source)
        scanned = scan_source(str(source), text, "pandoc", root=book).items
        want = Counter((i.kind, normalize(i.text)) for i in scanned)
        got = Counter((i["kind"], normalize(i["text"])) for i in run.calls[-1][0]["items"])
        assert not got - want, (chapter, got - want)
        missing += want - got
        # rendered again, the chapter is served from the cache with no Python call, though
        # its elements are fewer (PDF-only content) and reordered (a caption before rows)
        again = render(
            source,
            cwd=source.parent,
            metadata_file=Path(os.path.relpath(book / "_quarto.yml", source.parent)),
            env={"QUARTO_PROJECT_DIR": str(book), "MLSYSIM_FAIL_MODE": "warn"},
            log_dir=book / ".engine",
        )
        assert not again.calls and again.stderr == run.stderr, chapter
    return sorted(missing.elements())


def test_sphinx_real_book_constructs_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = realbook_copy("sphinx", tmp_path, ".md")
    stderr = sphinx_run(book, tmp_path / "out", "-W", "-j", "2")
    built = [":".join(m) for m in _SPHINX_SUMMARY.findall(stderr)]
    checked = check_failures([book], book, capsys)
    assert sorted(built, key=sort_key) == sorted(checked, key=sort_key)
    assert sorted(checked, key=sort_key) == sorted(expected(book), key=sort_key)
    # and the same items were evaluated (none in math, options or cut cells on one side only)
    count = re.search(r"(\d+) napkin items? checked", stderr)
    assert count is not None, stderr
    old = Path.cwd()
    os.chdir(book)
    try:
        main(["check", ".", "--format", "json"])
    finally:
        os.chdir(old)
    assert int(count[1]) == json.loads(capsys.readouterr().out)["checked"]
