"""Solvers: analytical models that evaluate a configuration, and optimizers that search.

* :mod:`.base` — :class:`BaseSolver`, :class:`BaseOptimizer` (the extension points);
* :mod:`.single_node` — one workload on one device (roofline per lowered operation);
* :mod:`.results`, :mod:`.explainers` — the result objects and why a wall binds;
* :mod:`.optimizers` — searches over configurations.

Distributed, serving and run/fleet solvers live beside these, one module each, and
:func:`arguments` holds the argument checks they share. :func:`solver_classes` imports every
solver module and returns the classes by ``name`` (the ids walls refer to).
"""

from __future__ import annotations

from mlsysim.core.lazy import lazy_getattr

__all__ = [
    "BaseOptimizer",
    "BaseSolver",
    "MaxBatchOptimizer",
    "SingleNodeSolver",
    "SolveResult",
    "solve",
    "solver_classes",
]

_LAZY: dict[str, tuple[str, str]] = {
    "BaseOptimizer": ("mlsysim.solvers.base", "BaseOptimizer"),
    "BaseSolver": ("mlsysim.solvers.base", "BaseSolver"),
    "MaxBatchOptimizer": ("mlsysim.solvers.optimizers", "MaxBatchOptimizer"),
    "SingleNodeSolver": ("mlsysim.solvers.single_node", "SingleNodeSolver"),
    "SolveResult": ("mlsysim.solvers.results", "SolveResult"),
    "solve": ("mlsysim.solvers.single_node", "solve"),
}

__getattr__ = lazy_getattr("mlsysim.solvers", _LAZY, globals())


def solver_classes() -> dict[str, type]:
    """Every solver class by its ``name`` (``{"single_node": SingleNodeSolver, …}``)."""
    import mlsysim.solvers.single_node  # noqa: F401  (each solver module registers its class)
    from mlsysim.solvers.base import SOLVERS

    return dict(SOLVERS)
