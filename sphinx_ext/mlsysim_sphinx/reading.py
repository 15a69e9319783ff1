"""What a chapter's napkin results are computed from, read before any item runs: its text,
resolved options and scanned items, and the key of its stored record
(:mod:`mlsysim_sphinx.replay`) over those, the book's shared names, the data and the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sphinx.environment import BuildEnvironment

    from mlsysim.book.failures import Failure
    from mlsysim.book.records import Chapter
    from mlsysim.book.syntax import Item

__all__ = [
    "EXTENSION_DIR",
    "Source",
    "blind_failures",
    "data_files",
    "data_key",
    "forget_data_files",
    "needs_engine",
    "note_data_files",
    "read",
]

#: this extension's folder: its code is part of every record's key
EXTENSION_DIR = str(Path(__file__).resolve().parent)
_KEY_ATTR = "mlsysim_data_key"


@dataclass
class Source:
    """What a chapter's results are computed from, read before any item runs."""

    rel: str
    text: str
    options: Any
    problem: Exception | None
    scanned: Any  # the scan (items as scanned, problems)
    items: list[Item]  # included files' items named relative to the source folder
    key: str | None  # of its stored record (None: an option error, never recorded)

    def chapter(self, env: BuildEnvironment, docname: str, blind: list[Failure]) -> Chapter:
        """The chapter as the engine evaluates it (:mod:`mlsysim.book.records`)."""
        from mlsysim.book.records import Chapter

        path = str(Path(env.doc2path(docname)))
        return Chapter(
            self.rel, path, self.options, self.text, self.scanned.items, self.items, blind
        )


def read(env: BuildEnvironment, docname: str, *, keep: bool = False) -> Source:
    """Document ``docname`` read: options resolved as every host resolves them (conf.py,
    then the chapter's front matter), and its items scanned with the same scanner ``mlsysim
    check`` uses, so each role and directive is evaluated exactly as check does. ``keep``:
    leave the book's pre-pass scan to the chapter's reading."""
    from mlsysim.book.ahead import spec_key
    from mlsysim.book.books import book_values, project_at
    from mlsysim.book.records import relative
    from mlsysim.book.sources import read_source, scan_source
    from mlsysim.book.sources.project import chapter_options, myst_syntax
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim_sphinx import replay
    from mlsysim_sphinx.config import config_mapping

    rel = Path(env.doc2path(docname, base=False)).as_posix()
    path = Path(env.doc2path(docname))
    try:
        text = read_source(path)
    except (OSError, UnicodeDecodeError):
        text = ""
    problem = None
    try:
        options = chapter_options(path, text, None, host=config_mapping(env.config))
    except MlsysimError as exc:
        options, problem = None, exc
    myst = myst_syntax(getattr(env.config, "myst_enable_extensions", None) or ())
    syntax = "rst" if path.suffix == ".rst" else myst
    book = book_values(project_at(path))
    scanned = book.scanned(path, text, syntax, keep=keep) if book is not None else None
    if scanned is None:  # else the book's pre-pass scanned this very text
        scanned = scan_source(str(path), text, syntax, root=Path(env.srcdir))
    items = relative(scanned.items, env.srcdir)
    key = None
    if problem is None:
        key = replay.chapter_key(
            [
                rel,
                text,
                syntax,
                options,
                [replay.item_key(i) for i in items],
                *_book_key(book),
                _data_key(env),
                _engine_key(),
                spec_key(),
            ]
        )
    return Source(rel, text, options, problem, scanned, items, key)


#: the code's key for this build (:func:`mlsysim.book.fingerprints.engine_key`)
_ENGINE_KEY: list[str] = []


def _engine_key() -> str:
    if not _ENGINE_KEY:
        from mlsysim.book import fingerprints

        _ENGINE_KEY.append(fingerprints.engine_key(EXTENSION_DIR))
    return _ENGINE_KEY[0]


def needs_engine(env: BuildEnvironment, docnames: Iterable[str]) -> bool:
    """Whether reading ``docnames`` will start the engine: one of them has napkin items and
    no stored record (``-j N`` loads the registries before its readers fork only then)."""
    from mlsysim_sphinx import replay

    for docname in docnames:
        source = read(env, docname, keep=True)
        if source.scanned.items and (source.key is None or not replay.stored(source.key)):
            return True
    return False


