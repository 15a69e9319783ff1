"""A sweep and the cycle collector: paused inside, nothing left for it to examine after, no
reference cycle made, and the caller's own collector settings and frozen objects kept."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

import mlsysim
from mlsysim.core.cache import clear_all

_CLUSTER: dict[str, Any] = {
    "model": "Llama2_70B",
    "system": "DGX_A100",
    "phase": "training",
    "devices": 64,
    "tp": [1, 2, 4],
    "pp": [1, 2],
    "zero": [0, 3],
    "recompute": ["selective", "full"],
    "batch": [256, 512],
    "seq_len": 4096,
}


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of each collection that starts while the test runs."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)


def test_a_fresh_sweep_leaves_the_collector_nothing_to_examine(
    collections: list[int],
) -> None:
    mlsysim.sweep(**_CLUSTER)
    clear_all()  # fresh: every cache entry is made again (they survive the sweep)
    gc.collect()
    collections.clear()
    mlsysim.sweep(**_CLUSTER)
    # one collection of the young generations on entry (the caller's objects) and none of
    # the older generations during the sweep (a youngest-generation pass from the caches the
    # sweep fills as it leaves may follow, depending on what the suite ran before)
    assert collections[:1] == [1] and set(collections[1:]) <= {0}
    assert gc.get_count()[0] < gc.get_threshold()[0] // 2
    assert gc.isenabled()


def test_a_sweep_makes_no_reference_cycles() -> None:
    mlsysim.sweep(**_CLUSTER)
    gc.collect()
    for _ in range(3):
        clear_all()
        mlsysim.sweep(**_CLUSTER)
        mlsysim.sweep(**_CLUSTER, chunk=7)  # a chunk's edges, one structure at a time
    clear_all()
    assert gc.collect() == 0  # nothing unreachable: reference counting freed it all


def test_the_callers_collector_settings_are_kept(collections: list[int]) -> None:
    gc.disable()
    try:
        mlsysim.sweep(**_CLUSTER)
        assert not gc.isenabled()
        assert collections == []  # a disabled collector is not run either
    finally:
        gc.enable()
    mine: list[list[int]] = [[1]]
    gc.freeze()  # objects the caller froze (e.g. before forking) stay frozen
    try:
        assert not any(o is mine for o in gc.get_objects())  # (frozen: in no generation)
        mlsysim.sweep(**_CLUSTER)
        assert gc.get_freeze_count() > 0
        assert not any(o is mine for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is mine for o in gc.get_objects())
