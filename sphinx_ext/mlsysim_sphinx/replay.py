"""A chapter's napkin results, kept between builds: a fresh build of an unchanged chapter
replays them without starting the engine (no pint, numpy, pydantic or registries).

Reading a chapter records what each napkin item gave (in source order: the scanned item, its
rendering, whether it passed, its failures and citations) and, once the chapter is read, the
number of items checked and the shared names it asked for. The record is stored in mlsysim's
cache directory (:func:`mlsysim.core.snapshot.cache_home`, ``sphinx/``) under a key that
hashes everything the results were computed from:

* the chapter: its name, its source text, its syntax, its resolved options (``conf.py``,
  directory metadata, front matter) and every item scanned from it (included files' items
  with their text);
* the book's shared names: where each is defined, and, when the book defines any (or has a
  values file), the bytes of every file of the book (a shared value may come from any);
* the registry data (every data file's bytes) and the code (every file of mlsysim and of
  this extension, by size and modification time; the registries' kinds and the sources of
  their spec modules, a project's own included; the Python, pint and pydantic
  installations);
* the date (a price in another currency is converted at the rate dated nearest today).

The record itself is :class:`mlsysim.book.records.Record` (the engine's steps, as a worker
evaluating the chapter ahead of the build makes them too, :mod:`mlsysim_sphinx.worker`).
A later read of a chapter with the same key replays the record: each role or directive gets
the recorded result of the item it stands for, and failures are reported exactly as on the
first read. If an item does not match the record (another extension rewrote the text), the
chapter is evaluated after all, from its first item. Chapters with tables, plots, formula
cards or registry tables (whose nodes need the engine's objects) are not recorded.
``MLSYSIM_CACHE_HOME=off`` turns this off with the registry snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from mlsysim.book.records import Record, Shown, Step, item_key, shown

__all__ = [
    "Record",
    "Shown",
    "Step",
    "chapter_key",
    "item_key",
    "load",
    "prune",
    "save",
    "shown",
    "stored",
]

_VERSION = "mlsysim.sphinx-replay/2"  # 2: records are mlsysim.book.records
_KEEP = 4096  # records kept (a few books' chapters); the oldest go first


def chapter_key(parts: Iterable[object]) -> str:
    """The record's key: a hash of ``parts`` (each written with ``repr``)."""
    h = hashlib.sha256(_VERSION.encode())
    for part in parts:
        h.update(b"\0" + repr(part).encode())
    return h.hexdigest()[:40]


def _folder() -> Path | None:
    from mlsysim.core.snapshot import cache_home

    home = cache_home()
    return None if home is None else home / "sphinx"


def stored(key: str) -> bool:
    """Whether a record is stored under ``key`` (not read)."""
    folder = _folder()
    return folder is not None and (folder / f"{key}.pickle").is_file()


def load(key: str) -> Record | None:
    """The record stored under ``key``, or None."""
    from mlsysim.core.snapshot import read_pickle

    folder = _folder()
    record = None if folder is None else read_pickle(folder / f"{key}.pickle")
    return record if isinstance(record, Record) else None


def save(key: str, record: Record) -> None:
    """Store ``record`` under ``key`` (an unwritable cache only costs speed); the oldest
    records go at the end of the build (:func:`prune`), not at every chapter's save (a
    listing of the whole cache each time)."""
    from mlsysim.core.snapshot import write_pickle

    folder = _folder()
    if folder is not None:
        write_pickle(folder / f"{key}.pickle", record, keep=None, kind="*.pickle")


def prune(*_: object) -> None:
    """Keep the :data:`_KEEP` most recent records (at ``build-finished``)."""
    from mlsysim.core.snapshot import prune as prune_folder

    folder = _folder()
    if folder is not None and folder.is_dir():
        prune_folder(folder, "*.pickle", _KEEP)
