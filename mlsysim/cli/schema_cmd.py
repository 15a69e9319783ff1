"""``mlsysim schema``: print the JSON Schema of solver results (``mlsysim solve --json``)."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compact", action="store_true", help="one line instead of indented")


def run(args: argparse.Namespace) -> int:
    from mlsysim.solvers.results import json_schema

    print(json.dumps(json_schema(), indent=None if args.compact else 2, ensure_ascii=False))
    return 0
