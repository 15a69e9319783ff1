"""Failure reports: human text, JSON, JUnit XML and GitHub workflow annotations.

Every format lists *all* failures, sorted by (file, line, column) so output is deterministic,
and states how many items were checked. :func:`format_report` is the one entry point; the CLI
(``mlsysim check --format …``), the Sphinx extension and the Quarto filter all use it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from mlsysim.book.failures import Failure
from mlsysim.core.exceptions import ConfigError

__all__ = ["FORMATS", "format_report", "sort_failures", "summary_line"]

#: Report formats accepted by :func:`format_report`.
FORMATS = ("text", "json", "junit", "github")

_INDENT = "    "
_XML_INVALID = str.maketrans(
    {c: "\ufffd" for c in [*map(chr, range(9)), "\x0b", "\x0c", *map(chr, range(14, 32))]}
    | {"\ufffe": "\ufffd", "\uffff": "\ufffd"}
)


def sort_failures(failures: Iterable[Failure]) -> list[Failure]:
    """Failures in (file, line, column) order; ties keep their original (document) order."""
    return sorted(failures, key=lambda f: (f.file, f.line, f.column or 0))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(failures: list[Failure], checked: int) -> str:
    """``mlsysim: 3 failures in 2 files (41 checked)`` or ``mlsysim: 41 checked, all passed``."""
    if not failures:
        return f"mlsysim: {checked} checked, all passed"
    files = len({f.file for f in failures})
    return (
        f"mlsysim: {_plural(len(failures), 'failure')} in {_plural(files, 'file')} "
        f"({checked} checked)"
    )


def _details(f: Failure) -> list[tuple[str, list[str]]]:
    """The labelled detail sections of a failure, in report order (empty ones left out)."""
    sections: list[tuple[str, list[str]]] = []
    for label, value in (
        ("expression", f.expression),
        ("value", f.value),
        ("expected", f.expected),
    ):
        if value:
            sections.append((label, [value]))
    if f.derivation:
        sections.append(("derivation", list(f.derivation)))
    if f.sources:
        sections.append(("sources", list(f.sources)))
    if f.hint:
        sections.append(("hint", [f.hint]))
    return sections


def _detail_lines(f: Failure, indent: str = _INDENT) -> list[str]:
    lines = []
    for label, values in _details(f):
        if len(values) == 1 and label not in ("derivation", "sources"):
            lines.append(f"{indent}{label}: {values[0]}")
        else:
            lines.append(f"{indent}{label}:")
            lines += [f"{indent}  {v}" for v in values]
    return lines


def _text(failures: list[Failure], checked: int) -> str:
    out: list[str] = []
    for f in failures:
        out.append(f.headline())
        out += _detail_lines(f)
    out.append(summary_line(failures, checked))
    return "\n".join(out) + "\n"


def _json(failures: list[Failure], checked: int) -> str:
    doc = {"checked": checked, "failures": [f.to_dict() for f in failures]}
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


def _xml_text(text: str) -> str:
    return text.translate(_XML_INVALID)


def _junit(failures: list[Failure], checked: int) -> str:
    tests = max(checked, len(failures))
    counts = {"tests": str(tests), "failures": str(len(failures)), "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", {"name": "mlsysim", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": "mlsysim", **counts})
    for f in failures:
        name = f.location() + (f" {f.expression}" if f.expression else "")
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": _xml_text(f.file),
                "name": _xml_text(name),
                "file": _xml_text(f.file),
                "line": str(f.line),
            },
        )
        failure = ET.SubElement(case, "failure", {"type": f.code, "message": _xml_text(f.message)})
        failure.text = _xml_text("\n".join([f.headline(), *_detail_lines(f)]))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(failures: list[Failure], checked: int) -> str:
    out = []
    for f in failures:
        props = [f"file={_gh_property(f.file)}", f"line={f.line}"]
        if f.column:
            props.append(f"col={f.column}")
        props.append(f"title={_gh_property(f.code)}")
        body = "\n".join([f.message, *_detail_lines(f, indent="")])
        out.append(f"::{f.severity} {','.join(props)}::{_gh_data(body)}")
    out.append(summary_line(failures, checked))
    return "\n".join(out) + "\n"


_WRITERS: dict[str, Any] = {"text": _text, "json": _json, "junit": _junit, "github": _github}


def format_report(failures: Iterable[Failure], fmt: str = "text", *, checked: int) -> str:
    """The report of ``failures`` in ``fmt`` (one of :data:`FORMATS`), ending with a newline.

    ``checked`` is how many items (inline values, checks, claims, blocks) were evaluated.
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ConfigError(
            f"unknown report format {fmt!r}",
            why=f"formats are {', '.join(FORMATS)}",
            fix="pass --format text, json, junit or github",
        )
    return str(writer(sort_failures(failures), checked))
