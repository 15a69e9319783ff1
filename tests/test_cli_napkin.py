"""``mlsysim eval``, ``mlsysim check`` and ``mlsysim batch``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlsysim.cli.main import main

DATA = Path(__file__).parent / "data" / "napkin"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_eval_ridge_point_json(capsys: pytest.CaptureFixture[str]) -> None:
    # NVIDIA H100 datasheet: 989.4 TFLOP/s BF16 dense / 3.35 TB/s = 295 FLOP/B
    code, out, _ = run(
        ["eval", "H100.peak_flops('bf16') / H100.memory.bandwidth", "--json"], capsys
    )
    data = json.loads(out)
    assert code == 0
    assert data["value"] == pytest.approx(295.34, rel=1e-3) and data["unit"] == "FLOP/B"
    assert data["text"] == "295 FLOP/B" and data["latex"] == r"{295\,\mathrm{FLOP/B}}"
    assert data["markdown"] == r"${295\,\mathrm{FLOP/B}}$" and "html" in data


def test_eval_memory_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    # streaming 14 GB of fp16 Llama-2-7B weights at 3.35 TB/s: 4.18 ms per token
    code, out, _ = run(["eval", "14 GB / H100.memory.bandwidth", "--unit", "ms", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["unit"] == "ms" and data["value"] == pytest.approx(4.179, 1e-3)
    code, out, _ = run(["eval", "80 GB / 3.35 TB/s -> ms", "--sig-figs", "2"], capsys)
    assert (code, out.strip()) == (0, "24 ms")


@pytest.mark.parametrize(
    "attack",
    [
        "__import__('os').system('echo pwned')",
        "().__class__.__bases__",
        "open('/etc/passwd')",
        "9**9**9**9",
    ],
)
def test_eval_attacks_fail_located(attack: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["eval", attack], capsys)
    assert code == 1 and out == "" and "pwned" not in out
    assert err.startswith("<eval>:1:") and "error[mlsysim.error]" in err


def test_check_exit_codes_and_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", str(DATA / "clean.md"), str(DATA / "clean.qmd")], capsys)[0] == 0
    code, out, _ = run(["check", str(DATA / "bad.rst"), "--format", "github"], capsys)
    assert code == 1 and "::error file=" in out and "line=8" in out
    code, out, _ = run(["check", str(DATA / "bad.md"), "--format", "junit"], capsys)
    assert code == 1 and "<testsuite" in out
    code, out, _ = run(["check", str(DATA / "missing.md"), str(DATA / "bad.rst")], capsys)
    assert code == 1 and "missing.md:1: error[mlsysim.error]: cannot read this source file" in out
    assert "bad.rst:8:" in out  # the other file's failures are still reported


def test_check_directory_is_recursive(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(DATA), "--format", "json"], capsys)
    files = {Path(f["file"]).name for f in json.loads(out)["failures"]}
    assert code == 1 and files == {"bad.md", "bad.rst", "bad.qmd"}


def test_batch_roundtrip(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLSYSIM_CACHE_DIR", str(tmp_path))
    req = {
        "version": 1,
        "file": "x.qmd",
        "source": "`1 GB`{.napkin}",
        "items": [{"id": "1", "kind": "inline", "text": "1 GB"}],
    }
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(req)))
    code, out, _ = run(["batch"], capsys)
    resp = json.loads(out)
    assert code == 0 and resp["results"][0]["text"] == "1 GB" and resp["checked"] == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO("{not json"))
    code, out, _ = run(["batch"], capsys)
    assert code == 2 and "error" in json.loads(out)


def test_eval_as_a_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlsysim", "eval", "2 ms * 3", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["text"] == "6 ms"
