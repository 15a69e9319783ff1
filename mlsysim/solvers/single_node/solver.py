"""The single-node solver: a workload and a plan, lowered to operations, timed on one device.

Layers (DESIGN.md §3): Workload (model + phase, batch, sequence, precision) → Execution plan
(:class:`~mlsysim.execution.ExecutionPlan`) → lowered operations (:mod:`mlsysim.workload.lowering`)
→ timed on Hardware, one roofline per operation (Williams et al. 2009):

* ideal (``latency_bound``): ``Σ roofline_time_s(F, B, P, BW)`` — efficiency 1, no overhead;
* achievable (``latency``): ``Σ roofline_time_s(F, B, P·η_kind, BW·η_mem)`` plus
  ``launch_overhead_s(kernels, t_launch)``, with the sourced defaults of
  ``mlsysim.hardware.efficiency``.

``P`` is the device's dense peak at the math precision (its 2:4 sparse peak for sparse weight
GEMMs), ``BW`` its main-memory bandwidth. The binding wall is ``memory_capacity`` when the
step's resident bytes exceed the device's capacity, else whichever of ``compute``,
``memory_bandwidth`` or ``software_overhead`` (kernel launches) takes most of the achievable
time. Power is :func:`~mlsysim.core.formulas.device_power` at the step's
:func:`~mlsysim.core.formulas.device_utilization` (Fan et al. 2007's linear model, idle floor
from the device's measured ``power_idle`` or the sourced accelerator fraction); MFU and HFU
are :func:`~mlsysim.core.formulas.mfu` / :func:`~mlsysim.core.formulas.hfu` of the step's
model and hardware FLOPs. Every equation is a formula's float fast path.

Everything between argument checking (:mod:`mlsysim.solvers.arguments`) and building the
result runs on floats; device and model facts are converted once per spec object and kept in
generation-aware caches (the ≤ 30 µs decode-solve target).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.exceptions import ConfigError
from mlsysim.core.formulas.performance import busy_fraction
from mlsysim.core.formulas.sustainability import device_power_W
from mlsysim.execution.plan import ExecutionPlan, ResolvedPlan
from mlsysim.hardware.efficiency import efficiency_rows
from mlsysim.hardware.engines import engine_for, family_of
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers import arguments
from mlsysim.solvers.base import BaseSolver
from mlsysim.solvers.single_node.results import MemoryBreakdown, OpTiming, SolveResult, new_result
from mlsysim.solvers.single_node.timing import Peaks, Rates, peaks, rates, time_ops
from mlsysim.workload.lowering import PHASES, lower, model_facts

__all__ = ["DEFAULT_SEQ_LEN", "Prepared", "SingleNodeSolver", "check", "run", "solve"]

#: Sequence/context length used when ``seq_len`` is not given (capped at the model's maximum):
#: the 512-token context of the reference measurements (``validation.md``).
DEFAULT_SEQ_LEN = 512

_RESOLVED = DerivedCache("solvers.single_node.solver.resolved_plans")
_PLANS = DerivedCache("solvers.single_node.solver.plans")


def _resolve(
    hw: Any, plan: ExecutionPlan, phase: str, family: str, kept: bool = False
) -> ResolvedPlan:
    """The plan bound to ``hw`` under its engine (the plan's, or the device's default for the
    phase and model family), cached. ``kept``: ``plan`` is one :func:`_plan` keeps, so its
    identity names it (no hash of its fields); otherwise equal plans share an entry."""
    key = (id(hw), id(plan) if kept else plan, phase, family)
    hit = _RESOLVED.get(key)
    if hit is not None and hit[0] is hw and (hit[1] is plan or not kept):
        return hit[2]
    engine = engine_for(hw, phase, family, plan.engine)
    rp = plan.resolve(hw, engine)
    _RESOLVED.put(key, (hw, plan, rp))
    return rp


def _plan(precision: str | None, options: dict[str, Any]) -> ExecutionPlan:
    """The plan of ``precision`` and plan options (one object per precision and options)."""
    return _kept_plan(precision, options)[0]


def _kept_plan(precision: str | None, options: dict[str, Any]) -> tuple[ExecutionPlan, bool]:
    """:func:`_plan` and whether it is kept (False for options that cannot be a key)."""
    try:
        key = (precision, tuple(sorted(options.items())) if options else ())
        plan = _PLANS.get(key)
    except TypeError:  # an unhashable option value: let the plan say what is wrong with it
        return ExecutionPlan(weights=precision, **options), False
    if plan is None:
        plan = ExecutionPlan(weights=precision, **options)
        _PLANS.put(key, plan)
    return plan, True


class SingleNodeSolver(BaseSolver):
    """Roofline-per-operation timing of one workload on one device (no parallelism)."""

    name = "single_node"
    walls = ("compute", "memory_bandwidth", "memory_capacity", "software_overhead")
    sources = (
        "williams2009",
        "pope2022",
        "korthikanti2022",
        "fan2007",
    )

    def solve(
        self, model: Any = None, hardware: Any = None, *, strict: bool = False, **keywords: Any
    ) -> SolveResult:
        """Solve ``model`` on ``hardware`` (ids or specs); see :func:`solve` (``keywords``:
        phase, batch, seq_len, precision, plan and plan options, as :meth:`prepare` takes)."""
        p = self.prepare(model, hardware, **keywords)
        return run(p.spec, p.hw, p.phase, p.batch, p.seq_len, p.rp, strict)

    def prepare(
        self,
        model: Any = None,
        hardware: Any = None,
        *,
        phase: str,
        batch: int = 1,
        seq_len: int | None = None,
        precision: str | None = None,
        plan: ExecutionPlan | None = None,
        **plan_options: Any,
    ) -> Prepared:
        """The checked arguments of :meth:`solve` and the resolved plan, before any lowering
        (a sweep prepares once per structure, then lowers whole arrays)."""
        checked = check(model, hardware, phase, batch, seq_len, precision, plan, plan_options)
        return _new(Prepared, checked)


class Prepared(NamedTuple):
    """Checked arguments of one single-node solve and its resolved plan."""

    spec: Any
    hw: Any
    phase: str
    batch: int
    seq_len: int | None
    rp: ResolvedPlan


_new = tuple.__new__  # NamedTuple construction without its Python-level __new__


def check(
    model: Any,
    hardware: Any,
    phase: Any,
    batch: Any,
    seq_len: Any,
    precision: str | None,
    plan: Any,
    plan_options: dict[str, Any],
) -> tuple[Any, Any, str, int, int | None, ResolvedPlan]:
    """:meth:`SingleNodeSolver.prepare` with positional arguments (``solve``'s route for one
    device calls it directly): the checked ``(spec, hw, phase, batch, seq_len, resolved
    plan)``."""
    if plan_options:
        arguments.check_keywords(plan_options, "solve")
    spec = arguments.model(model)
    hw = arguments.hardware(hardware)
    phase = arguments.phase(phase, PHASES)
    batch = arguments.batch(batch)
    facts = model_facts(spec)
    if facts.kind == "transformer":
        if seq_len is None:
            seq_len = min(DEFAULT_SEQ_LEN, facts.max_seq_len)
        seq_len = arguments.seq_len(seq_len, 0 if phase == "decode" else 1)
        if phase == "decode" and facts.task != "llm":
            raise ConfigError(
                f"{spec.id} is an {facts.task} model: it has no decode phase",
                where="solve",
                fix="use phase='inference' or 'training'",
            )
    else:
        seq_len = None
    kept = plan is None
    if kept:
        plan, kept = _kept_plan(precision, plan_options)
    elif precision is not None or plan_options:
        raise ConfigError(
            "pass either plan= or precision/plan options, not both",
            where="solve",
            fix="put the precision and options into the ExecutionPlan",
        )
    else:
        plan = arguments.plan(plan)
    rp = _resolve(hw, plan, phase, family_of(facts.task), kept)
    return spec, hw, phase, batch, seq_len, rp


def run(
    spec: Any,
    hw: Any,
    phase: str,
    batch: int,
    seq_len: int | None,
    rp: ResolvedPlan,
    strict: bool = False,
) -> SolveResult:
    """Lower and time one checked solve (:func:`check`'s arguments)."""
    low = lower(spec, phase, batch, seq_len or 0, rp)
    return _time(spec, hw, phase, batch, seq_len, rp, low, strict)


#: What a resolved plan is timed with on a device, keyed by their identities.
_DEVICE_PLANS = DerivedCache("solvers.single_node_device_plans")


class _OnDevice(NamedTuple):
    """A resolved plan on a device: the device's facts, the peaks and rates its ops are timed
    with, and the efficiency rows a result reports."""

    dev: Any
    pk: Peaks
    r: Rates
    efficiencies: tuple[tuple[str, float, str], ...]


def _on_device(rp: ResolvedPlan, hw: Any) -> _OnDevice:
    """The :class:`_OnDevice` of ``rp`` on ``hw`` (:func:`efficiency_rows` with the device's
    idle power fraction), once per resolved plan and device."""
    key = (id(rp), id(hw))
    hit = _DEVICE_PLANS.get(key)
    if hit is not None and hit[0] is rp and hit[1] is hw:
        return hit[2]
    dev = device_facts(hw)
    pk = peaks(dev, rp)
    rows = (
        *efficiency_rows(rp.eff, rp.plan),
        ("idle_power_fraction", dev.idle_fraction, dev.idle_source),
    )
    on = _OnDevice(dev, pk, rates(pk, dev.bandwidth, rp.eff), rows)
    _DEVICE_PLANS.put(key, (rp, hw, on))
    return on


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
    dev, pk, r, efficiencies = _on_device(rp, hw)
    BW = dev.bandwidth
    rows: list[OpTiming] = []
    t = time_ops(low.ops, pk, BW, rp.eff, rows, r=r)
    compute_s, memory_s, overhead_s = t.compute, t.memory, t.overhead
    flops, nbytes = t.flops, t.bytes
    achievable = compute_s + memory_s + overhead_s
    P, P_sparse = pk.gemm, pk.sparse

    m = low.memory
    memory = _new(
        MemoryBreakdown,
        (m.weights, m.kv_cache, m.activations, m.gradients, m.optimizer, dev.capacity),
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
    power = None
    if dev.tdp is not None:
        u = busy_fraction(flops, nbytes, achievable, P_sparse, BW)
        power = device_power_W(dev.tdp, u, dev.idle_fraction)
    # the fields of SolveResult, in their order
    result = new_result(
        spec.id,
        hw.id,
        phase,
        batch,
        seq_len,
        rp.activations,
        rp.weights,
        rp.kv_cache,
        rp.sparse,
        rp.engine,
        rp.high,
        rp.attention_format,
        rp.weight_bits,
        feasible,
        wall,
        achievable,
        t.bound,
        compute_s,
        memory_s,
        overhead_s,
        low.units,
        low.unit,
        flops,
        low.model_flops,
        low.hardware_flops,
        nbytes,
        P_sparse,
        P,
        BW,
        power,
        memory,
        tuple(rows),
        efficiencies,
        rp.notes,
        spec,
        hw,
    )
    if strict and not feasible:
        result._require_feasible("latency")
    return result


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

    ``precision`` is the weights' format (by default the device's 16-bit float format: bf16,
    or fp16 where it has no bf16 rate; ``"int4"`` on a device without an int4 rate runs as
    W4A16 weight-only quantization — see :mod:`mlsysim.execution.plan`). Other plan options
    (``activations``, ``kv_cache``, ``gradients``, ``sparsity="2:4"``, ``recompute``,
    ``optimizer``, efficiency overrides such as ``kernel_overhead="3 us"`` or
    ``memory_efficiency=0.8``) are passed through to :class:`~mlsysim.execution.ExecutionPlan`,
    or pass ``plan=`` directly. Every argument is checked first
    (:mod:`mlsysim.solvers.arguments`): an unknown keyword, a bare number where a unit is
    needed, a value out of range or a model/hardware of the wrong type is a ConfigError naming
    it.

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
