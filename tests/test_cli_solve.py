"""`mlsysim solve`, `mlsysim zoo`, `mlsysim schema`: output and exit codes."""

from __future__ import annotations

import json

import pytest

from mlsysim.cli.main import main


def test_solve_feasible_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "Llama2_7B", "A100", "--phase", "decode"]) == 0
    out = capsys.readouterr().out
    assert (
        "binding wall    memory bandwidth [memory_bandwidth]" in out
        and "tokens/s" in out
        and " ms" in out
    )


def test_solve_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["solve", "Llama2_7B", "A100", "--phase", "prefill", "--seq-len", "256", "--json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == "mlsysim.result/3"
    assert data["latency"]["unit"] == "ms" and data["seq_len"] == 256


def test_solve_infeasible_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "Llama2_70B", "A100", "--phase", "decode"]) == 3
    assert "memory_capacity" in capsys.readouterr().out
    assert main(["solve", "Llama2_70B", "A100", "--phase", "decode", "--strict"]) == 3


def test_solve_usage_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "Llama2_7B", "H10", "--phase", "decode"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["solve", "Llama2_7B", "A100", "--phase", "serve"]) == 2
    assert "invalid choice: 'serve'" in capsys.readouterr().err


def test_solve_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "Llama2_7B", "A100", "--phase", "decode", "--explain"]) == 0
    assert "Roofline" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["hardware", "models", "grids", "fabrics", "sources"])
def test_zoo(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo", kind]) == 0
    assert capsys.readouterr().out.strip()
    assert main(["zoo", kind, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "mlsysim.zoo/1" and data["kind"] == kind
    assert data["count"] == len(data["entries"]) > 0


def test_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["schema_version"]["const"] == "mlsysim.result/3"
