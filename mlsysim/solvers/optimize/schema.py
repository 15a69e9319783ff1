"""JSON Schema (draft 2020-12) of what every optimizer returns (``mlsysim optimize --json``,
``mlsysim schema optimize``), versioned with :data:`OPTIMIZE_SCHEMA_VERSION`."""

from __future__ import annotations

from typing import Any

__all__ = ["OPTIMIZE_SCHEMA_VERSION", "candidate_schema", "optimize_json_schema"]

#: Version of the JSON form of a search; bumped on any incompatible change.
OPTIMIZE_SCHEMA_VERSION = "mlsysim.optimize/1"


def candidate_schema() -> dict[str, Any]:
    """JSON Schema of one candidate of :meth:`Search.to_dict`."""
    return {
        "type": "object",
        "properties": {
            "config": {"type": "object"},
            "values": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
            "feasible": {"type": "boolean"},
            "binding_wall": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]},
            "unknown": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["config", "values", "feasible", "binding_wall", "reason", "unknown"],
        "additionalProperties": False,
    }


def optimize_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`Search.to_dict` (``mlsysim optimize --json``)."""
    cand = candidate_schema()
    props: dict[str, Any] = {
        "schema": {"const": OPTIMIZE_SCHEMA_VERSION},
        "schema_version": {"const": OPTIMIZE_SCHEMA_VERSION},
        "kind": {"type": "string", "description": "parallelism, serving, placement, …"},
        "objective": {"type": "string"},
        "sense": {"enum": ["min", "max"]},
        "inputs": {"type": "object"},
        "metrics": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "unit": {"type": "string"},
                    "sense": {"enum": ["min", "max"]},
                },
                "required": ["name", "unit", "sense"],
                "additionalProperties": False,
            },
        },
        "feasible": {"type": "boolean"},
        "best": {"oneOf": [cand, {"type": "null"}]},
        "result": {
            "type": ["object", "null"],
            "description": "the winner's solver result: mlsysim schema --kind distributed, run "
            "or fleet",
        },
        "ranked": {"type": "array", "items": cand},
        "excluded": {"type": "array", "items": cand},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "explanation": {"type": "string"},
        "notes": {"type": "array", "items": {"type": "string"}},
    }
    optional = {"pareto": {"type": "object", "description": "mlsysim schema pareto"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/optimize-1.json",
        "title": "mlsysim optimizer result (mlsysim optimize --json)",
        "type": "object",
        "properties": props | optional,
        "required": list(props),
        "additionalProperties": False,
    }
