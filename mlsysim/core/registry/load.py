"""The loaded catalog: every entry of every kind, read, validated and cross-checked together.

:func:`catalog` loads it on first use — from a snapshot of the same data and code
(:mod:`mlsysim.core.snapshot`) when there is one, else from every data file — and again once
the data may have changed: :func:`reset` (also called by :func:`add_data_dir`, by
:func:`substituted_data` and by a kind registered after the load) forgets it and moves the
registry :func:`generation` on, which every derived cache keys on.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlsysim.core.exceptions import MlsysimError, RegistryDataError, suggest
from mlsysim.core.registry.dirs import (
    ADDED,
    EXTRA_DIRS,
    SUBSTITUTES,
    data_dirs,
    env_dirs,
)
from mlsysim.core.registry.kinds import KINDS, Kind, normalize, run_first_load, spec_name
from mlsysim.core.registry.pickled import LazyMapping, file_digest, snapshot_code

__all__ = [
    "Catalog",
    "add_data_dir",
    "catalog",
    "generation",
    "loaded",
    "reset",
    "substituted_data",
]

_SCHEMA_RE = re.compile(r"^mlsysim\.(?P<kind>[a-z_]+)/(?P<version>\d+)$")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_generation = 0


class Catalog:
    """Every entry of every kind, plus the citations, loaded and cross-checked together."""

    def __init__(self) -> None:
        self.env = env_dirs()
        self.generation = _generation
        self.from_snapshot = False  # True when unpickled from mlsysim.core.snapshot
        self.entries: dict[str, Mapping[str, Any]] = {kind: {} for kind in KINDS}
        # kinds holding entries (every kind but the citation-only "sources")
        self.index: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self.files: dict[str, dict[str, Path]] = {kind: {} for kind in KINDS}
        self.sources: Mapping[str, Any] = {}
        self.paths: list[Path] = []
        dirs = data_dirs()
        #: what it was built from, checked before a snapshot of it is used (:meth:`matches`):
        #: the data directories, each kind's spec class and noun, the spec modules' sources
        self.dirs = frozenset(str(d) for d in dirs)
        self.kind_specs = {k.name: spec_name(k) for k in KINDS.values()}
        self.code = snapshot_code(k.spec for k in KINDS.values())
        for d in dirs:
            if d.is_dir():
                for f in sorted(d.rglob("*.toml")):
                    self._load_file(f)
        self._cross_check()

    # -- the snapshot -------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Pickled with each kind's entries and the citations as separate blobs, unpickled
        when first used: a process that reads only hardware never imports the other layers'
        spec classes (nor pydantic, when it reads no entry at all)."""
        state = dict(self.__dict__)
        state["entries"] = {kind: LazyMapping.of(entries) for kind, entries in self.entries.items()}
        state["sources"] = LazyMapping.of(self.sources)
        return state

    def matches(self, dirs: Iterable[Path]) -> bool:
        """Whether this (unpickled) catalog was built from what this process would load:
        the same data directories, every kind registered so far as it was, and the same
        source of every spec module (the data files themselves are in the snapshot's key)."""
        if self.dirs != frozenset(str(d) for d in dirs) or set(self.entries) != set(
            self.kind_specs
        ):
            return False
        if any(self.kind_specs.get(k.name) != spec_name(k) for k in KINDS.values()):
            return False
        return all(file_digest(Path(path)) == digest for path, digest in self.code.items())

    def holds(self, kind: str, spec: Any, noun: str, data_dir: Path | None) -> bool:
        """Whether a kind registered now (a layer imported after the load) is one of these."""
        expected = self.kind_specs.get(kind)
        if expected != spec_name(Kind(kind, spec, noun)):
            return False
        return data_dir is None or str(data_dir) in self.dirs

    # -- loading ------------------------------------------------------------------------
    def _load_file(self, path: Path) -> None:
        from mlsysim.core.registry.files import (
            build_entry,
            check_numbers,
            first_line,
            read_toml,
        )
        from mlsysim.core.types import Citation

        self.paths.append(path)
        doc = read_toml(path)
        schema = doc.pop("schema", None)
        m = _SCHEMA_RE.match(schema or "")
        if not m or m["kind"] not in KINDS:
            raise RegistryDataError(
                f"missing or unknown schema {schema!r}",
                file=str(path),
                fix='start the file with schema = "mlsysim.<kind>/1", kind one of '
                + ", ".join(KINDS),
            )
        kind = m["kind"]
        sources, entries = self.sources, self.entries[kind]
        assert isinstance(sources, dict) and isinstance(entries, dict)  # built, not unpickled
        if kind == "sources" and any(k != "sources" for k in doc):
            raise RegistryDataError(
                "a sources file holds only [sources.ID] tables",
                file=str(path),
                fix="move entries to a file with their own schema",
            )
        for sid, rec in doc.pop("sources", {}).items():
            if sid in self.sources:
                raise RegistryDataError(
                    f"citation {sid!r} is defined twice",
                    file=str(path),
                    fix="give the citation a unique id or reuse the first",
                )
            try:
                sources[sid] = Citation(id=sid, **rec)
            except Exception as exc:
                raise RegistryDataError(
                    "bad citation record",
                    file=str(path),
                    entry=f"sources.{sid}",
                    why=first_line(exc),
                    fix="give title, year and authors or publisher",
                ) from None
        if kind == "sources":
            return
        cls = KINDS[kind].spec
        for eid, raw in doc.items():
            if not isinstance(raw, dict):
                raise RegistryDataError(
                    f"top-level key {eid!r} is not an entry table",
                    file=str(path),
                    fix="put entry fields under [ENTRY_ID]",
                )
            if not _ID_RE.match(eid):
                raise RegistryDataError(
                    f"entry id {eid!r} is not a Python identifier",
                    file=str(path),
                    entry=eid,
                    fix="use letters, digits and underscores, e.g. H100_PCIe",
                )
            if eid in entries:
                raise RegistryDataError(
                    f"{KINDS[kind].noun} {eid!r} is defined twice",
                    file=str(path),
                    entry=eid,
                    why=f"it is already defined in {self.files[kind][eid]}",
                    fix="choose a new id (registry ids are stable and never redefined)",
                )
            spec = build_entry(cls, KINDS[kind].noun, eid, raw, path)
            check_numbers(spec, "", path, eid)
            entries[eid] = spec
            self.files[kind][eid] = path

    def _cross_check(self) -> None:
        from mlsysim.core.registry.files import has_field

        for kind, entries in self.entries.items():
            for eid, spec in entries.items():
                path = str(self.files[kind][eid])
                refs = {"": spec.source} | {f: fs.source for f, fs in spec.provenance.items()}
                for field, sid in refs.items():
                    if sid not in self.sources:
                        near = suggest(sid, self.sources)
                        raise RegistryDataError(
                            f"unknown citation id {sid!r}"
                            + (f"; did you mean {', '.join(near)}?" if near else ""),
                            file=path,
                            entry=eid,
                            field=field or "source",
                            why="every figure's source must be a [sources.ID] table of some "
                            "data file",
                            fix="define it under [sources.ID] in any data file, or fix the id",
                        )
                for field in spec.drifting:
                    if has_field(spec, field) and spec.as_of_of(field) is None:
                        raise RegistryDataError(
                            "value that drifts over time has no as_of date",
                            file=path,
                            entry=eid,
                            field=field,
                            fix=f"add as_of = 2024-01-01 to the entry or write {field} "
                            'as { value = "…", as_of = 2024-01-01 }',
                        )
                for alias in (eid, *spec.aliases):
                    key = normalize(alias)
                    other = self.index[kind].get(key)
                    if other is not None and other != eid:
                        raise RegistryDataError(
                            f"alias {alias!r} is already used by {other}",
                            file=path,
                            entry=eid,
                            fix="remove or rename the alias",
                        )
                    self.index[kind][key] = eid


