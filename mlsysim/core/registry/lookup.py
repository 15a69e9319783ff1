"""Registering a kind, and looking its entries up by id or alias.

``register_kind(kind, Spec, noun, data_dir)`` is how a layer adds a kind of registry entry
(``mlsysim.hardware.registry`` registers ``hardware``); the :class:`Registry` it returns is
how everyone reads that kind: ``Hardware.H100``, ``Hardware["H100 SXM"]``, iteration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from mlsysim.core.exceptions import UnknownNameError, suggest
from mlsysim.core.registry.dirs import add_package_dir
from mlsysim.core.registry.kinds import KINDS, add_kind, normalize, run_first_load
from mlsysim.core.registry.load import catalog, loaded, reset

__all__ = ["Registry", "register_kind"]

T = TypeVar("T")


def register_kind(
    kind: str, spec: Any, noun: str, data_dir: str | os.PathLike[str] | None = None
) -> Registry[Any]:
    """Register a kind of registry entry (``schema = "mlsysim.<kind>/1"``) and its package data.

    Called once by the layer that owns the kind (``mlsysim.hardware.registry`` registers
    ``hardware``); returns the :class:`Registry` through which entries are looked up.
    """
    known = add_kind(kind, spec, noun)
    d = None if data_dir is None else Path(data_dir).resolve()
    if d is not None:
        add_package_dir(d)
    cat = loaded()
    if known is None and cat is not None and not cat.holds(kind, spec, noun, d):
        reset()  # a kind registered after a load: its files must be read
    return Registry(kind)


class _UnknownEntry(UnknownNameError, AttributeError):  # type: ignore[misc]
    """Unknown registry id, raised from attribute access (so ``hasattr`` still works)."""


class Registry(Generic[T]):
    """One kind of registry entry: ``Hardware.H100``, ``Hardware["H100 SXM"]``, iteration."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    @property
    def _noun(self) -> str:
        run_first_load()
        known = KINDS.get(self._kind)
        if known is None:
            raise KeyError(f"no registry kind {self._kind!r}; kinds: {', '.join(KINDS)}")
        return known.noun

    def _entries(self) -> Mapping[str, T]:
        entries = catalog().entries.get(self._kind)
        if entries is None:
            raise KeyError(f"no registry kind {self._kind!r}; kinds: {', '.join(KINDS)}")
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
