"""The shared-values pre-pass over a book's chapters: the names each one binds (a scan, no
evaluation), and each chapter's scan for its own reading.

A chapter is scanned once per state of the book: its reading takes over the pre-pass's scan
of the very same text (:meth:`PrePass.scanned`), and a host that keeps :attr:`PrePass.known`
between builds (Sphinx, in its environment) passes it back, so an incremental build scans only
the chapters whose modification time or size changed. A chapter that includes other files is
scanned afresh every time (their changes do not change its own state).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim.book.lang.qualified import import_target

if TYPE_CHECKING:
    from mlsysim.book.sources import Scanned

__all__ = ["Definition", "PrePass", "definitions_in", "relative_label"]


@dataclass(frozen=True, slots=True)
class Definition:
    """One binding of a shared name: the file (relative to the project root) and line."""

    name: str
    file: str
    line: int

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}"


def definitions_in(label: str, items: Iterable[Any], root: Path | None = None) -> list[Definition]:
    """The shared names the block items of one scanned file bind (first bindings, imports
    excluded), with the file (an included file's own) and line of each."""
    from mlsysim.book.lang import split_statements
    from mlsysim.book.lang.lexer import binding_head

    out: list[Definition] = []
    for item in items:
        if item.kind != "block":
            continue
        file = label
        if item.file is not None:
            file = relative_label(Path(item.file), root) if root is not None else str(item.file)
        for st in split_statements(item.text):
            head = binding_head(st.text)
            if head is None or head.rebind:
                continue
            if import_target(head.name, st.text[head.expression_start :]) is not None:
                continue
            out.append(Definition(head.name, file, item.line + st.line))
    return out


def relative_label(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, with ``/`` (a file's label in its book)."""
    try:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root))).as_posix()
    except ValueError:
        return path.as_posix()


class PrePass:
    """The chapters' definitions and scans for one state of a book (``known``: what an
    earlier pre-pass of the same book found, by file state)."""

    def __init__(
        self, root: Path, kind: str, known: dict[str, tuple[Any, list[Definition]]] | None
    ) -> None:
        self.root = root
        self.kind = kind
        self._before = known or {}
        #: label -> (the file's state, the names it binds): what a host keeps between builds
        self.known: dict[str, tuple[Any, list[Definition]]] = {}
        #: label -> (syntax, text, scan), for the chapter's own reading
        self._scans: dict[str, tuple[str, str, Scanned]] = {}

    def definitions(self, label: str, path: Path) -> list[Definition] | None:
        """The names the chapter ``label`` binds (None when it cannot be read: its chapter
        reports that), from an earlier pre-pass when the file has not changed since."""
        state = self._file_state(path)
        held = self._before.get(label)
        if state is not None and held is not None and held[0] == state:
            self.known[label] = held
            return held[1]
        return self._definitions_of(label, path, state)

    def scanned(self, label: str, text: str, syntax: str, keep: bool = False) -> Scanned | None:
        """The pre-pass's scan of chapter ``label`` when it scanned this same ``text`` as
        ``syntax`` (and the chapter includes no other file), else None. Handed over once
        unless ``keep`` (a host reading the chapter takes it: no scan is held past its use)."""
        held = self._scans.get(label) if keep else self._scans.pop(label, None)
        if held is not None and held[0] == syntax and held[1] == text:
            return held[2]
        return None

    def _file_state(self, path: Path) -> Any:
        """What says a chapter is unchanged: its modification time and size (None: unknown)."""
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, self.kind)

    def _definitions_of(self, label: str, path: Path, state: Any) -> list[Definition] | None:
        from mlsysim.book.sources import read_source, scan_source
        from mlsysim.book.sources.project import project_of, syntax_for
        from mlsysim.core.exceptions import MlsysimError

        try:
            text = read_source(path)
            syntax = syntax_for(path, project_of(path))
        except (OSError, UnicodeDecodeError, MlsysimError):
            return None
        scanned = scan_source(str(path), text, syntax, root=self.root)
        found = definitions_in(label, scanned.items, self.root)
        if not scanned.includes:  # what it read is this text: reusable while it stays
            self._scans[label] = (syntax, text, scanned)
            if state is not None:
                self.known[label] = (state, found)
        return found
