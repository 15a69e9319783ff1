"""``mlsysim zoo KIND``: list registry entries (hardware, models, grids, fabrics, …).

Text output is one line per entry: its id, name and the few figures that matter for the kind,
each with its unit. ``--json`` prints ``{"schema": "mlsysim.zoo/1", "kind", "count",
"entries"}``: every field of every entry (quantities as written, e.g. ``"3.35 TB/s"``) plus
the entry's source citation id (:func:`zoo_json_schema`). Exit 0, or 2 for an unknown kind.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_USAGE

__all__ = ["KINDS", "ZOO_SCHEMA", "add_arguments", "run", "zoo_json_schema"]

ZOO_SCHEMA = "mlsysim.zoo/1"

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
        return report_error(args, "zoo", exc, EXIT_USAGE)
    if args.json:
        out = _document(args.kind, [spec.model_dump(mode="json") for spec in entries])
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
        entries = [{"id": cid, **c.model_dump(mode="json")} for cid, c in sources.items()]
        print(json.dumps(_document("sources", entries), indent=2, ensure_ascii=False))
        return 0
    for cid, citation in sources.items():
        print(f"{cid:<40} {citation.short()}")
    return 0


def _document(kind: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema": ZOO_SCHEMA, "kind": kind, "count": len(entries), "entries": entries}


def zoo_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``mlsysim zoo KIND --json``.

    Entries keep each registry kind's own fields (``docs/registry-grammar.md``); every entry
    has an ``id`` (and, except citations, a ``name`` and a ``source``).
    """
    entry = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        "required": ["id"],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/zoo-1.json",
        "title": "mlsysim zoo KIND --json",
        "type": "object",
        "properties": {
            "schema": {"const": ZOO_SCHEMA},
            "kind": {"enum": [*KINDS, "sources"]},
            "count": {"type": "integer", "minimum": 0},
            "entries": {"type": "array", "items": entry},
        },
        "required": ["schema", "kind", "count", "entries"],
        "additionalProperties": False,
    }
