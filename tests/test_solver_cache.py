"""One cache discipline: derived caches follow the registry generation.

Entries added with ``add_data_dir()`` after a solve are seen by the next solve, a changed
``MLSYSIM_DATA_PATH`` is seen, and no derived cache keeps facts of an older generation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mlsysim
from mlsysim import solve
from mlsysim.core import cache, registry
from mlsysim.hardware import facts as hardware_facts
from mlsysim.workload.lowering import facts as model_facts

ASIC = """
schema = "mlsysim.hardware/1"

[sources.cachetest_spec]
title = "Cache-test accelerator specification"
publisher = "Example Silicon Ltd."
year = 2025

[CacheASIC]
name = "Cache-test accelerator"
kind = "accelerator"
vendor = "Example Silicon"
source = "cachetest_spec"
tdp = "300 W"

[CacheASIC.peak.dense]
bf16 = "400 TFLOP/s"

[CacheASIC.memory]
type = "HBM3"
capacity = "96 GB"
bandwidth = "{bandwidth}"
"""


def _data_dir(tmp_path: Path, name: str, bandwidth: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "asic.toml").write_text(ASIC.format(bandwidth=bandwidth), encoding="utf-8")
    return d


def _decode(hw: str) -> float:
    return solve("Llama2_7B", hw, phase="decode", seq_len=512).latency_bound_s


def test_add_data_dir_after_a_solve_is_seen_by_the_next(
    clean_registry: None, tmp_path: Path
) -> None:
    before = _decode("A100")
    with pytest.raises(mlsysim.UnknownNameError):
        _decode("CacheASIC")
    mlsysim.add_data_dir(_data_dir(tmp_path, "one", "2 TB/s"))
    fast = _decode("CacheASIC")
    assert fast > 0
    assert _decode("A100") == before  # package entries unchanged after the reload


def test_changed_data_path_is_seen(
    clean_registry: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSYSIM_DATA_PATH", str(_data_dir(tmp_path, "slow", "1 TB/s")))
    slow = _decode("CacheASIC")
    monkeypatch.setenv("MLSYSIM_DATA_PATH", str(_data_dir(tmp_path, "fast", "2 TB/s")))
    fast = _decode("CacheASIC")
    # decode is bound by the weights streamed from memory: twice the bandwidth, half the time
    assert fast == pytest.approx(slow / 2, rel=0.01)
    monkeypatch.delenv("MLSYSIM_DATA_PATH")
    with pytest.raises(mlsysim.UnknownNameError):
        _decode("CacheASIC")


def test_derived_caches_hold_only_the_current_generation(
    clean_registry: None, tmp_path: Path
) -> None:
    _decode("A100")
    old_hw, old_model = mlsysim.Hardware.A100, mlsysim.Models.Llama2_7B
    assert any(entry[0] is old_hw for entry in hardware_facts._DEVICES.values())
    generation = registry.generation()
    mlsysim.add_data_dir(_data_dir(tmp_path, "again", "2 TB/s"))
    assert registry.generation() > generation
    _decode("A100")
    new_hw = mlsysim.Hardware.A100
    assert new_hw is not old_hw  # the reload built new spec objects
    for derived in (hardware_facts._DEVICES, model_facts._FACTS):
        held = [entry[0] for entry in derived.values()]
        assert all(spec is not old_hw and spec is not old_model for spec in held)
    assert any(entry[0] is new_hw for entry in hardware_facts._DEVICES.values())
    assert cache.refresh() == registry.generation()


def test_every_model_side_cache_is_generation_aware() -> None:
    import mlsysim.solvers.single_node.solver as single_node
    import mlsysim.workload.lowering.cnn as cnn

    for derived in (
        hardware_facts._DEVICES,
        model_facts._FACTS,
        cnn._LAYERS,
        single_node._PLANS,
        single_node._RESOLVED,
    ):
        assert isinstance(derived, cache.DerivedCache)
        derived.put("probe", 1)
    registry.reset()
    cache.refresh()
    assert "probe" not in single_node._PLANS and "probe" not in cnn._LAYERS


def test_a_sweep_chunk_reads_the_generation_once_and_sees_a_change_between_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inside :func:`cache.held` (one sweep chunk) fills skip the generation check, made
    once on entry: so a registry change before a chunk still empties every derived cache,
    and a fresh cluster sweep's hundreds of fills read the generation once per chunk."""
    probe = cache.DerivedCache("test.held")
    probe.put("old", 1)
    registry.reset()  # a new generation: the next check empties every cache
    with cache.held():
        assert "old" not in probe
        probe.put("new", 2)
        registry.reset()  # (nothing inside a chunk does this: a fill does not look)
        probe.put("newer", 3)
        assert probe == {"new": 2, "newer": 3}
    probe.put("after", 4)  # outside: checked again
    assert probe == {"after": 4}

    reads: list[int] = []
    puts: list[int] = []
    real_generation, real_put = cache.generation, cache.DerivedCache.put
    monkeypatch.setattr(cache, "generation", lambda: reads.append(1) or real_generation())
    monkeypatch.setattr(
        cache.DerivedCache, "put", lambda self, k, v: puts.append(1) or real_put(self, k, v)
    )
    cache.clear_all()
    grid = {"tp": [1, 2, 4], "pp": [1, 2], "zero": [0, 3], "batch": [64, 128]}
    s = mlsysim.sweep("Llama2_7B", "DGX_A100", phase="training", devices=32, **grid)
    assert len(s) == 24 and len(puts) > 20
    once = len(reads)  # the chunk's check, and the set-up's before it
    assert once <= 2
    cache.clear_all()
    reads.clear()
    mlsysim.sweep("Llama2_7B", "DGX_A100", phase="training", devices=32, chunk=8, **grid)
    assert len(reads) == once + 2  # three chunks: one check each
