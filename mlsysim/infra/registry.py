"""Infra layer: grid regions, datacenter efficiency tiers and cloud prices as sourced data.

Failure studies (:mod:`.reliability`), storage systems (:mod:`.storage`), exchange rates and
egress prices (:mod:`.money`) are registered by their own modules, imported at the end.

Entries live in ``infra/data/*.toml`` with schemas ``mlsysim.grid/1``, ``mlsysim.datacenter/1``
and ``mlsysim.cloud_rate/1``. Every value here drifts (grids decarbonise, fleets get more
efficient, prices fall), so each needs an ``as_of`` date; the loader enforces it through the
``drifting`` field lists below.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, ValidationInfo, model_validator

from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Q, Spec

if TYPE_CHECKING:  # mypy sees Any (pint Quantities are untyped); pydantic checks dimensions
    _CarbonIntensity = Any
    _WaterIntensity = Any
    _PricePerEnergy = Any
    _PricePerTime = Any
else:
    _CarbonIntensity = Q["carbon_intensity"]
    _WaterIntensity = Q["water_intensity"]
    _PricePerTime = Q["price_per_time"]


def _money_per_energy(value: Any, info: ValidationInfo) -> Any:
    """A price per energy in USD or in EUR (converted later, at a dated rate, never silently)."""
    from mlsysim.core.units import check_dimension

    for dim in ("price_per_energy", "price_per_energy_eur"):
        try:
            return check_dimension(value, dim, name=info.field_name or "price")
        except MlsysimError:
            continue
    raise ValueError(
        f"must be a price per energy in USD or EUR (e.g. '0.0691 USD/kWh', '0.089 EUR/kWh'), "
        f"got {value!r}"
    )


if not TYPE_CHECKING:
    from typing import Annotated

    from mlsysim.core.units import Quantity, fmt_quantity

    _PricePerEnergy = Annotated[
        Quantity,
        BeforeValidator(_money_per_energy),
        PlainSerializer(fmt_quantity, return_type=str),
        Field(json_schema_extra={"dimension": "price_per_energy (USD or EUR)"}),
    ]


__all__ = [
    "COMPONENTS",
    "CloudRateSpec",
    "CloudRates",
    "DatacenterSpec",
    "Datacenters",
    "EgressPriceSpec",
    "EgressPrices",
    "ExchangeRateSpec",
    "ExchangeRates",
    "FailureStudies",
    "FailureStudySpec",
    "GridSpec",
    "Grids",
    "Storage",
    "StorageSpec",
]

#: Relative mismatch allowed between an instance price / devices and the stated device price
#: (prices are published rounded to the cent).
_PRICE_CONSISTENCY = 0.005


class GridSpec(Spec):
    """An electricity grid region: average carbon intensity, water intensity and price.

    ``carbon_basis`` says what the intensity counts: ``lifecycle`` (all greenhouse gases over
    the plants' life cycle, e.g. Ember) or ``combustion`` (CO2 from burning fuel at the plant,
    e.g. EIA, utility disclosures). The two are not interchangeable: lifecycle figures are
    higher, most visibly for hydro, nuclear and renewables.
    """

    drifting = ("carbon_intensity", "water_intensity", "electricity_price")

    region: str
    country: str  # ISO 3166-1 alpha-2
    carbon_intensity: _CarbonIntensity
    carbon_basis: Literal["lifecycle", "combustion"]
    water_intensity: _WaterIntensity | None = None  # consumptive L per kWh generated
    electricity_price: _PricePerEnergy | None = None  # USD or EUR per kWh
    price_basis: str | None = None  # e.g. "industrial, average revenue per kWh"

    @model_validator(mode="after")
    def _price_has_basis(self) -> GridSpec:
        if self.electricity_price is not None and not self.price_basis:
            raise ValueError(
                "electricity_price needs price_basis (which customers, which average), "
                "e.g. 'industrial, average revenue per kWh'"
            )
        return self


class DatacenterSpec(Spec):
    """A datacenter efficiency tier: power usage effectiveness and water usage effectiveness.

    PUE = facility energy / IT energy (The Green Grid 2012); WUE = site water consumed per kWh
    of IT energy (The Green Grid 2011). Fleet figures are annual averages and drift.
    """

    drifting = ("pue", "wue")

    tier: Literal["hyperscale", "colocation", "enterprise", "average"]
    operator: str | None = None
    pue: float = Field(ge=1.0)
    wue: _WaterIntensity | None = None


class CloudRateSpec(Spec):
    """A public cloud price for accelerator time, per device-hour.

    ``hardware`` is a hardware registry id (checked with :meth:`hardware_spec`), ``devices``
    the accelerators in one ``instance``; ``instance_price`` when given must equal
    ``price × devices``.
    """

    drifting = ("price", "instance_price")

    provider: str
    hardware: str
    instance: str | None = None
    devices: int = Field(default=1, ge=1)
    price: _PricePerTime  # per accelerator-hour
    instance_price: _PricePerTime | None = None
    region: str | None = None
    pricing: Literal["on_demand", "spot", "reserved_1yr", "reserved_3yr"] = "on_demand"

    @model_validator(mode="after")
    def _instance_price_consistent(self) -> CloudRateSpec:
        if self.instance_price is None:
            return self
        per_device = (self.instance_price / self.devices).to("USD/h").magnitude
        stated = self.price.to("USD/h").magnitude
        if abs(per_device - stated) > _PRICE_CONSISTENCY * stated:
            raise ValueError(
                f"instance_price / devices = {per_device:.4f} USD/h but price states "
                f"{stated:.4f} USD/h; correct one of them (price is per device-hour)"
            )
        return self

    def hardware_spec(self) -> object:
        """The hardware entry this price is for (an UnknownNameError if it does not exist)."""
        return Registry("hardware")[self.hardware]


_DATA = Path(__file__).parent / "data"
Grids: Registry[GridSpec] = register_kind("grid", GridSpec, "grid region", _DATA)
Datacenters: Registry[DatacenterSpec] = register_kind(
    "datacenter", DatacenterSpec, "datacenter", _DATA
)
CloudRates: Registry[CloudRateSpec] = register_kind(
    "cloud_rate", CloudRateSpec, "cloud rate", _DATA
)

# the infra layer's other kinds register themselves on import
from mlsysim.infra.money import (  # noqa: E402
    EgressPrices,
    EgressPriceSpec,
    ExchangeRates,
    ExchangeRateSpec,
)
from mlsysim.infra.reliability import COMPONENTS, FailureStudies, FailureStudySpec  # noqa: E402
from mlsysim.infra.storage import Storage, StorageSpec  # noqa: E402
