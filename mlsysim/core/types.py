"""Typed, frozen specs whose quantity fields validate their dimension once, at load.

A field annotated ``Q["bandwidth"]`` accepts ``"3.35 TB/s"`` (or a Quantity) and rejects
``"3.35 TB"`` with a :class:`~mlsysim.core.exceptions.DimensionError` naming the field, the
given value and both dimensions; the registry loader adds the file and entry.

Every spec derives from :class:`Spec`, which carries the provenance of its numbers: the
entry's default ``source`` (a citation id), per-field overrides, and ``as_of`` dates for values
that drift (prices, grid intensities).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
)

from mlsysim.core.exceptions import DimensionError, MlsysimError
from mlsysim.core.units import check_dimension, fmt_quantity

__all__ = [
    "POSITIVE_DIMENSIONS",
    "Bandwidth",
    "Carbon",
    "CarbonIntensity",
    "Citation",
    "Computation",
    "ComputeRate",
    "Currency",
    "Energy",
    "FieldSource",
    "FieldValueError",
    "Frequency",
    "Information",
    "Intensity",
    "Length",
    "Mass",
    "Params",
    "Power",
    "PricePerEnergy",
    "PricePerInformation",
    "PricePerTime",
    "Q",
    "RequestRate",
    "Samples",
    "Spec",
    "Time",
    "Tokens",
    "Volume",
    "WaterIntensity",
    "check_figure",
]


#: Dimensions whose values must be strictly positive: a zero rate makes every time computed
#: from it infinite (a registry value is a datasheet figure, never a placeholder).
POSITIVE_DIMENSIONS = frozenset({"compute_rate", "bandwidth", "frequency", "request_rate"})


class FieldValueError(ValueError):
    """A data field's value is refused; ``fix`` says how to write it (empty: the message
    itself says what to change)."""

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


def _validator(dimension: str) -> Any:
    def validate(value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or "value"
        try:
            q = check_dimension(value, dimension, name=name)
        except MlsysimError as exc:
            # pydantic locates (field path) only ValueErrors raised by validators; the fix
            # travels with it, worded for a data file (the registry's error shows it)
            fix = exc.fix
            if isinstance(exc, DimensionError) and exc.operation == "use" and exc.right_dim:
                fix = f"write {name} with a unit of {exc.right_dim}"
            raise FieldValueError(
                f"{exc.what}: {exc.why}" if exc.why else exc.what, fix=fix
            ) from None
        check_figure(q.magnitude, name, positive=dimension in POSITIVE_DIMENSIONS)
        return q

    return validate


def check_figure(magnitude: Any, name: str, *, positive: bool = False) -> None:
    """Refuse a data figure that is NaN, infinite, negative (or zero when ``positive``).

    Raises ValueError (pydantic locates it at the field); the registry adds file and entry.
    """
    if isinstance(magnitude, bool) or not isinstance(magnitude, int | float):
        return
    if not math.isfinite(magnitude):
        raise ValueError(f"{name} is {magnitude!r}: a data figure must be a finite number")
    if magnitude < 0:
        raise ValueError(f"{name} is {magnitude!r}: a data figure must not be negative")
    if positive and magnitude == 0:
        raise ValueError(
            f"{name} is zero: a rate must be positive (leave the field out when the source "
            "gives no figure)"
        )


def _serialize(value: Any) -> str:
    return fmt_quantity(value)


class _QFactory:
    """``Q["bandwidth"]`` → an annotated Quantity type checked against that dimension."""

    _cache: ClassVar[dict[str, Any]] = {}

    def __getitem__(self, dimension: str) -> Any:
        if dimension not in self._cache:
            from mlsysim.core.units import Quantity

            self._cache[dimension] = Annotated[
                Quantity,
                BeforeValidator(_validator(dimension)),
                PlainSerializer(_serialize, return_type=str),
                Field(json_schema_extra={"dimension": dimension}),
            ]
        return self._cache[dimension]


Q = _QFactory()


# Named field types, one per dimension: ``bandwidth: Bandwidth`` in a spec class. (Type
# checkers see ``Any``: the dimension is checked at run time, when the data loads.)
if TYPE_CHECKING:
    Time = Any
    Frequency = Any
    Computation = Any
    ComputeRate = Any
    Information = Any
    Bandwidth = Any
    Intensity = Any
    Power = Any
    Energy = Any
    Mass = Any
    Carbon = Any
    CarbonIntensity = Any
    Volume = Any
    WaterIntensity = Any
    Currency = Any
    PricePerEnergy = Any
    PricePerTime = Any
    PricePerInformation = Any
    Params = Any
    Tokens = Any
    Samples = Any
    RequestRate = Any
    Length = Any
else:
    Time = Q["time"]
    Frequency = Q["frequency"]
    Computation = Q["computation"]
    ComputeRate = Q["compute_rate"]
    Information = Q["information"]
    Bandwidth = Q["bandwidth"]
    Intensity = Q["intensity"]
    Power = Q["power"]
    Energy = Q["energy"]
    Mass = Q["mass"]
    Carbon = Q["carbon"]
    CarbonIntensity = Q["carbon_intensity"]
    Volume = Q["volume"]
    WaterIntensity = Q["water_intensity"]
    Currency = Q["currency"]
    PricePerEnergy = Q["price_per_energy"]
    PricePerTime = Q["price_per_time"]
    PricePerInformation = Q["price_per_information"]
    Params = Q["parameter"]
    Tokens = Q["token"]
    Samples = Q["sample"]
    RequestRate = Q["request_rate"]
    Length = Q["length"]


class Citation(BaseModel):
    """Where a number comes from: a datasheet, paper, report or documentation page."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    id: str
    title: str
    authors: str | None = None
    publisher: str | None = None
    year: int
    url: str | None = None
    note: str | None = None

    def short(self) -> str:
        """One-line citation: ``NVIDIA H100 Tensor Core GPU Datasheet (NVIDIA, 2023)``."""
        who = self.authors or self.publisher or ""
        return f"{self.title} ({who + ', ' if who else ''}{self.year})"


class FieldSource(BaseModel):
    """Provenance of one field: a citation id and, for drifting values, an as-of date."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    source: str
    as_of: _dt.date | None = None


class Spec(BaseModel):
    """Base of every registry entry: an id, a display name, aliases and provenance."""

    model_config = ConfigDict(
        defer_build=True, frozen=True, extra="forbid", arbitrary_types_allowed=True
    )

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    source: str
    as_of: _dt.date | None = None
    provenance: dict[str, FieldSource] = Field(default_factory=dict)
    notes: str | None = None

    #: Dotted field paths whose values drift over time and so need an ``as_of`` date.
    drifting: ClassVar[tuple[str, ...]] = ()

    def source_of(self, field: str) -> str:
        """Citation id for a dotted field path (falls back to the entry's ``source``)."""
        probe = field
        while probe:
            if probe in self.provenance:
                return self.provenance[probe].source
            probe = probe.rpartition(".")[0]
        return self.source

    def as_of_of(self, field: str) -> _dt.date | None:
        """As-of date for a dotted field path (falls back to the entry's ``as_of``)."""
        fs = self.provenance.get(field)
        return fs.as_of if fs and fs.as_of else self.as_of

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}: {self.name}>"