_CATALOG: Catalog | None = None


def loaded() -> Catalog | None:
    """The catalog as loaded now, without loading it (None before the first load)."""
    return _CATALOG


def catalog() -> Catalog:
    """The loaded catalog (loads every data file on first call, and again after a change of
    ``MLSYSIM_DATA_PATH`` or :func:`add_data_dir`)."""
    global _CATALOG
    cat = _CATALOG
    if cat is None or cat.env != env_dirs():
        if cat is not None:
            reset()
        cat = _CATALOG = _snapshot_or_build()
    return cat


def _snapshot_or_build() -> Catalog:
    """The catalog from a snapshot of the same data and code (:mod:`mlsysim.core.snapshot`),
    else built, validated and stored for the next process.

    A snapshot is found before any layer is imported: its key hashes the data files of the
    declared directories and the spec modules registered so far, and the snapshot itself
    says which kinds, directories and spec-module sources it was built from
    (:meth:`Catalog.matches`). The layers register (are imported) only to build afresh, or
    when an entry of theirs is first read.
    """
    from mlsysim.core import snapshot

    dirs = data_dirs(load=False)
    files = [f for d in dirs if d.is_dir() for f in sorted(d.rglob("*.toml"))]
    modules = [k.spec.__module__ for k in KINDS.values() if k.spec is not None]
    key = snapshot.snapshot_key(files, modules)
    cat = snapshot.load(key)
    if isinstance(cat, Catalog) and cat.matches(dirs):
        cat.env = env_dirs()
        cat.generation = _generation
        cat.from_snapshot = True
        return cat
    run_first_load()
    cat = Catalog()
    snapshot.save(key, cat)
    return cat


def reset() -> None:
    """Forget loaded data and start a new generation; the next access reloads every file."""
    global _CATALOG, _generation
    _CATALOG = None
    _generation += 1


def generation() -> int:
    """The registry generation: it changes whenever the loaded data may have changed.

    Every cache derived from registry entries keys on it (or checks it), so entries added by
    :func:`add_data_dir` or a changed ``MLSYSIM_DATA_PATH`` are seen by the next evaluation.
    """
    if _CATALOG is not None and _CATALOG.env != env_dirs():
        reset()
    return _generation


def add_data_dir(path: str | os.PathLike[str]) -> None:
    """Add a directory of user data files (a custom ASIC, a new model…) and reload."""
    p = Path(path).expanduser().resolve()
    if not p.is_dir():
        raise MlsysimError(
            f"data directory {str(p)!r} does not exist",
            fix="pass a directory that holds *.toml registry files",
        )
    if p not in EXTRA_DIRS:
        EXTRA_DIRS.append(p)
    reset()


@contextlib.contextmanager
def substituted_data(
    substitutes: Mapping[Path, Path] | None = None, added: Iterable[Path] = ()
) -> Iterator[None]:
    """Load the data with some directories read from elsewhere (``{current: other}``) and
    ``added`` directories on top, until the block ends (``mlsysim impact`` evaluates a book
    against an older version of its data this way). Every cache follows: the registry
    generation moves on entering and on leaving."""
    saved = dict(SUBSTITUTES), list(ADDED)
    SUBSTITUTES.update({Path(k).resolve(): Path(v) for k, v in (substitutes or {}).items()})
    ADDED.extend(Path(a) for a in added)
    reset()
    try:
        yield
    finally:
        SUBSTITUTES.clear()
        SUBSTITUTES.update(saved[0])
        ADDED[:] = saved[1]
        reset()
