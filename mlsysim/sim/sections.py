"""The sections of a ledger, one per domain, and the unit every figure of each is stated in.

A section is a :class:`~mlsysim.solvers.run.ledger.Part` whose standard figures are always present
(known or unknown): :class:`PerformanceSection`, :class:`SustainabilitySection`,
:class:`EconomicsSection`, :class:`ReliabilitySection`, and the persona's
:class:`ConstraintsSection` (each figure with its limit and whether it is met). Fields read as
Quantities; the float conveniences (``carbon_kg``, ``energy_kwh``…) are plain numbers in the
named unit. :data:`UNITS` fixes each figure's unit so that two ledgers compare figure by figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from mlsysim.solvers.run.ledger import Figure, Part, fmt, reads

__all__ = [
    "DOMAINS",
    "UNITS",
    "ConstraintsSection",
    "EconomicsSection",
    "PerformanceSection",
    "ReliabilitySection",
    "Section",
    "SustainabilitySection",
    "make_section",
]

#: The domains a simulation can cover, in ledger order.
DOMAINS = ("performance", "sustainability", "economics", "reliability")

#: The unit every ledger figure is stated in, by section and key (so ledgers compare).
UNITS: dict[str, dict[str, str]] = {
    "performance": {
        "latency": "ms",
        "latency_target": "ms",
        "measured_latency": "ms",
        "throughput": "1/s",
        "slo_met": "",
        "duty": "",
        "wall_time": "d",
        "training_throughput": "token/s",
        "min_devices_per_replica": "",
    },
    "sustainability": {
        "average_power": "W",
        "energy_per_inference": "mJ",
        "measured_energy": "mJ",
        "energy": "kWh",
        "carbon": "kgCO2e",
        "embodied_carbon": "kgCO2e",
        "total_carbon": "kgCO2e",
        "water": "L",
        "battery_life": "d",
    },
    "economics": {
        "capex": "USD",
        "opex": "USD",
        "tco": "USD",
        "cost_per_inference": "USD",
        "cloud_cost": "USD",
    },
    "reliability": {
        "mtbf": "h",
        "availability": "",
        "failures_per_year": "",
    },
    "constraints": {
        "power": "W",
        "latency": "ms",
        "cost": "USD",
        "battery_life": "d",
    },
}


def _number(key: str, doc: str) -> property:
    def get(self: Part) -> float:
        value = self.figures[key].quantity()
        return float(getattr(value, "magnitude", value))

    get.__doc__ = doc
    return property(get)


class Section(Part):
    """A ledger section: its standard figures are always present (known or unknown)."""

    domain: ClassVar[str] = ""

    def __getitem__(self, key: str) -> Figure:
        return self.figures[key]

    def known(self) -> dict[str, Figure]:
        """The figures whose value is known."""
        return {k: f for k, f in self.figures.items() if f.known}


@dataclass(frozen=True, eq=False)
class PerformanceSection(Section):
    """Latency (per inference, frame or output token), throughput, and the latency SLO."""

    domain = "performance"
    headline = "latency"
    latency = reads("latency", "Time of one inference (a frame, an output token).")
    throughput = reads("throughput", "Inferences per second across the whole fleet.")
    latency_target = reads("latency_target", "The application's latency objective.")
    latency_ms = _number("latency", "Latency in ms (float).")
    throughput_per_s = _number("throughput", "Fleet inferences per second (float).")

    @property
    def slo_met(self) -> bool:
        """Whether the latency meets the application's objective."""
        return bool(self.figures["slo_met"].quantity())


@dataclass(frozen=True, eq=False)
class SustainabilitySection(Section):
    """Energy, carbon (operational, embodied, total) and water over the evaluated duration."""

    domain = "sustainability"
    headline = "carbon"
    average_power = reads("average_power", "Average power of one unit of the fleet.")
    energy = reads("energy", "Energy over the duration, whole fleet.")
    carbon = reads("carbon", "Operational carbon: energy × grid carbon intensity.")
    embodied_carbon = reads("embodied_carbon", "Manufacturing carbon amortised.")
    total_carbon = reads("total_carbon", "Operational plus embodied carbon.")
    water = reads("water", "Water consumed (on site plus electricity generation).")
    energy_kwh = _number("energy", "Energy in kWh (float).")
    carbon_kg = _number("carbon", "Operational carbon in kg CO2e (float).")
    embodied_carbon_kg = _number("embodied_carbon", "Embodied carbon in kg CO2e (float).")
    total_carbon_kg = _number("total_carbon", "Total carbon in kg CO2e (float).")
    water_l = _number("water", "Water in litres (float).")
    average_power_w = _number("average_power", "Average power per unit in W (float).")


@dataclass(frozen=True, eq=False)
class EconomicsSection(Section):
    """Capital (amortised over the duration), operating cost, TCO and cost per inference."""

    domain = "economics"
    headline = "tco"
    capex = reads("capex", "Hardware price amortised over its service life.")
    opex = reads("opex", "Energy at the region's electricity price.")
    tco = reads("tco", "Total cost of ownership over the duration: capex + opex.")
    cost_per_inference = reads("cost_per_inference", "TCO / inferences served.")
    capex_usd = _number("capex", "Capex in USD (float).")
    opex_usd = _number("opex", "Opex in USD (float).")
    tco_usd = _number("tco", "TCO in USD (float).")
    cost_per_inference_usd = _number("cost_per_inference", "Cost per inference, USD (float).")


@dataclass(frozen=True, eq=False)
class ReliabilitySection(Section):
    """MTBF of one unit, its availability, and failures per year across the fleet."""

    domain = "reliability"
    headline = "mtbf"
    mtbf = reads("mtbf", "Mean time between failures of one unit (device or job).")
    mtbf_h = _number("mtbf", "MTBF in hours (float).")

    @property
    def availability(self) -> float:
        """Fraction of time a unit is up: MTBF / (MTBF + MTTR)."""
        return float(self.figures["availability"].quantity())

    @property
    def failures_per_year(self) -> float:
        """Expected failures per year across the fleet."""
        return float(self.figures["failures_per_year"].quantity())


@dataclass(frozen=True, eq=False)
class ConstraintsSection(Section):
    """The persona's constraints: each figure is the design's value; ``limits`` the bounds."""

    domain = "constraints"
    headline = "latency"
    #: name -> (limit figure, met: True/False, or None when the value is unknown)
    limits: dict[str, tuple[Figure, bool | None]] = field(default_factory=dict)

    @property
    def met(self) -> dict[str, bool | None]:
        """Each constraint: met (True), violated (False) or undecided (None: value unknown)."""
        return {k: ok for k, (_limit, ok) in self.limits.items()}

    @property
    def all_met(self) -> bool:
        """True when every constraint is known to hold."""
        return all(ok is True for ok in self.met.values())

    def lines(self) -> list[str]:
        out = []
        for key, fig in self.figures.items():
            limit, ok = self.limits[key]
            verdict = "met" if ok else "VIOLATED" if ok is False else "undecided"
            out.append(f"{fig.text()}  [{verdict}: limit {fmt(limit.value or 0, limit.unit)}]")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            k: {**f.to_dict(), "limit": self.limits[k][0].to_dict(), "met": self.limits[k][1]}
            for k, f in self.figures.items()
        }


_SECTION_TYPES: dict[str, type[Section]] = {
    "performance": PerformanceSection,
    "sustainability": SustainabilitySection,
    "economics": EconomicsSection,
    "reliability": ReliabilitySection,
}


def make_section(domain: str, figures: dict[str, Figure]) -> Section:
    """The section object of ``domain`` holding ``figures``."""
    return _SECTION_TYPES[domain](figures)
