"""``mlsysim zoo KIND``: list registry entries (hardware, models, grids, fabrics, …).

Text output is one line per entry: its id, name and the few figures that matter for the kind,
each with its unit. ``--json`` prints every field of every entry (quantities as written, e.g.
``"3.35 TB/s"``) plus the entry's source citation id. Exit 0, or 2 for an unknown kind.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["KINDS", "add_arguments", "run"]

#: kind on the command line -> (registry attribute of ``mlsysim``, fields shown in text)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hardware": ("Hardware", ("kind", "memory.capacity", "memory.bandwidth", "tdp")),
    "models": ("Models", ("kind", "task", "params")),
    "grids": ("Grids", ("carbon_intensity",)),
    "datacenters": ("Datacenters", ("pue",)),
    "cloud-rates": ("CloudRates", ()),
    "fabrics": ("Fabrics", ("bandwidth",)),
    "nodes": ("Nodes", ()),
    "clusters": ("Clusters", ()),
    "applications": ("Applications", ("workload.model",)),
    "personas": ("Personas", ("scale", "scale_unit", "region")),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "kind",
        choices=[*KINDS, "sources"],
        help="which registry to list (sources: the citation catalog)",
    )
    parser.add_argument("--json", action="store_true", help="print entries as JSON")


def run(args: argparse.Namespace) -> int:
    import mlsysim
    from mlsysim.core.exceptions import MlsysimError

    try:
        if args.kind == "sources":
            return _sources(args.json)
        attr, fields = KINDS[args.kind]
        registry = getattr(mlsysim, attr)
        entries = list(registry)
    except MlsysimError as exc:
        print(f"mlsysim zoo: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = [spec.model_dump(mode="json") for spec in entries]
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return 0
    for spec in entries:
        facts = [
            f"{f.rsplit('.', 1)[-1]} {_text(_get(spec, f))}"
            for f in fields
            if _get(spec, f) is not None
        ]
        print(f"{spec.id:<24} {spec.name}" + (f"  ({', '.join(facts)})" if facts else ""))
    return 0


def _get(spec: Any, dotted: str) -> Any:
    obj = spec
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _text(value: Any) -> str:
    from mlsysim.core.units import fmt_quantity

    if hasattr(value, "units"):
        return fmt_quantity(value)
    return str(value)


def _sources(as_json: bool) -> int:
    from mlsysim.core.registry import catalog

    sources = catalog().sources
    if as_json:
        print(
            json.dumps(
                [c.model_dump(mode="json") for c in sources.values()], indent=2, ensure_ascii=False
            )
        )
        return 0
    for cid, citation in sources.items():
        print(f"{cid:<40} {citation.short()}")
    return 0
