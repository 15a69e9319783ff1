"""Failure reports: human text, JSON, JUnit XML and GitHub workflow annotations.

Every format lists *all* failures, sorted by (file, line, column) so output is deterministic,
and states how many items were checked. :func:`format_report` is the one entry point (the CLI,
``mlsysim check --format …``); JSON follows :data:`CHECK_SCHEMA` (:func:`check_json_schema`),
JUnit has one test case per checked item (:mod:`mlsysim.book.junit`), and
:func:`github_summary` is the Markdown a GitHub step summary shows: every failure, where
GitHub itself shows only the first ten annotations of a step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from mlsysim.book.build_log import plural
from mlsysim.book.failures import Checked, Failure
from mlsysim.book.junit import junit_report
from mlsysim.core.exceptions import ConfigError

__all__ = [
    "CHECK_SCHEMA",
    "FORMATS",
    "check_json_schema",
    "format_report",
    "github_summary",
    "no_items_warning",
    "sort_failures",
    "summary_line",
]

#: Report formats accepted by :func:`format_report`.
FORMATS = ("text", "json", "junit", "github")

#: The version of the JSON report (``"schema"`` of ``mlsysim check --format json``).
CHECK_SCHEMA = "mlsysim.check/1"

#: GitHub stores at most 1 MiB of step summary per step; stay below it.
_SUMMARY_LIMIT = 900_000

_INDENT = "    "


def sort_failures(failures: Iterable[Failure]) -> list[Failure]:
    """Failures in (file, line, column) order; ties keep their original (document) order."""
    return sorted(failures, key=lambda f: (f.file, f.line, f.column or 0))


def no_items_warning(files: int | None) -> str:
    """What a run that found no napkin item says (a warning: nothing was checked)."""
    if files == 0:
        return "no chapter sources (.md, .qmd, .rst) found: nothing was checked"
    read = f" in {plural(files, 'source file')}" if files else ""
    return f"no napkin items found{read}: nothing was checked"


def summary_line(failures: list[Failure], checked: int, files: int | None = None) -> str:
    """``mlsysim: 3 failures in 2 files (41 checked)`` or ``mlsysim: 41 checked, all passed``."""
    if not failures and not checked:
        return f"mlsysim: {no_items_warning(files)}"
    if not failures:
        return f"mlsysim: {checked} checked, all passed"
    files = len({f.file for f in failures})
    return (
        f"mlsysim: {plural(len(failures), 'failure')} in {plural(files, 'file')} "
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


def _text(failures: list[Failure], ctx: _Context) -> str:
    out: list[str] = []
    for f in failures:
        out.append(f.headline())
        out += _detail_lines(f)
    out += [f"mlsysim: warning: {w}" for w in ctx.warnings if ctx.checked or failures]
    out.append(summary_line(failures, ctx.checked, ctx.files))
    return "\n".join(out) + "\n"


def _failure_json(f: Failure) -> dict[str, Any]:
    return {**f.to_dict(), "code": f.code, "severity": f.severity}


def _json(failures: list[Failure], ctx: _Context) -> str:
    from mlsysim import __version__

    passed = None if ctx.items is None else sum(1 for i in ctx.items if not i.blocking)
    doc = {
        "schema": CHECK_SCHEMA,
        "mlsysim": __version__,
        "summary": summary_line(failures, ctx.checked, ctx.files),
        "files": ctx.files,
        "checked": ctx.checked,
        "passed": passed,
        "warnings": list(ctx.warnings),
        "failures": [_failure_json(f) for f in failures],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


def _junit(failures: list[Failure], ctx: _Context) -> str:
    empty = summary_line([], 0, ctx.files).removeprefix("mlsysim: ")
    return junit_report(
        failures,
        checked=ctx.checked,
        items=ctx.items,
        details=lambda f: [f.headline(), *_detail_lines(f)],
        empty=empty,
    )


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(failures: list[Failure], ctx: _Context) -> str:
    out = []
    for f in failures:
        props = [f"file={_gh_property(f.file)}", f"line={f.line}"]
        if f.column:
            props.append(f"col={f.column}")
        props.append(f"title={_gh_property(f.code)}")
        body = "\n".join([f.message, *_detail_lines(f, indent="")])
        out.append(f"::{f.severity} {','.join(props)}::{_gh_data(body)}")
    out += [f"::warning title=mlsysim::{_gh_data(w)}" for w in ctx.warnings]
    out.append(summary_line(failures, ctx.checked, ctx.files))
    return "\n".join(out) + "\n"


class _Context:
    """What a report says besides the failures: counts, checked items, warnings."""

    __slots__ = ("checked", "files", "items", "warnings")

    def __init__(
        self,
        checked: int,
        files: int | None,
        items: Sequence[Checked] | None,
        warnings: Sequence[str],
    ) -> None:
        self.checked = checked
        self.files = files
        self.items = items
        self.warnings = tuple(warnings)


_WRITERS: dict[str, Any] = {"text": _text, "json": _json, "junit": _junit, "github": _github}


def format_report(
    failures: Iterable[Failure],
    fmt: str = "text",
    *,
    checked: int,
    items: Sequence[Checked] | None = None,
    files: int | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """The report of ``failures`` in ``fmt`` (one of :data:`FORMATS`), ending with a newline.

    ``checked`` is how many items (inline values, checks, claims, bindings, table rows…) were
    evaluated; ``items`` (optional) are those items with their failures, so that JUnit has
    one test case per item; ``files`` how many sources were read; ``warnings`` what the run
    wants said besides its failures (:func:`no_items_warning`).
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ConfigError(
            f"unknown report format {fmt!r}",
            why=f"formats are {', '.join(FORMATS)}",
            fix="pass --format text, json, junit or github",
        )
    ctx = _Context(checked, files, items, warnings)
    return str(writer(sort_failures(failures), ctx))


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def github_summary(
    failures: Iterable[Failure],
    *,
    checked: int,
    files: int | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: the summary, then every failure (a table, and
    each failure's details), since GitHub shows only ten annotations per step."""
    ordered = sort_failures(failures)
    head = summary_line(ordered, checked, files).removeprefix("mlsysim: ")
    out = [f"### mlsysim check: {head}", ""]
    out += [f"> **warning:** {_md_cell(w)}" for w in warnings]
    if warnings:
        out.append("")
    if not ordered:
        return "\n".join(out) + "\n"
    if len(ordered) > 10:
        out += [
            f"GitHub shows the first 10 annotations of a step; all {len(ordered)} failures "
            "are listed here.",
            "",
        ]
    out += ["| location | severity | code | message |", "|---|---|---|---|"]
    rows = [
        f"| `{_md_cell(f.location())}` | {f.severity} | `{f.code}` | {_md_cell(f.message)} |"
        for f in ordered
    ]
    size = sum(len(line) + 1 for line in out)
    for n, row in enumerate(rows):
        size += len(row) + 1
        if size > _SUMMARY_LIMIT:
            out.append(f"\n… and {len(rows) - n} more failures: see the job's log or report.")
            return "\n".join(out) + "\n"
        out.append(row)
    lines = [line for f in ordered for line in (f.headline(), *_detail_lines(f))]
    fence = "`" * max(3, _longest_backtick_run(lines) + 1)
    details = ["", "<details><summary>Details of every failure</summary>", "", f"{fence}text"]
    details += [*lines, fence, "", "</details>"]
    body = "\n".join(details)
    if size + len(body) < _SUMMARY_LIMIT:
        out.append(body)
    return "\n".join(out) + "\n"


def _longest_backtick_run(lines: Iterable[str]) -> int:
    longest = 0
    for line in lines:
        run = 0
        for ch in line:
            run = run + 1 if ch == "`" else 0
            longest = max(longest, run)
    return longest


def check_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``mlsysim check --format json``."""
    text = {"type": "string"}
    opt_text = {"type": ["string", "null"]}
    failure_props: dict[str, Any] = {
        "file": text,
        "line": {"type": "integer", "minimum": 0},
        "column": {"type": ["integer", "null"], "minimum": 1},
        "kind": {"enum": ["check", "claim", "error", "lint"]},
        "code": {"enum": ["mlsysim.check", "mlsysim.claim", "mlsysim.error", "mlsysim.lint"]},
        "severity": {"enum": ["error", "warning"]},
        "message": text,
        "expression": text,
        "value": opt_text,
        "expected": opt_text,
        "derivation": {"type": "array", "items": text},
        "sources": {"type": "array", "items": text},
        "hint": opt_text,
        "extra": {"type": "object"},
    }
    failure = {
        "type": "object",
        "properties": failure_props,
        "required": ["file", "line", "kind", "code", "severity", "message"],
    }
    props: dict[str, Any] = {
        "schema": {"const": CHECK_SCHEMA},
        "mlsysim": text,
        "summary": text,
        "files": {"type": ["integer", "null"], "minimum": 0},
        "checked": {"type": "integer", "minimum": 0},
        "passed": {"type": ["integer", "null"], "minimum": 0},
        "warnings": {"type": "array", "items": text},
        "failures": {"type": "array", "items": failure},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/check-1.json",
        "title": "mlsysim check --format json",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
