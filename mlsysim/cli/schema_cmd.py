"""``mlsysim schema COMMAND``: the JSON Schema of a command's ``--json`` output.

Every ``--json`` output names its schema in its ``"schema"`` key (``mlsysim.check/1``,
``mlsysim.eval/1``, …); ``mlsysim schema check`` prints the JSON Schema (draft 2020-12) it
validates against. ``solve`` covers one device and several (``solve-device`` and
``distributed`` each alone), ``sim`` is the ledger, ``error`` the object any command prints
under ``--json`` when it fails. The older ``--kind NAME`` form still works.
"""

from __future__ import annotations

import argparse
import importlib
import json
from typing import Any

__all__ = ["SCHEMAS", "add_arguments", "json_schema_of", "run"]

#: name -> (module, function) of each JSON Schema
SCHEMAS: dict[str, tuple[str, str]] = {
    "check": ("mlsysim.book.reports", "check_json_schema"),
    "eval": ("mlsysim.cli.eval_cmd", "eval_json_schema"),
    "solve": ("mlsysim.cli.schema_cmd", "solve_json_schema"),
    "solve-device": ("mlsysim.solvers.single_node.results", "json_schema"),
    "distributed": ("mlsysim.solvers.distributed.results", "distributed_json_schema"),
    "collective": ("mlsysim.systems.collectives", "collective_json_schema"),
    "run": ("mlsysim.solvers.run.result", "run_json_schema"),
    "fleet": ("mlsysim.solvers.run.fleet", "fleet_json_schema"),
    "generate": ("mlsysim.solvers.serving.schemas", "generate_json_schema"),
    "serve": ("mlsysim.solvers.serving.schemas", "serve_json_schema"),
    "optimize": ("mlsysim.solvers.optimize.result", "optimize_json_schema"),
    "pareto": ("mlsysim.solvers.optimize.pareto", "pareto_json_schema"),
    "sweep": ("mlsysim.solvers.sweeps.result", "sweep_json_schema"),
    "sim": ("mlsysim.sim.ledger", "ledger_json_schema"),
    "ledger": ("mlsysim.sim.ledger", "ledger_json_schema"),
    "walls": ("mlsysim.cli.walls_cmd", "walls_json_schema"),
    "zoo": ("mlsysim.cli.zoo_cmd", "zoo_json_schema"),
    "formulas": ("mlsysim.cli.formulas_cmd", "formulas_json_schema"),
    "impact": ("mlsysim.cli.impact_cmd", "impact_json_schema"),
    "error": ("mlsysim.cli.errors", "error_json_schema"),
}

#: ``--kind`` names of the older form (``solve`` there meant one device)
_KINDS = {"solve": "solve-device"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        choices=list(SCHEMAS),
        metavar="COMMAND",
        help=f"whose --json output: {', '.join(SCHEMAS)} (default: solve)",
    )
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
            "optimize",
        ],
        default=None,
        help="the older form: solve (one device), distributed, collective, run, fleet, generate, "
        "serve, ledger, optimize",
    )


def json_schema_of(name: str) -> dict[str, Any]:
    """The JSON Schema named ``name`` (a key of :data:`SCHEMAS`)."""
    module, function = SCHEMAS[name]
    schema: dict[str, Any] = getattr(importlib.import_module(module), function)()
    return schema


def solve_json_schema() -> dict[str, Any]:
    """``mlsysim solve --json``: one device's result or a distributed one."""
    device, distributed = json_schema_of("solve-device"), json_schema_of("distributed")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/solve-1.json",
        "title": "mlsysim solve --json (one device, or a node or cluster)",
        "oneOf": [_inner(device), _inner(distributed)],
    }


def _inner(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def run(args: argparse.Namespace) -> int:
    from mlsysim.cli.errors import report_error
    from mlsysim.cli.exits import EXIT_OK, EXIT_USAGE

    if args.name is not None and args.kind is not None:
        return report_error(args, "schema", "give the command name or --kind, not both", EXIT_USAGE)
    name = args.name or _KINDS.get(args.kind or "solve", args.kind or "solve")
    if args.name is None and args.kind is None:
        name = "solve-device"  # `mlsysim schema` alone: as it always printed
    schema = json_schema_of(name)
    print(json.dumps(schema, indent=None if args.compact else 2, ensure_ascii=False))
    return EXIT_OK
