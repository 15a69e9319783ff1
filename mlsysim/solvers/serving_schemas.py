"""JSON Schemas (draft 2020-12) of ``generate`` and ``serve`` results (``mlsysim schema
generate``, ``mlsysim schema serve``), versioned with :data:`GENERATE_SCHEMA_VERSION` and
:data:`SERVE_SCHEMA_VERSION`."""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "GENERATE_SCHEMA_VERSION",
    "SERVE_SCHEMA_VERSION",
    "generate_json_schema",
    "quantity_schema",
    "serve_document",
    "serve_json_schema",
]

GENERATE_SCHEMA_VERSION = "mlsysim.generate/1"
SERVE_SCHEMA_VERSION = "mlsysim.serve/1"

_GB = 1e-9
_MS = 1e3


def _jq(value: float | None, scale: float, unit: str) -> dict[str, Any] | None:
    """``{"value", "unit"}`` of a root-unit float (null when absent or unbounded)."""
    if value is None or not math.isfinite(value):
        return None
    return {"value": value * scale, "unit": unit}


def quantity_schema(nullable: bool = False) -> dict[str, Any]:
    """JSON Schema of ``{"value": number, "unit": text}`` (or null)."""
    obj = {
        "type": "object",
        "properties": {"value": {"type": "number"}, "unit": {"type": "string"}},
        "required": ["value", "unit"],
        "additionalProperties": False,
    }
    return {"oneOf": [obj, {"type": "null"}]} if nullable else obj


def _object(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def generate_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`GenerationResult.to_dict`."""
    q, qn = quantity_schema(), quantity_schema(nullable=True)
    count = {"type": "integer", "minimum": 1}
    streaming = _object(
        {
            "tier": {"type": "string"},
            "bound_by": {"enum": ["link", "medium"]},
            "bandwidth": q,
            "streamed": q,
            "resident": q,
            "time": q,
        }
    )
    speculation = _object(
        {
            "draft": {"type": "string"},
            "acceptance": {"type": "number", "minimum": 0, "maximum": 1},
            "draft_tokens": count,
            "tokens_per_round": {"type": "number", "minimum": 1},
            "rounds": {"type": "number", "minimum": 0},
        }
    )
    props: dict[str, Any] = {
        "schema": {"const": GENERATE_SCHEMA_VERSION},
        "schema_version": {"const": GENERATE_SCHEMA_VERSION},
        "model": {"type": "string"},
        "system": {"type": "string"},
        "tp": count,
        "batch": count,
        "prompt": count,
        "output": count,
        "samples": count,
        "steps": count,
        "step_prompt": {"type": "integer", "minimum": 0},
        "precision": {"type": "string"},
        "feasible": {"type": "boolean"},
        "binding_wall": {"type": "string"},
        "ttft": qn,
        "tpot": qn,
        "latency": qn,
        "throughput": qn,
        "ttft_bound": qn,
        "tpot_bound": qn,
        "latency_bound": qn,
        "memory": _object(
            {
                k: q
                for k in (
                    "weights",
                    "kv_cache",
                    "activations",
                    "draft",
                    "total",
                    "capacity",
                    "kv_per_token",
                )
            }
        ),
        "max_batch": {"type": "integer", "minimum": 0},
        "streaming": {"oneOf": [streaming, {"type": "null"}]},
        "speculation": {"oneOf": [speculation, {"type": "null"}]},
        "explanation": {"type": "string"},
    }
    schema = _object(props)
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://mlsysim.dev/schema/generate-1.json",
            "title": "mlsysim generation result",
        }
    )
    return schema


def serve_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`ServingResult.to_dict`."""
    q, qn = quantity_schema(), quantity_schema(nullable=True)
    pct = {"oneOf": [{"type": "object", "additionalProperties": qn}, {"type": "null"}]}
    frac = {"type": "number", "minimum": 0, "maximum": 1}
    count = {"type": "integer", "minimum": 1}

    at_rate = _object(
        {
            "concurrency": {"type": "number", "minimum": 0},
            "step": qn,
            "prefill_busy": frac,
            "slot_wait": qn,
            "prefill_wait": qn,
            "throughput": qn,
            "ttft": qn,
            "tpot": qn,
            "latency": qn,
            "ttft_percentiles": pct,
            "tpot_percentiles": pct,
            "itl_percentiles": pct,
            "latency_percentiles": pct,
        }
    )
    props: dict[str, Any] = {
        "schema": {"const": SERVE_SCHEMA_VERSION},
        "schema_version": {"const": SERVE_SCHEMA_VERSION},
        "model": {"type": "string"},
        "system": {"type": "string"},
        "tp": count,
        "replicas": count,
        "devices": count,
        "precision": {"type": "string"},
        "prompt": count,
        "output": count,
        "scheduler": _object(
            {
                "kind": {"enum": ["chunked", "prefill_first"]},
                "max_batch": count,
                "max_tokens": count,
                "block_size": count,
                "memory_utilization": frac,
                "kv_fraction": {"oneOf": [frac, {"type": "null"}]},
                "share": frac,
            }
        ),
        "feasible": {"type": "boolean"},
        "stable": {"type": "boolean"},
        "binding_wall": {"type": "string"},
        "step_wall": {"type": "string"},
        "limit": {"enum": ["kv_cache", "max_batch", "max_tokens"]},
        "rate": qn,
        "capacity": qn,
        "capacity_bound": qn,
        "capacity_tokens": qn,
        "tpot_at_capacity": qn,
        "memory": _object(
            {
                "weights": q,
                "activations": q,
                "kv_budget": q,
                "capacity": q,
                "kv_per_token": q,
                "max_sequences": {"type": "integer", "minimum": 0},
                "fragmentation": frac,
            }
        ),
        "at_rate": {"oneOf": [at_rate, {"type": "null"}]},
        "slo": _object(
            {
                "ttft": qn,
                "tpot": qn,
                "percentile": frac,
                "met": {"type": ["boolean", "null"]},
            }
        ),
        "speculation": {"oneOf": [{"type": "object"}, {"type": "null"}]},
        "streaming": {"oneOf": [{"type": "object"}, {"type": "null"}]},
        "explanation": {"type": "string"},
    }
    schema = _object(props)
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://mlsysim.dev/schema/serve-1.json",
            "title": "mlsysim serving result",
        }
    )
    return schema


