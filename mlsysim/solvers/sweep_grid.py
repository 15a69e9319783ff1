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
(:func:`~mlsysim.solvers.api.route`, :meth:`~mlsysim.solvers.single_node.SingleNodeSolver.
prepare`), then its batch × sequence points run through the sweep kernel
(:mod:`mlsysim.solvers.sweep_kernel`: the solver's own lowering and formulas on arrays) in
chunks of ``chunk`` points, so memory stays constant. Groups on several devices (a node,
a cluster, ``tp=…``) of a chunk run together through
:mod:`mlsysim.solvers.distributed_sweep`: the distributed solver's checks, its rank
lowering once per shard × micro-batch × sequence (shared across ZeRO stages, dp, batches
and a dense model's pipeline depths), its collective pricing once per part, and its step
composition (:func:`~mlsysim.solvers.distributed_step.compose_step`) on numpy arrays over
every configuration; when every structure is distributed, the structures a chunk holds
whole run as one block (no Python per structure), the chunk's edges one by one. Every
point equals ``solve()`` at that point (``tests/test_sweep.py`` and
``tests/test_sweep_distributed.py`` check it, property-based).

Memory: :func:`sweep` keeps only the result columns asked for (``columns=``, default all);
:func:`sweep_chunks` yields one :class:`~mlsysim.solvers.sweep_result.Sweep` per chunk and
keeps nothing. Scale-out: pass ``batch`` or ``seq_len`` as a dask array and the same kernel
builds a dask graph (the array API: numpy and dask alike); the result holds dask columns
until ``.compute()``, which runs on whatever dask scheduler is active — threads, processes,
or a ``distributed`` cluster. Use it when a grid's columns exceed one machine's memory or a
cluster is at hand; a numpy sweep is faster below ~10⁸ points on one machine.
"""

from __future__ import annotations

import gc
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from mlsysim.core.cache import held
from mlsysim.core.exceptions import ConfigError, FormulaDomainError, MlsysimError
from mlsysim.hardware.registry import HardwareSpec
from mlsysim.solvers import arguments
from mlsysim.solvers.api import route, solve
from mlsysim.solvers.distributed import solve_distributed
from mlsysim.solvers.distributed_sweep import Fallback, Segment, evaluate, evaluate_block
from mlsysim.solvers.single_node import SingleNodeSolver
from mlsysim.solvers.sweep_kernel import SINGLE_COLUMNS, WALLS, time_single
from mlsysim.solvers.sweep_result import Sweep
from mlsysim.workload.lowering import model_facts

__all__ = ["DEFAULT_CHUNK", "sweep", "sweep_chunks"]

#: Points evaluated per kernel call: large enough to amortize the per-op overhead, small
#: enough that a chunk's temporaries stay in cache-sized megabytes.
DEFAULT_CHUNK = 1 << 16

_ONE = SingleNodeSolver()
#: Columns only a distributed result has (float fields of DistributedResult, and counts).
_DISTRIBUTED_ONLY = (
    "step_time_s",
    "step_time_bound_s",
    "tokens_per_step",
    "model_flops_per_step",
    "hardware_flops_per_step",
    "flops_per_step",
    "bubble_fraction",
    "bubble_s",
    "optimizer_s",
    "devices",
    "nodes",
    "dp",
    "microbatches",
)
#: The keywords whose values decide how ``solve`` routes a structure (with the degrees).
_ROUTING = ("model", "system", "hardware", "plan", "recompute")
_INT_COLUMNS = frozenset({"devices", "nodes", "dp", "microbatches"})
_MEMORY = {
    "weights_bytes": "weights_bytes",
    "kv_cache_bytes": "kv_cache_bytes",
    "activations_bytes": "activations_bytes",
    "gradients_bytes": "gradients_bytes",
    "optimizer_bytes": "optimizer_bytes",
    "memory_bytes": "total_bytes",
    "capacity_bytes": "capacity_bytes",
}


def sweep(
    model: Any = None,
    system: Any = None,
    *,
    columns: Sequence[str] | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int, int], None] | None = None,
    **axes: Any,
) -> Sweep:
    """Solve every point of the grid of ``axes`` (see the module doc) and return its columns.

    ``columns`` keeps only those result columns (the inputs are always kept); ``progress`` is
    called as ``progress(done, total)`` after each chunk.
    """
    grid = _Grid(model, system, axes, chunk)
    names = grid.names(columns)
    if grid.lazy:
        return grid.lazy_sweep(names)
    out = grid.allocate(names, grid.size)
    for lo in range(0, grid.size, grid.chunk):
        hi = min(lo + grid.chunk, grid.size)
        grid.fill(lo, hi, out, lo)
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
    **axes: Any,
) -> Iterator[Sweep]:
    """The sweep as consecutive chunks of at most ``chunk`` points (``.offset`` says where
    each starts): constant memory however large the grid."""
    grid = _Grid(model, system, axes, chunk)
    names = grid.names(columns)
    if grid.lazy:
        raise ConfigError(
            "sweep_chunks runs numpy chunks: dask inputs are already chunked",
            where="sweep_chunks",
            fix="call mlsysim.sweep(...) with the dask arrays, then .compute()",
        )
    return _chunks(grid, names, progress)


def _chunks(
    grid: _Grid, names: list[str], progress: Callable[[int, int], None] | None
) -> Iterator[Sweep]:
    for lo in range(0, grid.size, grid.chunk):
        hi = min(lo + grid.chunk, grid.size)
        out = grid.allocate(names, hi - lo)
        grid.fill(lo, hi, out, 0)
        if progress is not None:
            progress(hi, grid.size)
        yield Sweep(out, grid.labels, hi - lo, lo)


def _is_dask(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "dask"


def _axis(name: str, value: Any) -> tuple[Any, ...] | Any:
    """An axis's values: a tuple (or the array itself for an array axis)."""
    if isinstance(value, list | tuple | range):
        values = tuple(value)
    elif _is_dask(value) or type(value).__module__.split(".")[0] == "numpy":
        if getattr(value, "ndim", 0) == 0:
            return (value.item() if hasattr(value, "item") else value,)
        if value.ndim != 1:
            raise ConfigError(
                f"sweep axis {name} must be one-dimensional, got shape {value.shape}",
                where="sweep",
                fix=f"pass {name} as a 1-D array or a list",
            )
        values = value
    elif isinstance(value, set | frozenset | dict):
        raise ConfigError(
            f"sweep axis {name} is a {type(value).__name__}: its order is not defined",
            where="sweep",
            fix=f"pass {name} as a list, e.g. {name}=sorted(...)",
        )
    else:
        return (value,)
    if len(values) == 0:
        raise ConfigError(
            f"sweep axis {name} is empty",
            where="sweep",
            fix=f"pass at least one value of {name}",
        )
    return values


def _counts(name: str, values: Any, minimum: int) -> Any:
    """An integer axis (batch, seq_len) as an int64 array, every value checked."""
    import numpy as np

    if _is_dask(values):
        if values.dtype.kind not in "iu":
            raise ConfigError(
                f"sweep axis {name} must hold whole numbers, got dtype {values.dtype}",
                where="sweep",
                fix=f"pass {name} as an integer array, e.g. dask.array.arange(1, 65)",
            )
        low = int(values.min())
        if low < minimum:
            _check_count(name, low, minimum)
        return values
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "iu":
            raise ConfigError(
                f"sweep axis {name} must hold whole numbers, got dtype {values.dtype}",
                where="sweep",
                fix=f"pass {name} as integers, e.g. numpy.arange(1, 65)",
            )
        arr = values.astype(np.int64)
    elif all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        arr = np.fromiter(values, dtype=np.int64, count=len(values))  # ints, numpy's too
    else:  # "8 sample", "2048 token": the solver's own parsing and errors
        arr = np.array([_check_count(name, v, minimum) for v in values], dtype=np.int64)
    if len(arr) and int(arr.min()) < minimum:
        _check_count(name, int(arr.min()), minimum)
    return arr


def _check_count(name: str, value: Any, minimum: int) -> int:
    if name == "batch":
        return arguments.batch(value, "sweep")
    return arguments.seq_len(value, minimum, "sweep")


class _Group:
    """One structure of the grid, routed and checked once."""

    __slots__ = ("facts", "keywords", "prepared", "routed", "single")

    def __init__(self, keywords: dict[str, Any], single: bool, routed: dict[str, Any]) -> None:
        self.keywords = keywords
        self.single = single
        self.routed = routed
        self.prepared: Any = None
        self.facts: Any = None
        if self.single:
            routed.pop("strict", None)
            self.prepared = _ONE.prepare(**routed)
            self.facts = model_facts(self.prepared.spec)


class _Grid:
    """The axes, their Cartesian product, and how to fill columns for a range of points."""

    def __init__(self, model: Any, system: Any, axes: dict[str, Any], chunk: int) -> None:
        import numpy as np

        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise ConfigError(
                f"chunk must be a whole number of points ≥ 1, got {chunk!r}",
                where="sweep",
                fix=f"pass e.g. chunk={DEFAULT_CHUNK}",
            )
        self.chunk = chunk
        if "phase" not in axes:
            raise ConfigError(
                "sweep needs a phase (as solve does)",
                where="sweep",
                fix="pass phase='decode' (or 'prefill', 'training', 'inference', or a list)",
            )
        given: dict[str, Any] = {}
        if model is not None or "model" not in axes:
            given["model"] = model
        if system is not None or ("system" not in axes and "hardware" not in axes):
            given["system"] = system
        given.update(axes)
        batch = given.pop("batch", 1)
        seq = given.pop("seq_len", None)
        self.outer: list[tuple[str, Any]] = [(n, _axis(n, v)) for n, v in given.items()]
        for name, values in self.outer:
            if _is_dask(values):
                raise ConfigError(
                    f"sweep axis {name} is a dask array: only batch and seq_len may be",
                    where="sweep",
                    fix=f"pass {name} as a list of values",
                )
        batch_values = _axis("batch", batch)
        seq_values = _axis("seq_len", seq)
        self.lazy = _is_dask(batch_values) or _is_dask(seq_values)
        self.batch = _counts("batch", batch_values, 1)
        self.seq = None if seq is None else _counts("seq_len", seq_values, 0)
        self.nb = len(self.batch)
        self.ns = 1 if self.seq is None else len(self.seq)
        self.lens = [len(v) for _, v in self.outer]
        self.groups = math.prod(self.lens)
        # (name, values, length, stride) of each outer axis, row-major: keywords(g)'s digits
        stride = self.groups
        self._strides: list[tuple[str, Any, int, int]] = []
        for (name, values), n in zip(self.outer, self.lens, strict=True):
            stride = stride // n if n else 0
            self._strides.append((name, values, n, stride))
        self.group_size = self.nb * self.ns
        self.size = self.groups * self.group_size
        self._last: tuple[int, _Group] | None = None
        self._routes: dict[tuple[int, ...], dict[str, Any]] = {}
        self._b0 = int(self.batch.min())
        self._s0 = None if self.seq is None else int(self.seq.min())
        self._kinds()
        # every structure distributed and none strict: whole structures run as one block
        self._blocks = not self.has_single and all(n != "strict" for n, _ in self.outer)
        self.labels: dict[str, tuple[Any, ...]] = {"binding_wall": WALLS}
        self._codes: dict[str, Any] = {}
        for name, values in self.outer:
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                self._codes[name] = np.asarray(values)
            elif all(isinstance(v, bool) for v in values):
                self._codes[name] = np.asarray(values, dtype=bool)
            else:
                self.labels[name] = tuple(_label(v) for v in values)

    def _kinds(self) -> None:
        """Which solvers the grid needs (each structure routed as ``solve`` routes it), and
        whether any model has no sequence (its seq_len column is then float, NaN there)."""
        if self._all_distributed():
            models = dict(self.outer).get("model", (None,))
            self.has_single, self.has_distributed = False, True
            self.seqless = any(
                model_facts(arguments.model(m)).kind != "transformer" for m in models
            )
            return
        single = distributed = seqless = False
        for g in range(self.groups):
            one, routed = self._route(self.keywords(g), None)
            seqless = seqless or model_facts(routed["model"]).kind != "transformer"
            single, distributed = single or one, distributed or not one
            if single and distributed and seqless:
                break
        self.has_single, self.has_distributed, self.seqless = single, distributed, seqless

    def _all_distributed(self) -> bool:
        """Whether every structure routes to the distributed solver because its system is a
        node or a cluster (each combination of the routing axes routed once)."""
        first = self.keywords(0)
        routing = [(n, v) for n, v in self.outer if n in _ROUTING]
        combos: list[dict[str, Any]] = [{}]
        for name, values in routing:
            combos = [{**c, name: v} for c in combos for v in values]
        for combo in combos:
            self._route({**first, **combo}, None)
        return len(self._routes) == len({tuple(id(c.get(n, first.get(n))) for n in _ROUTING)
                                         for c in combos})  # fmt: skip

    def _route(self, kw: dict[str, Any], s: int | None) -> tuple[bool, dict[str, Any]]:
        """``route(**kw)`` as ``solve`` routes it. A node or cluster routes every structure
        to the distributed solver whatever its degrees, with ``solve``'s keywords passed
        through: structures sharing the model, system, plan and recompute are routed once."""
        get = kw.get
        # the ids of _ROUTING's keywords, in order
        key = (
            id(get("model")),
            id(get("system")),
            id(get("hardware")),
            id(get("plan")),
            id(get("recompute")),
        )
        proto = self._routes.get(key)
        if proto is not None:  # the routed keywords replace the routing ones
            routed = {**kw, **proto, "batch": self._b0, "seq_len": s}
            if "hardware" in kw:
                del routed["hardware"]
            return False, routed
        one, routed = route(**kw, batch=self._b0, seq_len=s)
        system = routed.get("system")
        if not one and system is not None and not isinstance(system, HardwareSpec):
            self._routes[key] = {n: routed[n] for n in ("model", "system", "plan", "recompute")}
        return one, routed

    def keywords(self, g: int) -> dict[str, Any]:
        """The solve keywords of structure ``g`` (row-major over the outer axes)."""
        return {name: values[g // stride % n] for name, values, n, stride in self._strides}

    def _index(self, g: int) -> list[int]:
        out = []
        for n in reversed(self.lens):
            g, i = divmod(g, n)
            out.append(i)
        return out[::-1]

    def names(self, wanted: Sequence[str] | None) -> list[str]:
        """The columns: inputs, then the results asked for (all by default)."""
        inputs = [n for n, _ in self.outer] + ["batch", "seq_len"]
        results: list[str] = []
        if self.has_single:
            results += SINGLE_COLUMNS
        if self.has_distributed:
            shared = ("latency_s", "latency_bound_s", "compute_s", "memory_s", "overhead_s")
            results += [c for c in (*shared, "peak_flops_per_s", "power_w") if c not in results]
            results += [c for c in (*_MEMORY, "throughput", "mfu", "hfu") if c not in results]
            results += _DISTRIBUTED_ONLY
        results += ["feasible", "binding_wall"]
        if wanted is None:
            return inputs + results
        if isinstance(wanted, str):
            wanted = [wanted]
        unknown = [c for c in wanted if c not in results and c not in inputs]
        if unknown:
            raise ConfigError(
                f"the sweep has no column {unknown[0]!r}",
                where="sweep(columns=…)",
                fix=f"choose among: {', '.join(results)}",
            )
        return inputs + [c for c in results if c in wanted]

    def allocate(self, names: list[str], n: int) -> dict[str, Any]:
        import numpy as np

        return {name: np.empty(n, dtype=self._dtype(name)) for name in names}

    def _group(self, g: int) -> _Group:
        if self._last is not None and self._last[0] == g:
            return self._last[1]
        kw = self.keywords(g)
        grp = _Group(kw, *self._route(kw, self._s0))
        if grp.single and self.seq is not None and grp.facts.kind == "transformer":
            s_max = int(self.seq.max())
            limit = grp.facts.max_seq_len
            if s_max > limit:  # the lowering's error (solve raises it), naming the model
                raise FormulaDomainError(
                    f"seq_len {s_max} exceeds {grp.prepared.spec.id}'s maximum context of "
                    f"{limit} tokens",
                    where="sweep",
                    why="solve() refuses a sequence longer than the model's context",
                    fix=f"sweep seq_len ≤ {limit} for {grp.prepared.spec.id}, or sweep models "
                    "with shorter contexts separately",
                )
        self._last = (g, grp)
        return grp

    def fill(self, lo: int, hi: int, out: dict[str, Any], at: int) -> None:
        """Write points ``lo…hi`` of the grid into ``out[...][at:]``: one evaluation, so the
        registry generation is checked once (:func:`~mlsysim.core.cache.held`), and the
        cycle collector waits for its end (what it allocates is a chunk's short-lived
        tuples, freed by reference counting; the collector's passes over them cost about
        5 % of a fresh cluster sweep)."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            with held():
                self._fill(lo, hi, out, at)
        finally:
            if enabled:
                gc.enable()

    def _fill(self, lo: int, hi: int, out: dict[str, Any], at: int) -> None:
        import numpy as np

        gs = self.group_size
        n = hi - lo
        point = np.arange(lo, hi)
        structure = point // gs
        stride = self.groups
        for (name, _), size in zip(self.outer, self.lens, strict=True):
            stride //= size
            if name in out:
                i = structure // stride % size
                out[name][at : at + n] = i if name in self.labels else self._codes[name][i]
        j = point % gs
        batch = self.batch[j // self.ns]
        seq = None if self.seq is None else self.seq[j % self.ns]
        out["batch"][at : at + n] = batch
        first, last = lo // gs, (hi - 1) // gs + 1
        whole = (-(-lo // gs), hi // gs)  # the structures the chunk holds whole
        if self._blocks and whole[1] > whole[0]:
            try:
                self._block(whole, out, at + whole[0] * gs - lo)
            except (Fallback, MlsysimError):
                pass  # one by one: solve's first error, in point order
            else:
                self._segments(lo, hi, out, at, batch, seq, range(first, whole[0]))
                self._segments(lo, hi, out, at, batch, seq, range(whole[1], last))
                return
        self._segments(lo, hi, out, at, batch, seq, range(first, last))

    def _block(self, whole: tuple[int, int], out: dict[str, Any], at: int) -> None:
        """Whole distributed structures at once (:func:`evaluate_block`)."""
        import numpy as np

        point = np.arange(self.group_size)
        batch = self.batch[point // self.ns]
        seq = None if self.seq is None else self.seq[point % self.ns]
        axes = [(name, n, stride) for name, _, n, stride in self._strides]
        evaluate_block(self._routed, axes, *whole, batch, seq, out, at)

    def _routed(self, g: int) -> dict[str, Any]:
        return self._route(self.keywords(g), self._s0)[1]

    def _segments(
        self, lo: int, hi: int, out: dict[str, Any], at: int, batch: Any, seq: Any, gs_: range
    ) -> None:
        """Structures ``gs_`` (the points of each inside ``lo … hi``) one by one."""
        gs = self.group_size
        segments: list[Segment] = []
        for g in gs_:
            a, z = max(lo, g * gs) - lo, min(hi, (g + 1) * gs) - lo
            dst = slice(at + a, at + z)
            grp = self._group(g)
            b = batch[a:z]
            s = None if seq is None else seq[a:z]
            if grp.single:
                self._single(grp, b, s, out, dst)
            else:
                segments.append(Segment(grp.routed, b, s, dst))
        if segments:
            for seg, k in evaluate(segments, out):  # strict: solve's error for the point
                s_k = None if seg.seq_len is None else int(seg.seq_len[k])
                solve_distributed(**{**seg.keywords, "batch": int(seg.batch[k]), "seq_len": s_k})

    def _single(self, grp: _Group, b: Any, s: Any, out: dict[str, Any], dst: slice) -> None:
        p = grp.prepared
        assert p is not None
        seq = p.seq_len if s is None or p.seq_len is None else s
        out["seq_len"][dst] = float("nan") if seq is None else seq
        res = time_single(p.spec, p.hw, p.phase, p.rp, b, 0 if seq is None else seq)
        for name, col in out.items():
            if name in res:
                col[dst] = res[name]
            elif name in _DISTRIBUTED_ONLY:  # one device: one node, replica, micro-batch
                col[dst] = 1 if name in _INT_COLUMNS else float("nan")
        if grp.keywords.get("strict") and not bool(_all(res["feasible"])):
            import numpy as np

            k = int(np.argmin(np.broadcast_to(res["feasible"], b.shape)))
            solve(**grp.keywords, batch=int(b[k]), seq_len=None if s is None else int(s[k]))

    def lazy_sweep(self, names: list[str]) -> Sweep:
        """The sweep over dask axes: one dask array per column (see :meth:`Sweep.compute`).

        Each structure's batch × seq_len grid keeps the chunks of the dask axes; every chunk is
        one task that runs the kernel on that block's numpy arrays (the kernel is written
        against the array API, so it would take the dask arrays themselves, but one task per
        block keeps the graph small: a few tasks per chunk instead of a few hundred)."""
        import dask.array as da

        b2 = da.asarray(self.batch)[:, None]
        s2 = da.asarray(self.seq if self.seq is not None else self.batch[:1] * 0)[None, :]
        B, S = da.broadcast_arrays(b2, s2)
        results = [n for n in names if n not in self._inputs()]
        parts: dict[str, list[Any]] = {n: [] for n in names}
        for g in range(self.groups):
            grp = self._group(g)
            if not grp.single:
                raise ConfigError(
                    "a sweep over dask arrays runs the one-device kernel; "
                    f"{grp.keywords} is a distributed configuration",
                    where="sweep",
                    fix="pass numpy arrays or lists for grids with nodes, clusters or tp/pp",
                )
            p = grp.prepared
            assert p is not None
            given = self.seq is not None and p.seq_len is not None
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
                else da.zeros_like(cols["batch"])
                + (float("nan") if p.seq_len is None else p.seq_len)
            )
            cols["seq_len"] = seq if self.seqless else seq.astype("int64")
            for (name, _), i in zip(self.outer, self._index(g), strict=True):
                code = i if name in self.labels else self._codes[name][i].item()
                cols[name] = da.full_like(cols["batch"], code, dtype=self._dtype(name))
            for name in names:
                col = cols[name]
                if name in results:
                    col = col.astype(self._dtype(name))
                parts[name].append(col)
        columns = {n: da.concatenate(v) if len(v) > 1 else v[0] for n, v in parts.items()}
        return Sweep(columns, self.labels, self.size)

    def _inputs(self) -> set[str]:
        return {n for n, _ in self.outer} | {"batch", "seq_len"}

    def _dtype(self, name: str) -> Any:
        import numpy as np

        if name in self.labels:
            return np.int8 if name == "binding_wall" else np.int32
        if name in self._codes:
            return self._codes[name].dtype
        if name == "feasible":
            return np.dtype(bool)
        if name == "batch" or name in _INT_COLUMNS:
            return np.int64
        if name == "seq_len":
            return np.float64 if self.seqless else np.int64
        return np.float64


def _block(b: Any, s: Any, p: Any, given: bool, names: tuple[str, ...]) -> Any:
    """One block of a lazy sweep: the kernel on numpy arrays, columns stacked (float64)."""
    import numpy as np

    seq = s if given else p.seq_len
    res = time_single(p.spec, p.hw, p.phase, p.rp, b, seq)
    out = np.empty((len(names), *b.shape), dtype=np.float64)
    for k, name in enumerate(names):
        out[k] = 1.0 if name in _INT_COLUMNS else res.get(name, np.nan)
    return out


def _all(x: Any) -> Any:
    return x.all() if hasattr(x, "all") else x


def _label(v: Any) -> Any:
    ident = getattr(v, "id", None)
    return ident if isinstance(ident, str) else v if isinstance(v, str) or v is None else str(v)
