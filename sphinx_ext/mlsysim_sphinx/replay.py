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

A later read of a chapter with the same key replays the record: each role or directive gets
the recorded result of the item it stands for, and failures are reported exactly as on the
first read. If an item does not match the record (another extension rewrote the text), the
chapter is evaluated after all, from its first item. Chapters with tables, plots, formula
cards or registry tables (whose nodes need the engine's objects) are not recorded.
``MLSYSIM_CACHE_HOME=off`` turns this off with the registry snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Record", "Shown", "Step", "chapter_key", "load", "save", "stored"]

_VERSION = "mlsysim.sphinx-replay/1"
_KEEP = 4096  # records kept (a few books' chapters); the oldest go first


@dataclass(frozen=True, slots=True)
class Shown:
    """A rendering as the engine gave it (:class:`mlsysim.viz.rendered.Rendered`'s fields),
    held without importing the engine."""

    text: str
    latex: str
    html: str
    markdown: str
    math: bool = True


@dataclass(frozen=True, slots=True)
class Step:
    """One item's result: the item (kind, text, line, column, file, attrs), whether it
    passed, its rendering, its failures and the citation ids of the values it used."""

    item: tuple[Any, ...]
    ok: bool
    rendered: Shown | None
    failures: tuple[Any, ...] = ()
    cites: tuple[str, ...] = ()


@dataclass
class Record:
    """What reading one chapter gave: its steps, items checked, the book's files its shared
    values came from with the names it asked for, and the banner of its failures."""

    steps: list[Step] = field(default_factory=list)
    checked: int = 0
    files_read: tuple[str, ...] = ()
    asked: tuple[str, ...] = ()
    banner: Shown | None = None  # the page's failures, as the engine listed them

    def replay(self) -> Iterator[Step]:
        return iter(self.steps)


def item_key(item: Any) -> tuple[Any, ...]:
    """What identifies a scanned item in a record."""
    attrs = tuple(sorted((str(k), str(v)) for k, v in (item.attrs or {}).items()))
    return (item.kind, item.text, item.line, item.column, item.file, attrs)


def shown(rendered: Any) -> Shown | None:
    """A rendering kept as plain fields (None stays None)."""
    if rendered is None:
        return None
    return Shown(rendered.text, rendered.latex, rendered.html, rendered.markdown, rendered.math)


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
    """Store ``record`` under ``key`` (an unwritable cache only costs speed)."""
    from mlsysim.core.snapshot import write_pickle

    folder = _folder()
    if folder is not None:
        write_pickle(folder / f"{key}.pickle", record, keep=_KEEP, kind="*.pickle")
