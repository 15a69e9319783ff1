"""``mlsysim check PATH…``: evaluate every napkin item of chapter sources and report failures.

Scans ``.md``, ``.qmd`` and ``.rst`` files (directories recursively, following links), reads
each chapter the way its host does (project config, syntax, front matter), evaluates every
item in order and prints a report (``--format text|json|junit|github``). A file that cannot be
read is a failure of its own; the other files are still checked. Exit 0 when everything
passes (or fails only in chapters whose fail mode is ``warn``), 1 when anything failed, 2 for
usage problems (a bad flag, an unwritable report) and, with ``--require-items``, when no
napkin item was found (without it, finding none is a warning). ``--format github`` also
appends every failure to ``$GITHUB_STEP_SUMMARY`` when that is set (GitHub shows only ten
annotations per step). Under ``--format json`` an error is a JSON object too.
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
    parser.add_argument(
        "--require-items",
        action="store_true",
        dest="require_items",
        help="exit 2 when no napkin item is found (a wrong path, an empty book)",
    )


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
    from mlsysim.book.reports import format_report, no_items_warning
    from mlsysim.book.sources.check import check_sources
    from mlsysim.cli.errors import report_error
    from mlsysim.cli.exits import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
    from mlsysim.core.exceptions import MlsysimError

    try:
        explicit = {
            "tolerance": args.tolerance,
            "sig_figs": args.sig_figs,
            "fail_mode": args.fail_mode,
        }
        Options.from_mapping(explicit)  # a bad flag is a usage error (exit 2), not a failure
        paths = args.paths or _quarto_input_files()
        found = check_sources(paths, explicit=explicit)
        warnings = [] if found.checked else [no_items_warning(found.files)]
        report = format_report(
            found.failures,
            args.format,
            checked=found.checked,
            items=found.items,
            files=found.files,
            warnings=warnings,
        )
    except MlsysimError as exc:
        return report_error(args, "check", exc, EXIT_USAGE)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(report)
        except OSError as exc:
            err = MlsysimError(f"cannot write {args.output!r}", why=str(exc))
            return report_error(args, "check", err, EXIT_USAGE)
    else:
        sys.stdout.write(report)
    if args.format == "github":
        _step_summary(found, warnings)
    for w in warnings:
        if args.output or args.format != "text":
            print(f"mlsysim check: warning: {w}", file=sys.stderr)
    if warnings and args.require_items:
        print("mlsysim check: error: --require-items: no napkin item was checked", file=sys.stderr)
        return EXIT_USAGE
    blocking = [f for f in found.failures if f.severity == "error"]
    return EXIT_FAILURES if blocking else EXIT_OK


def _step_summary(found: object, warnings: list[str]) -> None:
    """Append every failure to ``$GITHUB_STEP_SUMMARY`` (when GitHub Actions sets it)."""
    from mlsysim.book.reports import github_summary
    from mlsysim.book.sources.check import CheckRun

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path or not isinstance(found, CheckRun):
        return
    text = github_summary(
        found.failures, checked=found.checked, files=found.files, warnings=warnings
    )
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:  # the annotations are printed: a lost summary is only a warning
        print(f"mlsysim check: warning: cannot write $GITHUB_STEP_SUMMARY: {exc}", file=sys.stderr)
