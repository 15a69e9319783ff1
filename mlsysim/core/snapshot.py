"""A prebuilt registry catalog, stored per state of the data files and of the code that reads them.

Loading the registries reads and validates every data file (TOML parse, pydantic validation,
cross-checks: about 0.1 s), which every Sphinx build and every project check would pay again.
Once a catalog has been built, it is pickled into the user's cache directory under a key that
hashes everything it was built from: every data file (path and bytes, in load order), the
source of every module that defines or reads its entries (spec classes, units, the loader) and
the Python, pint and pydantic installations. The next process with the same key unpickles it
(a few ms) instead; any other state builds and validates afresh, so an edited, added or
switched data file is always read. Each kind's entries are unpickled when first read, so a
process that reads no entry of a layer never imports that layer (nor pydantic, if it reads
none); the snapshot records the sources of the spec modules it holds and is used only while
they are unchanged.

Location: ``MLSYSIM_CACHE_HOME``, else ``$XDG_CACHE_HOME/mlsysim``, else ``~/.cache/mlsysim``;
``MLSYSIM_CACHE_HOME=off`` turns snapshots off. A snapshot that cannot be read is rebuilt.
pint's own cache of the parsed unit definitions (``units.txt``) lives there too (``pint/``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pickle
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "cache_home",
    "code_key",
    "load",
    "prune",
    "read_pickle",
    "save",
    "snapshot_key",
    "write_pickle",
]

_VERSION = b"mlsysim.registry-snapshot/2"  # 2: entries unpickled per kind, on first use
#: the libraries whose classes a snapshot holds (quantities, validated models)
_LIBRARIES = ("pint", "pydantic", "pydantic_core")
#: snapshots kept (one per checkout, data state and library set: a machine with several
#: environments must not evict each other's at every run)
_KEEP = 16
#: the code that reads data files into entries, besides the registry package's own modules
_CORE_FILES = (
    "types.py",
    "units.py",
    "unit_registry.py",
    "unit_text.py",
    "units.txt",
    "snapshot.py",
)


def cache_home() -> Path | None:
    """mlsysim's cache directory for prebuilt data (None when turned off)."""
    raw = os.environ.get("MLSYSIM_CACHE_HOME")
    if raw is not None:
        return None if raw.strip().lower() in ("", "0", "off", "none", "false") else Path(raw)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "mlsysim"


def snapshot_key(data_files: Iterable[Path], spec_modules: Iterable[str]) -> str:
    """Hash of the data files, the code that builds entries from them and the libraries.

    ``spec_modules`` are those imported already (the others' sources are checked when the
    snapshot is read: ``mlsysim.core.registry``). The libraries are named by their installed
    files (path, size and modification time, as bytecode caches do): neither is imported.
    """
    h = hashlib.sha256(_VERSION)
    h.update(sys.version.encode())
    for library in _LIBRARIES:
        h.update(b"\0" + _installed(library).encode())
    here = Path(__file__).resolve().parent
    sources = [*sorted((here / "registry").glob("*.py")), *(here / n for n in _CORE_FILES)]
    for name in sorted(set(spec_modules)):
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file:
            sources.append(Path(file))
    for path in [*sources, *data_files]:
        h.update(b"\0" + str(path).encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<unreadable>")
    return h.hexdigest()[:40]


#: what a cached result of the engine depends on besides its input: mlsysim's files
_CODE_SUFFIXES = (".py", ".txt", ".toml", ".json", ".lua", ".css", ".mplstyle", ".bib")
_CODE_KEYS: dict[tuple[str, ...], str] = {}


def code_key(*extra_dirs: str | os.PathLike[str]) -> str:
    """A fingerprint of the code that computes a cached result, without importing any of it:
    every file of the mlsysim package (and of ``extra_dirs``, e.g. a host's extension) by
    path, size and modification time, as bytecode caches name their sources; the Python,
    pint and pydantic installations (:func:`snapshot_key`'s libraries). Computed once per
    process and set of directories (the code does not change while it runs)."""
    dirs = (str(Path(__file__).resolve().parents[1]), *map(str, extra_dirs))
    key = _CODE_KEYS.get(dirs)
    if key is not None:
        return key
    h = hashlib.sha256(_VERSION + b"|code")
    h.update(sys.version.encode())
    for library in _LIBRARIES:
        h.update(b"\0" + _installed(library).encode())
    for folder in dirs:
        for root, subdirs, files in os.walk(folder):
            subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(_CODE_SUFFIXES):
                    path = os.path.join(root, name)
                    with contextlib.suppress(OSError):
                        st = os.stat(path)
                        h.update(f"\0{path}:{st.st_size}:{st.st_mtime_ns}".encode())
    key = _CODE_KEYS[dirs] = h.hexdigest()[:40]
    return key


def _installed(name: str) -> str:
    """An installed library's identity without importing it: its files' paths, sizes and
    modification times (an upgrade rewrites them)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        return f"{name}: not installed"
    folder = Path(spec.origin).parent
    parts = [name]
    for file in (Path(spec.origin), folder / "version.py", folder / "_version.py"):
        with contextlib.suppress(OSError):
            st = file.stat()
            parts.append(f"{file}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def read_pickle(path: Path) -> Any | None:
    """The object pickled at ``path``, or None: missing or unreadable, or a file that does
    not unpickle (truncated, corrupt, of another build), which is removed so it is stored
    afresh."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        return pickle.loads(data)
    except Exception:
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def write_pickle(path: Path, obj: Any, *, keep: int | None, kind: str) -> None:
    """Pickle ``obj`` to ``path`` atomically (a private temporary file, then a rename), and
    keep only the ``keep`` most recent files of ``path``'s folder matching the glob ``kind``
    (None: keep all; a writer of many files prunes once, :func:`prune`).
    An unwritable cache only costs speed: nothing is raised."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        tmp = folder / f"{path.stem}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        tmp.replace(path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return
    if keep is not None:
        prune(folder, kind, keep)


def prune(folder: Path, kind: str, keep: int) -> None:
    """Delete all but the ``keep`` most recent files of ``folder`` matching the glob ``kind``
    (what cannot be listed or deleted stays)."""
    try:
        old = sorted(folder.glob(kind), key=lambda p: p.stat().st_mtime)
        for stale in old[: max(len(old) - keep, 0)]:
            stale.unlink()
    except OSError:
        pass


def load(key: str) -> Any | None:
    """The catalog stored under ``key``, or None."""
    home = cache_home()
    return None if home is None else read_pickle(home / f"registry-{key}.pickle")


def save(key: str, catalog: Any) -> None:
    """Store ``catalog`` under ``key`` (keeping the few most recent snapshots)."""
    home = cache_home()
    if home is not None:
        write_pickle(home / f"registry-{key}.pickle", catalog, keep=_KEEP, kind="registry-*.pickle")
