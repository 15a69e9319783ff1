"""A sweep over dask arrays (``batch`` or ``seq_len`` given as one): one dask array per
column, each chunk one task running the sweep kernel (:mod:`mlsysim.solvers.sweeps.grid`
says when to use it)."""

from __future__ import annotations

from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.solvers.sweeps.kernel import time_single
from mlsysim.solvers.sweeps.result import Sweep
from mlsysim.solvers.sweeps.space import INT_COLUMNS, Grid

__all__ = ["lazy_sweep"]


def lazy_sweep(grid: Grid, names: list[str]) -> Sweep:
    """The sweep over dask axes: one dask array per column (see :meth:`Sweep.compute`).

    Each structure's batch × seq_len grid keeps the chunks of the dask axes; every chunk is
    one task that runs the kernel on that block's numpy arrays (the kernel is written
    against the array API, so it would take the dask arrays themselves, but one task per
    block keeps the graph small: a few tasks per chunk instead of a few hundred)."""
    import dask.array as da

    b2 = da.asarray(grid.batch)[:, None]
    s2 = da.asarray(grid.seq if grid.seq is not None else grid.batch[:1] * 0)[None, :]
    B, S = da.broadcast_arrays(b2, s2)
    results = [n for n in names if n not in grid.inputs()]
    parts: dict[str, list[Any]] = {n: [] for n in names}
    for g in range(grid.groups):
        grp = grid.group(g)
        if not grp.single:
            raise ConfigError(
                "a sweep over dask arrays runs the one-device kernel; "
                f"{grp.keywords} is a distributed configuration",
                where="sweep",
                fix="pass numpy arrays or lists for grids with nodes, clusters or tp/pp",
            )
        p = grp.prepared
        assert p is not None
        given = grid.seq is not None and p.seq_len is not None
        stacked = da.map_blocks(
            _block,
            B,
            S,
            p if given else p._replace(seq_len=p.seq_len or 0),
            given,
            tuple(results),
            new_axis=0,
            chunks=((len(results),), *B.chunks),
            dtype="float64",
        )
        flat = [da.reshape(stacked[k], (-1,)) for k in range(len(results))]
        cols = dict(zip(results, flat, strict=True))
        cols["batch"] = da.reshape(B, (-1,))
        seq = (
            da.reshape(S, (-1,))
            if given
            else da.zeros_like(cols["batch"]) + (float("nan") if p.seq_len is None else p.seq_len)
        )
        cols["seq_len"] = seq if grid.seqless else seq.astype("int64")
        for (name, _), i in zip(grid.outer, grid.index(g), strict=True):
            code = i if name in grid.labels else grid.codes[name][i].item()
            cols[name] = da.full_like(cols["batch"], code, dtype=grid.dtype(name))
        for name in names:
            col = cols[name]
            if name in results:
                col = col.astype(grid.dtype(name))
            parts[name].append(col)
    columns = {n: da.concatenate(v) if len(v) > 1 else v[0] for n, v in parts.items()}
    return Sweep(columns, grid.labels, grid.size)


def _block(b: Any, s: Any, p: Any, given: bool, names: tuple[str, ...]) -> Any:
    """One block of a lazy sweep: the kernel on numpy arrays, columns stacked (float64)."""
    import numpy as np

    seq = s if given else p.seq_len
    res = time_single(p.spec, p.hw, p.phase, p.rp, b, seq)
    out = np.empty((len(names), *b.shape), dtype=np.float64)
    for k, name in enumerate(names):
        out[k] = 1.0 if name in INT_COLUMNS else res.get(name, np.nan)
    return out
