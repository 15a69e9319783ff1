"""Figures with their derivations: what the run and fleet solvers return, part by part.

A :class:`Figure` is one number in a display unit, the derivation that produced it (symbol,
numbers substituted, result) and the citation ids it rests on — or, when an input is missing,
the reason and how to supply it. Reading a missing figure raises
:class:`~mlsysim.core.exceptions.MissingDataError`: there is never a silent $0, 0 L or 0 kg.

A :class:`Part` groups figures (``run.energy``, ``run.carbon``); each figure is a property that
returns a Quantity, so napkin math reads ``training_run(...).carbon.operational -> t CO2e``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from mlsysim.core.exceptions import MissingDataError

__all__ = [
    "CarbonPart",
    "CheckpointIntervals",
    "CostPart",
    "EnergyPart",
    "Figure",
    "Part",
    "ReliabilityPart",
    "WaterPart",
    "fmt",
    "missing",
    "reads",
    "value_or_unknown",
]


def fmt(value: float, unit: str = "", sig: int = 4) -> str:
    """Compact text of a number and unit for derivations (``1,287 MWh``, ``0.0962 USD/kWh``)."""
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        text = f"{value:.{sig - 1}e}"
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.{sig}g}"
    return f"{text} {unit}".strip()


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure: ``value`` in ``unit`` (None when unknown), how it was derived, and sources."""

    name: str
    value: float | None
    unit: str
    derivation: str = ""
    sources: tuple[str, ...] = ()
    missing: str = ""  # why the value is unknown and how to supply it

    @property
    def known(self) -> bool:
        return self.value is not None

    def quantity(self) -> Any:
        """The figure as a Quantity (a float when dimensionless); raises when unknown."""
        if self.value is None:
            raise MissingDataError(
                f"{self.name} is unknown",
                why=self.missing.partition("; ")[0] or "an input it needs is missing",
                fix=_fix(self.missing),
            )
        if not self.unit:
            return self.value
        from mlsysim.core.units import Q_

        return Q_(self.value, self.unit)

    def text(self) -> str:
        """``name = derivation = value`` on one line (or why it is unknown)."""
        if self.value is None:
            return f"{self.name}: unknown — {self.missing}"
        value = fmt(self.value, self.unit)
        if self.derivation:
            return f"{self.name} = {self.derivation} = {value}"
        return f"{self.name} = {value}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "derivation": self.derivation,
            "sources": list(self.sources),
            "missing": self.missing or None,
        }


def _fix(reason: str) -> str:
    _head, sep, tail = reason.partition("; ")
    return tail if sep else "supply the missing input (see the message) and solve again"


def value_or_unknown(fig: Figure | None) -> str:
    """The figure's value in its unit (``1,287 MWh``), or ``unknown``."""
    if fig is None or fig.value is None:
        return "unknown"
    return fmt(fig.value, fig.unit)


def missing(name: str, unit: str, reason: str, sources: tuple[str, ...] = ()) -> Figure:
    """An unknown figure: ``reason`` is 'what is missing; how to supply it'."""
    return Figure(name, None, unit, "", sources, reason)


def reads(key: str, doc: str) -> property:
    """A read-only property that reads the part's figure ``key`` as a Quantity (raises when
    it is unknown)."""

    def get(self: Part) -> Any:
        return self.figures[key].quantity()

    get.__doc__ = doc
    return property(get)


@dataclass(frozen=True, eq=False)
class Part:
    """A group of figures; subclasses declare their figure names as properties (:func:`reads`)."""

    headline: ClassVar[str] = ""

    figures: dict[str, Figure]

    @property
    def value(self) -> Any:
        """The part's headline figure."""
        return self.figures[self.headline].quantity()

    def __iter__(self) -> Iterator[Figure]:
        return iter(self.figures.values())

    def lines(self) -> list[str]:
        """One derivation line per figure."""
        return [f.text() for f in self.figures.values()]

    def sources(self) -> list[str]:
        """Citation ids of every figure, in order, without repeats."""
        out: list[str] = []
        for f in self.figures.values():
            out += [s for s in f.sources if s not in out]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {k: f.to_dict() for k, f in self.figures.items()}

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True, eq=False)
class CheckpointIntervals(Part):
    """Optimal checkpoint intervals (Young 1974, Daly 2006) and the one the run uses."""

    headline = "used"
    young = reads("young", "Young's interval √(2δM).")
    daly = reads("daly", "Daly's higher-order interval (δ < 2M).")
    used = reads("used", "The interval the run checkpoints at.")


