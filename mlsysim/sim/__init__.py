"""The simulation layer: applications, personas, simulations and the ledger they fill in.

* ``registry`` — ``Applications`` and ``Personas``, sourced data (``sim/data/*.toml``);
* ``base`` — :class:`BaseSimulation`, the extension point (a new lab is one subclass);
* ``simulations`` — :class:`ResourceSimulation` (every domain) and one simulation per
  domain (performance, sustainability, reliability, economics);
* ``ledger`` — the :class:`Ledger` a simulation returns (figures with derivations; its
  sections and their units in ``sections``); ``devices`` and ``cloud`` evaluate an
  application (``device_accounts``: a device fleet's carbon, money and failures).

Simulations compose the solvers (``solve``, ``training_run``, ``serving_fleet``) and the
formulas; no equation lives here.

>>> import mlsysim
>>> from mlsysim.sim import ResourceSimulation
>>> sim = ResourceSimulation(mlsysim.Applications.Doorbell, mlsysim.sim.Personas.TinyPioneer)
>>> round(sim.evaluate(region="Quebec", duration_days=365).sustainability.energy_kwh)
271016
"""

from __future__ import annotations

from mlsysim.core.lazy import lazy_dir, lazy_getattr

__all__ = [
    "Applications",
    "BaseSimulation",
    "EconomicsSimulation",
    "Ledger",
    "NotApplicableError",
    "PerformanceSimulation",
    "Personas",
    "ReliabilitySimulation",
    "ResourceSimulation",
    "SustainabilitySimulation",
    "simulation",
]

_LAZY: dict[str, tuple[str, str]] = {
    "Applications": ("mlsysim.sim.registry", "Applications"),
    "Personas": ("mlsysim.sim.registry", "Personas"),
    "BaseSimulation": ("mlsysim.sim.base", "BaseSimulation"),
    "NotApplicableError": ("mlsysim.sim.base", "NotApplicableError"),
    "Ledger": ("mlsysim.sim.ledger", "Ledger"),
    "ResourceSimulation": ("mlsysim.sim.simulations", "ResourceSimulation"),
    "PerformanceSimulation": ("mlsysim.sim.simulations", "PerformanceSimulation"),
    "SustainabilitySimulation": ("mlsysim.sim.simulations", "SustainabilitySimulation"),
    "ReliabilitySimulation": ("mlsysim.sim.simulations", "ReliabilitySimulation"),
    "EconomicsSimulation": ("mlsysim.sim.simulations", "EconomicsSimulation"),
    "simulation": ("mlsysim.sim.simulations", "simulation"),
}

__getattr__ = lazy_getattr("mlsysim.sim", _LAZY, globals())

__dir__ = lazy_dir(_LAZY, globals())
