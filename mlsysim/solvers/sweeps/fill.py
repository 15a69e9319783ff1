"""Filling a sweep's columns for a range of its points: one-device structures through the
sweep kernel, distributed ones through :mod:`mlsysim.solvers.sweeps.distributed` (whole
structures as one block, a chunk's edges one by one), as :mod:`mlsysim.solvers.sweeps.grid`
describes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlsysim.core.cache import held
from mlsysim.core.exceptions import MlsysimError
from mlsysim.solvers.api import solve
from mlsysim.solvers.distributed.solver import solve_distributed
from mlsysim.solvers.sweeps.distributed import Fallback, Segment, evaluate, evaluate_block
from mlsysim.solvers.sweeps.kernel import time_single
from mlsysim.solvers.sweeps.refused import REFUSALS
from mlsysim.solvers.sweeps.space import DISTRIBUTED_ONLY, INT_COLUMNS, Grid, Structure

__all__ = ["fill"]


def fill(grid: Grid, lo: int, hi: int, out: dict[str, Any], at: int) -> None:
    """Write points ``lo…hi`` of the grid into ``out[...][at:]``: one evaluation, so the
    registry generation is checked once (:func:`~mlsysim.core.cache.held`), with the cycle
    collector paused (:func:`_paused`)."""
    with _paused(), held():
        _fill(grid, lo, hi, out, at)
    if grid.refusals is not None:  # the reasons met so far, as the column's labels
        grid.labels["refused"] = grid.refusals.labels()


@contextmanager
def _paused() -> Iterator[None]:
    """The cycle collector paused for one evaluation, and what it kept moved to the oldest
    generation unexamined.

    What an evaluation allocates is a chunk's short-lived tuples, freed by reference
    counting (it makes no reference cycles: ``tests/test_sweep.py`` checks), and the
    derived caches' new entries, which live until the caches are emptied. Collecting
    during the evaluation would examine the first again and again; collecting after it
    would examine every new cache entry once, to find it alive (about 3 % of a fresh
    cluster sweep's instructions, and a full collection every few fresh sweeps as they
    reach the oldest generation). So the collector is disabled inside, the younger
    generations are collected on entry (the caller's objects keep their usual path to the
    oldest generation), and on exit ``gc.freeze()`` then ``gc.unfreeze()`` move what the
    evaluation kept to the oldest generation without a traversal (the objects stay
    tracked: a full collection still examines them). Where the caller has frozen objects
    itself (``gc.get_freeze_count()``), nothing is moved (unfreezing would release them):
    the collector only waits."""
    enabled = gc.isenabled()
    if not enabled:  # the caller's choice: leave the collector as it is
        yield
        return
    gc.collect(1)
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def _fill(grid: Grid, lo: int, hi: int, out: dict[str, Any], at: int) -> None:
    import numpy as np

    gs = grid.group_size
    n = hi - lo
    point = np.arange(lo, hi)
    structure = point // gs
    stride = grid.groups
    for (name, _), size in zip(grid.outer, grid.lens, strict=True):
        stride //= size
        if name in out:
            i = structure // stride % size
            out[name][at : at + n] = i if name in grid.labels else grid.codes[name][i]
    j = point % gs
    batch = grid.batch[j // grid.ns]
    seq = None if grid.seq is None else grid.seq[j % grid.ns]
    out["batch"][at : at + n] = batch
    if "refused" in out:  # invalid="mark": solved unless marked
        out["refused"][at : at + n] = 0
    first, last = lo // gs, (hi - 1) // gs + 1
    whole = (-(-lo // gs), hi // gs)  # the structures the chunk holds whole
    if grid.blocks and whole[1] > whole[0]:
        try:
            _block(grid, whole, out, at + whole[0] * gs - lo)
        except (Fallback, MlsysimError):
            pass  # one by one: solve's first error, in point order
        else:
            _segments(grid, lo, hi, out, at, batch, seq, range(first, whole[0]))
            _segments(grid, lo, hi, out, at, batch, seq, range(whole[1], last))
            return
    _segments(grid, lo, hi, out, at, batch, seq, range(first, last))


def _block(grid: Grid, whole: tuple[int, int], out: dict[str, Any], at: int) -> None:
    """Whole distributed structures at once (:func:`evaluate_block`)."""
    import numpy as np

    point = np.arange(grid.group_size)
    batch = grid.batch[point // grid.ns]
    seq = None if grid.seq is None else grid.seq[point % grid.ns]
    axes = [(name, n, stride) for name, _, n, stride in grid.strides]
    evaluate_block(grid.routed, axes, *whole, batch, seq, out, at)


def _segments(
    grid: Grid, lo: int, hi: int, out: dict[str, Any], at: int, batch: Any, seq: Any, gs_: range
) -> None:
    """Structures ``gs_`` (the points of each inside ``lo … hi``) one by one."""
    gs = grid.group_size
    segments: list[Segment] = []
    for g in gs_:
        a, z = max(lo, g * gs) - lo, min(hi, (g + 1) * gs) - lo
        dst = slice(at + a, at + z)
        b = batch[a:z]
        s = None if seq is None else seq[a:z]
        try:
            grp = grid.group(g)
        except REFUSALS as err:
            if grid.refusals is None:
                raise
            _refuse(grid, out, dst, err, s)
            continue
        if grp.single:
            _single(grid, grp, b, s, out, dst)
        else:
            segments.append(Segment(grp.routed, b, s, dst))
    if not segments:
        return
    if grid.refusals is not None:
        _marking(grid, segments, out)
        return
    for seg, k in evaluate(segments, out):  # strict: solve's error for the point
        _solve_point(seg, k)


def _solve_point(seg: Segment, k: int) -> None:
    """``solve()`` at point ``k`` of ``seg`` (to raise its error there)."""
    s_k = None if seg.seq_len is None else int(seg.seq_len[k])
    solve_distributed(**{**seg.keywords, "batch": int(seg.batch[k]), "seq_len": s_k})


def _marking(grid: Grid, segments: list[Segment], out: dict[str, Any]) -> None:
    """The segments with ``invalid="mark"``: together when every point solves, else in
    halves (of the segments, then of a segment's points) until each refusing point stands
    alone, so the points that solve still share their work (:mod:`.refused`)."""
    try:
        strict = evaluate(segments, out)
    except REFUSALS as err:
        one = segments[0]
        n = one.dst.stop - one.dst.start
        if len(segments) == 1 and n == 1:
            _refuse(grid, out, one.dst, err, None if one.seq_len is None else one.seq_len[0])
            return
        if len(segments) > 1:
            halves = [segments[: len(segments) // 2], segments[len(segments) // 2 :]]
        else:
            halves = [[_part(one, 0, n // 2)], [_part(one, n // 2, n)]]
        for half in halves:
            _marking(grid, half, out)
        return
    for seg, k in strict:
        try:
            _solve_point(seg, k)
        except REFUSALS as err:
            at = slice(seg.dst.start + k, seg.dst.start + k + 1)
            _refuse(grid, out, at, err, None if seg.seq_len is None else seg.seq_len[k])


def _part(seg: Segment, a: int, z: int) -> Segment:
    """Points ``a … z`` of ``seg``."""
    s = None if seg.seq_len is None else seg.seq_len[a:z]
    return Segment(seg.keywords, seg.batch[a:z], s, slice(seg.dst.start + a, seg.dst.start + z))


def _refuse(grid: Grid, out: dict[str, Any], at: Any, err: BaseException, seq: Any) -> None:
    """Points ``at`` refused by ``err`` (:meth:`~.refused.Refusals.mark`)."""
    assert grid.refusals is not None
    grid.refusals.mark(out, at, err, seq)


def _single(grid: Grid, grp: Structure, b: Any, s: Any, out: dict[str, Any], dst: slice) -> None:
    p = grp.prepared
    assert p is not None
    seq = p.seq_len if s is None or p.seq_len is None else s
    out["seq_len"][dst] = float("nan") if seq is None else seq
    try:
        res = time_single(p.spec, p.hw, p.phase, p.rp, b, 0 if seq is None else seq)
    except REFUSALS as err:  # the lowering's refusal of the whole structure
        if grid.refusals is None:
            raise
        _refuse(grid, out, dst, err, s)
        return
    for name, col in out.items():
        if name in res:
            col[dst] = res[name]
        elif name in DISTRIBUTED_ONLY:  # one device: one node, replica, micro-batch
            col[dst] = 1 if name in INT_COLUMNS else float("nan")
    if grid.refusals is not None:
        _refuse_single(grid, grp, b, s, out, dst, res)
    elif grp.keywords.get("strict") and not bool(_all(res["feasible"])):
        import numpy as np

        k = int(np.argmin(np.broadcast_to(res["feasible"], b.shape)))
        solve(**grp.keywords, batch=int(b[k]), seq_len=None if s is None else int(s[k]))


def _refuse_single(
    grid: Grid, grp: Structure, b: Any, s: Any, out: dict[str, Any], dst: slice, res: Any
) -> None:
    """A one-device structure's refused points with ``invalid="mark"``: those past the
    model's context, and with ``strict`` those that do not fit, each with ``solve()``'s
    error at the point."""
    import numpy as np

    n = dst.stop - dst.start
    long = np.zeros(n, dtype=bool)
    if s is not None and grp.facts.kind == "transformer":
        long = np.broadcast_to(s > grp.facts.max_seq_len, (n,))
    bad = long.copy()
    if grp.keywords.get("strict"):
        bad |= ~np.broadcast_to(res["feasible"], (n,))
    said: dict[int, Exception] = {}  # past the context: one error per sequence length
    for k in np.flatnonzero(bad):
        s_k = None if s is None else int(s[k])
        err = said.get(s_k) if long[k] and s_k is not None else None
        if err is None:
            try:
                solve(**grp.keywords, batch=int(b[k]), seq_len=s_k)
            except REFUSALS as exc:
                err = exc
                if long[k] and s_k is not None:
                    said[s_k] = exc
        if err is not None:
            at = dst.start + int(k)
            _refuse(grid, out, slice(at, at + 1), err, s_k)


def _all(x: Any) -> Any:
    return x.all() if hasattr(x, "all") else x
