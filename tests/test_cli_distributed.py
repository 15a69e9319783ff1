"""`mlsysim solve` over nodes and clusters, `mlsysim collective`, `mlsysim schema --kind`."""

from __future__ import annotations

import json

import pytest

from mlsysim.cli.main import main

GPT3 = [
    "solve",
    "GPT3_175B",
    "DGX_A100",
    "--phase",
    "training",
    "--devices",
    "1024",
    "--tp",
    "8",
    "--pp",
    "8",
    "--batch",
    "1536",
    "--seq-len",
    "2048",
]


def test_cluster_solve_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*GPT3, "--recompute", "full"]) == 0
    out = capsys.readouterr().out
    for needle in (
        "1024x A100",
        "tp=8 pp=8 dp=16",
        "step time",
        "MFU / HFU",
        "bubble",
        "communication",
        "binding wall",
    ):
        assert needle in out, out


def test_cluster_solve_json_and_infeasible_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*GPT3, "--json"]) == 3  # selective recompute without SP does not fit
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == "mlsysim.distributed_result/2"
    assert data["feasible"] is False and data["binding_wall"] == "memory_capacity"
    assert data["parallel"]["dp"] == 16


def test_all_parallel_flags(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "solve",
        "Mixtral_8x7B",
        "H100_1024",
        "--phase",
        "training",
        "--devices",
        "64",
        "--tp",
        "2",
        "--ep",
        "8",
        "--cp",
        "2",
        "--sp",
        "--zero",
        "1",
        "--microbatch",
        "1",
        "--batch",
        "64",
        "--seq-len",
        "4096",
        "--overlap",
        "0.5",
        "--explain",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "ep=8" in out and "cp=2" in out and "collective: ep_all_to_all" in out


def test_bad_configuration_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*GPT3[:6], "1000", *GPT3[7:]]) == 2
    assert "multiple of 64" in capsys.readouterr().err


def test_collective_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collective", "all_reduce", "1GB", "DGX_H100"]) == 0
    assert "nvls" in capsys.readouterr().out
    assert (
        main(["collective", "all_gather", "256 MB", "H100_1024", "--devices", "64", "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == "mlsysim.collective/1" and data["nodes"] == 8
    assert main(["collective", "all_reduce", "1GB", "DGX_A100", "--algorithm", "nvls"]) == 2
    assert "NVLink SHARP" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "version"),
    [("distributed", "mlsysim.distributed_result/2"), ("collective", "mlsysim.collective/1")],
)
def test_schema_kinds(kind: str, version: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--kind", kind]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["schema_version"]["const"] == version
