"""One :class:`~mlsysim.book.shared.BookValues` per state of a project's files and of the
registry data, and the chapters attached to it (what hosts call)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim.book.shared import VALUES_FILE, BookValues

if TYPE_CHECKING:
    from mlsysim.book.document import Document
    from mlsysim.book.sources.project import Project

__all__ = [
    "book_state",
    "book_state_of",
    "book_values",
    "pin",
    "project_at",
    "share",
    "unpin",
]

_BOOKS: dict[Path, tuple[tuple[Any, ...], BookValues]] = {}
#: project root -> the book a host pinned for the length of its run
_PINNED: dict[Path, BookValues] = {}


def _project_files(project: Project) -> list[Path]:
    from mlsysim.book.sources.files import book_files

    return book_files(project)


def _state(files: list[Path], root: Path) -> tuple[Any, ...]:
    from mlsysim.core.registry import generation

    out: list[Any] = [generation()]
    for f in [*files, root / VALUES_FILE]:
        try:
            st = f.stat()
            out.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(f), None))
    return tuple(out)


def book_state(project: Project | None) -> str:
    """A fingerprint of what a book's shared names are read from ('' without a project)."""
    if project is None:
        return ""
    return repr(_state(_project_files(project), project.root)[1:])


def book_values(project: Project | None, known: Any = None) -> BookValues | None:
    """The shared names of ``project`` as its files are now (None without a project).

    ``known``: a previous book's :attr:`~mlsysim.book.shared.BookValues.known` (what a host
    kept from its last build), so only the files changed since are scanned again."""
    if project is None:
        return None
    pinned = _PINNED.get(project.root)
    if pinned is not None:
        return pinned
    files = _project_files(project)
    state = _state(files, project.root)
    held = _BOOKS.get(project.root)
    if held is not None and held[0] == state:
        return held[1]
    book = BookValues(project.root, files, project.kind, known)
    if len(_BOOKS) >= 8:
        _BOOKS.clear()
    _BOOKS[project.root] = (state, book)
    return book


def pin(project: Project | None, known: Any = None) -> BookValues | None:
    """:func:`book_values` of ``project``, and that same book for every later call until
    :func:`unpin`, without listing and statting the project's files again: for a host whose
    sources do not change while it runs (one Sphinx build reads many chapters)."""
    book = book_values(project, known)
    if project is not None and book is not None:
        _PINNED[project.root] = book
    return book


def unpin() -> None:
    """Back to checking the project's files on every :func:`book_values` call."""
    _PINNED.clear()


def project_at(path: str | os.PathLike[str]) -> Project | None:
    """The project of the file at ``path`` (None: none, or its config cannot be read)."""
    from mlsysim.book.sources.project import project_of
    from mlsysim.core.exceptions import MlsysimError

    try:
        return project_of(Path(path))
    except MlsysimError:
        return None


def share(doc: Document, path: str | os.PathLike[str]) -> BookValues | None:
    """Let ``doc`` (the chapter at ``path``) read its book's shared names; the book, or None
    when the chapter belongs to no project."""
    book = book_values(project_at(path))
    if book is not None:
        book.attach(doc, path)
    return book


def book_state_of(path: str | os.PathLike[str]) -> str:
    """:func:`book_state` of the project of the chapter at ``path``."""
    return book_state(project_at(path))
