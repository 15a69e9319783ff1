"""Failure reports in the four formats: text, JSON, JUnit XML, GitHub annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from mlsysim.book.failures import Failure
from mlsysim.book.reports import FORMATS, format_report, sort_failures, summary_line
from mlsysim.core.exceptions import ConfigError

CLAIM = Failure(
    file="chapters/roofline.md",
    line=12,
    column=5,
    kind="claim",
    message="claim 300 FLOP/B is 1.6 % off ridge_point(H100) = 295 FLOP/B (tolerance 1 %)",
    expression="300 FLOP/B ~ ridge @ 1%",
    value="295 FLOP/B",
    expected="300 FLOP/B ± 1 %",
    derivation=(
        'ridge = ridge_point(H100, "bf16")',
        "      = 989.4 TFLOP/s / 3.35 TB/s ≈ 295 FLOP/B",
    ),
    sources=("NVIDIA H100 Tensor Core GPU datasheet (2023)",),
)
CHECK = Failure(
    file="chapters/intro.md",
    line=40,
    kind="check",
    message="check failed: model fits in memory",
    expression="Llama2_70B.params * 2 B/param < H100.memory.capacity",
    value="false",
    hint="shard the weights over 2 GPUs",
)
ERROR = Failure(
    file="chapters/intro.md",
    line=7,
    kind="error",
    message="no hardware 'H10'; did you mean H100, H200?",
    expression="H10.tdp",
)
WEIRD = Failure(
    file="a,b:c%.md",
    line=3,
    kind="error",
    message="100% broken\nsecond line\r\x01 <&>",
)


def test_sorting_is_by_file_line_column():
    assert sort_failures([CLAIM, CHECK, ERROR]) == [ERROR, CHECK, CLAIM]


def test_summary_lines():
    assert summary_line([], 41) == "mlsysim: 41 checked, all passed"
    assert summary_line([CLAIM], 41) == "mlsysim: 1 failure in 1 file (41 checked)"
    assert summary_line([CLAIM, CHECK, ERROR], 41) == "mlsysim: 3 failures in 2 files (41 checked)"


def test_text_report():
    out = format_report([CLAIM, CHECK, ERROR], "text", checked=41)
    lines = out.splitlines()
    assert (
        lines[0]
        == "chapters/intro.md:7: error[mlsysim.error]: no hardware 'H10'; did you mean H100, H200?"
    )
    assert lines[1] == "    expression: H10.tdp"
    assert lines[2].startswith("chapters/intro.md:40: error[mlsysim.check]: check failed")
    assert "    hint: shard the weights over 2 GPUs" in lines
    claim = lines.index("chapters/roofline.md:12:5: error[mlsysim.claim]: " + CLAIM.message)
    assert lines[claim + 1 : claim + 10] == [
        "    expression: 300 FLOP/B ~ ridge @ 1%",
        "    value: 295 FLOP/B",
        "    expected: 300 FLOP/B ± 1 %",
        "    derivation:",
        '      ridge = ridge_point(H100, "bf16")',
        "            = 989.4 TFLOP/s / 3.35 TB/s ≈ 295 FLOP/B",
        "    sources:",
        "      NVIDIA H100 Tensor Core GPU datasheet (2023)",
        "mlsysim: 3 failures in 2 files (41 checked)",
    ]
    assert out.endswith("\n")


def test_text_report_all_passed():
    assert format_report([], "text", checked=41) == "mlsysim: 41 checked, all passed\n"


def test_json_report_is_parseable_and_deterministic():
    out = format_report([CLAIM, CHECK, ERROR], "json", checked=41)
    doc = json.loads(out)
    assert list(doc) == [
        "schema",
        "mlsysim",
        "summary",
        "files",
        "checked",
        "passed",
        "warnings",
        "failures",
    ]
    assert doc["schema"] == "mlsysim.check/1" and doc["checked"] == 41
    assert [(f["file"], f["line"], f["kind"]) for f in doc["failures"]] == [
        ("chapters/intro.md", 7, "error"),
        ("chapters/intro.md", 40, "check"),
        ("chapters/roofline.md", 12, "claim"),
    ]
    assert doc["failures"][2]["derivation"][1].endswith("≈ 295 FLOP/B")
    assert doc["failures"][2]["column"] == 5
    assert format_report([ERROR, CLAIM, CHECK], "json", checked=41) == out
    empty = json.loads(format_report([], "json", checked=0, files=0))
    assert (empty["checked"], empty["failures"], empty["files"]) == (0, [], 0)
    assert empty["summary"].startswith("mlsysim: no chapter sources")


def test_junit_report_is_valid_xml():
    # without the checked items: one case per failure, plus one for the items that passed
    out = format_report([CLAIM, CHECK, ERROR, WEIRD], "junit", checked=41)
    root = ET.fromstring(out.encode("utf-8"))
    assert root.tag == "testsuites"
    assert root.get("tests") == "5" and root.get("failures") == "4"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"chapters/roofline.md", "chapters/intro.md", "a,b:c%.md", "mlsysim"}
    claim = suites["chapters/roofline.md"].find("testcase")
    assert claim.get("classname") == "chapters/roofline.md"
    assert claim.get("name") == "12:5 claim: 300 FLOP/B ~ ridge @ 1%"
    failure = claim.find("failure")
    assert failure.get("type") == "mlsysim.claim"
    assert "989.4 TFLOP/s" in failure.text
    weird = suites["a,b:c%.md"].find("testcase")
    assert "<&>" in weird.find("failure").get("message")
    passed = suites["mlsysim"].find("testcase")
    assert passed.get("name") == "37 other items passed" and len(passed) == 0


def test_junit_with_no_failures_still_has_test_cases():
    root = ET.fromstring(format_report([], "junit", checked=3).encode("utf-8"))
    assert root.get("tests") == "1" and root.get("failures") == "0"
    (case,) = root.find("testsuite").findall("testcase")
    assert case.find("failure") is None
    empty = ET.fromstring(format_report([], "junit", checked=0, files=2).encode("utf-8"))
    (case,) = empty.find("testsuite").findall("testcase")
    assert case.find("skipped").get("message") == "no napkin items found in 2 source files: " + (
        "nothing was checked"
    )


def test_github_annotations():
    out = format_report([CLAIM, ERROR], "github", checked=41)
    lines = out.splitlines()
    assert lines[0] == (
        "::error file=chapters/intro.md,line=7,title=mlsysim.error::"
        "no hardware 'H10'; did you mean H100, H200?%0Aexpression: H10.tdp"
    )
    assert lines[1].startswith(
        "::error file=chapters/roofline.md,line=12,col=5,title=mlsysim.claim::claim 300 FLOP/B"
    )
    assert "%0Aexpected: 300 FLOP/B ± 1 %25" in lines[1]
    assert lines[-1] == "mlsysim: 2 failures in 2 files (41 checked)"


def test_github_escaping():
    out = format_report([WEIRD], "github", checked=1)
    first = out.splitlines()[0]
    assert first.startswith("::error file=a%2Cb%3Ac%25.md,line=3,title=mlsysim.error::")
    assert first.endswith("::100%25 broken%0Asecond line%0D\x01 <&>")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_ends_with_newline(fmt):
    assert format_report([CLAIM], fmt, checked=1).endswith("\n")


def test_unknown_format():
    with pytest.raises(ConfigError, match="unknown report format"):
        format_report([], "yaml", checked=0)


def test_failure_sources_are_titles_not_internal_ids(tmp_path):
    from mlsysim.book.sources.check import check_sources

    chapter = tmp_path / "ch.md"
    chapter.write_text("```{napkin}\ncheck(H100.memory.bandwidth < 1 TB/s, 'slow')\n```\n")
    (failure,) = check_sources([chapter]).failures
    assert failure.sources == ("NVIDIA H100 Tensor Core GPU Datasheet (NVIDIA, 2023)",)
    assert "nvidia_h100_datasheet" not in format_report([failure], "text", checked=1)
