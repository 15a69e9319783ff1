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


@pytest.mark.parametrize("cut", [0, 7])
def test_a_cut_short_pint_cache_costs_only_its_speed(tmp_path: Path, cut: int) -> None:
    # pint writes its definitions cache in place: a process starting while another writes
    # it finds a file empty or cut short (EOFError at import, seen under a loaded CI)
    first = _probe(tmp_path)
    pickles = list((tmp_path / "pint").glob("*.pickle"))
    assert pickles
    for path in pickles:
        path.write_bytes(path.read_bytes()[:cut])
    assert _probe(tmp_path)[1:] == first[1:]
    assert all(p.stat().st_size > cut for p in (tmp_path / "pint").glob("*.pickle"))
    assert _probe(tmp_path)[1:] == first[1:]


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


_LAYERS_PROBE = """
import sys
from mlsysim.book import Document
from mlsysim.core.registry import catalog
cat = catalog()
def loaded():
    layers = sorted(m for m in sys.modules if m.startswith("mlsysim.") and m.endswith(".registry"))
    return ",".join(layers) + (" pydantic" if "pydantic" in sys.modules else " -")
doc = Document("x.md")
doc.block("x = 3 GB\\ny = x / 2 s\\n", 1)
print(cat.from_snapshot, loaded())
print(doc.inline("H100.memory.bandwidth -> TB/s", 5).rendered.text, loaded())
"""


def test_a_snapshot_imports_a_layer_only_when_its_entries_are_read(tmp_path: Path) -> None:
    """From a snapshot, unit arithmetic imports no layer and no pydantic; reading H100
    imports the hardware layer only (its spec classes), not sim or systems."""
    env = {**os.environ, "MLSYSIM_CACHE_HOME": str(tmp_path)}
    env.pop("MLSYSIM_DATA_PATH", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", _LAYERS_PROBE],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr + runs[1].stderr
    first, second = (r.stdout.splitlines() for r in runs)
    assert first[0].startswith("False")  # built (every layer registered)
    assert second == [
        "True mlsysim.core.registry -",
        "3.35 TB/s mlsysim.core.registry,mlsysim.hardware.registry pydantic",
    ]


def test_a_snapshot_of_other_spec_code_is_not_used(tmp_path: Path) -> None:
    """The snapshot records the source of every spec module it holds; a module changed since
    (here: its recorded digest altered) makes the next process build and validate afresh."""
    import pickle

    _probe(tmp_path)
    (snap,) = tmp_path.glob("registry-*.pickle")
    cat = pickle.loads(snap.read_bytes())
    hardware = next(p for p in cat.code if p.endswith("hardware/registry.py"))
    cat.code[hardware] = "0" * 64
    snap.write_bytes(pickle.dumps(cat))
    assert _probe(tmp_path)[0] == "False"
    assert _probe(tmp_path)[0] == "True"


_USER_KIND = """
from pydantic import ConfigDict
from mlsysim.core.registry import catalog, register_kind
from mlsysim.core.types import Spec

class WidgetSpec(Spec):
    model_config = ConfigDict(frozen=True, extra="forbid")
    size: int = 1

Widgets = register_kind("widget", WidgetSpec, "widget")
cat = catalog()
print(cat.from_snapshot, "widget" in cat.entries)
"""


def test_a_kind_the_snapshot_lacks_builds_afresh(tmp_path: Path) -> None:
    """A kind registered before the first load (a plugin's) that a snapshot does not hold
    is never served from it."""
    _probe(tmp_path)
    env = {**os.environ, "MLSYSIM_CACHE_HOME": str(tmp_path)}
    env.pop("MLSYSIM_DATA_PATH", None)
    out = subprocess.run(
        [sys.executable, "-c", _USER_KIND], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def test_registry_names_are_the_registries() -> None:
    import mlsysim

    assert set(mlsysim.registry_names()) == set(mlsysim.registries())


def test_the_code_key_follows_every_file_of_the_code(tmp_path: Path) -> None:
    """A stored result names the code that computed it: another process after a source file
    of it changed (size or modification time) gets another key; unchanged, the same."""
    code = tmp_path / "ext"
    (code / "sub").mkdir(parents=True)
    source = code / "sub" / "mod.py"
    source.write_text("x = 1\n", encoding="utf-8")
    (code / "sub" / "notes.bin").write_bytes(b"not code")

    def key() -> str:
        cmd = [
            sys.executable,
            "-c",
            f"from mlsysim.core.snapshot import code_key as k; print(k({str(code)!r}))",
        ]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()

    first = key()
    assert key() == first
    (code / "sub" / "notes.bin").write_bytes(b"still not code")
    assert key() == first
    source.write_text("x = 22\n", encoding="utf-8")
    assert key() != first
