"""The Sphinx extension's configuration and failure names as a book's CI sees them.

* Every documented ``mlsysim_*`` value builds cleanly under ``-W`` (``types`` are declared,
  so Sphinx does not warn that ``"5%"`` is not the default's type).
* A failure's Sphinx subtype is the failure's own name (``mlsysim.check``, ``mlsysim.claim``,
  ``mlsysim.error``), as in the text, JSON and JUnit reports, and every failure that has a
  hint prints a ``hint:`` line.

The lowest supported Sphinx (the ``sphinx>=7.2`` bound in pyproject.toml) is built by
``scripts/test_sphinx_lowest.sh``, which ``scripts/test.sh`` runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book_fixtures" / "sphinx"
BROKEN = ROOT / "book_fixtures" / "sphinx-broken"

pytestmark = pytest.mark.slow


def _build(src: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sphinx_ext")}
    env.pop("MLSYSIM_DATA_PATH", None)
    cmd = [sys.executable, "-m", "sphinx", "-q", "-E", *args, "-b", "html", str(src), str(out)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_documented_values_build_under_warnings_as_errors(tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(BOOK, book)
    (book / "data").mkdir()
    conf = book / "conf.py"
    conf.write_text(
        conf.read_text(encoding="utf-8")
        + '\nmlsysim_tolerance = "5%"\nmlsysim_sig_figs = 3\nmlsysim_siunitx = False\n'
        + 'mlsysim_fail_mode = "error"\nmlsysim_data_dirs = ["data"]\n',
        encoding="utf-8",
    )
    proc = _build(book, tmp_path / "out", "-W")
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr


def test_sphinx_subtypes_are_the_failure_names_with_hints(tmp_path: Path) -> None:
    proc = _build(BROKEN, tmp_path / "out")
    assert proc.returncode == 1, proc.stderr
    subtypes = set(re.findall(r": (?:ERROR|WARNING): .*?\[mlsysim\.(\w+)\]", proc.stderr, re.S))
    assert {"check", "claim", "error"} <= subtypes
    assert "eval" not in subtypes
    assert re.search(r"^  hint: ", proc.stderr, re.M) or "  hint:" in proc.stderr
