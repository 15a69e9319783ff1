"""``mlsysim walls [--json]``: list the 22 walls of ML systems with formulas, sources and the
solver that decides each (``solver`` null and ``decided_by: "formulas"`` for a formula-only
wall)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_arguments", "run"]

_SCHEMA = "mlsysim.walls/2"  # 2: solver is a solver id or null; decided_by


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
        print(f"mlsysim walls: {exc}", file=sys.stderr)
        return 2
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
