"""Which files make a book: the sources ``mlsysim check`` reads under some paths, and a
project's chapters in render order (what a Quarto project renders, what a Sphinx project reads).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mlsysim.book.sources.project import Project, project_of

__all__ = ["SUFFIXES", "book_files", "iter_sources", "project_files"]

_SOURCE_SUFFIXES = (".qmd", ".md", ".rst")


#: Source suffixes ``mlsysim check`` reads.
SUFFIXES = (".md", ".qmd", ".rst")
_SKIP_DIRS = {"_build", "build", "_site", "node_modules", "__pycache__", "_freeze", "_extensions"}


def _excluded(path: Path, project: Project | None) -> bool:
    if project is None:
        return False
    try:
        rel = path.resolve().relative_to(project.root).as_posix()
    except (OSError, ValueError):
        return False
    if project.kind == "quarto":
        return any(part.startswith("_") for part in rel.split("/"))
    if project.suffixes and path.suffix.lower() not in project.suffixes:
        return True
    for pattern in project.exclude:
        if fnmatch.fnmatchcase(rel, pattern) or rel.startswith(pattern.rstrip("/") + "/"):
            return True
    return False


def iter_sources(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Source files under ``paths``: files as given (readable or not); directories
    recursively and sorted, following links to folders once each."""
    for raw in paths:
        p = Path(raw)
        try:
            is_dir = p.is_dir()
        except (OSError, ValueError):
            is_dir = False
        if not is_dir:
            yield p
            continue
        seen: set[str] = set()
        for root, dirs, files in os.walk(p, followlinks=True):
            real = os.path.realpath(root)
            if real in seen:
                dirs[:] = []
                continue
            seen.add(real)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
            for f in sorted(files):
                if f.endswith(SUFFIXES):
                    path = Path(root) / f
                    if not _excluded(path, project_of(path)):
                        yield path


def _posix(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def _book_entries(node: Any, out: list[str]) -> None:
    """Files of a ``book:`` chapters/appendices list (parts hold chapters of their own)."""
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, list):
        for n in node:
            _book_entries(n, out)
    elif isinstance(node, dict):
        for key in ("part", "href", "file"):
            if isinstance(node.get(key), str):
                out.append(node[key])
        _book_entries(node.get("chapters"), out)


def _render_list(root: Path, patterns: list[Any]) -> list[str]:
    """``project: render:`` entries: files or glob patterns, ``!pattern`` excluding."""
    found: list[str] = []
    for p in patterns:
        if not isinstance(p, str) or p.startswith("!"):
            continue
        if any(ch in p for ch in "*?["):
            found += sorted(q.relative_to(root).as_posix() for q in root.glob(p) if q.is_file())
        else:
            found.append(p)
    excluded = [p[1:] for p in patterns if isinstance(p, str) and p.startswith("!")]
    return [f for f in found if not any(fnmatch.fnmatchcase(f, x) for x in excluded)]


def project_files(root: Path) -> list[str]:
    """The project's source files in render order, relative to ``root``:
    ``QUARTO_PROJECT_INPUT_FILES`` (what Quarto gives a pre-render script), else the book's
    chapters and appendices, else ``project: render:``, else every source ``mlsysim check``
    would read under the project (sorted)."""
    listed = os.environ.get("QUARTO_PROJECT_INPUT_FILES", "")
    entries = [line.strip() for line in listed.splitlines() if line.strip()]
    if not entries:
        entries = _configured(root)
    if not entries:
        entries = [os.path.relpath(p, root) for p in iter_sources([root])]
    out: list[str] = []
    for e in entries:
        rel = _posix(os.path.relpath(e, root) if os.path.isabs(e) else e)
        if rel.lower().endswith(_SOURCE_SUFFIXES) and rel not in out:
            out.append(rel)
    return out


def _configured(root: Path) -> list[str]:
    from mlsysim.book.sources.frontmatter import load_yaml
    from mlsysim.core.exceptions import MlsysimError

    try:
        config = load_yaml((root / "_quarto.yml").read_text(encoding="utf-8"), "_quarto.yml")
    except (OSError, UnicodeDecodeError, MlsysimError):
        return []
    if not isinstance(config, dict):
        return []
    out: list[str] = []
    book = config.get("book")
    if isinstance(book, dict):
        _book_entries(book.get("chapters"), out)
        _book_entries(book.get("appendices"), out)
    project = config.get("project")
    if not out and isinstance(project, dict) and isinstance(project.get("render"), list):
        out = _render_list(root, project["render"])
    return out


def book_files(project: Project) -> list[Path]:
    """The chapters of ``project``: a Quarto project's in render order, a Sphinx project's
    sources as ``mlsysim check`` finds them."""
    if project.kind == "quarto":
        return [project.root / f for f in project_files(project.root)]
    return list(iter_sources([project.root]))
