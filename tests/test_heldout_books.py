"""Held-out chapters, three hosts, one failure list.

``tests/data/heldout_books`` holds chapters written the way an ML-systems textbook is
(self-written, not copies of the sample books): a KV-cache chapter, a checkpointing chapter and
an energy chapter in nested folders, for MyST under Sphinx and for Quarto, each with a broken
twin. They use what the sample books use lightly: napkin blocks whose statements run over
several lines (brackets, ``\\``), claims with relative and absolute tolerances, values in
tables, admonitions/callouts, nested lists, footnotes (inline and referenced), definition
lists, figure captions, labelled derivations and their cross-references, shortcodes, listings
and tilde fences that hold napkin-like text, unicode (×, µ, –, an emoji outside the BMP),
tabs, long lines, an include from a shared folder, and one chapter in CRLF. A second part
(distributed training with ``solve()`` and collectives, serving latency, a footprint table)
adds MyST substitutions (front matter and conf.py), ``{eval-rst}``, ``{list-table}``,
admonitions nested three fences deep, amsmath and ``$$`` math, ``+++`` breaks, ``%``
comments and HTML holding napkin-like text, an include between markers, footnotes with
indented napkin blocks, reST footnotes and doctests; in Quarto callouts, cross-references,
divs three deep, raw blocks, code cells, ``\"`` escapes in attributes, and the missing
``{{< napkin-table >}}`` / ``{{< napkin-plot >}}`` shortcodes (broken twin).

Each book goes through Sphinx (HTML, ``-j 2``, ``-W``) or pandoc with the filter run from each
chapter's own folder (the project directory set, as Quarto does), and through ``mlsysim
check``: the failure lists (file:line:column, kind and message) must be identical and equal
to the book's ``EXPECTED_FAILURES.txt``; the good books report none. The JUnit report
validates against the JUnit schema and the JSON report against ``mlsysim schema check``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_hosts_agree import (
    WITH_SHIM,
    expected,
    pandoc_path,
    project_chapters,
    quarto_input,
    validate_ci_formats,
)

from mlsysim.cli.main import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BOOKS = ROOT / "tests" / "data" / "heldout_books"
#: ``file:line:column: error|warning[mlsysim.kind]: message`` (Sphinx indents its summary; a
#: failure printed without its column is caught too, and differs)
_LINE = re.compile(
    r"^ {0,2}([^ :]+):(\d+):?(\d*): (?:error|warning)\[mlsysim\.(\w+)\]: "
    r"(.*?)(?: \[mlsysim\.\w+\])?$",
    re.M,
)


def book_copy(name: str, dest: Path) -> Path:
    """The book in ``dest``, its energy chapter saved as a Windows editor saves it: CRLF line
    ends after a UTF-8 byte-order mark (its front matter's tolerance must still apply); its
    KV-cache chapter ends in a very long line."""
    book = dest / name
    shutil.copytree(BOOKS / name, book)
    for energy in [*book.glob("parts/sustain/energy.*"), *book.glob("part2/sustain/energy.*")]:
        energy.write_bytes(b"\xef\xbb\xbf" + energy.read_bytes().replace(b"\n", b"\r\n"))
    # a 12,000-character line ending in a claim (it fails in the broken twin, at its column)
    watts = "7 W" if name.endswith("-broken") else "700 W"
    for kv in book.glob("part*/*/kv_cache.*"):
        claim = f"{{claim}}`{watts} ~ H100.tdp`"
        if kv.suffix == ".qmd":
            claim = f'[{watts}]{{.claim of="H100.tdp"}}'
        kv.write_text(kv.read_text("utf-8") + f"\nA long line: {'napkin ' * 1700}then {claim}.\n")
    return book


def located(text: str) -> list[str]:
    return [":".join(m) for m in _LINE.findall(text)]


def by_place(found: list[str]) -> list[str]:
    """``file:line:column:…`` entries in file order (a missing column sorts first)."""

    def key(entry: str) -> tuple[str, int, int, str]:
        file, line, column, rest = entry.split(":", 3)
        return file, int(line), int(column or 0), rest

    return sorted(found, key=key)


def check_run(book: Path, paths: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    old = Path.cwd()
    os.chdir(book)
    try:
        main(["check", *paths, "--format", "json"])
    finally:
        os.chdir(old)
    report: dict = json.loads(capsys.readouterr().out)
    return report


def check_list(report: dict) -> list[str]:
    return [
        f"{f['file']}:{f['line']}:{f['column']}:{f['kind']}:{f['message']}"
        for f in report["failures"]
    ]


def sphinx_build(book: Path, out: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sphinx_ext")}
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", "-W", "-j", "2", "-b", "html"]
    proc = subprocess.run(
        [*cmd, str(book), str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr


def filter_run(book: Path, chapter: str, mode: str) -> tuple[int, str]:
    """One chapter through pandoc and the filter as Quarto runs it: from the chapter's own
    folder, the project directory in QUARTO_PROJECT_DIR, the project's metadata."""
    env = {**os.environ, "MLSYSIM_PYTHON": sys.executable, "MLSYSIM_FAIL_MODE": mode}
    env["QUARTO_PROJECT_DIR"] = str(book)
    env.pop("MLSYSIM_CACHE_DIR", None)
    folder = (book / chapter).parent
    args = [pandoc_path(), "-f", "markdown", "-L", str(WITH_SHIM), "-t", "html"]
    args.append(f"--metadata-file={os.path.relpath(book / '_quarto.yml', folder)}")
    args += [quarto_input(book / chapter, folder, env), "-o", os.devnull]
    proc = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("name", ["sphinx", "sphinx-broken"])
def test_sphinx_heldout_book(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = book_copy(name, tmp_path)
    status, stderr = sphinx_build(book, tmp_path / "out")
    report = check_run(book, ["."], capsys)
    checked = check_list(report)
    # every warning of the build is one of mlsysim's (-W: nothing else may fail it)
    others = [x for x in stderr.splitlines() if "WARNING" in x and "[mlsysim" not in x]
    assert not others, others
    assert by_place(located(stderr)) == by_place(checked)
    count = re.search(r"(\d+) napkin items? checked", stderr)
    validate_ci_formats(book, ["."], capsys)
    if name == "sphinx":
        assert status == 0 and not checked, stderr
    else:
        assert status == 1 and count is not None and int(count[1]) == report["checked"]
        places = [":".join(x.split(":")[:4]) for x in checked]
        assert by_place(places) == by_place(expected(book))


@pytest.mark.parametrize("name", ["quarto", "quarto-broken"])
def test_quarto_heldout_book(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = book_copy(name, tmp_path)
    chapters = project_chapters(book)
    # a draft render: every chapter renders and prints its own failures
    runs = [filter_run(book, c, "warn") for c in chapters]
    assert all(status == 0 for status, _ in runs), runs
    rendered = [x for _, stderr in runs for x in located(stderr)]
    report = check_run(book, chapters, capsys)
    checked = check_list(report)
    assert by_place(rendered) == by_place(checked)
    assert check_list(check_run(book, ["."], capsys)) == checked
    validate_ci_formats(book, ["."], capsys)
    if name == "quarto":
        assert not checked
        return
    places = [":".join(x.split(":")[:4]) for x in checked]
    assert by_place(places) == by_place(expected(book))
    # a real render stops at its first chapter, which lists every failure of the book
    shutil.rmtree(book / ".mlsysim-cache", ignore_errors=True)
    status, stderr = filter_run(book, chapters[0], "error")
    assert status == 1
    assert by_place(located(stderr)) == by_place(checked)
