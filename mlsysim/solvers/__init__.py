"""Solvers: analytical models that evaluate a configuration, and optimizers that search.

One package per kind of solve, each importing only the parts listed below it:

* ``optimize/`` — searches over configurations: each optimizer calls a solver and ranks what it
  returns (a new search is one module here, a ``BaseOptimizer`` returning a ``Search``);
* ``run/`` — training runs and serving fleets: many steps or many devices over a duration
  (failures and checkpoints, energy, carbon, water, money, each figure with its derivation);
* ``serving/`` — generation and serving: one batch from prompt to last token (``generate``) and
  continuous batching at a request rate (``serve``), composed from solves;
* ``sweeps/`` — sweeps: ``solve`` over every point of a grid, vectorized (one-device structures
  on arrays by the kernel, distributed ones by the distributed solver's own steps);
* ``api`` — ``solve``: one entry point for one device and many (routes to ``single_node/`` or
  ``distributed/``);
* ``distributed/`` — the distributed solver: one workload over a node or a cluster (its plans,
  per-rank timing and collectives, the step's composition, its result);
* ``single_node/`` — the single-node solver: one workload on one device (the roofline per
  lowered operation that every solver times with, the result, its tables and JSON Schemas, why a
  wall binds);
* ``arguments`` — the argument checks every solver shares;
* ``base`` — ``BaseSolver``, ``BaseOptimizer`` (the extension points) and the solver registry;
* ``quantities`` — root-unit floats as Quantities and as JSON, shared by every result.

A new solver is one module in the package of its kind (a new kind: a new package, placed in the
order of the layers contract in pyproject.toml); :func:`solver_classes` imports every solver
module and returns the classes by ``name`` (the ids walls refer to).
"""

from __future__ import annotations

from mlsysim.core.lazy import lazy_dir, lazy_getattr

__all__ = [
    "BaseOptimizer",
    "BaseSolver",
    "DistributedResult",
    "DistributedSolver",
    "GenerateSolver",
    "MaxBatchOptimizer",
    "ParallelismOptimizer",
    "PlacementOptimizer",
    "Prepared",
    "Search",
    "ServingOptimizer",
    "ServingSolver",
    "SingleNodeSolver",
    "SolveResult",
    "Sweep",
    "generate",
    "optimize_parallelism",
    "optimize_placement",
    "optimize_serving",
    "pareto",
    "serve",
    "serving_fleet",
    "solve",
    "solver_classes",
    "sweep",
    "sweep_chunks",
    "training_run",
]

_LAZY: dict[str, tuple[str, str]] = {
    "BaseOptimizer": ("mlsysim.solvers.base", "BaseOptimizer"),
    "BaseSolver": ("mlsysim.solvers.base", "BaseSolver"),
    "DistributedResult": ("mlsysim.solvers.distributed.results", "DistributedResult"),
    "DistributedSolver": ("mlsysim.solvers.distributed.solver", "DistributedSolver"),
    "MaxBatchOptimizer": ("mlsysim.solvers.optimize.batch", "MaxBatchOptimizer"),
    "ParallelismOptimizer": ("mlsysim.solvers.optimize.parallel", "ParallelismOptimizer"),
    "ServingOptimizer": ("mlsysim.solvers.optimize.serving", "ServingOptimizer"),
    "PlacementOptimizer": ("mlsysim.solvers.optimize.placement", "PlacementOptimizer"),
    "Search": ("mlsysim.solvers.optimize.result", "Search"),
    "optimize_parallelism": ("mlsysim.solvers.optimize.parallel", "optimize_parallelism"),
    "optimize_serving": ("mlsysim.solvers.optimize.serving", "optimize_serving"),
    "optimize_placement": ("mlsysim.solvers.optimize.placement", "optimize_placement"),
    "pareto": ("mlsysim.solvers.optimize.pareto", "pareto"),
    "SingleNodeSolver": ("mlsysim.solvers.single_node.solver", "SingleNodeSolver"),
    "Prepared": ("mlsysim.solvers.single_node.solver", "Prepared"),
    "GenerateSolver": ("mlsysim.solvers.serving.generation", "GenerateSolver"),
    "ServingSolver": ("mlsysim.solvers.serving.serve", "ServingSolver"),
    "generate": ("mlsysim.solvers.serving.generation", "generate"),
    "serve": ("mlsysim.solvers.serving.serve", "serve"),
    "SolveResult": ("mlsysim.solvers.single_node.results", "SolveResult"),
    "solve": ("mlsysim.solvers.api", "solve"),
    "Sweep": ("mlsysim.solvers.sweeps.result", "Sweep"),
    "sweep": ("mlsysim.solvers.sweeps.grid", "sweep"),
    "sweep_chunks": ("mlsysim.solvers.sweeps.grid", "sweep_chunks"),
    "training_run": ("mlsysim.solvers.run.training", "training_run"),
    "serving_fleet": ("mlsysim.solvers.run.fleet", "serving_fleet"),
}

__getattr__ = lazy_getattr("mlsysim.solvers", _LAZY, globals())
__dir__ = lazy_dir(_LAZY, globals())


def solver_classes() -> dict[str, type]:
    """Every solver class by its ``name`` (``{"single_node": SingleNodeSolver, …}``)."""
    import mlsysim.solvers.distributed.solver
    import mlsysim.solvers.run.fleet
    import mlsysim.solvers.run.training
    import mlsysim.solvers.serving.generation
    import mlsysim.solvers.serving.serve
    import mlsysim.solvers.single_node.solver  # noqa: F401  (each solver module registers its class)
    from mlsysim.solvers.base import SOLVERS

    return dict(SOLVERS)
