"""The catalog as a snapshot stores it: entries unpickled on first use, code digests.

A :class:`~mlsysim.core.registry.load.Catalog` pickles each kind's entries and the citations
as separate blobs (:class:`LazyMapping`), so that a process reading only hardware never
imports the other layers' spec classes (nor pydantic, when it reads no entry at all); and it
records the digest of every spec module's source (:func:`snapshot_code`), so that a
snapshot is used only while that code is unchanged (:mod:`mlsysim.core.snapshot` stores it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlsysim.core.exceptions import MlsysimError

__all__ = ["LazyMapping", "file_digest", "snapshot_code"]


def snapshot_code(specs: Iterable[Any]) -> dict[str, str]:
    """Digest of the source file of every spec class's module (a snapshot is used only while
    these are unchanged)."""
    import sys

    out: dict[str, str] = {}
    for spec in specs:
        module = sys.modules.get(getattr(spec, "__module__", ""), None)
        file = getattr(module, "__file__", None)
        if file:
            out[file] = file_digest(Path(file))
    return out


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes (``"<unreadable>"`` when it cannot be read)."""
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "<unreadable>"


class LazyMapping(Mapping[str, Any]):
    """A mapping unpickled on first use of a value (its keys are known without that)."""

    def __init__(self, keys: tuple[str, ...], blob: bytes) -> None:
        self._keys = keys
        self._known = frozenset(keys)
        self._blob: bytes | None = blob
        self._data: dict[str, Any] | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> LazyMapping:
        import pickle

        if isinstance(data, LazyMapping):
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
            return (LazyMapping.of, (self._data,))
        return (LazyMapping, (self._keys, self._blob))
