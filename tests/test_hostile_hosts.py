"""Hostile chapters through the hosts: Sphinx builds them, the pandoc filter renders them.

Every MyST and reST case of :mod:`hostile` is a chapter of one Sphinx book; every pandoc case
is rendered by pandoc with the Quarto filter. Each host must finish with a non-zero exit,
no traceback, the failures ``mlsysim check`` reports for the same sources, and every
sentinel's failure at its own line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import CASES, DOCUTILS_HANGS, PANDOC_HANGS, chapter, sentinel_line

from mlsysim.book import check_paths

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "quarto_shim"))
from harness import WITH_SHIM, pandoc_path  # noqa: E402

pytestmark = pytest.mark.slow

_SUMMARY = re.compile(r"^  ([^ :]+):(\d+)(?::(\d+))?: error\[mlsysim\.(\w+)\]", re.M)
_FILTER = re.compile(r"^([^ :]+):(\d+)(?::(\d+))?: error\[mlsysim\.(\w+)\]", re.M)


def _located(matches: list[tuple[str, ...]]) -> list[str]:
    return sorted(f"{m[0]}:{m[1]}:{m[2] or 0}:{m[3]}" for m in matches)


def _check(paths: list[Path], root: Path) -> list[str]:
    _, failures = check_paths(paths)
    return sorted(
        f"{Path(f.file).relative_to(root).as_posix()}:{f.line}:{f.column or 0}:{f.kind}"
        for f in failures
    )


def test_sphinx_builds_every_hostile_chapter(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    names = sorted(
        n
        for n, (syntax, _) in CASES.items()
        if syntax in ("myst", "rst") and n not in DOCUTILS_HANGS
    )
    (book / "conf.py").write_text(
        'extensions = ["myst_parser", "mlsysim_sphinx"]\nexclude_patterns = ["_build"]\n'
        'source_suffix = {".rst": "restructuredtext", ".md": "markdown"}\n',
        encoding="utf-8",
    )
    (book / "index.rst").write_text(
        "Hostile\n=======\n\n.. toctree::\n\n" + "".join(f"   {n}\n" for n in names),
        encoding="utf-8",
    )
    for name in names:
        syntax, hostile = CASES[name]
        suffix = ".rst" if syntax == "rst" else ".md"
        (book / f"{name}{suffix}").write_text(chapter(syntax, hostile), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sphinx_ext")}
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", "-b", "html", str(book), str(tmp_path / "o")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    built = _located(_SUMMARY.findall(proc.stderr))
    assert built == _check([book], book)
    for name in names:
        syntax, hostile = CASES[name]
        suffix = ".rst" if syntax == "rst" else ".md"
        line = sentinel_line(syntax, hostile)
        assert any(b.startswith(f"{name}{suffix}:{line}:") for b in built), name


@pytest.mark.parametrize(
    "name", sorted(n for n, (s, _) in CASES.items() if s == "pandoc" and n not in PANDOC_HANGS)
)
def test_pandoc_filter_renders_every_hostile_chapter(name: str, tmp_path: Path) -> None:
    _, hostile = CASES[name]
    path = tmp_path / f"{name}.qmd"
    path.write_text(chapter("pandoc", hostile), encoding="utf-8")
    env = {**os.environ, "MLSYSIM_PYTHON": sys.executable, "MLSYSIM_CACHE_DIR": str(tmp_path)}
    args = [pandoc_path(), "-f", "markdown", "-L", str(WITH_SHIM), "-t", "html", path.name]
    proc = subprocess.run(
        [*args, "-o", os.devnull],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    rendered = _located(_FILTER.findall(proc.stderr))
    assert rendered == _check([path], tmp_path)
    line = sentinel_line("pandoc", hostile)
    assert any(r.startswith(f"{name}.qmd:{line}:") for r in rendered)


_BAD_DATA = """schema = "mlsysim.hardware/1"

[sources.s]
title = "t"
publisher = "p"
year = 2024

[Bad]
name = "b"
kind = "accelerator"
vendor = "v"
source = "s"
tdp = "1 W"
peak.dense.bf16 = "1 TFLOP/s"
memory = { type = "HBM", capacity = "1 GB", bandwidth = "4 (TB/s" }
"""


def test_broken_data_file_fails_every_item_that_needs_data_in_every_host(tmp_path: Path) -> None:
    data, book = tmp_path / "data", tmp_path / "book"
    data.mkdir()
    book.mkdir()
    (data / "bad.toml").write_text(_BAD_DATA, encoding="utf-8")
    (book / "conf.py").write_text('extensions = ["myst_parser", "mlsysim_sphinx"]\n', "utf-8")
    (book / "index.md").write_text("# X\n\n{napkin}`H100.tdp` and {napkin}`2 * 3 ms`.\n", "utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sphinx_ext"), "MLSYSIM_DATA_PATH": str(data)}
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", "-b", "html", str(book), str(tmp_path / "o")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1, proc.stderr  # located failures, not a configuration crash
    assert _located(_SUMMARY.findall(proc.stderr)) == ["index.md:3:10:error"]
    assert "bad.toml, entry [Bad], field 'memory.bandwidth'" in proc.stderr
    html = (tmp_path / "o" / "index.html").read_text("utf-8")
    assert "6\u202fms" in html  # what needs no data still renders
