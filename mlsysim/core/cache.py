"""Caches derived from registry entries, emptied when the registry generation changes.

A solve converts each spec it meets (a device's peak rates, a model's architecture) into plain
floats once and keeps them in a :class:`DerivedCache`. Entries are keyed by the spec object's
identity and hold the object itself, so a hit can only answer for the very spec it was filled
from — a spec reloaded from the data files is a new object and misses. Every fill
(:meth:`DerivedCache.put`) first calls :func:`refresh`, which compares the registry generation
(:func:`mlsysim.core.registry.generation`: bumped by ``add_data_dir``, ``reset`` and a changed
``MLSYSIM_DATA_PATH``) with the one the caches were filled under and empties every derived
cache when it moved, so entries of an older generation never outlive it. A hit costs one dict
lookup; the generation is read only when something new is derived. Inside :func:`held` (one
evaluation, such as a sweep's chunk) it is read once, on entry, not at every fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlsysim.core.registry import generation

__all__ = ["DerivedCache", "clear_all", "held", "refresh"]

_CACHES: list[DerivedCache] = []
_seen = -1
_held = 0  # open held() blocks: fills skip the generation check


class DerivedCache(dict[Any, Any]):
    """A dict of values derived from registry data (cleared by :func:`refresh`)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        _CACHES.append(self)

    def put(self, key: Any, value: Any) -> None:
        """Store ``value`` under ``key``, after emptying every cache of an older generation."""
        if not _held:
            refresh()
        self[key] = value


def refresh() -> int:
    """Empty every derived cache if the registry generation changed; return the generation."""
    global _seen
    g = generation()
    if g != _seen:
        for cache in _CACHES:
            cache.clear()
        _seen = g
    return g


@contextmanager
def held() -> Iterator[None]:
    """Check the registry generation once, now, and not at each fill until the block ends:
    for one evaluation (a sweep's chunk), during which the data cannot change. Code that
    may change it (``add_data_dir``, ``MLSYSIM_DATA_PATH``) runs outside the block."""
    global _held
    refresh()
    _held += 1
    try:
        yield
    finally:
        _held -= 1


def clear_all() -> None:
    """Empty every derived cache now (they refill on the next solve)."""
    for cache in _CACHES:
        cache.clear()
