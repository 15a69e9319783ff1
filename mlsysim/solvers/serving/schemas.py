"""JSON Schemas (draft 2020-12) of ``generate`` and ``serve`` results (``mlsysim schema
generate``, ``mlsysim schema serve``), versioned with :data:`GENERATE_SCHEMA_VERSION` and
:data:`SERVE_SCHEMA_VERSION`."""

from __future__ import annotations

from typing import Any

from mlsysim.solvers.quantities import GB, MS, json_bounded, object_schema, quantity_schema

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


def generate_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`GenerationResult.to_dict`."""
    q, qn = quantity_schema(), quantity_schema(nullable=True)
    count = {"type": "integer", "minimum": 1}
    streaming = object_schema(
        {
            "tier": {"type": "string"},
            "bound_by": {"enum": ["link", "medium"]},
            "bandwidth": q,
            "streamed": q,
            "resident": q,
            "time": q,
        }
    )
    speculation = object_schema(
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
        "memory": object_schema(
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
    schema = object_schema(props)
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

    at_rate = object_schema(
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
        "scheduler": object_schema(
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
        "limit": {"enum": ["kv_cache", "max_batch", "max_tokens", "gemm_tiles"]},
        "rate": qn,
        "capacity": qn,
        "capacity_bound": qn,
        "capacity_tokens": qn,
        "tpot_at_capacity": qn,
        "memory": object_schema(
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
        "slo": object_schema(
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
    schema = object_schema(props)
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://mlsysim.dev/schema/serve-1.json",
            "title": "mlsysim serving result",
        }
    )
    return schema


def serve_document(r: Any) -> dict[str, Any]:
    """The JSON form of a :class:`~mlsysim.solvers.serving.result.ServingResult` (the
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
        "rate": json_bounded(r.rate_rps, 1.0, "requests/s"),
        "capacity": json_bounded(r.capacity_rps if ok else None, 1.0, "requests/s"),
        "capacity_bound": json_bounded(r.capacity_bound_rps if ok else None, 1.0, "requests/s"),
        "capacity_tokens": json_bounded(r.capacity_rps * r.output if ok else None, 1.0, "tokens/s"),
        "tpot_at_capacity": json_bounded(
            r.saturation_step_s / (1.0 if r.replica is None else r.replica.tokens_per_step)
            if ok
            else None,
            MS,
            "ms",
        ),
        "memory": {
            "weights": json_bounded(r.weights_bytes, GB, "GB"),
            "activations": json_bounded(r.activations_bytes, GB, "GB"),
            "kv_budget": json_bounded(r.kv_budget_bytes, GB, "GB"),
            "capacity": json_bounded(r.capacity_bytes, GB, "GB"),
            "kv_per_token": json_bounded(r.kv_bytes_per_token, 1e-3, "kB"),
            "max_sequences": int(r.kv_slots),
            "fragmentation": r.fragmentation,
        },
        "at_rate": None
        if not st
        else {
            "concurrency": r.concurrency,
            "step": json_bounded(r.step_s, MS, "ms"),
            "prefill_busy": r.prefill_busy,
            "slot_wait": json_bounded(r.slot_wait_s, MS, "ms"),
            "prefill_wait": json_bounded(r.prefill_wait_s, MS, "ms"),
            "throughput": json_bounded(
                None if r.rate_rps is None else r.rate_rps * r.output,
                1.0,
                "tokens/s",
            ),
            "ttft": json_bounded(r.ttft_s, MS, "ms"),
            "tpot": json_bounded(r.tpot_s, MS, "ms"),
            "latency": json_bounded(r.latency_s, 1.0, "s"),
            "ttft_percentiles": pct(r.ttft_percentiles),
            "tpot_percentiles": pct(r.tpot_percentiles),
            "itl_percentiles": pct(r.itl_percentiles),
            "latency_percentiles": pct(r.latency_percentiles),
        },
        "slo": {
            "ttft": json_bounded(r.slo_ttft_s, MS, "ms"),
            "tpot": json_bounded(r.slo_tpot_s, MS, "ms"),
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
