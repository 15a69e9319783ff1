"""Base classes of every analytical model: solvers evaluate one configuration, optimizers search.

A new solver subclasses :class:`BaseSolver` (one module in this package, added to
:func:`mlsysim.solvers.solver_classes`); a new search subclasses :class:`BaseOptimizer`
(``mlsysim/solvers/optimize/`` hold the built-in ones). Each names the walls it decides
(ids of :mod:`mlsysim.core.walls`) and the citations its equations come from; a wall in turn
names the solver that decides it by the solver's ``name`` (walls never import solvers).
Subclassing registers a solver class under its ``name`` in :data:`SOLVERS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

__all__ = ["SOLVERS", "BaseModel", "BaseOptimizer", "BaseSolver"]

#: Every solver class by its ``name`` (filled as solver modules are imported).
SOLVERS: dict[str, type[BaseSolver]] = {}


class BaseModel(ABC):  # noqa: B024 - a marker base with class-level metadata
    """An analytical model of one part of an ML system.

    Subclasses name the walls they can report (ids of ``mlsysim.core.walls``) and the
    citation ids their equations come from, so explainers and docs can list them.
    """

    name: ClassVar[str] = ""
    walls: ClassVar[tuple[str, ...]] = ()
    sources: ClassVar[tuple[str, ...]] = ()


class BaseSolver(BaseModel):
    """A model that evaluates one configuration and returns a result with a binding wall."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            known = SOLVERS.get(cls.name)
            if known is not None and known.__qualname__ != cls.__qualname__:
                raise TypeError(f"solver name {cls.name!r} is taken by {known.__qualname__}")
            SOLVERS[cls.name] = cls

    @abstractmethod
    def solve(self, *args: Any, **kwargs: Any) -> Any:
        """Evaluate one configuration."""


class BaseOptimizer(BaseModel):
    """A search over configurations that calls a solver and keeps the best feasible one.

    The extension point of design-space search (``docs/architecture.md``, "Writing an
    optimizer"). A subclass sets ``name``, ``walls``, ``sources`` and ``default_solver`` and
    implements :meth:`optimize`, which by convention

    * generates only configurations the solver accepts, and cuts the space *by
      construction* — divisibility, symmetry, dominance, cheap exact bounds through the
      core formulas — never by sampling, counting what each rule cut;
    * evaluates candidates in batches through one method (``evaluate``), so a vectorized
      kernel can answer a batch at once;
    * returns a :class:`~mlsysim.solvers.optimize.result.Search`: the ranked feasible
      :class:`~mlsysim.solvers.optimize.result.Candidate` s (each with its keywords, its
      metrics in their units and its binding wall), the excluded ones with the reason (an
      objective the data cannot give is *unknown*, never 0), ``config``/``result`` of the
      winner and an ``explanation`` of what binds it and what the runner-up trades
      (:func:`~mlsysim.solvers.optimize.result.ranked_search` builds one from evaluated
      candidates; :func:`mlsysim.pareto` reads any ``Search``).

    Built-in: :class:`~mlsysim.solvers.optimize.batch.MaxBatchOptimizer`,
    :class:`~mlsysim.solvers.optimize.parallel.ParallelismOptimizer`,
    :class:`~mlsysim.solvers.optimize.serving.ServingOptimizer`,
    :class:`~mlsysim.solvers.optimize.placement.PlacementOptimizer`.
    """

    #: the solver used when none is passed (set by each subclass)
    default_solver: ClassVar[type[BaseSolver] | None] = None

    def __init__(self, solver: BaseSolver | None = None) -> None:
        if solver is None:
            if self.default_solver is None:
                raise TypeError(f"{type(self).__name__} needs a solver")
            solver = self.default_solver()
        self.solver = solver

    @abstractmethod
    def optimize(self, *args: Any, **kwargs: Any) -> Any:
        """Return the best result found (and how it was found)."""
