"""``mlsysim.sweep(**axes)``: ``solve()`` over every point of a grid, vectorized.

Every keyword of :func:`mlsysim.solve` takes a scalar or a list/array (an *axis*); the grid
is their Cartesian product, in the order the axes are given, with ``batch`` and then
``seq_len`` innermost (fastest-varying)::

    s = mlsysim.sweep("Llama2_7B", ["A100", "H100"], phase="decode",
                      batch=range(1, 257), seq_len=[512, 2048, 8192])
    len(s)                     # 2 × 256 × 3 = 1536 points
    s["latency_s"], s["feasible"], s["binding_wall"], s["batch"], s["hardware"]

How it runs. The grid is grouped by the axes that change the step's structure (model,
system, phase, precision, plan options, parallel layout — everything but ``batch`` and
``seq_len``). A one-device group is routed and checked once, exactly as ``solve()`` does
(:func:`~mlsysim.solvers.api.route`, :meth:`~mlsysim.solvers.single_node.solver.SingleNodeSolver.
prepare`), then its batch × sequence points run through the sweep kernel
(:mod:`mlsysim.solvers.sweeps.kernel`: the solver's own lowering and formulas on arrays) in
chunks of ``chunk`` points, so memory stays constant. Groups on several devices (a node,
a cluster, ``tp=…``) of a chunk run together through
:mod:`mlsysim.solvers.sweeps.distributed`: the distributed solver's checks, its rank
lowering once per shard × micro-batch × sequence (shared across ZeRO stages, dp, batches
and a dense model's pipeline depths), its collective pricing once per part, and its step
composition (:func:`~mlsysim.solvers.distributed.step.compose_step`) on numpy arrays over
every configuration; when every structure is distributed, the structures a chunk holds
whole run as one block (no Python per structure), the chunk's edges one by one. Every
point equals ``solve()`` at that point (``tests/test_sweep.py`` and
``tests/test_sweep_distributed.py`` check it, property-based).

Memory: :func:`sweep` keeps only the result columns asked for (``columns=``, default all);
:func:`sweep_chunks` yields one :class:`~mlsysim.solvers.sweeps.result.Sweep` per chunk and
keeps nothing. Scale-out: pass ``batch`` or ``seq_len`` as a dask array and the same kernel
builds a dask graph (the array API: numpy and dask alike); the result holds dask columns
until ``.compute()``, which runs on whatever dask scheduler is active — threads, processes,
or a ``distributed`` cluster. Use it when a grid's columns exceed one machine's memory or a
cluster is at hand; a numpy sweep is faster below ~10⁸ points on one machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.solvers.sweeps.fill import fill
from mlsysim.solvers.sweeps.lazy import lazy_sweep
from mlsysim.solvers.sweeps.result import Sweep
from mlsysim.solvers.sweeps.space import DEFAULT_CHUNK, Grid

__all__ = ["DEFAULT_CHUNK", "sweep", "sweep_chunks"]


def sweep(
    model: Any = None,
    system: Any = None,
    *,
    columns: Sequence[str] | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int, int], None] | None = None,
    invalid: str = "raise",
    **axes: Any,
) -> Sweep:
    """Solve every point of the grid of ``axes`` (see the module doc) and return its columns.

    ``columns`` keeps only those result columns (the inputs are always kept); ``progress`` is
    called as ``progress(done, total)`` after each chunk. ``invalid`` says what happens at a
    point ``solve()`` refuses: ``"raise"`` its error, ``"mark"`` a ``refused`` column saying
    why, the point's results NaN (``mlsysim.solvers.sweeps.refused``).
    """
    grid = Grid(model, system, axes, chunk, invalid)
    names = grid.names(columns)
    if grid.lazy:
        _numpy_only(grid)
        return lazy_sweep(grid, names)
    out = grid.allocate(names, grid.size)
    for lo in range(0, grid.size, grid.chunk):
        hi = min(lo + grid.chunk, grid.size)
        fill(grid, lo, hi, out, lo)
        if progress is not None:
            progress(hi, grid.size)
    return Sweep(out, grid.labels, grid.size)


def sweep_chunks(
    model: Any = None,
    system: Any = None,
    *,
    columns: Sequence[str] | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int, int], None] | None = None,
    invalid: str = "raise",
    **axes: Any,
) -> Iterator[Sweep]:
    """The sweep as consecutive chunks of at most ``chunk`` points (``.offset`` says where
    each starts): constant memory however large the grid. ``invalid`` as in :func:`sweep`
    (a chunk's ``refused`` labels are the reasons met up to it)."""
    grid = Grid(model, system, axes, chunk, invalid)
    names = grid.names(columns)
    if grid.lazy:
        raise ConfigError(
            "sweep_chunks runs numpy chunks: dask inputs are already chunked",
            where="sweep_chunks",
            fix="call mlsysim.sweep(...) with the dask arrays, then .compute()",
        )
    return _chunks(grid, names, progress)


def _chunks(
    grid: Grid, names: list[str], progress: Callable[[int, int], None] | None
) -> Iterator[Sweep]:
    for lo in range(0, grid.size, grid.chunk):
        hi = min(lo + grid.chunk, grid.size)
        out = grid.allocate(names, hi - lo)
        fill(grid, lo, hi, out, 0)
        if progress is not None:
            progress(hi, grid.size)
        yield Sweep(out, dict(grid.labels), hi - lo, lo)


def _numpy_only(grid: Grid) -> None:
    if grid.refusals is not None:
        raise ConfigError(
            "invalid='mark' runs numpy chunks: a dask sweep raises at a refused point",
            where="sweep(invalid=…)",
            why="the reasons of a dask sweep's refused points would be known only once it "
            "is computed",
            fix="pass batch and seq_len as numpy arrays or lists with invalid='mark', or "
            "drop invalid='mark'",
        )
