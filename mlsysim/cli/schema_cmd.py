"""``mlsysim schema [--kind …]``: the JSON Schema of a command's ``--json`` output.

``solve`` (default): ``mlsysim solve --json`` on one device; ``distributed``: on a node or a
cluster; ``collective``: ``mlsysim collective --json``; ``run`` and ``fleet``; ``generate``
and ``serve``; ``ledger``: ``mlsysim sim --json``.
"""

from __future__ import annotations

import argparse
import json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compact", action="store_true", help="one line instead of indented")
    parser.add_argument(
        "--kind",
        choices=[
            "solve",
            "distributed",
            "collective",
            "run",
            "fleet",
            "generate",
            "serve",
            "ledger",
        ],
        default="solve",
        help="which result: solve (one device, the default), distributed (a node or cluster), "
        "collective, run, fleet, generate, serve or ledger (mlsysim sim --json)",
    )


def run(args: argparse.Namespace) -> int:
    if args.kind == "distributed":
        from mlsysim.solvers.distributed_results import distributed_json_schema as json_schema
    elif args.kind == "collective":
        from mlsysim.systems.collectives import collective_json_schema as json_schema
    elif args.kind == "run":
        from mlsysim.solvers.run_result import run_json_schema as json_schema
    elif args.kind == "fleet":
        from mlsysim.solvers.fleet import fleet_json_schema as json_schema
    elif args.kind == "generate":
        from mlsysim.solvers.serving_results import generate_json_schema as json_schema
    elif args.kind == "serve":
        from mlsysim.solvers.serving_result import serve_json_schema as json_schema
    elif args.kind == "ledger":
        from mlsysim.sim.ledger import ledger_json_schema as json_schema
    else:
        from mlsysim.solvers.results import json_schema

    print(json.dumps(json_schema(), indent=None if args.compact else 2, ensure_ascii=False))
    return 0
