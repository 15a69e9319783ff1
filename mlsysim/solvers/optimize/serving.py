"""The serving search: the hardware, precision, tensor parallelism and batch that serve a demand
within its SLO at the least cost, carbon, energy, water or devices.

``optimize_serving(model, ["H100", "DGX_H100", "A100"], slo="50 ms", qps=200,
duration="30 day", region="Quebec", objective="cost")`` evaluates every combination of

* hardware — each device, node or cluster given (a bare device serves at tp = 1 only);
* precision — each of ``precisions`` (default :data:`SERVING_PRECISIONS`) the device can run
  (weight-only formats dequantize, as the solver does); the others are excluded, saying why;
* tp — each of ``tp`` (default 1, 2, 4, 8) that divides the model's heads and fits in a node;
* batch — every power of two up to the largest batch whose decode step meets the time per
  output token (``slo``) and fits in memory;

through :func:`mlsysim.serving_fleet` (one small function, :func:`serving_point`: the serving
model replaces it when it lands) and ranks them by the objective per million output tokens.
``ttft_slo`` also bounds the prefill of one request. An objective the data cannot give for a
candidate (a device without a cloud price, or without embodied carbon) excludes it with the
reason; it is never counted as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlsysim.core.exceptions import MissingDataError, MlsysimError
from mlsysim.core.units import si
from mlsysim.execution.plan import ExecutionPlan
from mlsysim.solvers.base import BaseOptimizer
from mlsysim.solvers.optimize.result import Candidate, Metric, Search, ranked_search
from mlsysim.solvers.run import footprint as FP
from mlsysim.solvers.run.fleet import ServingFleetSolver, serving_fleet
from mlsysim.workload.lowering import model_facts
from mlsysim.workload.registry import Models

__all__ = [
    "SERVING_METRICS",
    "SERVING_PRECISIONS",
    "ServingOptimizer",
    "optimize_serving",
    "serving_point",
]

#: Weight formats tried when none are given.
SERVING_PRECISIONS = ("bf16", "fp8", "int8", "int4")
#: Tensor-parallel degrees tried when none are given.
_TPS = (1, 2, 4, 8)

#: What every candidate reports, per million output tokens where it is a footprint.
SERVING_METRICS = (
    Metric("cost", "USD", "min", "cloud cost per million tokens"),
    Metric("carbon", "kgCO2e", "min", "carbon per million tokens"),
    Metric("operational_carbon", "kgCO2e", "min", "operational carbon per million tokens"),
    Metric("energy", "kWh", "min", "energy per million tokens"),
    Metric("water", "L", "min", "water per million tokens"),
    Metric("devices", "", "min", "devices"),
    Metric("tpot", "ms", "min", "time per output token"),
    Metric("ttft", "ms", "min", "prefill time"),
)

_WALL = {"slo": "serving", "memory": "memory_capacity", "max_batch": "batching"}


def serving_point(
    model: Any, system: Any, *, precision: str, tp: int, batch: int, **demand: Any
) -> Any:
    """One serving configuration's fleet (today :func:`mlsysim.serving_fleet`, capped at
    ``batch``): the only place the serving search asks a solver anything."""
    return serving_fleet(model, system, precision=precision, tp=tp, max_batch=batch, **demand)


class ServingOptimizer(BaseOptimizer):
    """The serving configuration that meets an SLO at the least ``objective`` (module doc).

    Override :meth:`evaluate` to answer configurations another way; the ranking, the
    explanation and the JSON form stay the same.
    """

    name = "serving"
    default_solver = ServingFleetSolver
    walls = ("serving", "memory_capacity", "batching", "capital", "sustainability")
    sources = ("patterson2021", "barroso2018")

    def evaluate(
        self, model: Any, system: Any, precision: str, tp: int, batch: int, demand: dict[str, Any]
    ) -> Any:
        """The fleet of one configuration (or the MlsysimError it raised)."""
        try:
            return serving_point(model, system, precision=precision, tp=tp, batch=batch, **demand)
        except MlsysimError as exc:
            return exc

    def optimize(
        self,
        model: Any,
        hardware: Any,
        *,
        objective: str = "cost",
        precisions: Sequence[str] | None = None,
        tp: Sequence[int] | int | None = None,
        ttft_slo: Any = None,
        progress: Callable[[int, int], None] | None = None,
        **demand: Any,
    ) -> Search:
        """Search (see the module doc); ``demand`` are :func:`mlsysim.serving_fleet`'s
        keywords (``slo``, ``qps`` or ``tokens_per_day``, ``duration``, ``region``, …)."""
        spec = Models[model] if isinstance(model, str) else model
        systems = [hardware] if isinstance(hardware, str) or not _is_seq(hardware) else hardware
        formats = tuple(precisions) if precisions is not None else SERVING_PRECISIONS
        tps = (tp,) if isinstance(tp, int) else tuple(tp) if tp is not None else _TPS
        ttft_s = None if ttft_slo is None else si(ttft_slo, "time", "ttft_slo")
        heads = model_facts(spec).heads
        evaluated: list[Candidate] = []
        total = len(systems) * len(formats) * len(tps)
        done = 0
        for system in systems:
            hw, node, cluster = FP.resolve_system(system)
            name = (cluster or node or hw).id
            per_node = node.accelerators if node is not None else 1
            for p in formats:
                why_not = _precision_refused(hw, p)
                for t in tps:
                    done += 1
                    config = {"hardware": name, "precision": p, "tp": t}
                    reason = why_not or _tp_refused(t, per_node, heads, hw.id, node)
                    if reason:
                        evaluated.append(_excluded({**config, "batch": None}, reason))
                    else:
                        evaluated += self._batches(spec, system, config, demand, ttft_s)
                    if progress is not None:
                        progress(done, total)
        inputs = {"model": spec.id, "hardware": [_id(s) for s in systems], **demand}
        inputs["ttft_slo"] = ttft_slo
        return ranked_search(
            "serving",
            objective,
            SERVING_METRICS,
            evaluated,
            inputs=inputs,
            shown=("devices", "tpot"),
            traded=("cost", "operational_carbon", "energy", "devices", "tpot", "ttft"),
            tie=("devices", "tpot"),
        )

    def _batches(
        self,
        spec: Any,
        system: Any,
        config: dict[str, Any],
        demand: dict[str, Any],
        ttft_s: float | None,
    ) -> list[Candidate]:
        """Every power-of-two batch up to the largest the SLO and memory allow."""
        p, t = config["precision"], config["tp"]
        top = self.evaluate(spec, system, p, t, 4096, demand)
        if isinstance(top, MlsysimError):
            return [_excluded({**config, "batch": None}, _reason(top))]
        out = []
        b = 1
        while b <= top.capacity.batch:
            fleet = top if b == top.capacity.batch else self.evaluate(spec, system, p, t, b, demand)
            out.append(_candidate({**config, "batch": b}, fleet, ttft_s))
            b *= 2
        return out


def _is_seq(v: Any) -> bool:
    return isinstance(v, list | tuple)


def _id(system: Any) -> str:
    return system if isinstance(system, str) else str(getattr(system, "id", system))


def _precision_refused(hw: Any, precision: str) -> str:
    try:
        ExecutionPlan(weights=precision).resolve(hw)
    except MlsysimError as exc:
        return _reason(exc)
    return ""


def _tp_refused(tp: int, per_node: int, heads: int, hw: str, node: Any) -> str:
    if tp == 1:
        return ""
    if node is None:
        return f"tp={tp} needs a node: a bare {hw} is one device"
    if tp > per_node:
        return f"tp={tp} spans more than the {per_node} devices of a {node.id}"
    if heads % tp:
        return f"tp={tp} does not divide the model's {heads} attention heads"
    return ""


def _reason(exc: MlsysimError) -> str:
    return f"{exc.what}" + (f": {exc.why}" if exc.why else "")


def _excluded(config: dict[str, Any], reason: str) -> Candidate:
    return Candidate(config, {}, SERVING_METRICS, False, "", reason)


def _candidate(config: dict[str, Any], fleet: Any, ttft_s: float | None) -> Candidate:
    if isinstance(fleet, MlsysimError):
        return _excluded(config, _reason(fleet))
    cap = fleet.capacity
    values: dict[str, float | None] = {
        "devices": float(fleet.devices),
        "tpot": cap.tpot_s * 1e3,
        "ttft": cap.ttft_s * 1e3,
    }
    unknown: dict[str, str] = {}
    for name, prop in (
        ("cost", "cost_per_mtok"),
        ("carbon", "carbon_per_mtok"),
        ("operational_carbon", "operational_carbon_per_mtok"),
        ("energy", "energy_per_mtok"),
        ("water", "water_per_mtok"),
    ):
        try:
            values[name] = float(getattr(fleet, prop).magnitude)
        except MissingDataError as exc:
            values[name] = None
            unknown[name] = _reason(exc)
    wall = _WALL.get(cap.limit, "serving")
    if ttft_s is not None and cap.ttft_s > ttft_s:
        reason = (
            f"prefill takes {cap.ttft_s * 1e3:.3g} ms, above the {ttft_s * 1e3:.3g} ms TTFT SLO"
        )
        return Candidate(config, values, SERVING_METRICS, False, wall, reason, "", None, unknown)
    why = {
        "slo": "the time per output token binds: the next batch misses the SLO",
        "memory": "memory capacity binds: the next batch does not fit",
        "max_batch": "the batch is capped here (larger batches meet the SLO too; they serve "
        "the demand on no fewer devices or at a longer time per token)",
    }[cap.limit]
    return Candidate(
        config, values, SERVING_METRICS, True, wall, "", f"{why}; {fleet.explanation}", fleet,
        unknown,
    )  # fmt: skip


_OPTIMIZER = ServingOptimizer()


def optimize_serving(model: Any, hardware: Any, **kwargs: Any) -> Search:
    """The serving configuration (hardware, precision, tp, batch) of ``model`` that serves
    ``qps`` (or ``tokens_per_day``) within ``slo`` (time per output token) at the least
    ``objective`` per million output tokens: ``"cost"`` (default), ``"carbon"``,
    ``"operational_carbon"``, ``"energy"``, ``"water"`` or ``"devices"``.

    ``hardware`` is a device, node or cluster id, or a list of them; ``precisions``, ``tp``
    (a degree or a list), ``ttft_slo``; the rest are :func:`mlsysim.serving_fleet`'s keywords
    (``duration``, ``region``, ``prompt``, ``output``, ``datacenter``, ``pricing``, …).
    """
    return _OPTIMIZER.optimize(model, hardware, **kwargs)
