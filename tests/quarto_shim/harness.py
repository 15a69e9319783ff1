"""Run the mlsysim Quarto extension under real pandoc 3 for the tests and benchmarks.

Quarto cannot be installed offline; the tests run the extension's Lua with pandoc from
``pypandoc-binary`` and, where Quarto APIs or shortcodes are needed, the ``quarto`` shim
(``with_shim.lua``). The engine's interpreter is wrapped by a counting script so tests can
assert one Python process per document and read the batch request/response pairs.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preprocess import quarto_markdown

__all__ = [
    "BOOK",
    "BROKEN",
    "EXTENSION",
    "FAILURE_LINE",
    "FILTER",
    "REPO",
    "WITH_SHIM",
    "Render",
    "book_chapters",
    "copy_book",
    "counting_python",
    "expected_failures",
    "failure_locations",
    "merged_book",
    "pandoc_path",
    "quarto_input",
    "render",
    "render_project",
]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXTENSION = REPO / "quarto_ext" / "_extensions" / "mlsysim"
FILTER = EXTENSION / "mlsysim.lua"
WITH_SHIM = HERE / "with_shim.lua"
BOOK = REPO / "book_fixtures" / "quarto"
BROKEN = REPO / "book_fixtures" / "quarto-broken"
#: ``file:line[:col]: error[mlsysim.kind]: message`` as printed by the filter
FAILURE_LINE = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+)(?::\d+)?: (?P<sev>error|warning)\[")
_COUNTER = """#!/bin/bash
set -o pipefail
# counts the engine's processes and keeps each request/response pair
n=$(ls "{log}" | wc -l)
tee "{log}/$n.request.json" | "{python}" "$@" | tee "{log}/$n.response.json"
"""


def pandoc_path() -> str:
    """The pandoc 3 binary shipped by pypandoc-binary."""
    import pypandoc

    path: str = pypandoc.get_pandoc_path()
    return path


def counting_python(tmp: Path) -> tuple[Path, Path]:
    """A script usable as ``MLSYSIM_PYTHON`` that logs every call; returns (script, log dir)."""
    log = tmp / "engine-calls"
    log.mkdir(parents=True, exist_ok=True)
    script = tmp / "counting-python"
    script.write_text(_COUNTER.format(log=log, python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


@dataclass(frozen=True)
class Render:
    """One pandoc run: exit code, output text, stderr and the engine calls it made."""

    returncode: int
    stdout: str
    stderr: str
    calls: list[tuple[dict[str, Any], dict[str, Any]]]


def render(
    source: Path,
    *,
    cwd: Path,
    to: str = "html5",
    shim: bool = True,
    metadata_file: Path | None = None,
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
    log_dir: Path | None = None,
) -> Render:
    """Render ``source`` (relative to ``cwd`` when possible) with the filter and count calls."""
    python, log = counting_python(log_dir or cwd / ".engine")
    before = {p.name for p in log.iterdir()}
    args = [pandoc_path(), "-f", "markdown", "-t", to, "-L", str(WITH_SHIM if shim else FILTER)]
    if to.startswith("html"):
        args.append("--mathjax")
    if metadata_file is not None:
        args.append(f"--metadata-file={metadata_file}")
    full_env = {**os.environ, "MLSYSIM_PYTHON": str(python), **(env or {})}
    args += [*extra, quarto_input(source, cwd, full_env)]
    full_env.pop("QUARTO_PYTHON", None)
    proc = subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120, check=False
    )
    new = sorted(
        (p for p in log.iterdir() if p.name not in before and p.name.endswith(".request.json")),
        key=lambda p: int(p.name.split(".")[0]),
    )
    calls = []
    for req in new:
        resp = req.with_name(req.name.replace("request", "response"))
        calls.append((json.loads(req.read_text()), json.loads(resp.read_text() or "null")))
    return Render(proc.returncode, proc.stdout, proc.stderr, calls)


def quarto_input(source: Path, cwd: Path, env: dict[str, str]) -> str:
    """The file pandoc reads for ``source``, relative to ``cwd``: the chapter itself, or, when
    Quarto would change it first (includes, executable cells: :mod:`preprocess`), that text in
    ``.quarto/`` beside it, with the chapter as ``quarto.doc.input_file`` (as under Quarto)."""
    source = source if source.is_absolute() else cwd / source
    if source.suffix != ".qmd" or not source.is_file():
        return os.path.relpath(source, cwd)
    root = env.get("QUARTO_PROJECT_DIR")
    text = quarto_markdown(source, Path(root) if root else None)
    if text == source.read_text(encoding="utf-8"):
        return os.path.relpath(source, cwd)
    staged = source.parent / ".quarto" / (source.stem + ".quarto.md")
    staged.parent.mkdir(exist_ok=True)
    staged.write_text(text, encoding="utf-8")
    env.setdefault("MLSYSIM_SHIM_INPUT_FILE", str(source.resolve()))
    return os.path.relpath(staged, cwd)


def book_chapters(book: Path) -> list[str]:
    """The chapters of a Quarto book project, in render order (``book: chapters:``)."""
    import yaml

    config = yaml.safe_load((book / "_quarto.yml").read_text(encoding="utf-8"))
    chapters: list[str] = config["book"]["chapters"]
    return chapters


def render_project(
    book: Path,
    chapters: list[str] | None = None,
    *,
    to: str = "html5",
    env: dict[str, str] | None = None,
    keep_going: bool = False,
    input_files_env: bool = False,
    out: Path | None = None,
    extra: tuple[str, ...] = (),
) -> list[tuple[str, Render]]:
    """Render a Quarto project as ``quarto render`` does: one pandoc run per chapter in render
    order, each in the chapter's own folder, with the project directory in
    ``QUARTO_PROJECT_DIR`` (hence ``quarto.project.directory``) and the project's metadata;
    the render stops at the first chapter that fails unless ``keep_going``.

    Quarto gives ``QUARTO_PROJECT_INPUT_FILES`` to pre-render scripts only; with
    ``input_files_env`` the filter sees it too. Returns (chapter, Render) per chapter run.
    """
    chapters = chapters if chapters is not None else book_chapters(book)
    project_env = {"QUARTO_PROJECT_DIR": str(book.resolve())}
    if input_files_env:
        project_env["QUARTO_PROJECT_INPUT_FILES"] = "\n".join(chapters)
    runs: list[tuple[str, Render]] = []
    for chapter in chapters:
        source = book / chapter
        folder = source.parent
        target: tuple[str, ...] = ()
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            suffix = ".tex" if to.startswith("latex") else ".html"
            target = ("-s", "-o", str(out / (Path(chapter).stem + suffix)))
        result = render(
            source,
            cwd=folder,
            to=to,
            metadata_file=Path(os.path.relpath(book / "_quarto.yml", folder)),
            env={**project_env, **(env or {})},
            extra=(*extra, *target),
            log_dir=book / ".engine",
        )
        runs.append((chapter, result))
        if result.returncode != 0 and not keep_going:
            break
    return runs


def failure_locations(stderr: str, severity: str = "error") -> list[str]:
    """``file:line`` of every failure line the filter printed, in order."""
    out = []
    for line in stderr.splitlines():
        m = FAILURE_LINE.match(line)
        if m and m["sev"] == severity:
            out.append(f"{m['file']}:{m['line']}")
    return out


def expected_failures(book: Path = BROKEN) -> list[str]:
    """The broken twin's ``EXPECTED_FAILURES.txt`` without comments."""
    lines = (book / "EXPECTED_FAILURES.txt").read_text().splitlines()
    return [x.strip() for x in lines if x.strip() and not x.startswith("#")]


def copy_book(book: Path, dest: Path) -> Path:
    """Copy a fixture book (resolving the ``_extensions`` symlink) so caches stay out of it."""
    shutil.copytree(book, dest, symlinks=False)
    return dest


def _marker(chapter: str) -> str:
    meta = {
        "resourceDir": str(Path(chapter).parent),
        "bookItemType": "chapter",
        "bookItemNumber": None,
        "bookItemFile": chapter,
        "bookItemDepth": 0,
    }
    encoded = base64.b64encode(json.dumps(meta).encode()).decode()
    return f"<!-- quarto-file-metadata: {encoded} -->"


def merged_book(book_dir: Path, chapters: list[str], name: str = "merged.md") -> Path:
    """Concatenate chapters the way Quarto does for a book PDF: a file-metadata marker
    (inline and block form) before each chapter's content."""
    parts = []
    for chapter in chapters:
        marker = _marker(chapter)
        parts.append(f"`{marker}`{{=html}}\n\n```{{=html}}\n{marker}\n```\n")
        parts.append((book_dir / chapter).read_text())
    out = book_dir / name
    out.write_text("\n\n".join(parts))
    return out
