"""Root-unit floats as Quantities and as JSON: the conversions every solver result shares.

Results store seconds, bytes and FLOPs as plain floats (cheap to build) and read them as
Quantities in a display unit on access (:func:`quantity`); their JSON forms write
``{"value", "unit"}`` objects (:func:`json_quantity`, :func:`json_bounded`) described by
:func:`quantity_schema`.
"""

from __future__ import annotations

import math
from typing import Any

from mlsysim.core.units import from_si

__all__ = [
    "GB",
    "GFLOP",
    "J_PER_KWH",
    "J_PER_MWH",
    "MS",
    "json_bounded",
    "json_quantity",
    "object_schema",
    "quantity",
    "quantity_schema",
]

#: Scale of bytes to GB, seconds to ms and FLOP to GFLOP.
GB = 1e-9
MS = 1e3
GFLOP = 1e-9
#: Joules in a kWh and in a MWh.
J_PER_KWH = 3.6e6
J_PER_MWH = 3.6e9


def quantity(value: float, scale: float, unit: str) -> Any:
    """``value × scale`` as a Quantity in ``unit`` (``value`` in root units)."""
    return from_si(value * scale, unit)


def json_quantity(value: float | None, scale: float, unit: str) -> dict[str, Any] | None:
    """``{"value": value × scale, "unit": unit}``, or None when ``value`` is absent."""
    if value is None:
        return None
    return {"value": value * scale, "unit": unit}


def json_bounded(value: float | None, scale: float, unit: str) -> dict[str, Any] | None:
    """As :func:`json_quantity`, and None when ``value`` is unbounded (a saturated queue's
    latency, an unlimited capacity)."""
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


def object_schema(props: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of an object with exactly ``props``, every one required."""
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