def serve_document(r: Any) -> dict[str, Any]:
    """The JSON form of a :class:`~mlsysim.solvers.serving_result.ServingResult` (the
    document :func:`serve_json_schema` describes)."""
    ok = r.feasible
    st = r.stable

    def pct(p: Any) -> dict[str, Any] | None:
        return p.to_dict() if st and p is not None else None

    return {
        "schema": SERVE_SCHEMA_VERSION,
        "schema_version": SERVE_SCHEMA_VERSION,
        "model": r.model,
        "system": r.system,
        "tp": r.tp,
        "replicas": r.replicas,
        "devices": r.devices,
        "precision": r.precision,
        "prompt": r.prompt,
        "output": r.output,
        "scheduler": {
            "kind": r.scheduler,
            "max_batch": r.max_batch,
            "max_tokens": r.max_tokens,
            "block_size": r.block_size,
            "memory_utilization": r.memory_utilization,
            "kv_fraction": r.kv_fraction,
            "share": r.share,
        },
        "feasible": ok,
        "stable": st,
        "binding_wall": r.binding_wall,
        "step_wall": r.step_wall,
        "limit": r.limit,
        "rate": _jq(r.rate_rps, 1.0, "requests/s"),
        "capacity": _jq(r.capacity_rps if ok else None, 1.0, "requests/s"),
        "capacity_bound": _jq(r.capacity_bound_rps if ok else None, 1.0, "requests/s"),
        "capacity_tokens": _jq(r.capacity_rps * r.output if ok else None, 1.0, "tokens/s"),
        "tpot_at_capacity": _jq(
            r.saturation_step_s / (1.0 if r.replica is None else r.replica.tokens_per_step)
            if ok
            else None,
            _MS,
            "ms",
        ),
        "memory": {
            "weights": _jq(r.weights_bytes, _GB, "GB"),
            "activations": _jq(r.activations_bytes, _GB, "GB"),
            "kv_budget": _jq(r.kv_budget_bytes, _GB, "GB"),
            "capacity": _jq(r.capacity_bytes, _GB, "GB"),
            "kv_per_token": _jq(r.kv_bytes_per_token, 1e-3, "kB"),
            "max_sequences": int(r.kv_slots),
            "fragmentation": r.fragmentation,
        },
        "at_rate": None
        if not st
        else {
            "concurrency": r.concurrency,
            "step": _jq(r.step_s, _MS, "ms"),
            "prefill_busy": r.prefill_busy,
            "slot_wait": _jq(r.slot_wait_s, _MS, "ms"),
            "prefill_wait": _jq(r.prefill_wait_s, _MS, "ms"),
            "throughput": _jq(
                None if r.rate_rps is None else r.rate_rps * r.output,
                1.0,
                "tokens/s",
            ),
            "ttft": _jq(r.ttft_s, _MS, "ms"),
            "tpot": _jq(r.tpot_s, _MS, "ms"),
            "latency": _jq(r.latency_s, 1.0, "s"),
            "ttft_percentiles": pct(r.ttft_percentiles),
            "tpot_percentiles": pct(r.tpot_percentiles),
            "itl_percentiles": pct(r.itl_percentiles),
            "latency_percentiles": pct(r.latency_percentiles),
        },
        "slo": {
            "ttft": _jq(r.slo_ttft_s, _MS, "ms"),
            "tpot": _jq(r.slo_tpot_s, _MS, "ms"),
            "percentile": r.slo_percentile,
            "met": r.slo_met,
        },
        "speculation": None
        if r.draft is None
        else {
            "draft": r.draft,
            "acceptance": r.acceptance,
            "draft_tokens": r.draft_tokens,
        },
        "streaming": None if r.streaming is None else r.streaming.to_dict(),
        "explanation": r.explanation,
    }
