"""`mlsysim sweep …`: the summary, --json against its schema, --csv streamed by chunks,
ranges and axes, exit codes, and the progress bar only on long runs on a terminal."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest

import mlsysim
from mlsysim.cli import sweep_cmd
from mlsysim.cli.main import main
from mlsysim.solvers.sweeps.result import sweep_json_schema

GRID = ["sweep", "Llama2_7B,Llama3_8B", "A100,H100", "--phase", "decode", "--batch", "1:4",
        "--seq-len", "512,2048"]  # fmt: skip


def test_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(GRID) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0] == "sweep: 32 points (2 model × 2 system × 4 batch × 2 seq_len)"
    assert lines[1] == "feasible: 32 of 32"
    assert lines[2].startswith("binding walls: memory_bandwidth")
    assert "fastest feasible: latency" in lines[3] and "batch=1" in lines[3]
    assert out.err == ""  # not a terminal: no progress bar


def test_json_matches_its_schema_and_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*GRID, "--json", "--columns", "latency_s,mfu"]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, sweep_json_schema())
    assert data["columns"] == ["model", "system", "phase", "batch", "seq_len", "latency_s", "mfu"]
    s = mlsysim.sweep(["Llama2_7B", "Llama3_8B"], ["A100", "H100"], phase="decode",
                      batch=[1, 2, 3, 4], seq_len=[512, 2048])  # fmt: skip
    assert [r[5] for r in data["rows"]] == list(s["latency_s"])
    assert main(["schema", "sweep"]) == 0
    assert json.loads(capsys.readouterr().out)["$id"].endswith("sweep-1.json")


def test_csv_streams_chunks_with_one_header(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*GRID, "--csv", "--chunk", "5", "--set", "precision=fp16,int8"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 64 and rows[0]["precision"] == "fp16" and rows[-1]["precision"] == "int8"
    assert [r["batch"] for r in rows[:4]] == ["1", "1", "2", "2"]
    assert float(rows[0]["latency_s"]) > 0 and rows[0]["feasible"] == "True"


def test_ranges_parallel_axes_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "Llama2_7B", "DGX_A100", "--phase", "decode", "--batch", "8:16:8",
                 "--set", "tp=1,2", "--set", "devices=8", "--csv"]) == 0  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["tp"], r["batch"]) for r in rows] == [("1", "8"), ("1", "16"), ("2", "8"),
                                                     ("2", "16")]  # fmt: skip
    assert main(["sweep", "Llama2_70B", "T4", "--phase", "decode"]) == 3  # nothing fits
    assert "feasible: 0 of 1" in capsys.readouterr().out
    assert main(["sweep", "Llama2_7B", "A100", "--phase", "decode", "--batch", "1:x"]) == 2
    assert "ranges A:B[:STEP]" in capsys.readouterr().err
    assert main(["sweep", "Llama2_7B", "A100", "--phase", "decode", "--set", "tp"]) == 2
    assert main(["sweep", "Llama2_7B", "A100", "--phase", "decode", "--json", "--batch", "0"]) == 2
    err = json.loads(capsys.readouterr().out)
    assert err["schema"] == "mlsysim.error/1" and err["command"] == "sweep"


def test_progress_only_for_long_sweeps() -> None:
    seen: list[tuple[int, int]] = []
    quick = sweep_cmd._long(lambda d, t: seen.append((d, t)), after_s=3600.0)
    quick(10, 100)
    assert seen == []  # a short sweep never draws
    slow = sweep_cmd._long(lambda d, t: seen.append((d, t)), after_s=0.0)
    slow(10, 100)
    assert seen == [(10, 100)]
    assert sweep_cmd._long(None) is None
