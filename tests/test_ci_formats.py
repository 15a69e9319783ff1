"""CI formats that CI accepts: JUnit valid against Jenkins' schema with one case per checked
item, GitHub annotations plus a step summary, versioned JSON that validates against
``mlsysim schema …`` (errors included), one exit-code table, and the pre-commit hook."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
import yaml

from mlsysim.cli.exits import EXIT_CODES, help_text, markdown_table
from mlsysim.cli.main import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
BOOKS = ROOT / "book_fixtures"
NAPKIN = Path(__file__).parent / "data" / "napkin"
#: fetched from pytest's source distribution on PyPI by scripts/setup.sh (never committed)
JUNIT_XSD = Path(sys.prefix) / "share" / "mlsysim-tests" / "junit-10.xsd"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    if not JUNIT_XSD.is_file():
        pytest.fail(f"{JUNIT_XSD} is missing: run `bash scripts/setup.sh`, which fetches it")
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def schema(name: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, _ = run(["schema", name], capsys)
    assert code == 0
    document: dict[str, Any] = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(document)
    return document


def validates(data: Any, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema.Draft202012Validator(schema(name, capsys)).validate(data)


# ---------------------------------------------------------------------------------------------
# JUnit


def junit(paths: list[str], capsys: pytest.CaptureFixture[str], *extra: str) -> ET.Element:
    _, out, _ = run(["check", *paths, "--format", "junit", *extra], capsys)
    return ET.fromstring(out.encode("utf-8"))


def cases(root: ET.Element) -> list[ET.Element]:
    return [c for s in root.findall("testsuite") for c in s.findall("testcase")]


@pytest.mark.parametrize(
    "paths",
    [
        [str(BOOKS / "sphinx")],
        [str(BOOKS / "sphinx-broken")],
        [str(BOOKS / "quarto-broken")],
        [str(NAPKIN)],
        [str(NAPKIN / "missing.md"), str(NAPKIN / "bad.rst")],
    ],
    ids=["green", "broken", "quarto-broken", "napkin", "unreadable"],
)
def test_junit_validates_with_one_case_per_checked_item(
    paths: list[str], junit_schema: xmlschema.XMLSchema, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlsysim.book.sources.check import check_sources

    found = check_sources(paths)
    sources = sum(1 for i in found.items if i.kind == "source")  # failures of a file itself
    root = junit(paths, capsys)
    junit_schema.validate(ET.tostring(root, encoding="unicode"))
    all_cases = cases(root)
    failed = [c for c in all_cases if c.find("failure") is not None]
    assert len(all_cases) == found.checked + sources == len(found.items)
    assert int(root.get("tests")) == len(all_cases) and int(root.get("failures")) == len(failed)
    assert len(failed) == sum(1 for i in found.items if i.blocking)
    assert bool(failed) == any(f.severity == "error" for f in found.failures)
    for suite in root.findall("testsuite"):  # names unique per class, as Jenkins needs
        names = [(c.get("classname"), c.get("name")) for c in suite.findall("testcase")]
        assert len(names) == len(set(names)), names


def test_a_green_book_is_not_an_empty_report(
    junit_schema: xmlschema.XMLSchema, capsys: pytest.CaptureFixture[str]
) -> None:
    root = junit([str(BOOKS / "sphinx")], capsys)
    names = [c.get("name") for c in cases(root)]
    assert len(names) > 20 and root.get("failures") == "0"
    kinds = {n.split(" ", 1)[1].split(":", 1)[0] for n in names}
    assert {"value", "claim", "check", "binding", "table row", "derivation"} <= kinds


def test_junit_of_an_empty_directory_is_one_skipped_case(
    tmp_path: Path, junit_schema: xmlschema.XMLSchema, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.md").write_text("# no napkin math here\n")
    root = junit([str(tmp_path)], capsys)
    junit_schema.validate(ET.tostring(root, encoding="unicode"))
    (case,) = cases(root)
    assert "no napkin items found in 1 source file" in case.find("skipped").get("message")


def test_warn_mode_failures_pass_their_case_and_are_written_out(
    junit_schema: xmlschema.XMLSchema, capsys: pytest.CaptureFixture[str]
) -> None:
    root = junit([str(BOOKS / "sphinx-broken")], capsys, "--fail-mode", "warn")
    junit_schema.validate(ET.tostring(root, encoding="unicode"))
    assert root.get("failures") == "0"
    outs = [c.find("system-out").text for c in cases(root) if c.find("system-out") is not None]
    assert len(outs) >= 8 and all("warning[mlsysim." in o for o in outs)


def test_the_schema_rejects_what_jenkins_rejects(junit_schema: xmlschema.XMLSchema) -> None:
    # the validator is not a rubber stamp: attributes the schema lacks are refused
    bad = '<testsuites><testsuite name="a" tests="1" failures="0" errors="0">'
    bad += '<testcase name="x" file="a.md" line="3"/></testsuite></testsuites>'
    assert not junit_schema.is_valid(bad)


# ---------------------------------------------------------------------------------------------
# GitHub


def test_github_step_summary_lists_every_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run(["check", str(BOOKS / "sphinx-broken"), "--format", "github"], capsys)
    listed = (BOOKS / "sphinx-broken" / "EXPECTED_FAILURES.txt").read_text().splitlines()
    expected = [line.split()[0] for line in listed if line.strip() and not line.startswith("#")]
    annotations = [line for line in out.splitlines() if line.startswith("::error ")]
    text = summary.read_text()
    assert code == 1 and len(annotations) == len(expected) > 10
    assert text.startswith("earlier step\n### mlsysim check: 14 failures in 6 files")
    assert "all 14 failures are listed here" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(expected)
    for location in expected:  # file:line:column of every failure, in the table
        assert any(f"sphinx-broken/{location}:" in r for r in rows), location
    assert "<details>" in text and text.count("error[mlsysim.") == len(expected)


def test_no_step_summary_without_github(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run(["check", str(NAPKIN / "bad.md"), "--format", "github"], capsys)[0] == 1
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Versioned JSON, and its schemas


def test_check_json_validates(capsys: pytest.CaptureFixture[str]) -> None:
    for paths in ([str(BOOKS / "sphinx-broken")], [str(BOOKS / "sphinx")], [str(NAPKIN)]):
        _, out, _ = run(["check", *paths, "--format", "json"], capsys)
        data = json.loads(out)
        assert data["schema"] == "mlsysim.check/1"
        validates(data, "check", capsys)


COMMAND_LINES = {
    "eval": ["eval", "Llama2_7B.params * 2 B/param / A100.memory.bandwidth -> ms"],
    "eval-bool": ["eval", "1 GB < 2 GB"],
    "solve": ["solve", "Llama2_7B", "A100", "--phase", "decode"],
    "solve-infeasible": ["solve", "Llama2_70B", "A100", "--phase", "decode"],
    "solve-distributed": [
        *("solve", "GPT3_175B", "DGX_A100", "--phase", "training", "--devices", "64"),
        *("--tp", "8", "--pp", "8", "--batch", "64", "--seq-len", "2048", "--sp"),
    ],
    "collective": ["collective", "all_reduce", "1GB", "DGX_H100"],
    "run": [
        *("run", "Llama2_7B", "DGX_H100", "--devices", "8", "--batch", "8", "--tp", "2"),
        *("--tokens", "1e9", "--region", "Quebec"),
    ],
    "fleet": [
        *("fleet", "Llama2_7B", "H100", "--qps", "10", "--slo", "50 ms"),
        *("--duration", "30 day", "--region", "Quebec"),
    ],
    "sim": ["sim", "Doorbell", "TinyPioneer", "--region", "Quebec"],
    "walls": ["walls"],
    "walls-one": ["walls", "fragility"],
    "zoo-hardware": ["zoo", "hardware"],
    "zoo-sources": ["zoo", "sources"],
}


@pytest.mark.parametrize("case", list(COMMAND_LINES))
def test_every_json_output_is_versioned_and_validates(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = COMMAND_LINES[case]
    code, out, _ = run([*argv, "--json"], capsys)
    data = json.loads(out)
    name = argv[0]
    assert code in (0, 3) and data["schema"].startswith(f"mlsysim.{_VERSIONED.get(name, name)}")
    validates(data, name, capsys)


_VERSIONED = {"solve": "", "sim": "ledger"}


def test_every_zoo_kind_validates(capsys: pytest.CaptureFixture[str]) -> None:
    from mlsysim.cli.zoo_cmd import KINDS

    for kind in [*KINDS, "sources"]:
        code, out, _ = run(["zoo", kind, "--json"], capsys)
        assert code == 0
        validates(json.loads(out), "zoo", capsys)


ERRORS = {
    "usage": ["solve", "Llama2_7B", "A100", "--phase", "serve"],
    "missing": ["solve", "Llama2_7B", "--json"],
    "unknown-name": ["solve", "Llama2_7B", "H10", "--phase", "decode"],
    "strict-infeasible": ["solve", "Llama2_70B", "A100", "--phase", "decode", "--strict"],
    "eval-failure": ["eval", "H10.memory.bandwidth"],
    "eval-options": ["eval", "1 GB", "--sig-figs", "0"],
    "collective": ["collective", "all_reduce", "1GB", "DGX_A100", "--algorithm", "nvls"],
    "run": ["run", "Llama2_7B", "H100", "--tokens", "1e9", "--region", "Atlantis"],
    "fleet": [
        *("fleet", "Llama2_7B", "H100", "--qps", "10", "--slo", "50 ms"),
        *("--duration", "30 day", "--region", "Atlantis"),
    ],
    "sim": ["sim", "Doorbell", "Nobody"],
    "walls": ["walls", "fragilty"],
    "zoo": ["zoo", "gpus"],
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_json_under_json(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ERRORS[case]
    code, out, err = run([*argv, "--json"] if "--json" not in argv else argv, capsys)
    data = json.loads(out)
    validates(data, "error", capsys)
    assert data["schema"] == "mlsysim.error/1" and data["exit_code"] == code != 0
    assert data["command"] == argv[0] and data["what"] and err  # and said on stderr too
    if case == "eval-failure":
        assert code == 1 and data["failure"]["column"] == 1 and "H100" in data["what"]
    if case == "strict-infeasible":
        assert code == 3 and data["kind"] == "infeasible"


def test_check_errors_are_json_under_format_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(NAPKIN), "--format", "json", "--tolerance", "lots"], capsys)
    data = json.loads(out)
    assert code == 2 and data["command"] == "check" and "tolerance" in data["error"]
    validates(data, "error", capsys)
    code, out, _ = run(["check", "--format", "json", "--bogus"], capsys)
    assert code == 2 and json.loads(out)["kind"] == "usage"


def test_an_internal_error_is_exit_4_and_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlsysim.cli.walls_cmd as walls_cmd

    def broken(args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(walls_cmd, "run", broken)
    code, out, err = run(["walls", "--json"], capsys)
    data = json.loads(out)
    assert code == 4 and data["kind"] == "internal" and "RuntimeError: a bug" in data["why"]
    assert "Traceback" in err


def test_schema_names_and_the_older_kind_form(capsys: pytest.CaptureFixture[str]) -> None:
    from mlsysim.cli.schema_cmd import SCHEMAS

    for name in SCHEMAS:
        schema(name, capsys)
    code, out, _ = run(["schema", "--kind", "distributed"], capsys)
    kind = json.loads(out)
    assert code == 0 and kind == schema("distributed", capsys)
    assert json.loads(run(["schema"], capsys)[1]) == schema("solve-device", capsys)


# ---------------------------------------------------------------------------------------------
# Exit codes, empty books, the pre-commit hook


def test_one_exit_code_table_in_the_readme_and_every_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert [c for c, _, _ in EXIT_CODES] == [0, 1, 2, 3, 4]
    assert markdown_table() in (ROOT / "README.md").read_text()
    for command in ["", *COMMANDS]:
        with pytest.raises(SystemExit) as info:
            main([command, "--help"] if command else ["--help"])
        assert info.value.code == 0
        assert help_text() in capsys.readouterr().out, command


def test_no_items_is_a_warning_and_exit_2_when_required(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["check", str(tmp_path)], capsys)
    assert code == 0 and "no chapter sources" in out
    (tmp_path / "prose.md").write_text("Just prose.\n")
    code, out, err = run(["check", str(tmp_path), "--format", "github"], capsys)
    assert code == 0 and "::warning title=mlsysim::no napkin items found in 1 source file" in out
    assert "warning: no napkin items" in err
    code, out, err = run(["check", str(tmp_path), "--require-items"], capsys)
    assert code == 2 and "--require-items" in err
    assert run(["check", str(NAPKIN / "clean.md"), "--require-items"], capsys)[0] == 0


def test_pre_commit_hook_definition_runs() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "mlsysim-check"]
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    assert set(hook["types_or"]) == {"markdown", "rst"} or "files" in hook
    exe = shutil.which("mlsysim") or str(Path(sys.executable).with_name("mlsysim"))
    words = hook["entry"].split()
    assert words[0] == "mlsysim"
    ok = subprocess.run([exe, *words[1:], str(NAPKIN / "clean.md")], capture_output=True)
    bad = subprocess.run([exe, *words[1:], str(NAPKIN / "bad.md")], capture_output=True)
    assert (ok.returncode, bad.returncode) == (0, 1), (ok.stderr, bad.stderr)
