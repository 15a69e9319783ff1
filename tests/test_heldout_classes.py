"""Held-out input classes found in session 25, one small book per host (self-written):
``tests/data/heldout_books/classes``.

MyST under Sphinx: HTML admonitions (``html_admonition``: their title and paragraphs are
Markdown, other HTML is not), substitutions used inside substitutions and through Jinja
filters (rendered as MyST renders them; an expression mlsysim does not render is a problem
both hosts report), option errors at the option, role names in another case. Quarto:
mlsysim's shortcodes inside a code block, inline code, a raw block or an indented block
(Quarto expands them there as text: a located failure in the filter and in ``mlsysim
check``), escaped ones shown literally, option errors at the attribute or keyword, items
inside raw TeX (a ``\\begin{…}`` block, a command's braces) reported where they are written.
Both: a claim's figure in TeX (``18.6$\\times$``) is a multiplier; ``2--4`` is a range, an
error (never 2 - (-4)).

Found in session 26. Quarto: pandoc's fancy, example and definition lists hold their later
blocks by indent (never an indented code block), a listing's ``lst-cap`` holds backticks
(the fences around it still pair, and under a ``#lst-`` id it is a Markdown caption), link
definitions' titles and autolinks are URLs, ``$700-$800`` is a price (pandoc's math closes
at the next ``$`` or not at all), an executable cell's ``#| fig-cap:`` / ``#| tbl-cap:`` is
its output's Markdown caption (the shim writes it as Quarto's engine does), a pipe-table row
ends a cell at a ``|`` outside code (an item in a span's attributes is cut: an error), an item
in the front matter is never evaluated (an error at its place). Sphinx: a code
directive's ``:caption:`` (MyST and reST), a ``csv-table``'s title and cells and
``versionchanged``'s text are inline markup; with MyST's ``deflist`` a definition holds a
block four spaces in.

Each book goes through its host and ``mlsysim check``; the failure lists (file, line,
column, kind, message) are identical and equal ``EXPECTED_FAILURES.txt``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from test_heldout_books import by_place, check_list, check_run, filter_run, located, sphinx_build
from test_hosts_agree import expected, project_chapters

pytestmark = pytest.mark.slow

BOOKS = Path(__file__).resolve().parent / "data" / "heldout_books" / "classes"


def _places(found: list[str]) -> list[str]:
    return by_place([":".join(x.split(":")[:4]) for x in found])


def test_sphinx_classes_book(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "sphinx"
    shutil.copytree(BOOKS / "sphinx", book)
    status, stderr = sphinx_build(book, tmp_path / "out")
    others = [x for x in stderr.splitlines() if "WARNING" in x and "[mlsysim" not in x]
    assert not others, others
    checked = check_list(check_run(book, ["."], capsys))
    assert status == 1
    assert by_place(located(stderr)) == by_place(checked)
    assert _places(checked) == by_place(expected(book))
    # an admonition's Markdown is rendered; raw HTML and a listing inside one are not
    page = (tmp_path / "out" / "chapters" / "html.html").read_text(encoding="utf-8")
    assert re.search(r'admonition-title">Bandwidth first: <span class="napkin', page)
    assert "{napkin}`a listing, not an item`" in page


def test_quarto_classes_book(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "quarto"
    shutil.copytree(BOOKS / "quarto", book)
    chapters = project_chapters(book)
    runs = [filter_run(book, c, "warn") for c in chapters]
    assert all(status == 0 for status, _ in runs), runs
    rendered = [x for _, stderr in runs for x in located(stderr)]
    checked = check_list(check_run(book, chapters, capsys))
    assert by_place(rendered) == by_place(checked)
    assert _places(checked) == by_place(expected(book))
    # every line the filter printed about a failure has its place (none without one)
    loose = [x for _, e in runs for x in e.splitlines() if "[mlsysim." in x and not located(x)]
    assert not loose, loose


def test_quarto_shortcode_in_code_outside_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A single document rendered outside a project, whose only problems are shortcodes
    inside code: the filter still asks the engine (the mark the text-context handler leaves),
    fails the render at each shortcode's place, and shows no value in the code."""
    import os
    import subprocess
    import sys

    from test_hosts_agree import WITH_SHIM, pandoc_path

    doc = tmp_path / "code.qmd"
    text = (BOOKS / "quarto" / "chapters" / "code.qmd").read_text(encoding="utf-8")
    doc.write_text(text.replace("Outside code it is an item: {{< napkin H100.tdp >}}.", ""))
    env = {**os.environ, "MLSYSIM_PYTHON": sys.executable, "MLSYSIM_CACHE_DIR": str(tmp_path)}
    args = [pandoc_path(), "-f", "markdown", "-L", str(WITH_SHIM), "-t", "html", "code.qmd"]
    proc = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 1, proc.stderr
    checked = check_list(check_run(tmp_path, ["code.qmd"], capsys))
    assert len(checked) == 5 and by_place(located(proc.stderr)) == by_place(checked)
    assert "text context" not in proc.stderr  # no unlocated warning


def test_quarto_front_matter_items_outside_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A single document whose only items are in its front matter: the filter still asks
    the engine (it sees them in the metadata) and fails at each item's place."""
    import os
    import subprocess
    import sys

    from test_hosts_agree import WITH_SHIM, pandoc_path

    doc = tmp_path / "front.qmd"
    text = (BOOKS / "quarto" / "chapters" / "front.qmd").read_text(encoding="utf-8")
    doc.write_text(text.split("\n\nIn the body")[0] + "\n\nNo items in the body.\n")
    env = {**os.environ, "MLSYSIM_PYTHON": sys.executable, "MLSYSIM_CACHE_DIR": str(tmp_path)}
    args = [pandoc_path(), "-f", "markdown", "-L", str(WITH_SHIM), "-t", "html", "front.qmd"]
    proc = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 1, proc.stderr
    checked = check_list(check_run(tmp_path, ["front.qmd"], capsys))
    assert len(checked) == 3 and by_place(located(proc.stderr)) == by_place(checked)
