"""LaTeX/PDF output of the Quarto path: a sample chapter through pandoc + the filter to
LaTeX, compiled with pdflatex. In CI (``CI=true``) a missing pdflatex fails the test;
locally it is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "quarto_shim"))
from harness import BOOK, BROKEN, copy_book, render

pytestmark = [pytest.mark.slow, pytest.mark.tex]


def _pdflatex() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdflatex is required in CI (scripts/setup.sh installs TeX Live)")
        pytest.skip("pdflatex not installed (apt install texlive-latex-extra)")
    return exe


@pytest.mark.parametrize("chapter", ["chapters/roofline.qmd", "chapters/serving.qmd"])
def test_chapter_compiles_with_pdflatex(tmp_path: Path, chapter: str) -> None:
    pdflatex = _pdflatex()
    book = copy_book(BOOK, tmp_path / "book")
    r = render(
        book / chapter,
        cwd=book,
        to="latex",
        metadata_file=book / "_quarto.yml",
        extra=("--standalone",),
    )
    assert r.returncode == 0, r.stderr
    assert r.calls[0][0]["format"] == "latex"
    assert r"\mathrm{" in r.stdout and "napkin" not in r.stdout
    tex = tmp_path / "chapter.tex"
    tex.write_text(r.stdout)
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "chapter.pdf").stat().st_size > 1000
    log = (tmp_path / "chapter.log").read_text(errors="replace")
    assert "Missing character" not in log


@pytest.mark.parametrize("shim", [True, False], ids=["quarto-shim", "plain-pandoc"])
def test_siunitx_option_loads_the_package_and_compiles(tmp_path: Path, shim: bool) -> None:
    pdflatex = _pdflatex()
    doc = tmp_path / "si.md"
    doc.write_text(
        "---\nmlsysim:\n  siunitx: true\n---\n\n"
        "Bandwidth `H100.memory.bandwidth`{.napkin}, decode `Llama2_7B.params * 2 B/param"
        ' / H100.memory.bandwidth`{.napkin unit="ms"}.\n'
    )
    r = render(doc, cwd=tmp_path, to="latex", shim=shim, extra=("--standalone",))
    assert r.returncode == 0, r.stderr
    assert r"\usepackage{siunitx}" in r.stdout
    assert r"\qty{3.35}" in r.stdout
    (tmp_path / "si.tex").write_text(r.stdout)
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "si.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_a_draft_shows_its_failures_in_the_pdf(tmp_path: Path) -> None:
    """A broken chapter in warn mode: failed claims framed with a footnote, a banner, and it
    compiles with pdflatex."""
    pdflatex = _pdflatex()
    book = copy_book(BROKEN, tmp_path / "book")
    r = render(
        book / "chapters/roofline.qmd",
        cwd=book,
        to="latex",
        metadata_file=book / "_quarto.yml",
        extra=("--standalone",),
        env={"MLSYSIM_FAIL_MODE": "warn"},
    )
    assert r.returncode == 0, r.stderr
    assert r"\fbox{\textbf{!}\,${500\,\mathrm{FLOP/B}}$}\footnote{mlsysim: line 10:" in r.stdout
    assert "napkin-math failures on this page" in r.stdout
    (tmp_path / "draft.tex").write_text(r.stdout)
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "draft.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
