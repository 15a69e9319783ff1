"""No stale results: every cache sees data added or switched after an evaluation.

* in one process: a data directory added with ``add_data_dir()`` (or a changed
  ``MLSYSIM_DATA_PATH``) after an evaluation is seen by the next evaluation — the engine's
  name resolution, ``mlsysim check`` and the batch cache key;
* across Sphinx builds: switching ``MLSYSIM_DATA_PATH`` to other data, or adding the data file
  a chapter was missing, re-reads the chapter on an incremental build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlsysim.book import Document, check_paths
from mlsysim.book.batch import cache_key
from mlsysim.core import registry

ROOT = Path(__file__).resolve().parents[1]

_CHIP = """schema = "mlsysim.hardware/1"

[sources.stale_sheet]
title = "Stale test datasheet"
publisher = "mlsysim tests"
year = 2025

[{name}]
name = "Stale test chip"
kind = "accelerator"
vendor = "Tests"
source = "stale_sheet"
tdp = "300 W"
peak.dense.bf16 = "400 TFLOP/s"
memory = {{ type = "HBM3", capacity = "64 GB", bandwidth = "{bandwidth}" }}
"""


def _data(folder: Path, name: str = "StaleChip", bandwidth: str = "4 TB/s") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chip.toml").write_text(_CHIP.format(name=name, bandwidth=bandwidth), "utf-8")
    return folder


def test_engine_sees_a_data_dir_added_after_an_evaluation(
    tmp_path: Path, clean_registry: None
) -> None:
    doc = Document("c.md")
    before = doc.inline("StaleChip.memory.bandwidth", 1)
    assert not before.ok and "no name 'StaleChip'" in before.failure.message  # type: ignore[union-attr]
    registry.add_data_dir(_data(tmp_path / "data"))
    after = Document("c.md").inline("StaleChip.memory.bandwidth", 1)
    assert after.ok and after.rendered is not None and after.rendered.text == "4 TB/s"


def test_engine_follows_a_changed_data_path(
    tmp_path: Path, clean_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _data(tmp_path / "a", bandwidth="8 TB/s"), _data(tmp_path / "b")
    monkeypatch.setenv("MLSYSIM_DATA_PATH", str(slow))
    assert Document("c.md").inline("StaleChip.memory.bandwidth", 1).rendered.text == "4 TB/s"  # type: ignore[union-attr]
    monkeypatch.setenv("MLSYSIM_DATA_PATH", str(fast))
    assert Document("c.md").inline("StaleChip.memory.bandwidth", 1).rendered.text == "8 TB/s"  # type: ignore[union-attr]


def test_check_and_batch_key_see_new_data(tmp_path: Path, clean_registry: None) -> None:
    chapter = tmp_path / "c.qmd"
    chapter.write_text("Bandwidth `StaleChip.memory.bandwidth`{.napkin}.\n", "utf-8")
    _, failures = check_paths([chapter])
    assert len(failures) == 1
    request = {
        "version": 1,
        "file": str(chapter),
        "items": [{"id": "1", "kind": "inline", "text": "StaleChip.memory.bandwidth"}],
    }
    key = cache_key(request)
    registry.add_data_dir(_data(tmp_path / "data"))
    assert check_paths([chapter])[1] == []
    assert cache_key(request) != key


_CHAPTER = """# Stale

Bandwidth {napkin}`StaleChip.memory.bandwidth`, about {claim}`4 TB/s ~ StaleChip.memory.bandwidth`.
"""


def _book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    book.mkdir()
    (book / "conf.py").write_text('extensions = ["myst_parser", "mlsysim_sphinx"]\n', "utf-8")
    (book / "index.md").write_text(_CHAPTER, "utf-8")
    return book


def _build(book: Path, out: Path, data_path: Path | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLSYSIM_DATA_PATH"}
    env["PYTHONPATH"] = str(ROOT / "sphinx_ext")
    if data_path is not None:
        env["MLSYSIM_DATA_PATH"] = str(data_path)
    cmd = [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(book), str(out)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_sphinx_rereads_when_the_data_path_switches(tmp_path: Path) -> None:
    book, out = _book(tmp_path), tmp_path / "out"
    slow, fast = _data(tmp_path / "slow"), _data(tmp_path / "fast", bandwidth="8 TB/s")
    first = _build(book, out, slow)
    assert first.returncode == 0, first.stderr
    assert "4\u202fTB/s" in (out / "index.html").read_text("utf-8")
    second = _build(book, out, fast)  # incremental: no -E
    assert "8\u202fTB/s" in (out / "index.html").read_text("utf-8")
    assert second.returncode == 1 and "index.md:3" in second.stderr  # the claim now fails


@pytest.mark.slow
def test_sphinx_rereads_when_a_missing_data_file_is_added(tmp_path: Path) -> None:
    book, out, data = _book(tmp_path), tmp_path / "out", tmp_path / "data"
    data.mkdir()
    first = _build(book, out, data)
    assert first.returncode == 1 and "no name 'StaleChip'" in first.stderr
    _data(data)  # the entry the chapter needed
    second = _build(book, out, data)
    assert second.returncode == 0, second.stderr
    assert "4\u202fTB/s" in (out / "index.html").read_text("utf-8")


def test_batch_key_and_project_check_see_code_and_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Quarto caches hold results only for the code and the day that computed them: an
    edited checkout (same version) or another day (exchange rates dated nearest) misses."""
    from mlsysim.book import fingerprints, projects
    from mlsysim.core import snapshot

    chapter = tmp_path / "c.qmd"
    chapter.write_text("Peak `H100.compute.peak_flops`{.napkin}.\n", "utf-8")
    request = {
        "version": 1,
        "file": str(chapter),
        "items": [{"id": "1", "kind": "inline", "text": "H100.compute.peak_flops"}],
    }
    key, engine = cache_key(request), projects._engine()
    monkeypatch.setattr(fingerprints, "today", lambda: "2000-01-01")
    assert cache_key(request) != key and projects._engine() != engine
    monkeypatch.undo()
    assert cache_key(request) == key
    monkeypatch.setattr(snapshot, "code_key", lambda *dirs: "edited-checkout")
    assert cache_key(request) != key and projects._engine() != engine
