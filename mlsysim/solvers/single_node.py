"""The single-node solver: a workload and a plan, lowered to operations, timed on one device.

Layers (DESIGN.md §3): Workload (model + phase, batch, sequence, precision) → Execution plan
(:class:`~mlsysim.execution.ExecutionPlan`) → lowered operations (:mod:`mlsysim.workload.lowering`)
→ timed on Hardware, one roofline per operation (Williams et al. 2009):

* ideal (``latency_bound``): ``Σ max(F/P, B/BW)`` — efficiency 1, no overhead;
* achievable (``latency``): ``Σ max(F/(P·η_kind), B/(BW·η_mem)) + kernels·t_launch`` with the
  sourced defaults of :mod:`mlsysim.hardware.efficiency`.

``P`` is the device's dense peak at the math precision (its 2:4 sparse peak for sparse weight
GEMMs), ``BW`` its main-memory bandwidth. The binding wall is ``memory_capacity`` when the
step's resident bytes exceed the device's capacity, else whichever of ``compute``,
``memory_bandwidth`` or ``software_overhead`` (kernel launches) takes most of the achievable
time. Energy uses a linear utilisation power model (Fan et al. 2007).

Everything between argument checking and building the result runs on floats; device and
model facts are converted once per spec object and cached (the ≤100 µs decode-solve target).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.execution.plan import ExecutionPlan, ResolvedPlan
from mlsysim.hardware.efficiency import (
    ATTENTION_EFFICIENCY,
    GEMM_EFFICIENCY,
    KERNEL_OVERHEAD,
    MEMORY_EFFICIENCY,
)
from mlsysim.hardware.registry import Hardware
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.results import MemoryBreakdown, OpTiming, SolveResult
from mlsysim.workload.lowering import PHASES, lower, model_facts
from mlsysim.workload.registry import Models

__all__ = ["DEFAULT_SEQ_LEN", "SingleNodeSolver", "solve"]

#: Sequence/context length used when ``seq_len`` is not given (capped at the model's maximum):
#: the 512-token context of the reference measurements (``validation.md``).
DEFAULT_SEQ_LEN = 512


@dataclass(frozen=True, slots=True)
class _Device:
    """Float facts of a HardwareSpec, extracted once."""

    dense: dict[str, float]
    sparse: dict[str, float]
    bandwidth: float
    capacity: float
    tdp: float | None  # None when the registry gives no TDP (energy is then unknown)
    power_idle: float


_DEVICES: dict[int, tuple[Any, _Device]] = {}
_RESOLVED: dict[tuple[int, ExecutionPlan], tuple[Any, ResolvedPlan]] = {}


def _device(hw: Any) -> _Device:
    hit = _DEVICES.get(id(hw))
    if hit is not None and hit[0] is hw:
        return hit[1]
    from mlsysim.core.units import si

    dev = _Device(
        dense={p: si(r, "compute_rate", "peak") for p, r in hw.peak.dense.items()},
        sparse={p: si(r, "compute_rate", "peak") for p, r in hw.peak.sparse.items()},
        bandwidth=si(hw.memory.bandwidth, "bandwidth", "memory.bandwidth"),
        capacity=si(hw.memory.capacity, "information", "memory.capacity"),
        tdp=si(hw.tdp, "power", "tdp") if hw.tdp is not None else None,
        power_idle=si(hw.power_min, "power", "power_min") if hw.power_min is not None else 0.0,
    )
    _DEVICES[id(hw)] = (hw, dev)
    return dev


def _resolve(hw: Any, plan: ExecutionPlan) -> ResolvedPlan:
    key = (id(hw), plan)
    hit = _RESOLVED.get(key)
    if hit is not None and hit[0] is hw:
        return hit[1]
    rp = plan.resolve(hw)
    _RESOLVED[key] = (hw, rp)
    return rp


_PLANS: dict[tuple[str, tuple[tuple[str, Any], ...]], ExecutionPlan] = {}


def _plan(precision: str, options: dict[str, Any]) -> ExecutionPlan:
    key = (precision, tuple(sorted(options.items())) if options else ())
    plan = _PLANS.get(key)
    if plan is None:
        plan = ExecutionPlan(weights=precision, **options)
        _PLANS[key] = plan
    return plan


def _lookup(registry: Any, value: Any, what: str) -> Any:
    if isinstance(value, str):
        return registry[value]
    if value is None:
        raise ConfigError(
            f"solve needs a {what}",
            where="solve",
            fix=f"pass a registry id or spec, e.g. solve('Llama2_7B', 'A100', "
            f"phase='decode') ({what} is missing)",
        )
    return value


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{name} must be an integer ≥ {minimum}, got {value!r}",
            where="solve",
            fix=f"pass {name}={max(minimum, 1)} or larger",
        )
    return value


class SingleNodeSolver(BaseSolver):
    """Roofline-per-operation timing of one workload on one device (no parallelism)."""

    name = "single_node"
    walls = ("compute", "memory_bandwidth", "memory_capacity", "software_overhead")
    sources = (
        "solver_williams2009_roofline",
        "solver_pope2022_inference",
        "solver_korthikanti2022_recompute",
        "solver_fan2007_power",
    )

    def solve(
        self,
        model: Any = None,
        hardware: Any = None,
        *,
        phase: str,
        batch: int = 1,
        seq_len: int | None = None,
        precision: str | None = None,
        plan: ExecutionPlan | None = None,
        strict: bool = False,
        **plan_options: Any,
    ) -> SolveResult:
        """Solve ``model`` on ``hardware`` (ids or specs); see :func:`solve`."""
        spec = _lookup(Models, model, "model")
        hw = _lookup(Hardware, hardware, "hardware")
        if phase not in PHASES:
            raise ConfigError(
                f"unknown phase {phase!r}",
                where="solve",
                why=f"phases: {', '.join(PHASES)}",
                fix="pass phase='prefill', 'decode', 'training' or 'inference'",
            )
        batch = _positive_int("batch", batch)
        facts = model_facts(spec)
        if facts.kind == "transformer":
            if seq_len is None:
                seq_len = min(DEFAULT_SEQ_LEN, facts.max_seq_len)
            seq_len = _positive_int("seq_len", seq_len, 0 if phase == "decode" else 1)
            if phase == "decode" and facts.task != "llm":
                raise ConfigError(
                    f"{spec.id} is an {facts.task} model: it has no decode phase",
                    where="solve",
                    fix="use phase='inference' or 'training'",
                )
            phase_l = "prefill" if phase == "inference" else phase
        else:
            seq_len = None
            phase_l = phase
        if plan is None:
            plan = _plan(precision or "fp16", plan_options)
        elif precision is not None or plan_options:
            raise ConfigError(
                "pass either plan= or precision/plan options, not both",
                where="solve",
                fix="put the precision and options into the ExecutionPlan",
            )
        rp = _resolve(hw, plan)
        low = lower(spec, phase_l, batch, seq_len or 0, rp)
        return _time(spec, hw, phase, batch, seq_len, rp, low, strict)


_new = tuple.__new__  # NamedTuple construction without its Python-level __new__


def _time(
    spec: Any,
    hw: Any,
    phase: str,
    batch: int,
    seq_len: int | None,
    rp: ResolvedPlan,
    low: Any,
    strict: bool,
) -> SolveResult:
    dev = _device(hw)
    plan = rp.plan
    P = dev.dense[rp.activations]
    P_sparse = dev.sparse.get(rp.activations, P) if rp.sparse else P
    BW = dev.bandwidth
    eta_g = plan.gemm_efficiency or GEMM_EFFICIENCY.value
    eta_a = plan.attention_efficiency or ATTENTION_EFFICIENCY.value
    eta_m = plan.memory_efficiency or MEMORY_EFFICIENCY.value
    t_k = KERNEL_OVERHEAD.value if plan.kernel_overhead is None else plan.kernel_overhead
    BW_eff = BW * eta_m

    ops = []
    bound_total = compute_s = memory_s = overhead_s = 0.0
    flops = useful = nbytes = 0.0
    for name, kind, f, b, kernels, n, f_useful, sparse in low.ops:
        peak = P_sparse if sparse else P
        t_c = f / peak
        t_m = b / BW
        t_bound = (t_c if t_c > t_m else t_m) * n
        eta = eta_g if kind == "gemm" else eta_a if kind == "attention" else 1.0
        t_c_eff = t_c / eta
        t_m_eff = b / BW_eff
        t_over = kernels * t_k * n
        if t_c_eff > t_m_eff:
            body = t_c_eff * n
            compute_s += body
            bound = "compute"
        else:
            body = t_m_eff * n
            memory_s += body
            bound = "memory"
        overhead_s += t_over
        bound_total += t_bound
        f *= n
        b *= n
        flops += f
        useful += f_useful * n
        nbytes += b
        ops.append(_new(OpTiming, (name, kind, n, f, b, t_bound, body + t_over, t_over, bound)))
    achievable = compute_s + memory_s + overhead_s

    m = low.memory
    memory = MemoryBreakdown(
        m.weights, m.kv_cache, m.activations, m.gradients, m.optimizer, dev.capacity
    )
    feasible = memory.total_bytes <= dev.capacity
    if not feasible:
        wall = "memory_capacity"
    elif overhead_s > compute_s and overhead_s > memory_s:
        wall = "software_overhead"
    elif compute_s > memory_s:
        wall = "compute"
    else:
        wall = "memory_bandwidth"
    u_c = flops / (P_sparse * achievable)
    u_m = nbytes / (BW * achievable)
    u = min(1.0, u_c if u_c > u_m else u_m)
    power = None if dev.tdp is None else dev.power_idle + (dev.tdp - dev.power_idle) * u
    notes = (rp.note,) if rp.note else ()
    result = SolveResult(
        model=spec.id,
        hardware=hw.id,
        phase=phase,
        batch=batch,
        seq_len=seq_len,
        precision=rp.activations,
        weights_precision=rp.weights,
        kv_precision=rp.kv_cache,
        sparse=rp.sparse,
        feasible=feasible,
        binding_wall=wall,
        latency_s=achievable,
        latency_bound_s=bound_total,
        compute_s=compute_s,
        memory_s=memory_s,
        overhead_s=overhead_s,
        units_per_step=low.units,
        unit=low.unit,
        flops_total=flops,
        useful_flops=useful,
        bytes_total=nbytes,
        peak_flops_per_s=P_sparse,
        dense_peak_flops_per_s=P,
        bandwidth_bytes_per_s=BW,
        power_w=power,
        memory=memory,
        ops=tuple(ops),
        efficiencies=(
            ("gemm_efficiency", eta_g, _src(plan.gemm_efficiency, GEMM_EFFICIENCY.source)),
            (
                "attention_efficiency",
                eta_a,
                _src(plan.attention_efficiency, ATTENTION_EFFICIENCY.source),
            ),
            ("memory_efficiency", eta_m, _src(plan.memory_efficiency, MEMORY_EFFICIENCY.source)),
            ("kernel_overhead", t_k, _src(plan.kernel_overhead, KERNEL_OVERHEAD.source)),
        ),
        notes=notes,
        model_spec=spec,
        hardware_spec=hw,
    )
    if strict and not feasible:
        result._require_feasible("latency")
    return result


def _src(override: float | None, source: str) -> str:
    return "user" if override is not None else source


_SOLVER = SingleNodeSolver()


def solve(
    model: Any = None,
    hardware: Any = None,
    *,
    phase: str,
    batch: int = 1,
    seq_len: int | None = None,
    precision: str | None = None,
    plan: ExecutionPlan | None = None,
    strict: bool = False,
    **plan_options: Any,
) -> SolveResult:
    """Solve one workload on one device.

    ``model``/``hardware`` are registry ids (``"Llama2_7B"``, ``"A100"``) or spec objects,
    positionally or by keyword. ``phase``: ``"prefill"`` (``seq_len`` = prompt length,
    latency = time to first token), ``"decode"`` (``seq_len`` = context already cached,
    latency = one step producing one token per sequence), ``"training"`` (one optimizer step
    of ``batch`` sequences of ``seq_len``) or ``"inference"`` (one forward pass: CNN/KWS and
    encoder models; for decoder LLMs the same as prefill). ``seq_len`` defaults to
    :data:`DEFAULT_SEQ_LEN` (capped at the model's maximum).

    ``precision`` is the weights' format (``"fp16"`` by default; ``"int4"`` on a device
    without an int4 rate runs as W4A16 weight-only quantization — see
    :mod:`mlsysim.execution.plan`). Other plan options (``activations``, ``kv_cache``,
    ``sparsity="2:4"``, ``recompute``, ``optimizer``, efficiency overrides) are passed through
    to :class:`~mlsysim.execution.ExecutionPlan`, or pass ``plan=`` directly.

    A step that does not fit returns ``feasible=False`` with ``binding_wall="memory_capacity"``;
    with ``strict=True`` it raises :class:`~mlsysim.core.exceptions.InfeasibleError` instead.
    """
    return _SOLVER.solve(
        model,
        hardware,
        phase=phase,
        batch=batch,
        seq_len=seq_len,
        precision=precision,
        plan=plan,
        strict=strict,
        **plan_options,
    )
