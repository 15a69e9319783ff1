"""``mlsysim walls [--json]``: list the 22 walls of ML systems with formulas, sources and the
solver that decides each (``solver`` null and ``decided_by: "formulas"`` for a formula-only
wall)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_USAGE

__all__ = ["WALLS_SCHEMA", "add_arguments", "run", "walls_json_schema"]

WALLS_SCHEMA = "mlsysim.walls/2"  # 2: solver is a solver id or null; decided_by
_SCHEMA = WALLS_SCHEMA


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mlsysim walls``."""
    parser.add_argument("--json", action="store_true", help="print the walls as JSON")
    parser.add_argument(
        "wall", nargs="?", default=None, help="show one wall by id (e.g. memory_bandwidth)"
    )


def _citations(ids: tuple[str, ...]) -> list[dict[str, Any]]:
    from mlsysim.core.registry import catalog

    sources = catalog().sources
    return [{"id": i, "citation": sources[i].short(), "url": sources[i].url} for i in ids]


def run(args: argparse.Namespace) -> int:
    """Print the taxonomy (or one wall); exit 0, or 2 for an unknown wall id."""
    from mlsysim.core.exceptions import UnknownNameError
    from mlsysim.core.walls import WALLS, wall

    try:
        walls = [wall(args.wall)] if args.wall else list(WALLS)
    except UnknownNameError as exc:
        return report_error(args, "walls", exc, EXIT_USAGE)
    if args.json:
        out = {
            "schema": _SCHEMA,
            "count": len(walls),
            "walls": [dict(w.to_dict(), citations=_citations(w.sources)) for w in walls],
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    for w in walls:
        print(f"{w.number:2d}. {w.name} [{w.id}] ({w.layer})")
        print(f"    {w.question}")
        print(f"    formulas: {', '.join(w.formulas)}")
        print(f"    solver:   {', '.join(w.solvers) or '— (formula-only)'}")
        print(f"    sources:  {', '.join(w.sources)}")
    return 0


def walls_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``mlsysim walls --json``."""
    text = {"type": "string"}
    texts = {"type": "array", "items": text}
    citation = {
        "type": "object",
        "properties": {"id": text, "citation": text, "url": {"type": ["string", "null"]}},
        "required": ["id", "citation", "url"],
        "additionalProperties": False,
    }
    wall_props: dict[str, Any] = {
        "id": text,
        "number": {"type": "integer", "minimum": 1},
        "name": text,
        "layer": text,
        "question": text,
        "formulas": texts,
        "sources": texts,
        "solvers": texts,
        "solver": {"type": ["string", "null"]},
        "decided_by": {"enum": ["solver", "formulas"]},
        "citations": {"type": "array", "items": citation},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/walls-2.json",
        "title": "mlsysim walls --json",
        "type": "object",
        "properties": {
            "schema": {"const": WALLS_SCHEMA},
            "count": {"type": "integer", "minimum": 0},
            "walls": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": wall_props,
                    "required": list(wall_props),
                    "additionalProperties": False,
                },
            },
        },
        "required": ["schema", "count", "walls"],
        "additionalProperties": False,
    }
