"""A device's datasheet as plain numbers, extracted and checked once per spec (the solvers'
hot path).

:func:`device_facts` converts a :class:`~mlsysim.hardware.registry.HardwareSpec` to root-unit
floats (FLOP/s, B/s, B, W) and checks their signs, so that a spec built or copied outside the
registry (``spec.model_copy(update={"tdp": "-5 W"})``) fails with the field named instead of
giving a wrong number. Results live in a generation-aware cache (:mod:`mlsysim.core.cache`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core.cache import DerivedCache
from mlsysim.core.constants import ACCELERATOR_IDLE_POWER_FRACTION
from mlsysim.core.exceptions import ConfigError

__all__ = ["DeviceFacts", "device_facts"]


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """Float facts of a HardwareSpec: peak rates (FLOP/s), bandwidth (B/s), capacity (B), power.

    ``idle_fraction`` is the device's measured ``power_idle / tdp`` when its entry gives one,
    else :data:`~mlsysim.core.constants.ACCELERATOR_IDLE_POWER_FRACTION`; ``idle_source``
    says which (a field citation or the constant's).
    """

    dense: dict[str, float]
    sparse: dict[str, float]
    bandwidth: float
    capacity: float
    tdp: float | None  # None when the registry gives no TDP (energy is then unknown)
    idle_fraction: float
    idle_source: str
    units: float | None = None  # compute units (SMs); None when the registry gives none


_DEVICES = DerivedCache("hardware.device_facts")


def device_facts(hw: Any) -> DeviceFacts:
    """Plain-number facts of a HardwareSpec, cached per spec object (checked once)."""
    hit = _DEVICES.get(id(hw))
    if hit is not None and hit[0] is hw:
        return hit[1]
    facts = _extract(hw)
    _DEVICES.put(id(hw), (hw, facts))
    return facts


def _positive(value: float, hw: Any, field: str, example: str) -> float:
    if not math.isfinite(value) or value <= 0.0:
        raise ConfigError(
            f"{hw.id}: {field} must be positive, got {value:g} (root units)",
            where="hardware spec",
            why="a device's rates, bandwidth, capacity and power are physical magnitudes",
            fix=f"give {field} a positive value with its unit, e.g. {example!r}",
        )
    return value


def _extract(hw: Any) -> DeviceFacts:
    from mlsysim.core.units import si

    dense = {
        p: _positive(si(r, "compute_rate", "peak"), hw, f"peak.dense.{p}", "989 TFLOP/s")
        for p, r in hw.peak.dense.items()
    }
    sparse = {
        p: _positive(si(r, "compute_rate", "peak"), hw, f"peak.sparse.{p}", "1979 TFLOP/s")
        for p, r in hw.peak.sparse.items()
    }
    if hw.memory.bandwidth is None:
        raise ConfigError(
            f"{hw.id} has no memory.bandwidth",
            where="solve",
            why="the roofline times every byte moved against the main-memory bandwidth",
            fix=f"add memory.bandwidth (with a source) to the {hw.id} entry",
        )
    bw = si(hw.memory.bandwidth, "bandwidth", "memory.bandwidth")
    bandwidth = _positive(bw, hw, "memory.bandwidth", "3.35 TB/s")
    capacity = _positive(
        si(hw.memory.capacity, "information", "memory.capacity"), hw, "memory.capacity", "80 GB"
    )
    tdp = None
    if hw.tdp is not None:
        tdp = _positive(si(hw.tdp, "power", "tdp"), hw, "tdp", "700 W")
    idle = getattr(hw, "power_idle", None)
    if idle is not None and tdp is not None:
        p_idle = si(idle, "power", "power_idle")
        if not math.isfinite(p_idle) or not 0.0 <= p_idle <= tdp:
            raise ConfigError(
                f"{hw.id}: power_idle must lie in [0, tdp], got {p_idle:g} W (tdp {tdp:g} W)",
                where="hardware spec",
                fix="give the measured idle draw of the device, e.g. '60 W'",
            )
        fraction, source = p_idle / tdp, hw.source_of("power_idle")
    else:
        fraction = ACCELERATOR_IDLE_POWER_FRACTION.value
        source = ACCELERATOR_IDLE_POWER_FRACTION.source
    units = float(hw.compute_units) if getattr(hw, "compute_units", None) else None
    return DeviceFacts(dense, sparse, bandwidth, capacity, tdp, fraction, source, units)
