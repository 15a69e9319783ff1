"""JSON Schemas (draft 2020-12) of ``solve`` results, one device and many (``mlsysim schema
solve-device``, ``mlsysim schema distributed``), versioned with :data:`SCHEMA_VERSION` and
:data:`DISTRIBUTED_SCHEMA_VERSION`."""

from __future__ import annotations

from typing import Any

from mlsysim.solvers.quantities import object_schema, quantity_schema

__all__ = [
    "DISTRIBUTED_SCHEMA_VERSION",
    "SCHEMA_VERSION",
    "distributed_json_schema",
    "json_schema",
]

#: Version of the single-device JSON form; bumped on any incompatible change (2: ``hfu``,
#: ``model_flops`` and ``hardware_flops`` added; MFU counts model FLOPs as PaLM does; 3:
#: ``engine`` and the ``formats`` the step ran in, per-op peak, wave efficiency and kernel
#: count).
SCHEMA_VERSION = "mlsysim.result/3"

#: Version of the distributed JSON form; bumped on any incompatible change.
DISTRIBUTED_SCHEMA_VERSION = "mlsysim.distributed_result/2"


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`SolveResult.to_dict`."""
    q, qn = quantity_schema(), quantity_schema(nullable=True)
    op = object_schema(
        {
            "name": {"type": "string"},
            "kind": {"enum": ["gemm", "attention", "elementwise", "embedding", "optimizer"]},
            "repeat": {"type": "integer", "minimum": 1},
            "flops": {"type": "number", "minimum": 0},
            "bytes": {"type": "number", "minimum": 0},
            "time_bound_s": {"type": "number", "minimum": 0},
            "time_s": {"type": "number", "minimum": 0},
            "overhead_s": {"type": "number", "minimum": 0},
            "bound": {"enum": ["compute", "memory"]},
            "peak_flops_per_s": {"type": "number", "minimum": 0},
            "waves": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "kernels": {"type": "number", "minimum": 0},
            "dequant": {"type": "boolean"},
        }
    )
    mem_keys = ["weights", "kv_cache", "activations", "gradients", "optimizer", "total", "capacity"]
    props: dict[str, Any] = {
        "schema": {"const": SCHEMA_VERSION},
        "schema_version": {"const": SCHEMA_VERSION},
        "model": {"type": "string"},
        "hardware": {"type": "string"},
        "phase": {"enum": ["prefill", "decode", "training", "inference"]},
        "batch": {"type": "integer", "minimum": 1},
        "seq_len": {"type": ["integer", "null"], "minimum": 0},
        "precision": {"type": "string"},
        "weights_precision": {"type": "string"},
        "kv_precision": {"type": "string"},
        "sparse": {"type": "boolean"},
        "engine": {"type": "string"},
        "formats": object_schema(
            {
                "weights": {"type": "string"},
                "weight_bits": {"type": "number", "exclusiveMinimum": 0},
                "gemm": {"type": "string"},
                "other": {"type": "string"},
                "attention": {"type": "string"},
                "kv_cache": {"type": "string"},
            }
        ),
        "feasible": {"type": "boolean"},
        "binding_wall": {"type": "string"},
        "latency": qn,
        "latency_bound": qn,
        "throughput": qn,
        "throughput_bound": qn,
        "energy": qn,
        "mfu": {"type": ["number", "null"]},
        "hfu": {"type": ["number", "null"]},
        "flops": q,
        "model_flops": q,
        "hardware_flops": q,
        "bytes": q,
        "arithmetic_intensity": q,
        "ridge_point": q,
        "time_split": object_schema({k: q for k in ("compute", "memory", "overhead")}),
        "memory": object_schema({k: q for k in mem_keys}),
        "efficiencies": {
            "type": "array",
            "items": object_schema(
                {
                    "name": {"type": "string"},
                    "value": {"type": "number"},
                    "source": {"type": "string"},
                }
            ),
        },
        "notes": {"type": "array", "items": {"type": "string"}},
        "explanation": {"type": "string"},
        "ops": {"type": "array", "items": op},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/result-3.json",
        "title": "mlsysim single-device solve result",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def distributed_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :meth:`DistributedResult.to_dict`."""
    obj, qn = quantity_schema(), quantity_schema(nullable=True)

    def table(keys: list[str], item: Any) -> dict[str, Any]:
        return object_schema({k: item for k in keys})

    ints = {"type": "integer", "minimum": 1}
    parallel_props: dict[str, Any] = {
        "tp": ints,
        "pp": ints,
        "dp": ints,
        "cp": ints,
        "ep": ints,
        "sp": {"type": "boolean"},
        "zero": {"enum": [0, 1, 2, 3]},
        "microbatch": ints,
        "microbatches": ints,
        "schedule": {"enum": ["gpipe", "1f1b", "interleaved"]},
        "chunks": ints,
    }
    parallel = object_schema(parallel_props)
    text, number = {"type": "string"}, {"type": "number"}
    collective = object_schema(  # the fields of step_parts.CollectiveTiming
        {
            "name": text,
            "group": text,
            "op": text,
            "algorithm": text,
            "size_bytes": number,
            "calls": number,
            "group_size": number,
            "nodes": number,
            "time_per_call_s": number,
            "total_s": number,
            "exposed_s": number,
        }
    )
    props: dict[str, Any] = {
        "schema": {"const": DISTRIBUTED_SCHEMA_VERSION},
        "schema_version": {"const": DISTRIBUTED_SCHEMA_VERSION},
        "model": {"type": "string"},
        "system": {"type": "string"},
        "hardware": {"type": "string"},
        "phase": {"enum": ["prefill", "decode", "training", "inference"]},
        "devices": ints,
        "nodes": ints,
        "batch": ints,
        "seq_len": {"type": "integer", "minimum": 0},
        "precision": {"type": "string"},
        "weights_precision": {"type": "string"},
        "engine": {"type": "string"},
        "parallel": parallel,
        "feasible": {"type": "boolean"},
        "binding_wall": {"type": "string"},
        "step_time": qn,
        "step_time_bound": qn,
        "latency": qn,
        "throughput": qn,
        "mfu": {"type": ["number", "null"]},
        "hfu": {"type": ["number", "null"]},
        "power": qn,
        "bubble_fraction": {"type": "number", "minimum": 0, "maximum": 1},
        "time_split": table(
            ["compute", "memory", "overhead", "communication", "bubble", "optimizer"], obj
        ),
        "memory": table(
            ["weights", "gradients", "optimizer", "activations", "kv_cache", "total", "capacity"],
            obj,
        ),
        "communication": table(["tp", "cp", "ep", "pp", "dp", "total", "overlapped"], obj),
        "collectives": {"type": "array", "items": collective},
        "notes": {"type": "array", "items": {"type": "string"}},
        "explanation": {"type": "string"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlsysim.dev/schema/distributed-result-1.json",
        "title": "mlsysim distributed solve result",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
