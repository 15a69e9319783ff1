"""The ``mlsysim`` command: a thin dispatcher; each sub-command lives in its own module.

Sub-command modules are imported only when used, so ``mlsysim eval`` does not pay for the
solver or the wall table. Each module exposes ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

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
    "zoo": ("mlsysim.cli.zoo_cmd", "list registry entries (hardware, models, grids, …)"),
    "schema": ("mlsysim.cli.schema_cmd", "print the JSON Schema of solver results (--kind)"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 failures, 2 usage)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="mlsysim", description="ML systems napkin math")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if name == wanted:
            importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    mod = importlib.import_module(COMMANDS[args.command][0])
    try:
        code: int = mod.run(args)
    except BrokenPipeError:  # `mlsysim walls --json | head`: the reader left; not an error
        _silence_stdout()
        return 0
    except MlsysimError as err:  # a sub-command let an author-facing error through
        print(f"mlsysim {args.command}: error: {err}", file=sys.stderr)
        return 1
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _version() -> str:
    from mlsysim import __version__

    return f"mlsysim {__version__}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
