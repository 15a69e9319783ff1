"""``mlsysim impact PATH… --data OLD NEW | --since REV | --against FILE``: which rendered
values and which claims of a book change when its registry data or formulas change.

* ``--data OLD NEW``: OLD is read in place of the data folder NEW (e.g. a copy of
  ``mlsysim/hardware/data`` made before editing a datasheet value);
* ``--since REV``: every data folder inside the git repository as at REV, against the
  working tree;
* ``--against FILE``: an observation saved earlier with ``--save FILE`` (on the old checkout:
  this is how a change of formulas or code is measured).

Each change is ``file:line``, the item, old → new; claims and checks that would start
failing are listed with the failure. ``--format text|json|github`` (JSON schema
``mlsysim.impact/1``: ``mlsysim schema impact``; github: annotations, and the table in
``$GITHUB_STEP_SUMMARY``). Exit 0, 1 when an item would start failing, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_FAILURES, EXIT_OK, EXIT_USAGE

__all__ = ["add_arguments", "impact_json_schema", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="chapters or folders (as for mlsysim check)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--data", nargs=2, metavar=("OLD_DIR", "NEW_DIR"), help="two data folders")
    how.add_argument("--since", metavar="GIT_REV", help="the data files at a git revision")
    how.add_argument("--against", metavar="FILE", help="an observation saved with --save")
    parser.add_argument("--save", metavar="FILE", help="save this observation (and stop)")
    parser.add_argument(
        "--format", choices=["text", "json", "github"], default="text", help="report format"
    )
    parser.add_argument("--json", action="store_true", help="same as --format json")


def run(args: argparse.Namespace) -> int:
    from mlsysim.book import impact
    from mlsysim.core.exceptions import MlsysimError

    fmt = "json" if args.json else args.format
    try:
        if args.save:
            observation = impact.observe(args.paths)
            Path(args.save).write_text(json.dumps(observation.to_dict(), indent=1) + "\n")
            print(f"mlsysim impact: {len(observation.items)} items observed -> {args.save}")
            return EXIT_OK
        if args.data:
            result = impact.impact_of_data(args.paths, Path(args.data[0]), Path(args.data[1]))
        elif args.since:
            result = impact.impact_since(args.paths, args.since)
        elif args.against:
            try:
                saved = json.loads(Path(args.against).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                return report_error(
                    args, "impact", f"cannot read {args.against!r}: {exc}", EXIT_USAGE
                )
            old = impact.Observation.from_dict(saved)
            result = impact.compare(old, impact.observe(args.paths), args.against, "now")
        else:
            return report_error(
                args,
                "impact",
                "say what to compare: --data OLD NEW, --since REV or --against FILE",
                EXIT_USAGE,
            )
    except MlsysimError as exc:
        return report_error(args, "impact", exc, EXIT_USAGE)
    if fmt == "json":
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "github":
        notes, summary = result.github()
        if notes:
            print(notes)
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(summary)
        else:
            print(summary, file=sys.stderr)
    else:
        print(result.text())
    return EXIT_FAILURES if result.failing else EXIT_OK


def impact_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``mlsysim impact --format json``."""
    nullable = {"type": ["string", "null"]}
    change = {
        "type": "object",
        "properties": {
            "change": {"enum": ["value", "fails", "passes", "new", "gone"]},
            "file": {"type": "string"},
            "line": {"type": "integer", "minimum": 1},
            "column": {"type": ["integer", "null"]},
            "kind": {"type": "string"},
            "text": {"type": "string"},
            "old": nullable,
            "new": nullable,
            "old_ok": {"type": ["boolean", "null"]},
            "new_ok": {"type": ["boolean", "null"]},
            "message": {"type": "string"},
        },
        "required": ["change", "file", "line", "column", "kind", "text", "old", "new"],
        "additionalProperties": False,
    }
    count = {"type": "integer", "minimum": 0}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/impact-1.json",
        "title": "mlsysim impact --format json",
        "type": "object",
        "properties": {
            "schema": {"const": "mlsysim.impact/1"},
            "old": {"type": "string"},
            "new": {"type": "string"},
            "compared": count,
            "counts": {
                "type": "object",
                "properties": {k: count for k in ("value", "fails", "passes", "new", "gone")},
                "required": ["value", "fails", "passes", "new", "gone"],
            },
            "changes": {"type": "array", "items": change},
        },
        "required": ["schema", "old", "new", "compared", "counts", "changes"],
        "additionalProperties": False,
    }
