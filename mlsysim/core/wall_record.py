"""One wall of ML systems as a record: its question, formulas, sources and deciding solvers.

A :class:`Wall` names the question it answers, the formulas that evaluate it (names in
:data:`mlsysim.core.formulas.FORMULAS`), the literature it rests on (citation ids in
``core/data/literature.toml``) and the solvers that decide whether it binds: ``solvers`` are
ids of solver classes (their ``name``, e.g. ``"single_node"`` for
:class:`mlsysim.solvers.single_node.solver.SingleNodeSolver`; ``solver`` is the first), empty when
the wall is *formula-only* — its formulas evaluate it, but no solver reports it. The taxonomy
of the 22 walls is :data:`mlsysim.core.walls.WALLS`; import :class:`Wall` from there too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Wall"]


@dataclass(frozen=True)
class Wall:
    """One wall: a limit of ML systems and how mlsysim evaluates it.

    ``formulas`` are names in :data:`mlsysim.core.formulas.FORMULAS`, ``sources`` citation ids
    in ``core/data/literature.toml``, ``solvers`` the ids of the solver classes that decide
    whether the wall binds (their ``name``, e.g. ``"single_node"`` for
    :class:`mlsysim.solvers.single_node.solver.SingleNodeSolver`), empty when the wall is
    *formula-only*: its formulas evaluate it, but no solver reports it.
    """

    id: str
    number: int
    name: str
    layer: str  # workload, execution, hardware, systems or infra
    question: str
    formulas: tuple[str, ...]
    sources: tuple[str, ...]
    solvers: tuple[str, ...]  # ids of the solvers that decide it; empty: formula-only

    @property
    def solver(self) -> str | None:
        """The first deciding solver's id, or None for a formula-only wall."""
        return self.solvers[0] if self.solvers else None

    @property
    def formula_only(self) -> bool:
        """True when no solver decides the wall (only its formulas evaluate it)."""
        return not self.solvers

    @property
    def decided_by(self) -> str:
        """``"solver"`` or ``"formulas"``."""
        return "formulas" if self.formula_only else "solver"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (tuples as lists); ``solver`` is null for a formula-only wall."""
        d = asdict(self)
        d["formulas"] = list(self.formulas)
        d["sources"] = list(self.sources)
        d["solvers"] = list(self.solvers)
        d["solver"] = self.solver
        d["decided_by"] = self.decided_by
        return d
