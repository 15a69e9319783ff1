"""``mlsysim schema [--kind …]``: print the JSON Schema of solver results.

``--kind result`` (default): ``mlsysim solve --json`` on one device; ``distributed``: on a
node or cluster; ``collective``: ``mlsysim collective --json``.
"""

from __future__ import annotations

import argparse
import json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compact", action="store_true", help="one line instead of indented")
    parser.add_argument(
        "--kind",
        choices=["result", "distributed", "collective"],
        default="result",
        help="which result: one device (default), several devices, or a collective",
    )


def run(args: argparse.Namespace) -> int:
    if args.kind == "distributed":
        from mlsysim.solvers.distributed_results import distributed_json_schema as schema
    elif args.kind == "collective":
        from mlsysim.systems.collectives import collective_json_schema as schema
    else:
        from mlsysim.solvers.results import json_schema as schema

    print(json.dumps(schema(), indent=None if args.compact else 2, ensure_ascii=False))
    return 0
