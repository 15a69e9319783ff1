"""Shared test scaffolding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlsysim.core import cache, registry


@pytest.fixture(autouse=True)
def fresh_derived_caches() -> None:
    """Every test derives device and model facts itself, so none depends on an earlier test
    having filled (or a faulty derivation having poisoned) the generation-aware caches."""
    cache.clear_all()


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start and end with only the package's data (no user dirs, no cached catalog)."""
    monkeypatch.delenv("MLSYSIM_DATA_PATH", raising=False)
    saved = list(registry._extra_dirs)
    registry._extra_dirs.clear()
    registry.reset()
    yield
    registry._extra_dirs[:] = saved
    registry.reset()
