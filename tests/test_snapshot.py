"""The prebuilt registry snapshot (mlsysim.core.snapshot): a second process loads the catalog
the first one built and validated, and any change to the data it was built from (an edited,
added or switched data file) builds and validates afresh; a corrupt snapshot is rebuilt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

_PROBE = """
from mlsysim.core.registry import catalog
cat = catalog()
hw = cat.entries["hardware"]["H100"]
print(cat.from_snapshot, hw.memory.bandwidth, len(cat.entries["hardware"]))
"""


def _probe(home: Path, data: Path | None = None) -> list[str]:
    env = {**os.environ, "MLSYSIM_CACHE_HOME": str(home)}
    env.pop("MLSYSIM_DATA_PATH", None)
    if data is not None:
        env["MLSYSIM_DATA_PATH"] = str(data)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


ASIC = """schema = "mlsysim.hardware/1"

[sources.my_asic]
title = "Our ASIC"
publisher = "Us"
year = 2026

[MyASIC]
name = "My ASIC"
source = "my_asic"
kind = "accelerator"
vendor = "Us"
release_year = 2026
form_factor = "card"
tdp = "{tdp} W"
memory = {{ type = "HBM3", capacity = "64 GB", bandwidth = "2 TB/s" }}
peak = {{ dense = {{ bf16 = "400 TFLOP/s" }} }}
"""


def test_a_second_process_loads_the_snapshot(tmp_path: Path) -> None:
    first = _probe(tmp_path)
    second = _probe(tmp_path)
    assert first[0] == "False" and second[0] == "True"
    assert first[1:] == second[1:]
    assert list(tmp_path.glob("registry-*.pickle"))


def test_changed_data_is_read_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    base = _probe(tmp_path / "home")
    (data / "asic.toml").write_text(ASIC.format(tdp=300))
    added = _probe(tmp_path / "home", data)
    assert added[0] == "False" and int(added[-1]) == int(base[-1]) + 1
    assert _probe(tmp_path / "home", data)[0] == "True"
    (data / "asic.toml").write_text(ASIC.format(tdp=350))  # same size, other bytes
    assert _probe(tmp_path / "home", data)[0] == "False"


def test_a_corrupt_snapshot_is_rebuilt_and_off_means_off(tmp_path: Path) -> None:
    _probe(tmp_path)
    (snap,) = tmp_path.glob("registry-*.pickle")
    snap.write_bytes(b"not a pickle")
    assert _probe(tmp_path)[0] == "False"
    assert _probe(tmp_path)[0] == "True"
    env = {**os.environ, "MLSYSIM_CACHE_HOME": "off"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[0] == "False"


@pytest.mark.parametrize("name", ["Hardware", "Models", "Grids"])
def test_every_exported_registry_is_a_napkin_name(name: str) -> None:
    import mlsysim
    from mlsysim.core.registry import Registry

    exported = {n for n in mlsysim.__all__ if isinstance(getattr(mlsysim, n), Registry)}
    assert exported == set(mlsysim.registries())
    assert name in exported


def test_declared_data_dirs_are_the_registered_ones() -> None:
    from mlsysim.core.registry import data_dirs

    assert set(data_dirs(load=False)) == set(data_dirs())
