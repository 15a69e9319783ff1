"""Solvers: analytical models that evaluate a configuration, and optimizers that search.

* :mod:`.base` — :class:`BaseSolver`, :class:`BaseOptimizer` (the extension points);
* :mod:`.single_node` — one workload on one device (roofline per lowered operation);
* :mod:`.results`, :mod:`.explainers` — the result objects and why a wall binds;
* :mod:`.optimizers` — searches over configurations.

* :mod:`.run`, :mod:`.fleet` — training runs and serving fleets (with :mod:`.footprint`,
  :mod:`.ledger`, :mod:`.run_result`, :mod:`.run_explain`).

Distributed and serving solvers live beside these, one module each.
"""

from __future__ import annotations

from mlsysim.core.lazy import lazy_getattr

__all__ = [
    "BaseOptimizer",
    "BaseSolver",
    "MaxBatchOptimizer",
    "SingleNodeSolver",
    "SolveResult",
    "serving_fleet",
    "solve",
    "training_run",
]

_LAZY: dict[str, tuple[str, str]] = {
    "BaseOptimizer": ("mlsysim.solvers.base", "BaseOptimizer"),
    "BaseSolver": ("mlsysim.solvers.base", "BaseSolver"),
    "MaxBatchOptimizer": ("mlsysim.solvers.optimizers", "MaxBatchOptimizer"),
    "SingleNodeSolver": ("mlsysim.solvers.single_node", "SingleNodeSolver"),
    "SolveResult": ("mlsysim.solvers.results", "SolveResult"),
    "solve": ("mlsysim.solvers.single_node", "solve"),
    "training_run": ("mlsysim.solvers.run", "training_run"),
    "serving_fleet": ("mlsysim.solvers.fleet", "serving_fleet"),
}

__getattr__ = lazy_getattr("mlsysim.solvers", _LAZY, globals())
