"""``mlsysim lint PATH…``: hand-typed figures with units in prose that no value or claim binds.

Each finding is located (``file:line:column``) and names the napkin expression the registry
gives for that value and unit (``H100.memory.bandwidth``), with the item to write instead.
``--all`` also reports figures no registry value matches (as warnings: they do not fail).
Intentional literals: ``<!-- mlsysim-lint: allow -->`` (reST ``.. mlsysim-lint: allow``),
``off``/``on`` regions, and the project's ``.mlsysim-lint-allow`` (or ``--allow FILE``).
Formats as for ``mlsysim check`` (``--format text|json|junit|github``; JSON schema
``mlsysim.check/1``, kind ``lint``). Exit 0 when nothing is found (warnings only), 1 for a
finding, 2 for usage problems.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="chapter files or directories")
    parser.add_argument(
        "--format", default="text", choices=["text", "json", "junit", "github"], help="report"
    )
    parser.add_argument("--all", action="store_true", help="also figures no registry value matches")
    parser.add_argument(
        "--allow", metavar="FILE", help="an allow-list (default: .mlsysim-lint-allow)"
    )
    parser.add_argument("--output", "-o", help="write the report to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    from mlsysim.book.lint import lint_paths
    from mlsysim.book.reports import format_report, github_summary
    from mlsysim.cli.errors import report_error
    from mlsysim.cli.exits import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
    from mlsysim.core.exceptions import MlsysimError

    try:
        if args.allow and not os.path.isfile(args.allow):
            raise MlsysimError(f"no allow-list {args.allow!r}", fix="give an existing file")
        found = lint_paths(args.paths, allow_file=args.allow, unmatched=args.all)
        report = format_report(
            found.findings, args.format, checked=found.figures, files=found.files
        )
    except MlsysimError as exc:
        return report_error(args, "lint", exc, EXIT_USAGE)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(report)
        except OSError as exc:
            return report_error(args, "lint", f"cannot write {args.output!r}: {exc}", EXIT_USAGE)
    else:
        sys.stdout.write(report)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if args.format == "github" and summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(github_summary(found.findings, checked=found.figures, files=found.files))
    blocking = [f for f in found.findings if f.severity == "error"]
    return EXIT_FAILURES if blocking else EXIT_OK
