"""Searches over configurations: each optimizer calls a solver and keeps the best result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mlsysim.core import arguments
from mlsysim.core.exceptions import InfeasibleError, MlsysimError
from mlsysim.solvers.base import BaseOptimizer
from mlsysim.solvers.single_node.results import SolveResult
from mlsysim.solvers.single_node.solver import SingleNodeSolver

__all__ = ["BatchSearch", "MaxBatchOptimizer"]


@dataclass(frozen=True, slots=True)
class BatchSearch:
    """Outcome of :class:`MaxBatchOptimizer`: the best result and every batch tried."""

    best: SolveResult | None
    tried: tuple[tuple[int, bool, float], ...]  # (batch, feasible and within SLO, throughput)


class MaxBatchOptimizer(BaseOptimizer):
    """The batch size with the highest throughput that fits in memory and meets a latency SLO.

    Tries powers of two up to ``max_batch`` (the memory-capacity and latency walls make
    throughput monotone in batch until one of them binds, so a doubling search suffices).
    """

    name = "max_batch"
    default_solver = SingleNodeSolver
    walls = ("memory_capacity", "batching", "serving")

    def optimize(
        self,
        model: Any,
        hardware: Any,
        *,
        phase: str,
        latency_slo: Any = None,
        max_batch: int = 4096,
        batches: Iterable[int] | None = None,
        **solve_kwargs: Any,
    ) -> BatchSearch:
        """Search batch sizes; ``latency_slo`` is a time (``"15 ms"`` or a Quantity)."""
        slo = (
            None
            if latency_slo is None
            else arguments.quantity(
                latency_slo,
                "time",
                "latency_slo",
                "MaxBatchOptimizer",
                example="15 ms",
                positive=True,
            )
        )
        candidates = list(batches) if batches is not None else _doublings(max_batch)
        best: SolveResult | None = None
        tried = []
        for b in candidates:
            try:
                r = self.solver.solve(model, hardware, phase=phase, batch=b, **solve_kwargs)
            except (InfeasibleError, MlsysimError) as exc:
                if isinstance(exc, InfeasibleError):
                    tried.append((b, False, 0.0))
                    break
                raise
            ok = r.feasible and (slo is None or r.latency_s <= slo)
            tput = r.units_per_step / r.latency_s
            tried.append((b, ok, tput))
            if ok and (best is None or tput > best.units_per_step / best.latency_s):
                best = r
            if not r.feasible:
                break
        return BatchSearch(best, tuple(tried))


def _doublings(limit: int) -> list[int]:
    out, b = [], 1
    while b <= limit:
        out.append(b)
        b *= 2
    return out
