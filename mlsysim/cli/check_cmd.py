"""``mlsysim check PATH…``: evaluate every napkin item of chapter sources and report failures.

Scans ``.md``, ``.qmd`` and ``.rst`` files (directories recursively, following links), reads
each chapter the way its host does (project config, syntax, front matter), evaluates every
item in order and prints a report (``--format text|json|junit|github``). A file that cannot be
read is a failure of its own; the other files are still checked. Exit 0 when everything
passes (or fails only in chapters whose fail mode is ``warn``), 1 when anything failed, 2 for
usage problems (a bad flag, an unwritable report).
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="chapter files or directories (default: $QUARTO_PROJECT_INPUT_FILES, as set for "
        "a Quarto pre-render script)",
    )
    parser.add_argument(
        "--format",
        default="text",
        choices=["text", "json", "junit", "github"],
        help="report format (default: text)",
    )
    parser.add_argument("--tolerance", help="default claim tolerance, e.g. 5%% or 0.05")
    parser.add_argument("--sig-figs", type=int, dest="sig_figs", help="default significant figures")
    parser.add_argument(
        "--fail-mode",
        choices=["error", "warn"],
        dest="fail_mode",
        help="override the fail mode of every chapter (warn: report, exit 0)",
    )
    parser.add_argument("--output", "-o", help="write the report to this file instead of stdout")


def _quarto_input_files() -> list[str]:
    """Paths from ``QUARTO_PROJECT_INPUT_FILES`` (newline-separated), for ``pre-render``."""
    from mlsysim.core.exceptions import MlsysimError

    files = [p for p in os.environ.get("QUARTO_PROJECT_INPUT_FILES", "").splitlines() if p]
    if not files:
        raise MlsysimError(
            "no PATH given",
            fix="pass chapter files or directories, or run as a Quarto pre-render script",
        )
    return files


def run(args: argparse.Namespace) -> int:
    from mlsysim.book.options import Options
    from mlsysim.book.reports import format_report
    from mlsysim.book.sources.check import check_paths
    from mlsysim.core.exceptions import MlsysimError

    try:
        explicit = {
            "tolerance": args.tolerance,
            "sig_figs": args.sig_figs,
            "fail_mode": args.fail_mode,
        }
        Options.from_mapping(explicit)  # a bad flag is a usage error (exit 2), not a failure
        paths = args.paths or _quarto_input_files()
        checked, failures = check_paths(paths, explicit=explicit)
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
    blocking = [f for f in failures if f.extra.get("severity") != "warning"]
    return 1 if blocking else 0
