"""Regression tests for the hardening issue's classes: wrong numbers, one meaning per symbol,
one option resolution, messages that teach (in an author's words), and the filter protocol."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mlsysim.book import Document, check_paths
from mlsysim.book.sources.project import chapter_options, project_of
from mlsysim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def value(expr: str, **kw: object) -> str:
    r = Document("t.md").inline(expr, 1, **kw)  # type: ignore[arg-type]
    assert r.ok and r.rendered is not None, r.failure
    return r.rendered.text


def error(expr: str) -> str:
    r = Document("t.md").inline(expr, 1, column=1)
    assert not r.ok and r.failure is not None, expr
    return r.failure.message


# -- wrong numbers ------------------------------------------------------------------------------


def test_huge_values_never_render_as_infinity() -> None:
    assert "∞" not in value("1e300 GB") and value("1e300 GB") == "1 × 10³⁰⁰ GB"
    assert "too large to show in B" in error("1e300 GB -> B")
    assert "∞" not in value("1e-300 GB")


def test_json_value_is_in_the_unit_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "1 / 3.35 TB/s -> ps/B", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["unit"] == "ps/B" and out["value"] == pytest.approx(0.2985, rel=1e-3)
    assert main(["eval", "80 GB / 3.35 TB/s", "--unit", "ms", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["unit"], round(out["value"], 2)) == ("ms", 23.88)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2 ~ 2.9", False),  # 45 % off: an absolute tolerance in ms never loosens a number
        ("1 GB ~ 1 GB", True),  # nor breaks a claim of another dimension
        ("1 ms ~ 1.05 ms", True),  # 5 % off but within 0.1 ms: absolute tolerance applies
        ("1 ms ~ 1.5 ms", False),
        ("0 ms ~ 0.05 ms", True),  # near zero: only the absolute tolerance can pass it
    ],
)
def test_absolute_tolerance_applies_to_its_own_dimension(text: str, ok: bool) -> None:
    chapter = "---\nmlsysim:\n  tolerance: 1%\n  abs-tolerance: 0.1 ms\n---\n\n"
    doc = Document("c.md", chapter_options(Path("c.md"), chapter, None))
    assert doc.claim(text, 7).ok is ok


@pytest.mark.parametrize("tol", ["inf%", "-5%", "150%", "nan", "1e999%", "0.1 GB"])
def test_bad_claim_tolerances_are_errors(tol: str) -> None:
    r = Document("c.md").claim(f"1 ms ~ 1 ms @ {tol}", 1)
    assert not r.ok and r.failure is not None and r.failure.kind == "error"


def test_percent_has_one_meaning() -> None:
    assert value("40% + 0.1 -> %") == "50.0 %"
    assert value("40 % * 200 GB") == "80.0 GB"
    for expr in ("40 % 3", "x % 3", "(1 + 2) % 2"):
        message = Document("t.md").inline(expr, 1).failure.message  # type: ignore[union-attr]
        assert "percent" in message, expr
    assert value("mod(7, 3)") == "1"


def test_binding_a_unit_name_is_refused_and_units_keep_their_meaning() -> None:
    doc = Document("c.md")
    doc.block("GB = 2\nper_gb = 80 GB / GB", 1)
    assert [f.line for f in doc.failures] == [1]
    assert "cannot bind 'GB': it is a unit (gigabyte)" in doc.failures[0].message
    assert doc.inline("per_gb", 3).rendered.text == "80.0"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("roofline_time(flops=-1 TFLOP, bytes=1 GB, hw=H100)", "flops of roofline_time() must not"),
        (
            "ring_allreduce(size=1 GB, n=8.5, bandwidth=1 GB/s)",
            "n of ring_allreduce() must be a whole",
        ),
        ('solve(Llama2_7B, H100, phase="decode", batch=2.5)', "batch of solve() must be a whole"),
        (
            "erlang_c(arrival_rate=1/s, service_rate=2/s, servers=1e9)",
            "servers of erlang_c() is too",
        ),
        ("amdahl(p=0.95, speedup=-3)", "speedup of amdahl() must not be negative"),
    ],
)
def test_model_arguments_are_checked(expr: str, needle: str) -> None:
    assert needle in error(expr)


@pytest.mark.parametrize(
    "expr", ["1 GB == 1 s", "1 GB != 1 s", "1 GB < 1 s", "1 GB == 1", "'a' < 'b'", "H100 == 1"]
)
def test_comparing_different_kinds_is_an_error_never_false(expr: str) -> None:
    message = error(expr)
    assert "cannot compare" in message


def test_comparisons_that_make_sense_still_work() -> None:
    assert value("1 GB == 1000 MB") == "true" and value("'bf16' == 'bf16'") == "true"
    assert value("0.5 == 50%") == "true" and value("2 > 1") == "true"


# -- messages -----------------------------------------------------------------------------------

_INTERNAL = ("Quantity", "View", "HardwareSpec", "SolveResult", "NoneType", "tuple", "Fn(", "0x")


@pytest.mark.parametrize(
    "expr",
    [
        "H100 + 1",
        "H100.memory + 1 GB",
        "(1, 2) * 3",
        "sqrt(H100)",
        "-H100",
        "H100()",
        "1 GB()",
        "Hardware + 1",
        "solve(Llama2_7B, H100, phase='decode') * 2",
        "max(H100, 1)",
        "H100.memory[0]",
        "round('a')",
        "log(1 GB)",
        "ridge_point((1, 2))",
        "1 GB -> H100",
    ],
)
def test_messages_never_name_internal_classes(expr: str) -> None:
    r = Document("t.md").inline(expr, 1)
    assert r.failure is not None
    text = " ".join([r.failure.message, r.failure.hint or ""])
    assert not any(word in text for word in _INTERNAL), text


def test_fractional_unit_powers_are_refused_not_rendered() -> None:
    assert "whole or a half" in error("1 GB ** 1e-300")
    assert value("sqrt(4 m**2)") == "2.00 m"


def test_derivations_show_literals_as_written() -> None:
    doc = Document("t.md")
    doc.block("check(ring_allreduce(size=13.5 GB, n=8, bandwidth=450 GB/s) < 1 ms, 'x')", 1)
    (failure,) = doc.failures
    assert any(
        "ring_allreduce(size=13.5 GB, n=8, bandwidth=450 GB/s)" in d for d in failure.derivation
    )
    assert not any("___" in d for d in failure.derivation)


def test_bad_data_is_named_not_mistaken_for_an_unknown_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "bad.toml").write_text(
        'schema = "mlsysim.hardware/1"\n\n[X1]\nname = "x"\nkind = "accelerator"\n'
        'vendor = "v"\nsource = "no_such_cite"\ntdp = "1 W"\npeak.dense.bf16 = "1 TFLOP/s"\n'
        'memory = { type = "HBM", capacity = "1 GB", bandwidth = "1 TB/s" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MLSYSIM_DATA_PATH", str(data))
    from mlsysim.core import registry

    registry.reset()
    try:
        r = Document("c.md").inline('ridge_point(H100, "bf16")', 1)
        assert r.failure is not None
        text = r.failure.message + " " + (r.failure.hint or "")
        assert "registry data could not be loaded" in text and "bad.toml" in text
        assert "unknown citation id 'no_such_cite'" in text and "X1" in text
        assert "no name" not in text
        assert value("2 * 3 ms") == "6 ms"  # what needs no data still evaluates
    finally:
        monkeypatch.delenv("MLSYSIM_DATA_PATH")
        registry.reset()


# -- one option resolution ----------------------------------------------------------------------


def test_options_resolve_project_then_metadata_then_front_matter_then_flags(tmp_path: Path) -> None:
    book = tmp_path / "book"
    (book / "part").mkdir(parents=True)
    (book / "_quarto.yml").write_text("mlsysim:\n  tolerance: 20%\n  sig-figs: 4\n", "utf-8")
    (book / "part" / "_metadata.yml").write_text("mlsysim:\n  sig-figs: 2\n", "utf-8")
    chapter = book / "part" / "c.qmd"
    front = "---\nmlsysim:\n  tolerance: 10%\n---\n"
    project = project_of(chapter)
    options = chapter_options(chapter, front, project)
    assert (options.tolerance, options.sig_figs) == (0.1, 2)
    flagged = chapter_options(chapter, front, project, {"tolerance": "3%"})
    assert flagged.tolerance == 0.03


def test_check_reads_conf_py_literals_and_reports_what_it_cannot(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "conf.py").write_text(
        'extensions = ["myst_parser"]\nmlsysim_tolerance = "20%"\n'
        "import os\nmlsysim_sig_figs = int(os.environ.get('X', 3))\n",
        "utf-8",
    )
    (book / "c.md").write_text("About {claim}`250 FLOP/B ~ ridge_point(H100, 'bf16')`.\n", "utf-8")
    _, failures = check_paths([book])  # 250 vs 295: 15 % off, inside conf.py's 20 %
    assert [(Path(f.file).name, f.line) for f in failures] == [("conf.py", 4)]
    assert "mlsysim_sig_figs is not a literal value" in failures[0].message


def test_warn_mode_reports_but_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.md").write_text(
        "---\nmlsysim:\n  fail-mode: warn\n---\n{napkin}`H10`\n", "utf-8"
    )
    assert main(["check", str(tmp_path)]) == 0
    assert "H10" in capsys.readouterr().out
    assert main(["check", str(tmp_path), "--fail-mode", "error"]) == 1


# -- the Quarto filter's protocol -----------------------------------------------------------------


def _fake_python(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-python"
    script.write_text("#!/bin/sh\ncat >/dev/null\n" + body, encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            'echo \'{"version": 1, "checked": 1, "results": [{"id": "1", "ok": false, '
            '"text": "", "latex": "", "html": "", "markdown": "", "math": false}], '
            '"failures": [], "cached": false}\'\n',
            "marked 1 item(s) as failed without saying why",
        ),
        ("echo 'No module named mlsysim' >&2; exit 1\n", "could not start mlsysim"),
        (
            'echo \'{"version": 1, "error": {"message": "KeyError: boom"}}\'; exit 4\n',
            "internal error in the mlsysim engine: KeyError: boom",
        ),
    ],
)
def test_filter_says_what_went_wrong(tmp_path: Path, body: str, needle: str) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "quarto_shim"))
    from harness import FILTER, pandoc_path

    (tmp_path / "c.md").write_text("A `1 + 1`{.napkin}.\n", encoding="utf-8")
    env = {**os.environ, "MLSYSIM_PYTHON": str(_fake_python(tmp_path, body))}
    proc = subprocess.run(
        [pandoc_path(), "-L", str(FILTER), "c.md", "-t", "html", "-o", os.devnull],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1 and needle in proc.stderr, proc.stderr
    if "could not start" not in needle:
        assert "MLSYSIM_PYTHON" not in proc.stderr  # the interpreter is not to blame
