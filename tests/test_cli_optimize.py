"""`mlsysim optimize …` (text, --json against its schema, --csv, --pareto, exit codes, the
progress bar only on a terminal) and the searches in napkin math."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest

from mlsysim.book import Document
from mlsysim.cli import optimize_cmd
from mlsysim.cli.main import main
from mlsysim.solvers.distributed.results import DISTRIBUTED_SCHEMA_VERSION, distributed_json_schema
from mlsysim.solvers.optimize.result import optimize_json_schema

PAR = ["optimize", "parallelism", "GPT_22B", "DGX_A100", "--devices", "16", "--batch", "32",
       "--seq-len", "2048"]  # fmt: skip


def test_parallelism_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*PAR, "--top", "3"]) == 0
    out = capsys.readouterr()
    assert "best:" in out.out and "runner-up:" in out.out and "top 3:" in out.out
    assert out.err == ""  # not a terminal: no progress bar


def test_parallelism_json_matches_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*PAR, "--json", "--fix", "tp=2,4", "--fix", "sp=true"]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, optimize_json_schema())
    assert data["best"]["config"]["tp"] in (2, 4) and data["best"]["config"]["sp"] is True
    assert data["result"]["schema_version"] == DISTRIBUTED_SCHEMA_VERSION
    jsonschema.validate(data["result"], distributed_json_schema())
    assert main(["schema", "--kind", "optimize"]) == 0
    assert json.loads(capsys.readouterr().out)["$id"].endswith("optimize-1.json")


def test_csv_and_pareto(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*PAR, "--exhaustive", "--csv", "--top", "4"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["rank"] for r in rows[:4]] == ["1", "2", "3", "4"]
    assert float(rows[0]["throughput (token/s)"]) >= float(rows[1]["throughput (token/s)"])
    assert main([*PAR, "--exhaustive", "--pareto", "throughput,memory", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pareto"]["schema_version"] == "mlsysim.pareto/1" and data["pareto"]["points"]


def test_serving_and_placement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimize", "serving", "Llama3_8B", "H100", "A100", "--slo", "50 ms",
                 "--qps", "50", "--region", "Quebec", "--tp", "1"]) == 0  # fmt: skip
    assert "best: hardware=" in capsys.readouterr().out
    assert main(["optimize", "placement", "Llama3_8B", "DGX_H100", "--regions", "Quebec",
                 "Poland", "--tokens", "1e10", "--devices", "16", "--batch", "64",
                 "--seq-len", "2048", "--objective", "operational_carbon"]) == 0  # fmt: skip
    assert "region=Quebec" in capsys.readouterr().out.splitlines()[0]


def test_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    nothing = ["optimize", "parallelism", "GPT_1T", "DGX_A100", "--devices", "8", "--batch",
               "8", "--seq-len", "2048"]  # fmt: skip
    assert main(nothing) == 3
    assert "nothing feasible" in capsys.readouterr().out
    assert main([*PAR, "--fix", "tp"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main([*PAR, "--fix", "tp=3"]) == 2


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with optimize_cmd.progress_bar(True, "x") as p:
        assert p is None  # pytest's stderr is not a terminal
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    with optimize_cmd.progress_bar(False, "x") as p:
        assert p is None  # --json / --csv
    with optimize_cmd.progress_bar(True, "x") as p:
        assert p is not None
        p(1, 2)


def test_napkin_search_and_frontier() -> None:
    doc = Document("search.md")
    doc.block(
        "search = optimize_parallelism(GPT_22B, DGX_A100, devices=16, batch=32, seq_len=2048)\n"
        "pub = solve(GPT_22B, DGX_A100, phase='training', devices=16, batch=32, seq_len=2048,"
        " tp=8, sp=True)\n"
        "check(search.throughput >= pub.throughput, 'at least the published plan')",
        1,
    )
    assert doc.failures == []
    assert doc.inline('search.config["tp"]', 5).value in (1, 2, 4, 8)
    doc.inline("search.tflops_per_device -> TFLOP/s", 6)
    size = doc.inline(
        "pareto(optimize_parallelism(GPT_22B, DGX_A100, devices=16, batch=32, seq_len=2048,"
        ' exhaustive=True), "throughput", "memory").size',
        7,
    )
    assert size.value >= 2
    doc.inline('pareto(search, "throughput", "memory").size', 8)  # a bounded search: refused
    (refused,) = doc.failures
    assert refused.line == 8 and "exhaustive=True" in refused.hint
