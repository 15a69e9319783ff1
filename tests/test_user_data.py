"""A custom accelerator added as one data entry in the user's own directory, no code."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlsysim
from mlsysim import Q_, Hardware
from mlsysim.core import registry

MY_ASIC = """
schema = "mlsysim.hardware/1"

[sources.myasic_spec]
title = "MyASIC v1 internal specification"
publisher = "Example Silicon Ltd."
year = 2025

[MyASIC]
name = "Example Silicon MyASIC v1"
aliases = ["My ASIC", "MyASIC v1"]
kind = "accelerator"
vendor = "Example Silicon"
source = "myasic_spec"
tdp = "150 W"
list_price = { value = "4000 USD", as_of = 2025-01-15 }
interconnect = { fabric = "PCIe5", bandwidth = "128 GB/s" }

[MyASIC.peak.dense]
bf16 = "400 TFLOP/s"
int8 = "800 TOPS"

[MyASIC.peak.sparse]
int8 = "1600 TOPS"

[MyASIC.memory]
type = "HBM3"
capacity = "48 GiB"
bandwidth = "2.4 TB/s"
"""


def _write(tmp_path: Path, text: str = MY_ASIC, name: str = "my_asic.toml") -> Path:
    d = tmp_path / "my_data"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")
    return d


def _check_myasic() -> None:
    asic = Hardware.MyASIC
    assert Hardware["My ASIC"] is asic
    assert asic.peak_flops("bf16") == Q_("400 TFLOP/s")
    assert asic.peak_flops("int8", sparse=True) == Q_("1600 TOPS")
    assert str(asic.memory.capacity) == "48 GiB"
    assert asic.memory.bandwidth == Q_("2.4 TB/s")
    assert asic.as_of_of("list_price") is not None
    assert registry.catalog().sources[asic.source].publisher == "Example Silicon Ltd."
    assert "MyASIC" in {h.id for h in Hardware.list(kind="accelerator")}
    assert "H100" in Hardware  # package data still loaded alongside


def test_custom_asic_via_env_var(
    clean_registry: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "MyASIC" not in Hardware
    monkeypatch.setenv("MLSYSIM_DATA_PATH", str(_write(tmp_path)))
    registry.reset()
    _check_myasic()


def test_custom_asic_via_add_data_dir(clean_registry: None, tmp_path: Path) -> None:
    assert "MyASIC" not in Hardware
    mlsysim.add_data_dir(_write(tmp_path))
    _check_myasic()
    assert Hardware.file_of("MyASIC").name == "my_asic.toml"


def test_user_files_in_subfolders_are_found(clean_registry: None, tmp_path: Path) -> None:
    d = _write(tmp_path)
    sub = d / "accelerators"
    sub.mkdir()
    (d / "my_asic.toml").rename(sub / "my_asic.toml")
    mlsysim.add_data_dir(d)
    _check_myasic()


def test_fixture_cleans_up(clean_registry: None) -> None:
    assert "MyASIC" not in Hardware


def test_add_missing_dir_is_an_error(clean_registry: None, tmp_path: Path) -> None:
    with pytest.raises(mlsysim.MlsysimError, match="does not exist"):
        mlsysim.add_data_dir(tmp_path / "nope")


def test_user_entry_cannot_redefine_a_stable_id(clean_registry: None, tmp_path: Path) -> None:
    text = MY_ASIC.replace("[MyASIC", "[H100").replace('aliases = ["My ASIC", "MyASIC v1"]', "")
    mlsysim.add_data_dir(_write(tmp_path, text))
    with pytest.raises(mlsysim.RegistryDataError, match="defined twice") as err:
        _ = Hardware.H100
    assert err.value.entry == "H100"
    assert err.value.file.endswith("my_asic.toml")
