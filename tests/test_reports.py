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
    assert list(doc) == ["checked", "failures"]
    assert doc["checked"] == 41
    assert [(f["file"], f["line"], f["kind"]) for f in doc["failures"]] == [
        ("chapters/intro.md", 7, "error"),
        ("chapters/intro.md", 40, "check"),
        ("chapters/roofline.md", 12, "claim"),
    ]
    assert doc["failures"][2]["derivation"][1].endswith("≈ 295 FLOP/B")
    assert doc["failures"][2]["column"] == 5
    assert format_report([ERROR, CLAIM, CHECK], "json", checked=41) == out
    assert json.loads(format_report([], "json", checked=0)) == {"checked": 0, "failures": []}


def test_junit_report_is_valid_xml():
    out = format_report([CLAIM, CHECK, ERROR, WEIRD], "junit", checked=41)
    root = ET.fromstring(out.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("tests") == "41" and suite.get("failures") == "4"
    cases = suite.findall("testcase")
    assert len(cases) == 4
    assert all(case.find("failure") is not None for case in cases)
    claim = next(c for c in cases if c.get("file") == "chapters/roofline.md")
    assert claim.get("line") == "12"
    failure = claim.find("failure")
    assert failure.get("type") == "mlsysim.claim"
    assert "989.4 TFLOP/s" in failure.text
    weird = next(c for c in cases if c.get("file") == "a,b:c%.md")
    assert "<&>" in weird.find("failure").get("message")


def test_junit_with_no_failures():
    root = ET.fromstring(format_report([], "junit", checked=3).encode("utf-8"))
    assert root.find("testsuite").get("tests") == "3"
    assert root.find("testsuite").findall("testcase") == []


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