def blind_failures(env: BuildEnvironment, problems: list[Any]) -> list[Failure]:
    """The failures of items MyST cuts apart (a ``|`` in a table cell): no role ever sees
    them, so the scan's problem is reported by the chapter, as ``mlsysim check`` reports it."""
    import os
    from dataclasses import replace

    out = []
    for problem in problems:
        if problem.blind:
            from mlsysim.book.sources.check import problem_failure  # (the engine's wording)

            name = os.path.relpath(problem.file, env.srcdir).replace(os.sep, "/")
            out.append(problem_failure(replace(problem, file=name)))
    return out


#: id of the book (kept alive here) -> its part of every chapter's record key
_BOOK_KEYS: dict[int, tuple[Any, list[Any]]] = {}


def _book_key(book: Any) -> list[Any]:
    """What a chapter's shared values may come from: where each shared name is defined and,
    when the book defines any, every file of the book (computed once per book)."""
    if book is None:
        return [None]
    held = _BOOK_KEYS.get(id(book))
    if held is not None and held[0] is book:
        return held[1]
    import hashlib

    places = book.places()
    h = hashlib.sha256()
    if places or book.values_file is not None:
        files = [*book.files.values(), *([book.values_file] if book.values_file else [])]
        for f in files:
            h.update(str(f).encode())
            try:
                h.update(Path(f).read_bytes())
            except OSError:
                h.update(b"<unreadable>")
    key = [str(book.root), places, h.hexdigest()]
    _BOOK_KEYS.clear()
    _BOOK_KEYS[id(book)] = (book, key)
    return key


def _data_key(env: BuildEnvironment) -> str:
    key = getattr(env, _KEY_ATTR, None)
    return key if isinstance(key, str) else data_key()


#: the data files listed for this build: (data directories, registry generation) -> files.
#: Listed again at the start of every build (:func:`forget_data_files`), so a file added
#: between two builds of one process is seen; within a build every document takes this list.
_LISTED: dict[tuple[tuple[Path, ...], int], list[Path]] = {}


def data_files() -> list[Path]:
    """Every registry data file, loadable or not (a broken one is a dependency too)."""
    from mlsysim.book import fingerprints
    from mlsysim.core.registry import data_dirs, generation

    key = (tuple(data_dirs(load=False)), generation())
    files = _LISTED.get(key)
    if files is None:
        _LISTED.clear()
        files = _LISTED[key] = fingerprints.data_files()
    return files


def forget_data_files() -> None:
    """A new build lists the data files again (and takes the code's key again)."""
    _LISTED.clear()
    _NOTED.clear()
    _ENGINE_KEY.clear()


#: (source folder, data files) -> each as ``note_dependency`` stores it
_NOTED: dict[tuple[str, tuple[Path, ...]], frozenset[Any]] = {}


def note_data_files(env: BuildEnvironment) -> None:
    """Every registry data file a dependency of the document being read: noted one by one
    (Sphinx's own form of each) for the build's first document, then that set for each."""
    files = data_files()
    key = (str(env.srcdir), tuple(files))
    deps = env.dependencies
    noted = _NOTED.get(key)
    if noted is None:
        own = deps.get(env.docname)
        deps[env.docname] = set()
        for data_file in files:
            env.note_dependency(data_file)
        noted = _NOTED[key] = frozenset(deps[env.docname])
        if own is not None:
            deps[env.docname] = own | noted
        return
    deps.setdefault(env.docname, set()).update(noted)


def data_key() -> str:
    """A fingerprint of every registry data file: which files, and their bytes."""
    from mlsysim.book import fingerprints

    return fingerprints.data_key(data_files())


def stored_data_key(env: BuildEnvironment) -> str | None:
    """The data key the environment was last read with (None before its first build)."""
    key = getattr(env, _KEY_ATTR, None)
    return key if isinstance(key, str) else None


def store_data_key(env: BuildEnvironment, key: str) -> None:
    setattr(env, _KEY_ATTR, key)
