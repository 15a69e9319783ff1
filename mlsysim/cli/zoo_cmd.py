"""``mlsysim zoo KIND [ID]``: list registry entries (hardware, models, grids, fabrics, …).

Text output is one line per entry: its id, name and the few figures that matter for the kind,
each with its unit. With an entry id (or alias), every field of that entry: its value as the
data file wrote it, unit, dimension, the source it cites (listed below by title, with its
link) and ``as_of`` for drifting values. ``--json`` prints ``{"schema": "mlsysim.zoo/1",
"kind", "count", "entries"}``: every field of every entry (quantities as written, e.g.
``"3.35 TB/s"``) plus the entry's source citation id, and with an id also ``fields`` (the
rows above) and ``sources`` (:func:`zoo_json_schema`). Exit 0, or 2 for an unknown kind or id.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlsysim.book.reference.registries import REGISTRY_KINDS
from mlsysim.cli.errors import report_error
from mlsysim.cli.exits import EXIT_USAGE

__all__ = ["KINDS", "ZOO_SCHEMA", "add_arguments", "run", "zoo_json_schema"]

ZOO_SCHEMA = "mlsysim.zoo/1"

#: kind on the command line -> (registry attribute of ``mlsysim``, fields shown in text)
KINDS = REGISTRY_KINDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "kind",
        choices=[*KINDS, "sources"],
        help="which registry to list (sources: the citation catalog)",
    )
    parser.add_argument(
        "entry", nargs="?", help="one entry by id or alias: every field, unit and source"
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
        if args.entry:
            return _entry(args, registry[args.entry])
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


def _entry(args: argparse.Namespace, spec: Any) -> int:
    """Every field of one entry, with its unit, dimension and source."""
    from mlsysim.book.reference.registries import entry_fields, source_of

    fields = entry_fields(args.kind, spec)
    cited = list(dict.fromkeys([spec.source, *(f.source for f in fields)]))
    sources = {cid: source_of(cid) for cid in cited}
    if args.json:
        out = _document(args.kind, [spec.model_dump(mode="json")])
        out["fields"] = [f.to_dict() for f in fields]
        out["sources"] = [{"id": cid, **s.to_dict()} for cid, s in sources.items()]
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return 0
    number = {cid: i for i, cid in enumerate(cited, 1)}
    print(f"{spec.id}: {spec.name}  ({args.kind}, {registry_file(args.kind, spec)})")
    rows = [f for f in fields if f.path != "notes"]
    width = max((len(f.path) for f in rows), default=0)
    value_width = max((len(f.text) for f in rows if len(f.text) <= 40), default=0)
    for f in rows:
        tail = f"  {f.dimension}" if f.dimension else ""
        tail += f"  as of {f.as_of}" if f.as_of else ""
        print(f"  {f.path:<{width}}  {f.text:<{value_width}}  [{number[f.source]}]{tail}")
    notes = next((f.text for f in fields if f.path == "notes"), None)
    if notes:
        print("  notes: " + " ".join(notes.split()))
    print("sources:")
    for cid, s in sources.items():
        print(f"  [{number[cid]}] {s.text}" + (f" <{s.url}>" if s.url else "") + f" ({cid})")
    return 0


def registry_file(kind: str, spec: Any) -> str:
    """The data file an entry was loaded from, relative to the working folder when inside it."""
    import os

    from mlsysim.book.reference.registries import registry

    path = str(registry(kind).file_of(spec.id))
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path


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
            "fields": {  # with an entry id: every field as a reader sees it
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string"},
                        "text": {"type": "string"},
                        "unit": {"type": "string"},
                        "dimension": {"type": "string"},
                        "source": {"type": "string"},
                        "as_of": {"type": ["string", "null"]},
                    },
                    "required": ["field", "text", "unit", "dimension", "source", "as_of"],
                    "additionalProperties": False,
                },
            },
            "sources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "text": {"type": "string"},
                        "url": {"type": ["string", "null"]},
                    },
                    "required": ["id", "text", "url"],
                },
            },
        },
        "required": ["schema", "kind", "count", "entries"],
        "additionalProperties": False,
    }
