"""Registries: sourced data files, loaded once, validated, and looked up by id or alias.

Grammar (documented for authors in ``docs/registry-grammar.md``): each data file is TOML with

* ``schema = "mlsysim.<kind>/1"`` naming what its entries are (a kind a layer registered:
  ``hardware``, ``model``, ``grid``, ``datacenter``, ``cloud_rate``, ``fabric``, ``node``,
  ``cluster``, …);
* an optional ``[sources.<id>]`` table per citation (title, authors or publisher, year, url);
* one top-level table per entry, keyed by its id (a Python identifier), with ``name``,
  ``source`` (a citation id), optional ``aliases``/``as_of``/``notes`` and the kind's fields.
  Quantities carry their unit in the value (``bandwidth = "3.35 TB/s"``). Any field may instead
  be an inline table ``{ value = "…", source = "…", as_of = 2024-06-01 }`` to cite it apart.

Each modeling layer registers the kinds it owns and its ``data/`` directory with
:func:`register_kind`; nothing here imports a layer. Files load lazily on first access: the
registered package data, then every directory
in ``MLSYSIM_DATA_PATH`` (``os.pathsep``-separated) and those passed to :func:`add_data_dir`.
A user directory may hold files directly or in sub-folders.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from mlsysim.core.exceptions import MlsysimError, RegistryDataError, UnknownNameError, suggest

__all__ = [
    "Registry",
    "add_data_dir",
    "catalog",
    "data_dirs",
    "declare_data_dir",
    "generation",
    "kinds",
    "on_first_load",
    "register_kind",
    "reset",
    "substituted_data",
]

T = TypeVar("T")


class _Kind(NamedTuple):
    """A registry kind: its schema name, spec class and the noun used in messages.

    (A NamedTuple, not a dataclass: ``import mlsysim`` stays free of ``dataclasses``.)"""

    name: str
    spec: Any  # the frozen pydantic class; None for the citation-only "sources" kind
    noun: str


#: schema kind -> its registration. Each modeling layer registers its own kinds
#: (:func:`register_kind`); "sources" (citations only) belongs to the ground.
_KINDS: dict[str, _Kind] = {"sources": _Kind("sources", None, "citation")}
#: the package's own data directories, in registration order (core's literature first)
_BUILTIN_DIRS: list[Path] = [Path(__file__).resolve().parent / "data"]
#: package data directories known before any layer is imported (:func:`declare_data_dir`), so
#: that a fingerprint of the data files (a cache key) needs neither the layers nor pint
_DECLARED_DIRS: list[Path] = []
#: callbacks run once before the first load, so that every layer has registered its kinds
_FIRST_LOAD: list[Callable[[], None]] = []

_SCHEMA_RE = re.compile(r"^mlsysim\.(?P<kind>[a-z_]+)/(?P<version>\d+)$")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_extra_dirs: list[Path] = []
_generation = 0


def register_kind(
    kind: str, spec: Any, noun: str, data_dir: str | os.PathLike[str] | None = None
) -> Registry[Any]:
    """Register a kind of registry entry (``schema = "mlsysim.<kind>/1"``) and its package data.

    Called once by the layer that owns the kind (``mlsysim.hardware.registry`` registers
    ``hardware``); returns the :class:`Registry` through which entries are looked up.
    """
    known = _KINDS.get(kind)
    if known is not None and known.spec is not spec:
        raise MlsysimError(
            f"registry kind {kind!r} is already registered by {known.spec.__module__}",
            fix="give the new kind its own schema name",
        )
    _KINDS[kind] = _Kind(kind, spec, noun)
    d = None if data_dir is None else Path(data_dir).resolve()
    if d is not None and d not in _BUILTIN_DIRS:
        _BUILTIN_DIRS.append(d)
    if known is None and _CATALOG is not None and not _CATALOG.holds(kind, spec, noun, d):
        reset()  # a kind registered after a load: its files must be read
    return Registry(kind)


def on_first_load(callback: Callable[[], None]) -> None:
    """Run ``callback`` once before the catalog first loads (the package registers its layers)."""
    _FIRST_LOAD.append(callback)


def kinds() -> dict[str, str]:
    """Every registered kind and its noun (after the layers have registered theirs)."""
    _run_first_load()
    return {k.name: k.noun for k in _KINDS.values()}


def _run_first_load() -> None:
    while _FIRST_LOAD:
        _FIRST_LOAD.pop(0)()


def normalize(name: str) -> str:
    """Lookup key for ids and aliases: case-insensitive, spaces/hyphens/dots as underscores."""
    out: list[str] = []
    joined = False
    for ch in name.strip():
        if ch.isspace() or ch in "-./":
            if not joined:
                out.append("_")
                joined = True
            continue
        out.append(ch)
        joined = False
    return "".join(out).lower()


def _env_dirs() -> str:
    return os.environ.get("MLSYSIM_DATA_PATH", "")


def declare_data_dir(path: str | os.PathLike[str]) -> None:
    """Declare a package data directory before its layer registers it (the package does this
    for every layer), so :func:`data_dirs` with ``load=False`` lists it without imports."""
    d = Path(path).resolve()
    if d not in _DECLARED_DIRS:
        _DECLARED_DIRS.append(d)


def data_dirs(*, load: bool = True) -> list[Path]:
    """Directories searched for data files, in load order.

    ``load=False`` does not import the layers (nor pint): it gives the declared package
    directories with the user ones, the same set in an order of its own (for fingerprints).
    """
    if load:
        _run_first_load()
        builtin = _BUILTIN_DIRS
    else:
        builtin = [*_BUILTIN_DIRS, *(d for d in _DECLARED_DIRS if d not in _BUILTIN_DIRS)]
    env = [Path(p) for p in _env_dirs().split(os.pathsep) if p]
    dirs = [*builtin, *env, *_extra_dirs]
    if _SUBSTITUTES:
        dirs = [_SUBSTITUTES.get(d.resolve(), d) for d in dirs]
    return dirs + [d for d in _ADDED if d not in dirs]


#: data directories read in place of others, and extra ones (:func:`substituted_data`)
_SUBSTITUTES: dict[Path, Path] = {}
_ADDED: list[Path] = []


@contextlib.contextmanager
def substituted_data(
    substitutes: Mapping[Path, Path] | None = None, added: Iterable[Path] = ()
) -> Iterator[None]:
    """Load the data with some directories read from elsewhere (``{current: other}``) and
    ``added`` directories on top, until the block ends (``mlsysim impact`` evaluates a book
    against an older version of its data this way). Every cache follows: the registry
    generation moves on entering and on leaving."""
    saved = dict(_SUBSTITUTES), list(_ADDED)
    _SUBSTITUTES.update({Path(k).resolve(): Path(v) for k, v in (substitutes or {}).items()})
    _ADDED.extend(Path(a) for a in added)
    reset()
    try:
        yield
    finally:
        _SUBSTITUTES.clear()
        _SUBSTITUTES.update(saved[0])
        _ADDED[:] = saved[1]
        reset()


def add_data_dir(path: str | os.PathLike[str]) -> None:
    """Add a directory of user data files (a custom ASIC, a new model…) and reload."""
    p = Path(path).expanduser().resolve()
    if not p.is_dir():
        raise MlsysimError(
            f"data directory {str(p)!r} does not exist",
            fix="pass a directory that holds *.toml registry files",
        )
    if p not in _extra_dirs:
        _extra_dirs.append(p)
    reset()


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
    if _CATALOG is not None and _CATALOG.env != _env_dirs():
        reset()
    return _generation


class _Catalog:
    """Every entry of every kind, plus the citations, loaded and cross-checked together."""

    def __init__(self) -> None:
        self.env = _env_dirs()
        self.generation = _generation
        self.from_snapshot = False  # True when unpickled from mlsysim.core.snapshot
        self.entries: dict[str, Mapping[str, Any]] = {kind: {} for kind in _KINDS}
        # kinds holding entries (every kind but the citation-only "sources")
        self.index: dict[str, dict[str, str]] = {kind: {} for kind in _KINDS}
        self.files: dict[str, dict[str, Path]] = {kind: {} for kind in _KINDS}
        self.sources: Mapping[str, Any] = {}
        self.paths: list[Path] = []
        dirs = data_dirs()
        #: what it was built from, checked before a snapshot of it is used (:meth:`matches`):
        #: the data directories, each kind's spec class and noun, the spec modules' sources
        self.dirs = frozenset(str(d) for d in dirs)
        self.kind_specs = {k.name: _spec_name(k) for k in _KINDS.values()}
        self.code = snapshot_code(k.spec for k in _KINDS.values())
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
        state["entries"] = {kind: _Lazy.of(entries) for kind, entries in self.entries.items()}
        state["sources"] = _Lazy.of(self.sources)
        return state

    def matches(self, dirs: Iterable[Path]) -> bool:
        """Whether this (unpickled) catalog was built from what this process would load:
        the same data directories, every kind registered so far as it was, and the same
        source of every spec module (the data files themselves are in the snapshot's key)."""
        if self.dirs != frozenset(str(d) for d in dirs) or set(self.entries) != set(
            self.kind_specs
        ):
            return False
        if any(self.kind_specs.get(k.name) != _spec_name(k) for k in _KINDS.values()):
            return False
        return all(_file_digest(Path(path)) == digest for path, digest in self.code.items())

    def holds(self, kind: str, spec: Any, noun: str, data_dir: Path | None) -> bool:
        """Whether a kind registered now (a layer imported after the load) is one of these."""
        expected = self.kind_specs.get(kind)
        if expected != _spec_name(_Kind(kind, spec, noun)):
            return False
        return data_dir is None or str(data_dir) in self.dirs

    # -- loading ------------------------------------------------------------------------
    def _load_file(self, path: Path) -> None:
        from mlsysim.core.types import Citation

        self.paths.append(path)
        doc = _read_toml(path)
        schema = doc.pop("schema", None)
        m = _SCHEMA_RE.match(schema or "")
        if not m or m["kind"] not in _KINDS:
            raise RegistryDataError(
                f"missing or unknown schema {schema!r}",
                file=str(path),
                fix='start the file with schema = "mlsysim.<kind>/1", kind one of '
                + ", ".join(_KINDS),
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
                    why=_first_line(exc),
                    fix="give title, year and authors or publisher",
                ) from None
        if kind == "sources":
            return
        cls = _KINDS[kind].spec
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
                    f"{_KINDS[kind].noun} {eid!r} is defined twice",
                    file=str(path),
                    entry=eid,
                    why=f"it is already defined in {self.files[kind][eid]}",
                    fix="choose a new id (registry ids are stable and never redefined)",
                )
            spec = self._build(cls, kind, eid, raw, path)
            _check_numbers(spec, "", path, eid)
            entries[eid] = spec
            self.files[kind][eid] = path

    def _build(self, cls: Any, kind: str, eid: str, raw: dict[str, Any], path: Path) -> Any:
        from pydantic import ValidationError

        provenance: dict[str, dict[str, Any]] = {}
        data = _strip_provenance(raw, "", provenance)
        data.setdefault("name", eid)
        try:
            return cls(id=eid, provenance=provenance, **data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            ctx_err = (err.get("ctx") or {}).get("error")
            why = str(ctx_err) if ctx_err is not None else err["msg"]
            raise RegistryDataError(
                f"invalid {_KINDS[kind].noun} entry",
                file=str(path),
                entry=eid,
                field=field,
                why=why,
                fix=_fix_for(err),
            ) from None
        except MlsysimError as exc:
            raise RegistryDataError(
                f"invalid {_KINDS[kind].noun} entry", file=str(path), entry=eid, why=str(exc)
            ) from None

    def _cross_check(self) -> None:
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
                    if _has_field(spec, field) and spec.as_of_of(field) is None:
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


#: Deepest nesting of tables and arrays read from a data file.
_MAX_TOML_DEPTH = 32


def _read_toml(path: Path) -> dict[str, Any]:
    """A data file's TOML document; RegistryDataError naming the file for any problem."""
    import tomllib  # only when data files load: keeps `import mlsysim` light

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegistryDataError(
            "cannot read the data file", file=str(path), why=exc.strerror or str(exc)
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise RegistryDataError(
            "data file is not UTF-8 text",
            file=f"{path}:{line}",
            why=f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not UTF-8",
            fix="save the file as UTF-8",
        ) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryDataError(
            "data file is not valid TOML",
            file=str(path),
            why=str(exc),
            fix="fix the TOML syntax at the position given",
        ) from None
    except (RecursionError, MemoryError):
        raise RegistryDataError(
            "data file is nested too deeply", file=str(path), fix="flatten its tables and arrays"
        ) from None
    if _depth(doc) > _MAX_TOML_DEPTH:
        raise RegistryDataError(
            "data file is nested too deeply",
            file=str(path),
            why=f"the limit is {_MAX_TOML_DEPTH} levels of tables and arrays",
            fix="flatten its tables and arrays",
        )
    return doc


def _depth(value: Any) -> int:
    """Nesting depth of tables and arrays (iterative: a hostile file cannot overflow it)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level <= _MAX_TOML_DEPTH:
            stack.extend((child, level + 1) for child in children)
    return deepest


def _check_numbers(obj: Any, prefix: str, path: Path, eid: str) -> None:
    """Refuse NaN, infinite and negative plain numbers anywhere in a built entry.

    Quantity fields are checked by their validators (which also refuse zero rates); plain
    numbers (counts, fractions, years) are checked here, with the dotted field path named.
    """
    from pydantic import BaseModel

    from mlsysim.core.types import check_figure

    stack: list[tuple[str, Any]] = [(prefix, obj)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, BaseModel):
            fields = type(value).model_fields
            stack.extend(
                (f"{where}.{n}" if where else n, getattr(value, n))
                for n in fields
                if n not in ("provenance", "as_of")
            )
        elif isinstance(value, dict):
            stack.extend((f"{where}.{k}", v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            try:
                check_figure(value, where.rpartition(".")[2] or where)
            except ValueError as exc:
                raise RegistryDataError(
                    "invalid data figure",
                    file=str(path),
                    entry=eid,
                    field=where,
                    why=str(exc),
                    fix="write the figure the source gives (finite and not negative)",
                ) from None


def _has_field(spec: Any, dotted: str) -> bool:
    obj = spec
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return True


def _strip_provenance(
    raw: dict[str, Any], prefix: str, out: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Replace ``{value=…, source=…, as_of=…}`` inline tables by their value, recording the rest."""
    data: dict[str, Any] = {}
    for key, val in raw.items():
        path = f"{prefix}{key}"
        if isinstance(val, dict) and "value" in val and set(val) <= {"value", "source", "as_of"}:
            if "source" in val or "as_of" in val:
                out[path] = {
                    "source": val.get("source") or raw.get("source") or "",
                    "as_of": val.get("as_of"),
                }
            data[key] = val["value"]
        elif isinstance(val, dict) and key not in ("provenance",):
            data[key] = _strip_provenance(val, path + ".", out)
        else:
            data[key] = val
    if prefix == "":
        for fs in out.values():
            if not fs["source"]:
                fs["source"] = raw.get("source", "")
    return data


def _fix_for(err: Any) -> str:
    t = err.get("type", "")
    if t == "missing":
        return "add the field"
    if t == "extra_forbidden":
        return "remove the field or check its spelling against docs/registry-grammar.md"
    return "write the value with a unit of the expected dimension, e.g. '3.35 TB/s'"


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


_CATALOG: _Catalog | None = None


def catalog() -> _Catalog:
    """The loaded catalog (loads every data file on first call, and again after a change of
    ``MLSYSIM_DATA_PATH`` or :func:`add_data_dir`)."""
    global _CATALOG
    cat = _CATALOG
    if cat is None or cat.env != _env_dirs():
        if cat is not None:
            reset()
        cat = _CATALOG = _snapshot_or_build()
    return cat


def _snapshot_or_build() -> _Catalog:
    """The catalog from a snapshot of the same data and code (:mod:`mlsysim.core.snapshot`),
    else built, validated and stored for the next process.

    A snapshot is found before any layer is imported: its key hashes the data files of the
    declared directories and the spec modules registered so far, and the snapshot itself
    says which kinds, directories and spec-module sources it was built from
    (:meth:`_Catalog.matches`). The layers register (are imported) only to build afresh, or
    when an entry of theirs is first read.
    """
    from mlsysim.core import snapshot

    dirs = data_dirs(load=False)
    files = [f for d in dirs if d.is_dir() for f in sorted(d.rglob("*.toml"))]
    modules = [k.spec.__module__ for k in _KINDS.values() if k.spec is not None]
    key = snapshot.snapshot_key(files, modules)
    cat = snapshot.load(key)
    if isinstance(cat, _Catalog) and cat.matches(dirs):
        cat.env = _env_dirs()
        cat.generation = _generation
        cat.from_snapshot = True
        return cat
    _run_first_load()
    cat = _Catalog()
    snapshot.save(key, cat)
    return cat


def _spec_name(kind: _Kind) -> tuple[str, str, str]:
    """A kind as a snapshot records it: its spec class's module and name, and its noun."""
    spec = kind.spec
    if spec is None:
        return ("", "", kind.noun)
    return (spec.__module__, spec.__qualname__, kind.noun)


def snapshot_code(specs: Iterable[Any]) -> dict[str, str]:
    """Digest of the source file of every spec class's module (a snapshot is used only while
    these are unchanged)."""
    import sys

    out: dict[str, str] = {}
    for spec in specs:
        module = sys.modules.get(getattr(spec, "__module__", ""), None)
        file = getattr(module, "__file__", None)
        if file:
            out[file] = _file_digest(Path(file))
    return out


def _file_digest(path: Path) -> str:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "<unreadable>"


class _Lazy(Mapping[str, Any]):
    """A mapping unpickled on first use of a value (its keys are known without that)."""

    def __init__(self, keys: tuple[str, ...], blob: bytes) -> None:
        self._keys = keys
        self._known = frozenset(keys)
        self._blob: bytes | None = blob
        self._data: dict[str, Any] | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> _Lazy:
        import pickle

        if isinstance(data, _Lazy):
            return data
        return cls(tuple(data), pickle.dumps(dict(data), protocol=pickle.HIGHEST_PROTOCOL))

    def _values(self) -> dict[str, Any]:
        data = self._data
        if data is None:
            import pickle

            try:
                data = pickle.loads(self._blob or b"")
            except Exception as exc:  # a snapshot that no longer matches its code
                raise MlsysimError(
                    "the registry snapshot cannot be read",
                    why=f"{type(exc).__name__}: {exc}",
                    fix="delete mlsysim's cache directory (see MLSYSIM_CACHE_HOME) and retry",
                ) from None
            self._data, self._blob = data, None
        return data

    def __getitem__(self, key: str) -> Any:
        if key not in self._known:
            raise KeyError(key)
        return self._values()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __reduce__(self) -> Any:
        if self._data is not None:
            return (_Lazy.of, (self._data,))
        return (_Lazy, (self._keys, self._blob))


class _UnknownEntry(UnknownNameError, AttributeError):  # type: ignore[misc]
    """Unknown registry id, raised from attribute access (so ``hasattr`` still works)."""


class Registry(Generic[T]):
    """One kind of registry entry: ``Hardware.H100``, ``Hardware["H100 SXM"]``, iteration."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    @property
    def _noun(self) -> str:
        _run_first_load()
        known = _KINDS.get(self._kind)
        if known is None:
            raise KeyError(f"no registry kind {self._kind!r}; kinds: {', '.join(_KINDS)}")
        return known.noun

    def _entries(self) -> Mapping[str, T]:
        entries = catalog().entries.get(self._kind)
        if entries is None:
            raise KeyError(f"no registry kind {self._kind!r}; kinds: {', '.join(_KINDS)}")
        return entries

    def resolve(self, name: str) -> str:
        """The canonical id for an id or alias, or an UnknownNameError with suggestions."""
        cat = catalog()
        eid = cat.index[self._kind].get(normalize(name))
        if eid is None:
            ids = list(cat.entries[self._kind])
            if suggest(name, ids):
                raise _UnknownEntry(self._noun, name, ids)
            aliases = [a for s in cat.entries[self._kind].values() for a in s.aliases]
            raise _UnknownEntry(self._noun, name, aliases)
        return eid

    def __getitem__(self, name: str) -> T:
        if not isinstance(name, str):
            raise TypeError(f"{self._noun} names are strings, got {type(name).__name__}")
        return self._entries()[self.resolve(name)]

    def __getattr__(self, name: str) -> T:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def get(self, name: str, default: Any = None) -> T | Any:
        """The entry for ``name``, or ``default`` when there is none."""
        try:
            return self[name]
        except UnknownNameError:
            return default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize(name) in catalog().index[self._kind]

    def __iter__(self) -> Iterator[T]:
        return iter(self._entries().values())

    def __len__(self) -> int:
        return len(self._entries())

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._entries()]

    def ids(self) -> list[str]:
        """Every canonical id, in load order."""
        return list(self._entries())

    def list(self, **filters: Any) -> list[T]:
        """Entries whose attributes equal every ``filters`` value, e.g. ``list(kind="gpu")``."""
        out = []
        for spec in self._entries().values():
            if all(getattr(spec, k, None) == v for k, v in filters.items()):
                out.append(spec)
        return out

    def file_of(self, name: str) -> Path:
        """The data file an entry was loaded from (for dependency tracking)."""
        return catalog().files[self._kind][self.resolve(name)]

    def __repr__(self) -> str:
        return f"<Registry {self._noun}>"
