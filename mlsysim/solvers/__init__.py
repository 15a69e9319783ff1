"""Solvers: analytical models that evaluate a configuration, and optimizers that search.

* ``base`` — :class:`BaseSolver`, :class:`BaseOptimizer` (the extension points);
* ``api`` — ``solve``: one device or many;
* ``single_node`` — one workload on one device (roofline per lowered operation);
* ``distributed`` — one workload over a node or a cluster (per-rank lowering,
  collectives on the topology, the pipeline schedule);
* ``results``, ``explainers``, ``distributed_results``,
  ``distributed_explain`` — the result objects and why a wall binds;
* ``optimizers`` and the modules beside it — searches over configurations:
  ``optimizers_parallel`` (``optimize_parallelism``), ``optimizers_serving``
  (``optimize_serving``), ``optimizers_placement`` (``optimize_placement``),
  ``optimizers_pareto`` (``pareto``), with ``optimizers_result`` (what they return)
  and ``optimizers_bound`` (branch and bound);
* ``sweep_grid`` — ``sweep``/``sweep_chunks``: ``solve`` over a grid (its axes in
  ``sweep_axes``, its structures in ``sweep_space``, a chunk filled by ``sweep_fill``, dask
  inputs in ``sweep_lazy``), vectorized by ``sweep_kernel`` (the single-node steps on arrays),
  returning a ``Sweep`` of columns (``sweep_result``).

* ``run``, ``fleet`` — training runs and serving fleets (with ``footprint``,
  ``ledger``, ``run_result``, ``run_explain``);
* ``generation``, ``serving`` — one batch from prompt to last token (``generate``)
  and continuous batching at a request rate (``serve``), composed from solves by
  ``steps`` (with ``generation_result``, ``serving_result``, ``serving_schemas``,
  ``serving_explain``);
* ``arguments`` — the argument checks every solver shares.

A new solver is one module beside these; :func:`solver_classes` imports every solver module
and returns the classes by ``name`` (the ids walls refer to).
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
    "DistributedResult": ("mlsysim.solvers.distributed_results", "DistributedResult"),
    "DistributedSolver": ("mlsysim.solvers.distributed", "DistributedSolver"),
    "MaxBatchOptimizer": ("mlsysim.solvers.optimizers", "MaxBatchOptimizer"),
    "ParallelismOptimizer": ("mlsysim.solvers.optimizers_parallel", "ParallelismOptimizer"),
    "ServingOptimizer": ("mlsysim.solvers.optimizers_serving", "ServingOptimizer"),
    "PlacementOptimizer": ("mlsysim.solvers.optimizers_placement", "PlacementOptimizer"),
    "Search": ("mlsysim.solvers.optimizers_result", "Search"),
    "optimize_parallelism": ("mlsysim.solvers.optimizers_parallel", "optimize_parallelism"),
    "optimize_serving": ("mlsysim.solvers.optimizers_serving", "optimize_serving"),
    "optimize_placement": ("mlsysim.solvers.optimizers_placement", "optimize_placement"),
    "pareto": ("mlsysim.solvers.optimizers_pareto", "pareto"),
    "SingleNodeSolver": ("mlsysim.solvers.single_node", "SingleNodeSolver"),
    "Prepared": ("mlsysim.solvers.single_node", "Prepared"),
    "GenerateSolver": ("mlsysim.solvers.generation", "GenerateSolver"),
    "ServingSolver": ("mlsysim.solvers.serving", "ServingSolver"),
    "generate": ("mlsysim.solvers.generation", "generate"),
    "serve": ("mlsysim.solvers.serving", "serve"),
    "SolveResult": ("mlsysim.solvers.results", "SolveResult"),
    "solve": ("mlsysim.solvers.api", "solve"),
    "Sweep": ("mlsysim.solvers.sweep_result", "Sweep"),
    "sweep": ("mlsysim.solvers.sweep_grid", "sweep"),
    "sweep_chunks": ("mlsysim.solvers.sweep_grid", "sweep_chunks"),
    "training_run": ("mlsysim.solvers.run", "training_run"),
    "serving_fleet": ("mlsysim.solvers.fleet", "serving_fleet"),
}

__getattr__ = lazy_getattr("mlsysim.solvers", _LAZY, globals())
__dir__ = lazy_dir(_LAZY, globals())


def solver_classes() -> dict[str, type]:
    """Every solver class by its ``name`` (``{"single_node": SingleNodeSolver, …}``)."""
    import mlsysim.solvers.distributed
    import mlsysim.solvers.fleet
    import mlsysim.solvers.generation
    import mlsysim.solvers.run
    import mlsysim.solvers.serving
    import mlsysim.solvers.single_node  # noqa: F401  (each solver module registers its class)
    from mlsysim.solvers.base import SOLVERS

    return dict(SOLVERS)
