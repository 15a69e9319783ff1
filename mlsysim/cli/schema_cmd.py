"""``mlsysim schema [--kind solve|run|fleet|ledger]``: JSON Schema of a command's ``--json``."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compact", action="store_true", help="one line instead of indented")
    parser.add_argument(
        "--kind",
        choices=["solve", "run", "fleet", "ledger"],
        default="solve",
        help="which result: solve (mlsysim solve --json, the default), run, fleet or ledger "
        "(mlsysim sim --json)",
    )


def run(args: argparse.Namespace) -> int:
    if args.kind == "run":
        from mlsysim.solvers.run_result import run_json_schema as json_schema
    elif args.kind == "fleet":
        from mlsysim.solvers.fleet import fleet_json_schema as json_schema
    elif args.kind == "ledger":
        from mlsysim.sim.ledger import ledger_json_schema as json_schema
    else:
        from mlsysim.solvers.results import json_schema

    print(json.dumps(json_schema(), indent=None if args.compact else 2, ensure_ascii=False))
    return 0
