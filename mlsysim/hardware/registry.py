"""Hardware layer: accelerators, edge boards and microcontrollers as sourced data.

Entries live in ``hardware/data/*.toml`` (schema ``mlsysim.hardware/1``). Dense and sparse peak
rates are separate tables and never stand in for each other: asking for a precision (or a
sparse rate) the datasheet does not give raises :class:`UnsupportedPrecisionError`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from mlsysim.core.exceptions import UnsupportedPrecisionError
from mlsysim.core.registry import Registry
from mlsysim.core.types import Q, Spec

__all__ = ["PRECISIONS", "Hardware", "HardwareSpec", "Interconnect", "MemoryLevel", "MemorySpec",
           "PeakRates"]

#: Numeric formats a datasheet may give peak rates for. ``fp64_tensor`` is NVIDIA's FP64 on
#: tensor cores (distinct from the vector ``fp64`` rate).
PRECISIONS = ("fp64", "fp64_tensor", "fp32", "tf32", "fp16", "bf16", "fp8", "fp6", "int8",
              "fp4", "int4")

_FROZEN = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class PeakRates(BaseModel):
    """Peak compute per precision: ``dense`` and (2:4 structured) ``sparse`` separately."""

    model_config = _FROZEN

    dense: dict[str, Q["compute_rate"]]
    sparse: dict[str, Q["compute_rate"]] = {}

    @field_validator("dense", "sparse")
    @classmethod
    def _known_precisions(cls, value: dict[str, Any]) -> dict[str, Any]:
        for p in value:
            if p not in PRECISIONS:
                raise ValueError(f"unknown precision {p!r}; known: {', '.join(PRECISIONS)}")
        return value


class MemoryLevel(BaseModel):
    """One memory level (on-chip SRAM, flash, L2…) with optional bandwidth."""

    model_config = _FROZEN

    name: str
    kind: Literal["hbm", "dram", "sram", "flash", "cache"]
    capacity: Q["information"]
    bandwidth: Q["bandwidth"] | None = None


class MemorySpec(BaseModel):
    """The device's main memory (what weights and KV cache live in) plus other levels."""

    model_config = _FROZEN

    type: str
    capacity: Q["information"]
    bandwidth: Q["bandwidth"]
    levels: tuple[MemoryLevel, ...] = ()


class Interconnect(BaseModel):
    """Device-to-device link: a fabric id from the systems registry and per-device bandwidth."""

    model_config = _FROZEN

    fabric: str | None = None
    bandwidth: Q["bandwidth"]


class HardwareSpec(Spec):
    """An accelerator, board or microcontroller, as its datasheet describes it."""

    drifting = ("list_price",)

    kind: Literal["gpu", "tpu", "accelerator", "npu", "soc", "mcu", "cpu"]
    vendor: str
    release_year: int | None = None
    form_factor: str | None = None
    peak: PeakRates
    memory: MemorySpec
    tdp: Q["power"]
    power_min: Q["power"] | None = None
    clock: Q["frequency"] | None = None
    interconnect: Interconnect | None = None
    list_price: Q["currency"] | None = None

    def peak_flops(self, precision: str = "bf16", *, sparse: bool = False) -> Any:
        """Peak rate at ``precision`` (dense unless ``sparse=True``) as the datasheet gives it."""
        table = self.peak.sparse if sparse else self.peak.dense
        rate = table.get(precision)
        if rate is None:
            raise UnsupportedPrecisionError(self.id, precision, table, sparse=sparse)
        return rate

    def precisions(self, *, sparse: bool = False) -> list[str]:
        """Precisions with a datasheet peak rate, in :data:`PRECISIONS` order."""
        table = self.peak.sparse if sparse else self.peak.dense
        return [p for p in PRECISIONS if p in table]

    @property
    def supports_2_4_sparsity(self) -> bool:
        """Whether the datasheet gives any structured-sparse (2:4) rate."""
        return bool(self.peak.sparse)


Hardware: Registry[HardwareSpec] = Registry("hardware")
