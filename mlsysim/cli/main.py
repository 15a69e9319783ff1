"""The ``mlsysim`` command: a thin dispatcher; each sub-command lives in its own module.

Sub-command modules are imported only when used, so ``mlsysim eval`` does not pay for the
solver or the wall table. Each module exposes ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from mlsysim.cli.errors import error_document, json_requested
from mlsysim.cli.exits import EXIT_FAILURES, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, help_text
from mlsysim.core.exceptions import MlsysimError

__all__ = ["COMMANDS", "main"]

#: sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "eval": ("mlsysim.cli.eval_cmd", "evaluate one napkin expression"),
    "check": ("mlsysim.cli.check_cmd", "check every napkin block, role and claim in sources"),
    "batch": ("mlsysim.cli.batch_cmd", "evaluate a JSON batch from stdin (Quarto filter protocol)"),
    "walls": ("mlsysim.cli.walls_cmd", "list the 22 walls of ML systems"),
    "solve": ("mlsysim.cli.solve_cmd", "solve a workload on one device, a node or a cluster"),
    "collective": ("mlsysim.cli.collective_cmd", "time a collective on a node or cluster"),
    "run": ("mlsysim.cli.run_cmd", "a training run: time, failures, energy, carbon, water, cost"),
    "fleet": ("mlsysim.cli.fleet_cmd", "a serving fleet: devices, energy, carbon, cost per token"),
    "generate": (
        "mlsysim.cli.generate_cmd",
        "one batch, prompt to last token: TTFT, TPOT, tokens/s",
    ),
    "serve": ("mlsysim.cli.serve_cmd", "continuous batching at a request rate: latency tails, SLO"),
    "sim": ("mlsysim.cli.sim_cmd", "simulate an application for a persona: the ledger"),
    "optimize": (
        "mlsysim.cli.optimize_cmd",
        "search configurations: parallelism, serving, placement (and Pareto frontiers)",
    ),
    "zoo": ("mlsysim.cli.zoo_cmd", "list registry entries (hardware, models, grids, …)"),
    "bib": ("mlsysim.cli.bib_cmd", "every source a book's values cite, as BibTeX"),
    "lint": ("mlsysim.cli.lint_cmd", "find hand-typed figures in prose that no value binds"),
    "impact": (
        "mlsysim.cli.impact_cmd",
        "which values and claims change when data or formulas change",
    ),
    "formulas": ("mlsysim.cli.formulas_cmd", "the formula reference: signatures, units, examples"),
    "reference": ("mlsysim.cli.reference_cmd", "write the reference as MyST pages for a docs site"),
    "schema": ("mlsysim.cli.schema_cmd", "print the JSON Schema of a command's --json output"),
}


class _UsageError(Exception):
    """A command line argparse refused (raised instead of argparse printing and exiting)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """argparse that raises on a bad command line, so ``--json`` can answer in JSON."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(self, message)


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    epilog = help_text()
    parser = _Parser(
        prog="mlsysim",
        description="ML systems napkin math",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == wanted:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (see :mod:`mlsysim.cli.exits`)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        return _usage_error(exc, command, argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    mod = importlib.import_module(COMMANDS[args.command][0])
    try:
        code: int = mod.run(args)
    except BrokenPipeError:  # `mlsysim walls --json | head`: the reader left; not an error
        _silence_stdout()
        return EXIT_OK
    except MlsysimError as err:  # a sub-command let an author-facing error through
        from mlsysim.cli.errors import report_error

        return report_error(args, args.command, err, EXIT_FAILURES)
    except Exception as err:  # a bug: say so, in JSON too when JSON was asked for
        import traceback

        traceback.print_exc()
        internal = MlsysimError(
            "internal error",
            why=f"{type(err).__name__}: {err}"[:300],
            fix="this is a bug in mlsysim: please report the command line and the traceback",
        )
        from mlsysim.cli.errors import report_error

        return report_error(args, args.command, internal, EXIT_INTERNAL)
    return code


def _usage_error(exc: _UsageError, command: str | None, argv: list[str]) -> int:
    """A refused command line: argparse's usage and message, or a JSON error object."""
    exc.parser.print_usage(sys.stderr)
    print(f"{exc.parser.prog}: error: {exc}", file=sys.stderr)
    if json_requested(argv):
        err = MlsysimError(
            f"bad command line: {exc}",
            where=exc.parser.prog,
            fix=f"see `{exc.parser.prog} --help`",
        )
        print(json.dumps(error_document(command, err, EXIT_USAGE), indent=2, ensure_ascii=False))
    return EXIT_USAGE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _version() -> str:
    from mlsysim import __version__

    return f"mlsysim {__version__}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
