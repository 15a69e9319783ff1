"""The solver's result: frozen, JSON-serialisable, with Quantity fields for napkin math.

Numbers are stored as root-unit floats (seconds, bytes, FLOP, joules) so that a solve stays
cheap; the public attributes wrap them into Quantities on access (``result.latency`` is in
ms, ``result.memory.total`` in GB), so ``solve(Llama2_7B, A100, phase="decode").latency -> ms``
works in a napkin expression. :meth:`SolveResult.to_dict` gives the stable JSON form, versioned
by :data:`SCHEMA_VERSION` and described by :func:`~mlsysim.solvers.single_node.results.json_schema`.

A workload that does not fit in memory is *infeasible*: ``feasible`` is False, ``binding_wall``
is ``"memory_capacity"``, and reading a time (``latency``, ``throughput``, ``energy``, ``mfu``)
raises :class:`~mlsysim.core.exceptions.InfeasibleError` with the byte counts — never a silent
number. Its JSON form carries ``null`` for those fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, make_dataclass
from typing import Any

from mlsysim.core.exceptions import InfeasibleError, MlsysimError
from mlsysim.core.formulas.performance import peak_fraction
from mlsysim.core.formulas.roofline import intensity_FpB
from mlsysim.solvers.quantities import GB, GFLOP, MS, json_quantity, quantity
from mlsysim.solvers.single_node.schemas import SCHEMA_VERSION, json_schema
from mlsysim.solvers.single_node.step_parts import MemoryBreakdown, OpTiming

__all__ = [
    "SCHEMA_VERSION",
    "MemoryBreakdown",
    "OpTiming",
    "SolveResult",
    "json_schema",
    "new_result",
]


@dataclass(frozen=True, slots=True)
class SolveResult:
    """One single-device solve. Public attributes are Quantities; ``*_s``/``*_bytes`` are floats.

    ``latency`` is achievable (sourced efficiencies and kernel overheads); ``latency_bound`` is
    the ideal roofline (efficiency 1, no overhead). ``compute_s``/``memory_s``/``overhead_s``
    split the achievable latency by what limits each operation.

    ``flops_total`` is the work the device executes (causal attention halved, recomputation
    and element-wise kernels included); ``model_flops`` the step's model FLOPs as PaLM and
    Megatron-LM count them (the numerator of :attr:`mfu`; N is
    :func:`~mlsysim.core.formulas.flop_params`: no FLOPs for embedding lookups);
    ``hardware_flops`` model FLOPs plus recomputation (the numerator of :attr:`hfu`).

    ``engine`` is the execution engine the step ran under (chosen or the device's default);
    ``precision`` the GEMMs' math format, ``weights_precision`` the weights' storage format
    (``weight_bits`` per weight, group scales included), ``high_precision`` the format of
    norms, softmax, the embedding and the LM head, ``attention_precision`` attention's,
    ``kv_precision`` the KV cache's; ``notes`` says where the run differs from what was asked.
    """

    model: str
    hardware: str
    phase: str
    batch: int
    seq_len: int | None
    precision: str
    weights_precision: str
    kv_precision: str
    sparse: bool
    engine: str
    high_precision: str
    attention_precision: str
    weight_bits: float
    feasible: bool
    binding_wall: str
    latency_s: float
    latency_bound_s: float
    compute_s: float
    memory_s: float
    overhead_s: float
    units_per_step: float
    unit: str
    flops_total: float
    model_flops: float
    hardware_flops: float
    bytes_total: float
    peak_flops_per_s: float
    dense_peak_flops_per_s: float
    bandwidth_bytes_per_s: float
    power_w: float | None  # None: the registry gives no TDP for the device
    memory: MemoryBreakdown
    ops: tuple[OpTiming, ...]
    efficiencies: tuple[tuple[str, float, str], ...]  # (name, value, citation id)
    notes: tuple[str, ...] = ()
    model_spec: Any = field(default=None, repr=False, compare=False)
    hardware_spec: Any = field(default=None, repr=False, compare=False)

    # -- guarded time-like fields --------------------------------------------------------
    def _require_feasible(self, what: str) -> None:
        if not self.feasible:
            m = self.memory
            raise InfeasibleError(
                f"{self.model} does not fit on {self.hardware}, so it has no {what}",
                where=f"solve(phase={self.phase!r}, batch={self.batch}, seq_len={self.seq_len})",
                why=(
                    f"it needs {m.total_bytes * GB:.2f} GB (weights {m.weights_bytes * GB:.2f}"
                    f" GB, KV cache {m.kv_cache_bytes * GB:.2f} GB, activations "
                    f"{m.activations_bytes * GB:.2f} GB, gradients "
                    f"{m.gradients_bytes * GB:.2f} GB, optimizer "
                    f"{m.optimizer_bytes * GB:.2f} GB) but the device holds "
                    f"{m.capacity_bytes * GB:.2f} GB"
                ),
                fix="use a device with more memory, a smaller batch or context, lower-precision "
                "weights (precision='int8'/'int4'), or split the model over several devices",
            )

    @property
    def latency(self) -> Any:
        """Achievable time of one step (ms): TTFT for prefill, one token per sequence for decode."""
        self._require_feasible("latency")
        return quantity(self.latency_s, MS, "ms")

    @property
    def latency_bound(self) -> Any:
        """Ideal roofline time of one step (ms): no measurement may beat it."""
        self._require_feasible("latency bound")
        return quantity(self.latency_bound_s, MS, "ms")

    @property
    def throughput(self) -> Any:
        """Tokens (or samples) per second at the achievable latency."""
        self._require_feasible("throughput")
        return quantity(self.units_per_step / self.latency_s, 1.0, f"{self.unit}/s")

    @property
    def throughput_bound(self) -> Any:
        """Tokens (or samples) per second at the ideal roofline latency."""
        self._require_feasible("throughput bound")
        return quantity(self.units_per_step / self.latency_bound_s, 1.0, f"{self.unit}/s")

    def _require_power(self, what: str) -> float:
        self._require_feasible(what)
        if self.power_w is None:
            raise MlsysimError(
                f"{self.hardware} has no {what}: its registry entry gives no TDP",
                where="SolveResult",
                why="the energy model scales the device's TDP by its utilisation",
                fix=f"add tdp = '… W' (with a source) to the {self.hardware} registry entry",
            )
        return self.power_w

    @property
    def energy(self) -> Any:
        """Energy of one step (J): linear utilisation power model times latency."""
        return quantity(self._require_power("energy") * self.latency_s, 1.0, "J")

    @property
    def power(self) -> Any:
        """Average device power during the step (W)."""
        return quantity(self._require_power("power"), 1.0, "W")

    def _utilization(self, flops: float) -> float:
        rate = self.units_per_step / self.latency_s
        return peak_fraction(rate, flops / self.units_per_step, self.dense_peak_flops_per_s)

    @property
    def mfu(self) -> float:
        """Model FLOPs utilisation (:func:`~mlsysim.core.formulas.mfu`): throughput × model
        FLOPs per unit ÷ the dense peak, recomputation excluded."""
        self._require_feasible("MFU")
        return self._utilization(self.model_flops)

    @property
    def hfu(self) -> float:
        """Hardware FLOPs utilisation (:func:`~mlsysim.core.formulas.hfu`): as MFU, with the
        recomputed FLOPs counted."""
        self._require_feasible("HFU")
        return self._utilization(self.hardware_flops)

    # -- step totals (always available) ----------------------------------------------------
    @property
    def flops(self) -> Any:
        """FLOPs executed per step (GFLOP), recomputation included."""
        return quantity(self.flops_total, GFLOP, "GFLOP")

    @property
    def bytes(self) -> Any:
        """Bytes moved to and from device memory per step (GB)."""
        return quantity(self.bytes_total, GB, "GB")

    @property
    def intensity_fpb(self) -> float:
        """FLOPs per byte moved over the whole step, a float
        (:func:`~mlsysim.core.formulas.arithmetic_intensity`)."""
        return intensity_FpB(self.flops_total, self.bytes_total)

    @property
    def ridge_fpb(self) -> float:
        """The device's ridge point at the step's precision, FLOP/B as a float
        (:func:`~mlsysim.core.formulas.ridge_point`)."""
        return intensity_FpB(self.peak_flops_per_s, self.bandwidth_bytes_per_s)

    @property
    def arithmetic_intensity(self) -> Any:
        """FLOPs per byte moved over the whole step."""
        return quantity(self.intensity_fpb, 1.0, "FLOP/B")

    @property
    def ridge_point(self) -> Any:
        """The device's peak rate over bandwidth at the step's precision (FLOP/B)."""
        return quantity(self.ridge_fpb, 1.0, "FLOP/B")

    @property
    def explanation(self) -> str:
        """Why the binding wall binds, in words and numbers."""
        from mlsysim.solvers.single_node.explain import why

        return why(self)

    def __str__(self) -> str:
        head = f"{self.model} on {self.hardware}, {self.phase}, batch {self.batch}"
        if self.seq_len is not None:
            head += f", seq_len {self.seq_len}"
        if not self.feasible:
            return f"{head}: infeasible ({self.binding_wall})"
        return (
            f"{head}: {self.latency_s * MS:.3g} ms (bound {self.latency_bound_s * MS:.3g} "
            f"ms), {self.units_per_step / self.latency_s:.4g} {self.unit}s/s, binding wall "
            f"{self.binding_wall}"
        )

    @property
    def formats(self) -> dict[str, Any]:
        """The formats the step ran in: weights (and bits per weight), GEMM math, the
        operations around the GEMMs, attention and the KV cache."""
        return {
            "weights": self.weights_precision,
            "weight_bits": self.weight_bits,
            "gemm": self.precision,
            "other": self.high_precision,
            "attention": self.attention_precision,
            "kv_cache": self.kv_precision,
        }

    # -- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (see :func:`~mlsysim.solvers.single_node.results.json_schema`)."""
        ok = self.feasible
        lat = self.latency_s if ok else None
        return {
            "schema": SCHEMA_VERSION,
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "hardware": self.hardware,
            "phase": self.phase,
            "batch": self.batch,
            "seq_len": self.seq_len,
            "precision": self.precision,
            "weights_precision": self.weights_precision,
            "kv_precision": self.kv_precision,
            "sparse": self.sparse,
            "engine": self.engine,
            "formats": self.formats,
            "feasible": ok,
            "binding_wall": self.binding_wall,
            "latency": json_quantity(lat, MS, "ms"),
            "latency_bound": json_quantity(self.latency_bound_s if ok else None, MS, "ms"),
            "throughput": json_quantity(
                self.units_per_step / self.latency_s if ok else None, 1.0, f"{self.unit}s/s"
            ),
            "throughput_bound": json_quantity(
                self.units_per_step / self.latency_bound_s if ok else None, 1.0, f"{self.unit}s/s"
            ),
            "energy": json_quantity(
                self.power_w * self.latency_s if ok and self.power_w is not None else None, 1.0, "J"
            ),
            "mfu": self._utilization(self.model_flops) if ok else None,
            "hfu": self._utilization(self.hardware_flops) if ok else None,
            "flops": json_quantity(self.flops_total, 1.0, "FLOP"),
            "model_flops": json_quantity(self.model_flops, 1.0, "FLOP"),
            "hardware_flops": json_quantity(self.hardware_flops, 1.0, "FLOP"),
            "bytes": json_quantity(self.bytes_total, 1.0, "B"),
            "arithmetic_intensity": json_quantity(self.intensity_fpb, 1.0, "FLOP/B"),
            "ridge_point": json_quantity(self.ridge_fpb, 1.0, "FLOP/B"),
            "time_split": {
                "compute": json_quantity(self.compute_s, MS, "ms"),
                "memory": json_quantity(self.memory_s, MS, "ms"),
                "overhead": json_quantity(self.overhead_s, MS, "ms"),
            },
            "memory": self.memory.to_dict(),
            "efficiencies": [{"name": n, "value": v, "source": s} for n, v, s in self.efficiencies],
            "notes": list(self.notes),
            "explanation": self.explanation,
            "ops": [op.to_dict() for op in self.ops],
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), **kwargs)


#: A mutable twin of :class:`SolveResult`: the same fields in the same slots, filled by plain
#: slot stores. A frozen dataclass's ``__init__`` sets each of its 36 fields through
#: ``object.__setattr__`` (a tenth of a warm solve); :func:`new_result` fills the twin and
#: re-types it, so the solver hands out a true, frozen SolveResult at a tenth of that cost.
_Filling = make_dataclass(
    "_Filling", [(f.name, f.type) for f in fields(SolveResult)], slots=True, eq=False, repr=False
)


def new_result(*values: Any) -> SolveResult:
    """A :class:`SolveResult` of ``values``, given in the order of its fields (all of them)."""
    r = _Filling(*values)
    r.__class__ = SolveResult
    return r
