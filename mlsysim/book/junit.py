"""JUnit XML reports that CI servers accept: one test case per checked item.

The document follows the JUnit schema Jenkins' xunit plugin publishes (``junit-10.xsd``, which
``tests/test_ci_formats.py`` validates against): ``<testsuites>`` holds one ``<testsuite>``
per source file (``name`` and ``file`` the path), which holds one ``<testcase>`` per checked
item — passes included, so a green book is not an empty report, which Jenkins' ``junit`` step
rejects. A case's ``classname`` is the file and its ``name`` the item's position, kind and
text (``12:1 check: check(t_token < 1 ms, …)``), unique within the file. A failing item has
one ``<failure>`` (``type`` the failure code, ``message`` its message, the whole report as
text); a failure of a chapter in fail mode ``warn`` does not fail its case and is written to
the case's ``<system-out>``. A run with no items at all is one skipped case that says so.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

from mlsysim.book.failures import Checked, Failure

__all__ = ["junit_report"]

_NAME_CHARS = 100
_XML_INVALID = str.maketrans(
    {c: "\ufffd" for c in [*map(chr, range(9)), "\x0b", "\x0c", *map(chr, range(14, 32))]}
    | {"\ufffe": "\ufffd", "\uffff": "\ufffd"}
)


def _xml(text: str) -> str:
    return text.translate(_XML_INVALID)


def _one_line(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= _NAME_CHARS else words[: _NAME_CHARS - 1] + "…"


def _cases(
    failures: Sequence[Failure], items: Sequence[Checked] | None, checked: int
) -> list[Checked]:
    """The test cases: the checked items when known, else one per failure plus the passes."""
    if items is not None:
        return list(items)
    cases = [
        Checked(f.file, f.line, f.column, f.kind, f.expression or f.message, (f,)) for f in failures
    ]
    passed = checked - len(failures)
    if passed > 0:
        text = f"{passed} other item{'s' if passed != 1 else ''} passed"
        cases.append(Checked("mlsysim", 0, None, "items", text))
    return cases


def _case_name(item: Checked) -> str:
    if not item.line:  # not a place in a source (the passes of a run without its items)
        return _one_line(item.text)
    where = f"{item.line}:{item.column}" if item.column else str(item.line)
    return f"{where} {item.kind}: {_one_line(item.text)}"


def _counts(cases: Sequence[Checked], skipped: int = 0) -> dict[str, str]:
    """``tests``, ``failures``, ``errors`` (the root's attributes; a suite also has ``skipped``)."""
    failed = sum(1 for c in cases if c.blocking)
    return {"tests": str(len(cases) + skipped), "failures": str(failed), "errors": "0"}


def junit_report(
    failures: Sequence[Failure],
    *,
    checked: int,
    items: Sequence[Checked] | None,
    details: Callable[[Failure], list[str]],
    empty: str,
) -> str:
    """The JUnit XML document of a run; ``details(f)`` gives a failure's report lines and
    ``empty`` what a run without items says."""
    cases = _cases(failures, items, checked)
    if not cases:
        root = ET.Element("testsuites", {"name": "mlsysim", **_counts([], 1)})
        suite = ET.SubElement(
            root, "testsuite", {"name": "mlsysim", **_counts([], 1), "skipped": "1"}
        )
        skipped = ET.SubElement(suite, "testcase", {"classname": "mlsysim", "name": _xml(empty)})
        ET.SubElement(skipped, "skipped", {"message": _xml(empty)})
        return _serialize(root)
    root = ET.Element("testsuites", {"name": "mlsysim", **_counts(cases)})
    by_file: dict[str, list[Checked]] = {}
    for item in cases:
        by_file.setdefault(item.file, []).append(item)
    for file, file_cases in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            {"name": _xml(file), **_counts(file_cases), "skipped": "0", "file": _xml(file)},
        )
        seen: dict[str, int] = {}
        for item in file_cases:
            _add_case(suite, item, seen, details)
    return _serialize(root)


def _add_case(
    suite: ET.Element,
    item: Checked,
    seen: dict[str, int],
    details: Callable[[Failure], list[str]],
) -> None:
    name = _case_name(item)
    seen[name] = seen.get(name, 0) + 1
    if seen[name] > 1:  # the same item text twice at one place (table rows): keep names unique
        name = f"{name} #{seen[name]}"
    case = ET.SubElement(suite, "testcase", {"classname": _xml(item.file), "name": _xml(name)})
    blocking = item.blocking
    if blocking:
        first = blocking[0]
        message = first.message + (f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else "")
        failure = ET.SubElement(case, "failure", {"type": first.code, "message": _xml(message)})
        failure.text = _xml("\n".join(line for f in blocking for line in details(f)))
    warnings = [f for f in item.failures if f.severity != "error"]
    if warnings:
        out = ET.SubElement(case, "system-out")
        out.text = _xml("\n".join(line for f in warnings for line in details(f)))


def _serialize(root: ET.Element) -> str:
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
