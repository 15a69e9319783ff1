"""mlsysim impact: a datasheet value changed, evaluated twice through check's scanner."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from mlsysim.book.impact import compare, impact_of_data, impact_since, observe
from mlsysim.cli.impact_cmd import impact_json_schema

CHAPTER = """\
# Decode

```{napkin}
t_token = weights_bytes(Llama2_7B, "bf16") / MyGPU.memory.bandwidth
```

One token takes {napkin}`t_token -> ms`, about {claim}`4 ms ~ t_token`;
the capacity is {napkin}`MyGPU.memory.capacity` ({claim}`80 GB ~ MyGPU.memory.capacity`).
"""

DATA = """\
schema = "mlsysim.hardware/1"

[sources.my_gpu]
title = "MyGPU datasheet"
publisher = "Example"
year = 2026

[MyGPU]
name = "Example MyGPU"
kind = "accelerator"
vendor = "Example"
source = "my_gpu"
tdp = "700 W"
peak.dense = { bf16 = "1000 TFLOP/s" }
memory = { type = "HBM3", capacity = "80 GB", bandwidth = "BANDWIDTH" }
"""


def _book(root: Path, bandwidth: str) -> tuple[Path, Path]:
    book = root / "book"
    data = book / "data"
    data.mkdir(parents=True, exist_ok=True)
    (book / "conf.py").write_text('extensions = ["myst_parser"]\nmlsysim_data_dirs = ["data"]\n')
    (book / "decode.md").write_text(CHAPTER)
    (data / "gpu.toml").write_text(DATA.replace("BANDWIDTH", bandwidth))
    return book, data


def _old_copy(tmp_path: Path, data: Path, bandwidth: str) -> Path:
    old = tmp_path / "old"
    shutil.copytree(data, old)
    (old / "gpu.toml").write_text(DATA.replace("BANDWIDTH", bandwidth))
    return old


@pytest.mark.usefixtures("clean_registry")
def test_a_changed_bandwidth_lists_values_and_claims_that_start_failing(tmp_path: Path) -> None:
    book, data = _book(tmp_path, "4 TB/s")
    old = _old_copy(tmp_path, data, "3.35 TB/s")
    result = impact_of_data([str(book)], old, data)
    changes = {(c.what, c.item.kind, c.item.line): c for c in result.changes}
    value = changes[("value", "value", 7)]
    assert (value.old.shown, value.new.shown) == ("4.02 ms", "3.37 ms")
    assert ("value", "binding", 4) in changes
    fails = changes[("fails", "claim", 7)]
    assert fails.new is not None and "disagrees" in fails.new.message
    assert not any(c.item.line == 8 for c in result.changes)  # the capacity did not move
    doc = result.to_dict()
    jsonschema.validate(doc, impact_json_schema())
    assert doc["counts"]["fails"] == 1


@pytest.mark.usefixtures("clean_registry")
def test_since_a_git_revision(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("no git")
    book, data = _book(tmp_path, "3.35 TB/s")
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("-c", "user.email=a@b", "-c", "user.name=a", "add", ".")
    run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "data")
    (data / "gpu.toml").write_text(DATA.replace("BANDWIDTH", "4 TB/s"))
    import os

    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = impact_since([str(book)], "HEAD")
        with pytest.raises(Exception, match="no git revision"):
            impact_since([str(book)], "no-such-rev")
    finally:
        os.chdir(here)
    assert [c.what for c in result.changes if c.item.kind == "claim"] == ["fails"]


@pytest.mark.usefixtures("clean_registry")
def test_saved_observations_compare_and_the_cli(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    book, data = _book(tmp_path, "3.35 TB/s")
    saved = tmp_path / "before.json"
    code, _, _ = cli("impact", str(book), "--save", str(saved))
    assert code == 0 and json.loads(saved.read_text())["schema"] == "mlsysim.observation/1"
    code, out, _ = cli("impact", str(book), "--against", str(saved), "--json")
    assert code == 0 and json.loads(out)["changes"] == []
    old = _old_copy(tmp_path, data, "2 TB/s")
    code, out, _ = cli("impact", str(book), "--data", str(old), str(data))
    assert (code == 1 and "would pass again" in out) or "would start failing" in out
    summary = tmp_path / "summary.md"
    import os

    os.environ["GITHUB_STEP_SUMMARY"] = str(summary)
    try:
        code, out, _ = cli("impact", str(book), "--data", str(old), str(data), "--format", "github")
    finally:
        del os.environ["GITHUB_STEP_SUMMARY"]
    assert "::notice file=" in out and "| where | item | old | new |" in summary.read_text()
    code, _, err = cli("impact", str(book))
    assert code == 2 and "--data" in err


def test_compare_is_item_by_item() -> None:
    from mlsysim.book.impact import Observation, Observed

    a = Observation([Observed("a.md", 1, 2, "value", "x", "1 ms", True)])
    b = Observation([Observed("a.md", 1, 2, "value", "x", "2 ms", True)])
    assert [c.what for c in compare(a, b).changes] == ["value"]
    assert compare(a, a).changes == []
    assert [c.what for c in compare(a, Observation()).changes] == ["gone"]
    assert observe  # the public entry point


@pytest.mark.usefixtures("clean_registry")
def test_a_registry_table_that_shows_the_value_is_listed(tmp_path: Path) -> None:
    book, data = _book(tmp_path, "4 TB/s")
    (book / "decode.md").write_text(
        CHAPTER + "\n```{napkin-registry} MyGPU\n:fields: memory.bandwidth, tdp\n```\n"
    )
    old = _old_copy(tmp_path, data, "3.35 TB/s")
    result = impact_of_data([str(book)], old, data)
    (table,) = [c for c in result.changes if c.item.kind == "registry table"]
    assert table.item.line == 10 and table.old is not None and table.new is not None
    assert "3.35" in (table.old.shown or "") and "4 TB/s" in (table.new.shown or "")
