"""Hardware layer: accelerators, edge boards and microcontrollers as sourced data.

Entries live in ``hardware/data/*.toml`` (schema ``mlsysim.hardware/1``). Dense and sparse peak
rates are separate tables and never stand in for each other: asking for a precision (or a
sparse rate) the datasheet does not give raises :class:`UnsupportedPrecisionError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from mlsysim.core.constants import PRECISIONS as _PRECISIONS
from mlsysim.core.exceptions import MlsysimError, UnknownNameError, UnsupportedPrecisionError
from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Q, Spec
from mlsysim.hardware.engines import Engines

__all__ = [
    "PRECISIONS",
    "Engines",
    "Hardware",
    "HardwareSpec",
    "Interconnect",
    "MemoryLevel",
    "MemorySpec",
    "PeakRates",
]

#: Numeric formats a datasheet may give peak rates for (the one format table,
#: :data:`mlsysim.core.constants.BYTES_PER_ELEMENT`). ``fp64_tensor`` is NVIDIA's FP64 on
#: tensor cores (distinct from the vector ``fp64`` rate).
PRECISIONS = _PRECISIONS

if TYPE_CHECKING:  # mypy sees Any (pint Quantities are untyped); pydantic checks dimensions
    _Rate = Any
    _Information = Any
    _Bandwidth = Any
    _Power = Any
    _Frequency = Any
    _Currency = Any
    _Carbon = Any
else:
    _Rate = Q["compute_rate"]
    _Information = Q["information"]
    _Bandwidth = Q["bandwidth"]
    _Power = Q["power"]
    _Frequency = Q["frequency"]
    _Currency = Q["currency"]
    _Carbon = Q["carbon"]

_FROZEN = ConfigDict(defer_build=True, frozen=True, extra="forbid", arbitrary_types_allowed=True)


class PeakRates(BaseModel):
    """Peak compute per precision: ``dense`` and (2:4 structured) ``sparse`` separately."""

    model_config = _FROZEN

    dense: dict[str, _Rate]
    sparse: dict[str, _Rate] = {}

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
    capacity: _Information
    bandwidth: _Bandwidth | None = None


class MemorySpec(BaseModel):
    """The device's main memory (what weights and KV cache live in) plus other levels.

    ``bandwidth`` is required for data-centre devices (see :class:`HardwareSpec`); a
    microcontroller or phone SoC whose datasheet states no figure leaves it out.
    """

    model_config = _FROZEN

    type: str
    capacity: _Information
    bandwidth: _Bandwidth | None = None
    levels: tuple[MemoryLevel, ...] = ()

    def level(self, name: str) -> MemoryLevel:
        """The memory level called ``name`` or of kind ``name`` (``"flash"``, ``"sram"``)."""
        for lvl in self.levels:
            if name in (lvl.name, lvl.kind):
                return lvl
        raise UnknownNameError(
            "memory level", name, [lv.name for lv in self.levels] + [lv.kind for lv in self.levels]
        )


class Interconnect(BaseModel):
    """Device-to-device link: a fabric id from the systems registry and per-device bandwidth.

    ``bandwidth`` is the device's total, both directions added, as vendors quote it (H100:
    NVLink4 900 GB/s = 450 GB/s each way); collectives use :attr:`bandwidth_per_direction`.
    """

    model_config = _FROZEN

    fabric: str | None = None
    bandwidth: _Bandwidth

    @property
    def bandwidth_per_direction(self) -> Any:
        """Half of :attr:`bandwidth`: what one direction of a ring step can use."""
        return self.bandwidth / 2


class HardwareSpec(Spec):
    """An accelerator, board or microcontroller, as its datasheet describes it.

    ``tdp`` is the thermal design power (the highest power mode of a board with several);
    ``power_min`` the *lowest configurable power limit* or mode (Jetson 15 W, H100 PCIe
    300 W) — not idle power; ``power_idle`` the measured idle draw where a source states it.
    ``architecture`` names the device's generation or core (``"hopper"``, ``"ampere"``,
    ``"orin"``, ``"cortex_m7"``): the execution engines' efficiencies are sourced per
    architecture and kind (``mlsysim.hardware.engines``). ``compute_units`` is the number
    of units tiled work is spread over — SMs of an NVIDIA GPU, compute units of an AMD one,
    cores of a CPU or MCU — for wave quantization; left out when no source gives it.
    """

    drifting = ("list_price",)

    #: Kinds whose datasheets always state TDP and memory bandwidth: entries must give them.
    _REQUIRE_POWER_AND_BANDWIDTH: ClassVar[tuple[str, ...]] = ("gpu", "tpu", "accelerator")

    kind: Literal["gpu", "tpu", "accelerator", "npu", "soc", "mcu", "cpu"]
    vendor: str
    release_year: int | None = None
    form_factor: str | None = None
    architecture: str | None = None
    compute_units: int | None = None
    peak: PeakRates
    memory: MemorySpec
    tdp: _Power | None = None
    power_min: _Power | None = None
    power_idle: _Power | None = None
    clock: _Frequency | None = None
    interconnect: Interconnect | None = None
    list_price: _Currency | None = None
    embodied_carbon: _Carbon | None = None  # manufacturing footprint of one device

    @model_validator(mode="after")
    def _complete_for_kind(self) -> HardwareSpec:
        if self.kind in self._REQUIRE_POWER_AND_BANDWIDTH and self.memory.bandwidth is None:
            raise ValueError(f"a {self.kind} entry needs memory.bandwidth (e.g. '3.35 TB/s')")
        if self.kind == "gpu" and self.tdp is None:
            raise ValueError("a gpu entry needs tdp (e.g. '700 W')")
        if self.kind == "mcu" and self.clock is None:
            raise ValueError("an mcu entry needs clock (e.g. '480 MHz')")
        if self.power_idle is not None and self.tdp is not None and self.power_idle > self.tdp:
            raise ValueError(
                f"power_idle ({self.power_idle:~P}) exceeds tdp ({self.tdp:~P}); idle power is "
                "the draw of a device doing nothing"
            )
        if self.compute_units is not None and self.compute_units < 1:
            raise ValueError(f"compute_units must be at least 1, got {self.compute_units}")
        if not self.peak.dense and not self.peak.sparse:
            raise ValueError(
                "give at least one peak rate under [ID.peak.dense] or [ID.peak.sparse]"
            )
        return self

    def require(self, field: str) -> Any:
        """The value at dotted path ``field``, or an error when the datasheet gives none.

        Formulas use this for optional fields (``tdp``, ``memory.bandwidth``) so that a
        device without the figure fails with a message naming the device and the field.
        """
        obj: Any = self
        for part in field.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                raise MlsysimError(
                    f"{self.id} has no {field}",
                    why="its datasheet does not state this figure, so the registry leaves it out",
                    fix=f"pass the value explicitly, or add {field} with a source to the "
                    f"{self.id} entry in a data file",
                )
        return obj

    def peak_flops(self, precision: str = "bf16", *, sparse: bool = False) -> Any:
        """Peak rate at ``precision`` (dense unless ``sparse=True``) as the datasheet gives it."""
        table = self.peak.sparse if sparse else self.peak.dense
        rate = table.get(precision)
        if rate is None:
            raise UnsupportedPrecisionError(self.id, precision, table, sparse=sparse)
        return rate

    def precisions(self, *, sparse: bool = False) -> list[str]:
        """Precisions with a datasheet peak rate, in ``PRECISIONS`` order."""
        table = self.peak.sparse if sparse else self.peak.dense
        return [p for p in PRECISIONS if p in table]

    @property
    def supports_2_4_sparsity(self) -> bool:
        """Whether the datasheet gives any structured-sparse (2:4) rate."""
        return bool(self.peak.sparse)


Hardware: Registry[HardwareSpec] = register_kind(
    "hardware", HardwareSpec, "hardware", Path(__file__).parent / "data"
)
