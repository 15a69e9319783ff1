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

import pytest

from mlsysim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
TRAPS = ROOT / "tests" / "data" / "traps"
sys.path.insert(0, str(ROOT / "tests" / "quarto_shim"))
from harness import WITH_SHIM, pandoc_path  # noqa: E402

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


def sphinx_failures(book: Path, out: Path, *args: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sphinx_ext")}
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", *args, "-b", "html", str(book), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return [":".join(m) for m in _SPHINX_SUMMARY.findall(proc.stderr)]


def filter_failures(book: Path, chapter: str, metadata: str | None) -> list[str]:
    env = {**os.environ, "MLSYSIM_PYTHON": sys.executable, "MLSYSIM_FAIL_MODE": "warn"}
    env["MLSYSIM_CACHE_DIR"] = str(book / ".cache")
    args = [pandoc_path(), "-f", "markdown", "-L", str(WITH_SHIM), "-t", "html"]
    if metadata:
        args.append(f"--metadata-file={metadata}")
    args += [chapter, "-o", os.devnull]
    proc = subprocess.run(
        args, cwd=book, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return [":".join(m) for m in _FILTER_LINE.findall(proc.stderr)]


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
    rendered = filter_failures(book, "traps.qmd", "_quarto.yml")
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
    rendered = [x for c in chapters for x in filter_failures(book, c, "_quarto.yml")]
    checked = check_failures([book / c for c in chapters], book, capsys)
    assert sorted(rendered, key=sort_key) == sorted(checked, key=sort_key)
    assert sorted(":".join(x.split(":")[:2]) for x in checked) == sorted(expected(book))
