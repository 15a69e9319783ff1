"""Registry figures that would print a wrong number are refused at load, naming file, entry
and field: NaN, infinity, negative values, zero rates, arithmetic or broken unit text, bytes
that are not UTF-8, and TOML nested without end."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlsysim
from mlsysim import Hardware
from mlsysim.core import registry

CHIP = """
schema = "mlsysim.hardware/1"

[sources.chip_spec]
title = "A test specification"
publisher = "Test"
year = 2025

[Chip]
name = "Test chip"
kind = "accelerator"
vendor = "Test"
source = "chip_spec"
tdp = "100 W"
release_year = 2024

[Chip.peak.dense]
bf16 = "100 TFLOP/s"

[Chip.memory]
type = "HBM3"
capacity = "16 GB"
bandwidth = "BANDWIDTH"
"""


def _error(d: Path, data: bytes | str) -> mlsysim.RegistryDataError:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    (d / "chip.toml").write_bytes(raw)
    registry.reset()
    with pytest.raises(mlsysim.RegistryDataError) as info:
        list(Hardware)
    return info.value


@pytest.mark.parametrize(
    ("bandwidth", "why"),
    [
        ("nan TB/s", "cannot read"),
        ("inf TB/s", "cannot read"),
        ("-4 TB/s", "must not be negative"),
        ("0 TB/s", "zero"),
        ("0.0 GB/s", "zero"),
        ("4 TB/s * 1e9", "after the unit"),
        ("4 (TB/s", "parentheses"),
        ("4 TB/s)", "parentheses"),
        ("9**9**9 B/s", "cannot read"),
        ("4 TB/s / 0", "after the unit"),
        ("4e999 TB/s", "finite"),
        ("4 TB/s + 1 GB/s", "after the unit"),
        ("four TB/s", "cannot read"),
        ("4 TB/sec/parsec", "no unit"),
        ("4 " + "s" * 100, "too long"),
    ],
)
def test_bad_figure_names_file_entry_field(user_dir: Path, bandwidth: str, why: str) -> None:
    err = _error(user_dir, CHIP.replace("BANDWIDTH", bandwidth))
    assert err.file.endswith("chip.toml") and err.entry == "Chip"
    assert err.field == "memory.bandwidth", err
    assert why in str(err)


@pytest.mark.parametrize(
    ("line", "field"),
    [("release_year = nan", "release_year"), ("release_year = -2024", "release_year")],
)
def test_bad_plain_numbers(user_dir: Path, line: str, field: str) -> None:
    text = CHIP.replace("BANDWIDTH", "1 TB/s").replace("release_year = 2024", line)
    err = _error(user_dir, text)
    assert (err.entry, err.field) == ("Chip", field) and err.file.endswith("chip.toml")


def test_non_utf8_file_names_the_file_and_line(user_dir: Path) -> None:
    text = CHIP.replace("BANDWIDTH", "1 TB/s").replace("Test chip", "Test chip \xe9")
    err = _error(user_dir, text.encode("latin-1"))
    assert "not UTF-8" in str(err) and err.file.endswith("chip.toml:10")


def test_toml_syntax_error_names_the_file(user_dir: Path) -> None:
    err = _error(user_dir, CHIP.replace("BANDWIDTH", "1 TB/s") + "\n[broken\n")
    assert "chip.toml" in str(err) and "not valid TOML" in str(err)


def test_deep_nesting_is_refused(user_dir: Path) -> None:
    deep = "x = " + "[" * 2000 + "]" * 2000 + "\n"
    err = _error(user_dir, 'schema = "mlsysim.hardware/1"\n' + deep)
    assert "nested too deeply" in str(err) or "not valid TOML" in str(err)


def test_good_figures_still_load(user_dir: Path) -> None:
    (user_dir / "chip.toml").write_text(CHIP.replace("BANDWIDTH", "1.5 TB/s"), encoding="utf-8")
    registry.reset()
    assert str(Hardware.Chip.memory.bandwidth) == "1.5 TB/s"