@dataclass(frozen=True, eq=False)
class ReliabilityPart(Part):
    """Failures, checkpoints and goodput of a run."""

    headline = "goodput"
    mtbf = reads("mtbf", "The job's mean time between failures, from component failure rates.")
    interruptions = reads("interruptions", "Expected unplanned interruptions over the wall time.")
    checkpoint_size = reads("checkpoint_size", "Weights plus optimizer state, whole model.")
    checkpoint_shard = reads("checkpoint_shard", "What one writer (model-parallel shard) saves.")
    checkpoint_time = reads("checkpoint_time", "Time δ to write one checkpoint.")
    restart_time = reads("restart_time", "Time R from a failure to training again.")
    goodput = reads("goodput", "Fraction of wall time that is useful training (rework, restarts).")
    lost_to_failures = reads("lost_to_failures", "Fraction of wall time lost to failures.")
    lost_to_checkpoints = reads("lost_to_checkpoints", "Fraction spent writing checkpoints.")

    #: Young's and Daly's intervals (``.young``, ``.daly``) and the one used (``.used``).
    checkpoint_interval: CheckpointIntervals

    def lines(self) -> list[str]:
        return super().lines() + self.checkpoint_interval.lines()

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "checkpoint_interval": self.checkpoint_interval.to_dict()}


@dataclass(frozen=True, eq=False)
class EnergyPart(Part):
    """Energy of a run or fleet: devices, hosts and network (IT), times PUE."""

    headline = "total"
    device_power = reads("device_power", "Average power of one device.")
    overhead_power = reads("overhead_power", "Host and network power per device.")
    it = reads("it", "IT energy: devices, hosts and network.")
    pue = reads("pue", "Power usage effectiveness of the datacenter.")
    total = reads("total", "Facility energy: IT energy × PUE.")


@dataclass(frozen=True, eq=False)
class CarbonPart(Part):
    """Carbon: operational (grid, stated basis), embodied (amortised), total."""

    headline = "total"
    intensity = reads("intensity", "Grid carbon intensity used.")
    operational = reads("operational", "Facility energy × grid carbon intensity.")
    embodied = reads("embodied", "Manufacturing carbon amortised over the hardware's use.")
    total = reads("total", "Operational plus embodied.")

    #: accounting basis of the intensity: "lifecycle", "combustion" or "as given"
    basis: str = ""


@dataclass(frozen=True, eq=False)
class WaterPart(Part):
    """Water: on site (IT energy × WUE) and off site (facility energy × grid water intensity)."""

    headline = "total"
    on_site = reads("on_site", "Cooling water consumed on site.")
    off_site = reads("off_site", "Water consumed generating the electricity.")
    total = reads("total", "On-site plus off-site water.")


@dataclass(frozen=True, eq=False)
class CostPart(Part):
    """Money: renting (cloud rates) and owning (amortised capex, energy, facility)."""

    headline = "cloud"
    cloud = reads("cloud", "Device-hours at the registry's cloud rate.")
    capex = reads("capex", "Hardware price amortised over its depreciation period.")
    energy = reads("energy", "Facility energy at the region's electricity price.")
    facility = reads("facility", "Datacenter (space, power and cooling plant) amortised.")
    owned = reads("owned", "Owning: capex + energy + facility.")

    #: what owning assumes (depreciation, facility cost, what is not counted)
    assumptions: tuple[str, ...] = ()
