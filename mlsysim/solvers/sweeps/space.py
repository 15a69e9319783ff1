"""A sweep's grid: its axes, their Cartesian product of *structures* (every axis but
``batch`` and ``seq_len``) each routed as ``solve()`` routes it, and its columns
(:mod:`mlsysim.solvers.sweeps.grid` says what a grid is and how it runs;
:mod:`mlsysim.solvers.sweeps.fill` fills its columns)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mlsysim.core.exceptions import ConfigError, FormulaDomainError
from mlsysim.hardware.registry import HardwareSpec
from mlsysim.solvers import arguments
from mlsysim.solvers.api import route
from mlsysim.solvers.single_node.solver import SingleNodeSolver
from mlsysim.solvers.sweeps.axes import axis_values, counts, is_dask, label
from mlsysim.solvers.sweeps.kernel import SINGLE_COLUMNS, WALLS
from mlsysim.solvers.sweeps.refused import REFUSALS, REFUSED, Refusals, check_invalid
from mlsysim.workload.lowering import model_facts

__all__ = ["DEFAULT_CHUNK", "DISTRIBUTED_ONLY", "INT_COLUMNS", "Grid", "Structure"]

#: Points evaluated per kernel call: large enough to amortize the per-op overhead, small
#: enough that a chunk's temporaries stay in cache-sized megabytes.
DEFAULT_CHUNK = 1 << 16

_ONE = SingleNodeSolver()
#: Columns only a distributed result has (float fields of DistributedResult, and counts).
DISTRIBUTED_ONLY = (
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
INT_COLUMNS = frozenset({"devices", "nodes", "dp", "microbatches"})
_MEMORY = {
    "weights_bytes": "weights_bytes",
    "kv_cache_bytes": "kv_cache_bytes",
    "activations_bytes": "activations_bytes",
    "gradients_bytes": "gradients_bytes",
    "optimizer_bytes": "optimizer_bytes",
    "memory_bytes": "total_bytes",
    "capacity_bytes": "capacity_bytes",
}


class Structure:
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


class Grid:
    """The axes, their Cartesian product, and how to fill columns for a range of points."""

    def __init__(
        self, model: Any, system: Any, axes: dict[str, Any], chunk: int, invalid: str = "raise"
    ) -> None:
        import numpy as np

        marks = check_invalid(invalid)
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
        self.outer: list[tuple[str, Any]] = [(n, axis_values(n, v)) for n, v in given.items()]
        #: the refused points' reasons when ``invalid="mark"`` (:mod:`.refused`), else None
        self.refusals = Refusals(self.inputs(), INT_COLUMNS, len(WALLS)) if marks else None
        for name, values in self.outer:
            if is_dask(values):
                raise ConfigError(
                    f"sweep axis {name} is a dask array: only batch and seq_len may be",
                    where="sweep",
                    fix=f"pass {name} as a list of values",
                )
        batch_values = axis_values("batch", batch)
        seq_values = axis_values("seq_len", seq)
        self.lazy = is_dask(batch_values) or is_dask(seq_values)
        self.batch = counts("batch", batch_values, 1)
        self.seq = None if seq is None else counts("seq_len", seq_values, 0)
        self.nb = len(self.batch)
        self.ns = 1 if self.seq is None else len(self.seq)
        self.lens = [len(v) for _, v in self.outer]
        self.groups = math.prod(self.lens)
        # (name, values, length, stride) of each outer axis, row-major: keywords(g)'s digits
        stride = self.groups
        self.strides: list[tuple[str, Any, int, int]] = []
        for (name, values), n in zip(self.outer, self.lens, strict=True):
            stride = stride // n if n else 0
            self.strides.append((name, values, n, stride))
        self.group_size = self.nb * self.ns
        self.size = self.groups * self.group_size
        self._last: tuple[int, Structure] | None = None
        self._routes: dict[tuple[int, ...], dict[str, Any]] = {}
        self._b0 = int(self.batch.min())
        self._s0 = None if self.seq is None else int(self.seq.min())
        self._kinds()
        # every structure distributed and none strict: whole structures run as one block
        self.blocks = not self.has_single and all(n != "strict" for n, _ in self.outer)
        self.labels: dict[str, tuple[Any, ...]] = {"binding_wall": WALLS}
        if self.refusals is not None:
            self.labels["binding_wall"] = (*WALLS, REFUSED)
            self.labels["refused"] = self.refusals.labels()
        self.codes: dict[str, Any] = {}
        for name, values in self.outer:
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                self.codes[name] = np.asarray(values)
            elif all(isinstance(v, bool) for v in values):
                self.codes[name] = np.asarray(values, dtype=bool)
            else:
                self.labels[name] = tuple(label(v) for v in values)

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
            try:
                one, routed = self._route(self.keywords(g), None)
            except REFUSALS:
                if self.refusals is None:
                    raise
                continue  # invalid="mark": the structure's points are refused when filled
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
            try:
                self._route({**first, **combo}, None)
            except REFUSALS:
                if self.refusals is None:
                    raise
                return False  # invalid="mark": route the structures one by one
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

    def routed(self, g: int) -> dict[str, Any]:
        """The routed ``solve`` keywords of structure ``g``."""
        return self._route(self.keywords(g), self._s0)[1]

    def keywords(self, g: int) -> dict[str, Any]:
        """The solve keywords of structure ``g`` (row-major over the outer axes)."""
        return {name: values[g // stride % n] for name, values, n, stride in self.strides}

    def index(self, g: int) -> list[int]:
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
            results += DISTRIBUTED_ONLY
        results += ["feasible", "binding_wall"]
        if self.refusals is not None:
            results.append("refused")
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

        return {name: np.empty(n, dtype=self.dtype(name)) for name in names}

    def group(self, g: int) -> Structure:
        if self._last is not None and self._last[0] == g:
            return self._last[1]
        kw = self.keywords(g)
        grp = Structure(kw, *self._route(kw, self._s0))
        marks = self.refusals is not None  # then the points past the context are marked
        if grp.single and self.seq is not None and grp.facts.kind == "transformer" and not marks:
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

    def inputs(self) -> set[str]:
        return {n for n, _ in self.outer} | {"batch", "seq_len"}

    def dtype(self, name: str) -> Any:
        import numpy as np

        if name in self.labels:
            return np.int8 if name == "binding_wall" else np.int32
        if name in self.codes:
            return self.codes[name].dtype
        if name == "feasible":
            return np.dtype(bool)
        if name == "batch" or name in INT_COLUMNS:
            return np.int64
        if name == "seq_len":
            return np.float64 if self.seqless else np.int64
        return np.float64
