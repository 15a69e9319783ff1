"""``mlsysim check PATH…``: evaluate every napkin item of chapter sources and report failures.

Scans ``.md``, ``.qmd`` and ``.rst`` files (directories recursively), evaluates every document
in order and prints a report (``--format text|json|junit|github``). Exit 0 when everything
passes, 1 when anything failed, 2 for usage problems or unreadable paths.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="chapter files or directories")
    parser.add_argument(
        "--format",
        default="text",
        choices=["text", "json", "junit", "github"],
        help="report format (default: text)",
    )
    parser.add_argument("--tolerance", help="default claim tolerance, e.g. 5%% or 0.05")
    parser.add_argument("--sig-figs", type=int, dest="sig_figs", help="default significant figures")
    parser.add_argument("--output", "-o", help="write the report to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    from mlsysim.book.options import Options
    from mlsysim.book.reports import format_report
    from mlsysim.book.scan import check_paths
    from mlsysim.core.exceptions import MlsysimError

    try:
        options = Options.from_mapping({"tolerance": args.tolerance, "sig_figs": args.sig_figs})
        checked, failures = check_paths(args.paths, options)
        report = format_report(failures, args.format, checked=checked)
    except MlsysimError as exc:
        print(f"mlsysim check: error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(report)
        except OSError as exc:
            print(f"mlsysim check: error: cannot write {args.output!r}: {exc}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(report)
    return 1 if failures else 0
