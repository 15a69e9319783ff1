"""The distributed solver's result: a step over many devices, with its versioned JSON form.

Floats in root units inside (seconds, bytes, FLOP), Quantities on access: ``r.step_time``
(s for training, ms for inference), ``r.throughput`` (tokens/s), ``r.memory.total`` (GB per
device), ``r.communication.tp`` (exposed ms per step). A step that does not fit in a device's
memory is infeasible: its binding wall is ``memory_capacity`` and reading a time raises
:class:`~mlsysim.core.exceptions.InfeasibleError`; its JSON form carries ``null`` instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, make_dataclass
from typing import Any

from mlsysim.core.exceptions import InfeasibleError
from mlsysim.core.formulas.performance import peak_fraction
from mlsysim.solvers.quantities import GB, MS, json_quantity, quantity
from mlsysim.solvers.single_node.schemas import DISTRIBUTED_SCHEMA_VERSION, distributed_json_schema
from mlsysim.solvers.single_node.step_parts import CollectiveTiming, Communication, DeviceMemory

__all__ = [
    "DISTRIBUTED_SCHEMA_VERSION",
    "CollectiveTiming",
    "Communication",
    "DeviceMemory",
    "DistributedResult",
    "distributed_json_schema",
    "new_distributed_result",
    "utilization",
]


def utilization(tokens: Any, step_s: Any, flops: Any, devices: Any, peak: Any) -> Any:
    """The fraction of ``devices`` × ``peak`` FLOP/s that ``flops`` per step of ``tokens``
    tokens in ``step_s`` seconds reach (MFU or HFU; element-wise on arrays)."""
    rate = tokens / step_s
    per_token = flops / tokens
    return peak_fraction(rate, per_token, devices * peak)


@dataclass(frozen=True, slots=True)
class DistributedResult:
    """One step of a workload over several devices (see the module doc).

    ``step_time`` is one optimizer step (training) or one batch step (inference: the whole
    batch's prompts for prefill, one token per sequence for decode); ``latency`` is the step
    for training and one request's time through every pipeline stage for inference.
    ``*_bound`` use the ideal roofline per operation and hide all communication.
    """

    model: str
    system: str
    hardware: str
    phase: str
    devices: int
    nodes: int
    batch: int
    seq_len: int
    precision: str
    weights_precision: str
    tp: int
    pp: int
    dp: int
    cp: int
    ep: int
    sp: bool
    zero: int
    microbatch: int
    schedule: str
    chunks: int
    microbatches: int
    feasible: bool
    binding_wall: str
    step_time_s: float
    step_time_bound_s: float
    latency_s: float
    latency_bound_s: float
    tokens_per_step: float
    model_flops_per_step: float  # MFU's numerator (PaLM/Korthikanti counting), all devices
    hardware_flops_per_step: float  # HFU's: model FLOPs plus recomputation
    flops_per_step: float  # executed (causal attention halved, element-wise kernels)
    peak_flops_per_s: float
    power_w: float | None  # average per device (utilisation power model); None: no TDP
    bubble_fraction: float
    compute_s: float
    memory_s: float
    overhead_s: float
    bubble_s: float
    optimizer_s: float
    memory: DeviceMemory
    communication: Communication
    collectives: tuple[CollectiveTiming, ...]
    notes: tuple[str, ...] = ()
    engine: str = ""  # the execution engine each rank ran under
    model_spec: Any = field(default=None, repr=False, compare=False)

    # -- guarded time-like fields --------------------------------------------------------
    def _require_feasible(self, what: str) -> None:
        if self.feasible:
            return
        m = self.memory
        raise InfeasibleError(
            f"{self.model} does not fit on {self.hardware} under tp={self.tp}, pp={self.pp}, "
            f"dp={self.dp}, so it has no {what}",
            where=f"solve(phase={self.phase!r}, devices={self.devices}, batch={self.batch})",
            why=(
                f"each device needs {m.total_bytes * GB:.2f} GB (weights "
                f"{m.weights_bytes * GB:.2f}, gradients {m.gradients_bytes * GB:.2f}, "
                f"optimizer {m.optimizer_bytes * GB:.2f}, activations "
                f"{m.activations_bytes * GB:.2f}, KV cache {m.kv_cache_bytes * GB:.2f} GB) "
                f"but holds {m.capacity_bytes * GB:.2f} GB"
            ),
            fix="raise tp or pp, shard state with zero=1..3, recompute activations "
            "(recompute='full'), lower the microbatch, or use devices with more memory",
        )

    @property
    def _scale(self) -> tuple[float, str]:
        return (1.0, "s") if self.phase == "training" else (MS, "ms")

    @property
    def step_time(self) -> Any:
        """Achievable time of one step (s for training, ms for inference)."""
        self._require_feasible("step time")
        k, unit = self._scale
        return quantity(self.step_time_s, k, unit)

    @property
    def step_time_bound(self) -> Any:
        """Ideal step time: roofline at peak per operation, communication hidden."""
        self._require_feasible("step time bound")
        k, unit = self._scale
        return quantity(self.step_time_bound_s, k, unit)

    @property
    def latency(self) -> Any:
        """Training: the step time; inference: one request through every stage (ms)."""
        self._require_feasible("latency")
        k, unit = self._scale
        return quantity(self.latency_s, k, unit)

    @property
    def latency_bound(self) -> Any:
        self._require_feasible("latency bound")
        k, unit = self._scale
        return quantity(self.latency_bound_s, k, unit)

    @property
    def throughput(self) -> Any:
        """Tokens per second over all devices at the achievable step time."""
        self._require_feasible("throughput")
        return quantity(self.tokens_per_step / self.step_time_s, 1.0, "token/s")

    @property
    def throughput_bound(self) -> Any:
        self._require_feasible("throughput bound")
        return quantity(self.tokens_per_step / self.step_time_bound_s, 1.0, "token/s")

    @property
    def units_per_step(self) -> float:
        """Tokens completed per step (as
        :class:`~mlsysim.solvers.single_node.results.SolveResult`)."""
        return self.tokens_per_step

    @property
    def unit(self) -> str:
        return "token"

    @property
    def power(self) -> Any:
        """Average power of one device during the step (W)."""
        self._require_feasible("power")
        if self.power_w is None:
            from mlsysim.core.exceptions import MlsysimError

            raise MlsysimError(
                f"{self.hardware} has no power: its registry entry gives no TDP",
                where="DistributedResult",
                fix=f"add tdp = '… W' (with a source) to the {self.hardware} registry entry",
            )
        return quantity(self.power_w, 1.0, "W")

    def _utilization(self, flops: float) -> float:
        return utilization(
            self.tokens_per_step, self.step_time_s, flops, self.devices, self.peak_flops_per_s
        )

    @property
    def mfu(self) -> float:
        """Model FLOPs utilisation over all devices (:func:`~mlsysim.core.formulas.mfu`:
        PaLM's model FLOPs per token, recomputation excluded)."""
        self._require_feasible("MFU")
        return self._utilization(self.model_flops_per_step)

    @property
    def hfu(self) -> float:
        """Hardware FLOPs utilisation over all devices (:func:`~mlsysim.core.formulas.hfu`:
        model FLOPs plus the recomputed forward work)."""
        self._require_feasible("HFU")
        return self._utilization(self.hardware_flops_per_step)

    @property
    def explanation(self) -> str:
        """Why the binding wall binds, in words and numbers."""
        from mlsysim.solvers.distributed.explain import why

        return why(self)

    def explain(self) -> str:
        """The step's derivation, line by line, with the sources of each number."""
        from mlsysim.solvers.distributed.explain import explain

        return explain(self)

    def __str__(self) -> str:
        head = (
            f"{self.model} on {self.devices}× {self.hardware} ({self.system}), {self.phase}, "
            f"tp={self.tp} pp={self.pp} dp={self.dp}"
            + (f" cp={self.cp}" if self.cp > 1 else "")
            + (f" ep={self.ep}" if self.ep > 1 else "")
        )
        if not self.feasible:
            return f"{head}: infeasible ({self.binding_wall})"
        k, unit = self._scale
        return (
            f"{head}: step {self.step_time_s * k:.4g} {unit}, "
            f"{self.tokens_per_step / self.step_time_s:.4g} tokens/s, MFU {self.mfu * 100:.3g} %, "
            f"binding wall {self.binding_wall}"
        )

    # -- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (see
        :func:`~mlsysim.solvers.distributed.results.distributed_json_schema`)."""
        ok = self.feasible
        k, unit = self._scale
        return {
            "schema": DISTRIBUTED_SCHEMA_VERSION,
            "schema_version": DISTRIBUTED_SCHEMA_VERSION,
            "model": self.model,
            "system": self.system,
            "hardware": self.hardware,
            "phase": self.phase,
            "devices": self.devices,
            "nodes": self.nodes,
            "batch": self.batch,
            "seq_len": self.seq_len,
            "precision": self.precision,
            "weights_precision": self.weights_precision,
            "engine": self.engine,
            "parallel": {
                "tp": self.tp,
                "pp": self.pp,
                "dp": self.dp,
                "cp": self.cp,
                "ep": self.ep,
                "sp": self.sp,
                "zero": self.zero,
                "microbatch": self.microbatch,
                "microbatches": self.microbatches,
                "schedule": self.schedule,
                "chunks": self.chunks,
            },
            "feasible": ok,
            "binding_wall": self.binding_wall,
            "step_time": json_quantity(self.step_time_s if ok else None, k, unit),
            "step_time_bound": json_quantity(self.step_time_bound_s if ok else None, k, unit),
            "latency": json_quantity(self.latency_s if ok else None, k, unit),
            "throughput": json_quantity(
                self.tokens_per_step / self.step_time_s if ok else None, 1.0, "tokens/s"
            ),
            "mfu": self.mfu if ok else None,
            "hfu": self.hfu if ok else None,
            "power": json_quantity(self.power_w if ok else None, 1.0, "W"),
            "bubble_fraction": self.bubble_fraction,
            "time_split": {
                "compute": json_quantity(self.compute_s, k, unit),
                "memory": json_quantity(self.memory_s, k, unit),
                "overhead": json_quantity(self.overhead_s, k, unit),
                "communication": json_quantity(self.communication.total_s, k, unit),
                "bubble": json_quantity(self.bubble_s, k, unit),
                "optimizer": json_quantity(self.optimizer_s, k, unit),
            },
            "memory": self.memory.to_dict(),
            "communication": self.communication.to_dict(),
            "collectives": [c.to_dict() for c in self.collectives],
            "notes": list(self.notes),
            "explanation": self.explanation,
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), **kwargs)


#: A mutable twin of :class:`DistributedResult`, as :mod:`mlsysim.solvers.single_node.results` has
#: one of ``SolveResult``: the same fields in the same slots, filled by plain slot stores. The
#: frozen dataclass's ``__init__`` sets each of its 45 fields through ``object.__setattr__`` from
#: keywords; :func:`new_distributed_result` fills the twin from positions and re-types it, so the
#: solver hands out a true, frozen DistributedResult for a fraction of that.
_Filling = make_dataclass(
    "_Filling",
    [(f.name, f.type) for f in fields(DistributedResult)],
    slots=True,
    eq=False,
    repr=False,
)


def new_distributed_result(*values: Any) -> DistributedResult:
    """A :class:`DistributedResult` of ``values``, given in the order of its fields (all of
    them: a missing or extra one is a TypeError, as the class's own constructor's)."""
    r = _Filling(*values)
    r.__class__ = DistributedResult
    return r
