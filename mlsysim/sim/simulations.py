"""The built-in simulations: all domains at once, or one domain each.

:class:`ResourceSimulation` fills every section of the ledger; the others fill one, for a
chapter (or a lab) about that domain alone. Each is a :class:`~mlsysim.sim.base.BaseSimulation`
with a ``domains`` tuple and nothing else: the evaluation is shared.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.exceptions import UnknownNameError
from mlsysim.sim.base import SIMULATIONS, BaseSimulation

__all__ = [
    "EconomicsSimulation",
    "PerformanceSimulation",
    "ReliabilitySimulation",
    "ResourceSimulation",
    "SustainabilitySimulation",
    "simulation",
]


class ResourceSimulation(BaseSimulation):
    """Every domain: performance, sustainability, economics and reliability."""

    name = "ResourceSimulation"


class PerformanceSimulation(BaseSimulation):
    """Latency, throughput and whether the latency objective is met."""

    name = "PerformanceSimulation"
    domains = ("performance",)


class SustainabilitySimulation(BaseSimulation):
    """Energy, operational and embodied carbon, and water."""

    name = "SustainabilitySimulation"
    domains = ("sustainability",)


class ReliabilitySimulation(BaseSimulation):
    """MTBF, availability and failures per year."""

    name = "ReliabilitySimulation"
    domains = ("reliability",)


class EconomicsSimulation(BaseSimulation):
    """Capex, opex, TCO and cost per inference."""

    name = "EconomicsSimulation"
    domains = ("economics",)


def simulation(name: str, application: Any, persona: Any) -> BaseSimulation:
    """The simulation called ``name`` (a built-in one or a registered lab) for the pair."""
    cls = SIMULATIONS.get(name)
    if cls is None:
        raise UnknownNameError("simulation", name, SIMULATIONS)
    return cls(application, persona)
