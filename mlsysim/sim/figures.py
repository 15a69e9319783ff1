"""Building ledger figures: a Quantity in the ledger's unit for its key, or a stated unknown.

Every figure of a section is stated in the unit :data:`~mlsysim.sim.sections.UNITS` gives for
its key, so that two ledgers compare figure by figure. :class:`Evaluation` collects the
figures of each domain, the assumptions and the warnings while an application is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlsysim.sim.registry import ASSUMED_PREFIX
from mlsysim.sim.sections import DOMAINS, UNITS
from mlsysim.solvers.run.ledger import Figure, fmt, missing

__all__ = [
    "Evaluation",
    "assumed_sources",
    "figure",
    "fmt",
    "source_of",
    "unknown",
    "value_text",
    "watts",
]


def figure(
    section: str,
    key: str,
    name: str,
    value: Any,
    derivation: str,
    sources: tuple[str, ...],
    unit: str | None = None,
) -> Figure:
    """A known figure: ``value`` (a Quantity, or a float already in the key's unit).

    The unit is the ledger's for a standard key (:data:`~mlsysim.sim.sections.UNITS`); a lab's
    own key names its ``unit``.
    """
    unit = _unit(section, key, unit)
    if hasattr(value, "to"):
        v = float(value.to(unit).magnitude) if unit else float(value.to("").magnitude)
    else:
        v = float(value)
    return Figure(name, v, unit, derivation, tuple(dict.fromkeys(sources)))


def unknown(
    section: str,
    key: str,
    name: str,
    reason: str,
    sources: tuple[str, ...] = (),
    unit: str | None = None,
) -> Figure:
    """An unknown figure: ``reason`` is 'what is missing; how to supply it'."""
    return missing(name, _unit(section, key, unit), reason, sources)


def _unit(section: str, key: str, unit: str | None) -> str:
    standard = UNITS.get(section, {}).get(key)
    if standard is not None:
        if unit is not None and unit != standard:
            from mlsysim.core.exceptions import ConfigError

            raise ConfigError(
                f"{section}.{key} is stated in {standard!r}, not {unit!r}",
                fix="omit unit= for a standard ledger figure (or use a key of your own)",
            )
        return standard
    if unit is None:
        from mlsysim.core.exceptions import ConfigError

        raise ConfigError(
            f"{section}.{key} is not a standard ledger figure, so it needs unit=",
            fix=f'e.g. figure("{section}", "{key}", …, unit="kgCO2e")',
        )
    return unit


def source_of(spec: Any, path: str) -> str:
    """The citation id of the field at ``path`` of a registry entry (``deployment.mtbf``)."""
    return str(spec.source_of(path))


def assumed_sources(sources: tuple[str, ...]) -> list[str]:
    """The citation ids among ``sources`` that mark assumptions."""
    return [s for s in sources if s.startswith(ASSUMED_PREFIX)]


@dataclass
class Evaluation:
    """Figures per domain, plus what the evaluation assumed and warned about."""

    figures: dict[str, dict[str, Figure]] = field(default_factory=lambda: {d: {} for d in DOMAINS})
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: per unit of the persona's scale, for the constraints: name -> Figure
    per_unit: dict[str, Figure] = field(default_factory=dict)
    fleet: dict[str, Any] = field(default_factory=dict)

    def put(self, section: str, key: str, fig: Figure) -> Figure:
        self.figures[section][key] = fig
        return fig

    def get(self, section: str, key: str) -> Figure:
        return self.figures[section][key]

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


def watts(w: float) -> str:
    """A power in the prefix that reads best: ``3.08 mW``, ``15.3 W``, ``31.9 MW``."""
    for scale, unit in ((1e6, "MW"), (1e3, "kW"), (1.0, "W"), (1e-3, "mW"), (1e-6, "µW")):
        if abs(w) >= scale:
            return fmt(w / scale, unit)
    return fmt(w, "W")


def value_text(fig: Figure) -> str:
    """``12.3 kWh`` (``3.08 mW`` for powers) or ``unknown``."""
    if fig.value is None:
        return "unknown"
    if fig.unit == "W":
        return watts(fig.value)
    return fmt(fig.value, fig.unit)
