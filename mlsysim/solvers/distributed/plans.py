"""A distributed solve's arguments, checked as ``solve()`` checks them: the target (model,
phase, system view, the model's facts), the parallel plan on the view's devices, the
execution plan resolved on its device, the batch's split into micro-batches and the plan
against the model's shape (:mod:`mlsysim.solvers.distributed.solver` runs them in that order; a
sweep, :mod:`mlsysim.solvers.sweeps.distributed`, runs each once per combination that reads
it). Plans are cached per what they are built from (a sweep must not accumulate)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from mlsysim.core.cache import DerivedCache
from mlsysim.core.exceptions import ConfigError
from mlsysim.execution import parallel
from mlsysim.execution.parallel import ParallelPlan
from mlsysim.execution.plan import ExecutionPlan, ResolvedPlan
from mlsysim.hardware.engines import engine_for, family_of
from mlsysim.solvers import arguments
from mlsysim.systems.topology import SystemView, resolve_system
from mlsysim.workload.lowering import PHASES, model_facts

__all__ = [
    "PARALLEL_KEYWORDS",
    "ParallelSettings",
    "check_shape",
    "parallel_plan",
    "plans",
    "resolved_plan",
    "seq_len_of",
    "split_batch",
    "target",
]

#: Sequence length used when none is given (as the single-node solver: 512, capped).
_DEFAULT_SEQ_LEN = 512

#: Entries each memo table keeps before it starts afresh (a sweep must not accumulate).
_CACHE_LIMIT = 4096


#: The keywords ``solve`` takes for a parallel step (besides the single-node ones).
PARALLEL_KEYWORDS = (*parallel.PARALLEL_KEYWORDS, "hardware")

_PLANS = DerivedCache("solvers.distributed.solver.plans")
_RESOLVED = DerivedCache("solvers.distributed.solver.resolved_plans")
_PARALLEL = DerivedCache("solvers.distributed.solver.parallel_plans")


class ParallelSettings(NamedTuple):
    """The parallel keywords of one solve as given (``None`` for dp: devices / (tp·pp·cp)),
    passed as one object through the checks, the plans and a sweep's runner; checked by
    :func:`parallel_plan`. Hashable when its values are: a cache key."""

    tp: Any = 1
    pp: Any = 1
    dp: Any = None
    cp: Any = 1
    ep: Any = 1
    sp: Any = False
    zero: Any = 0
    microbatch: Any = 1
    schedule: Any = "1f1b"
    chunks: Any = 1
    overlap: Any = True

    @classmethod
    def of(cls, keywords: Mapping[str, Any]) -> ParallelSettings:
        """The settings among ``keywords`` (a solve's), each missing one at its default."""
        get = keywords.get
        return _new(cls, [get(name, default) for name, default in _SETTINGS])


#: (name, default) of each parallel setting.
_SETTINGS = tuple(ParallelSettings._field_defaults.items())
_new = tuple.__new__  # NamedTuple construction without its Python-level __new__


def _resolve(hw: Any, plan: ExecutionPlan, phase: str, family: str) -> ResolvedPlan:
    # by the plan's identity first (the cached plans of _execution_plan: no dataclass hash),
    # then by its value (an equal plan built anew)
    key = (id(hw), id(plan), phase, family)
    hit = _RESOLVED.get(key)
    if hit is not None and hit[0] is hw and hit[1] is plan:
        return hit[2]
    equal = (id(hw), plan, phase, family)
    hit = _RESOLVED.get(equal)
    if hit is not None and hit[0] is hw:
        rp = hit[2]
    else:
        rp = plan.resolve(hw, engine_for(hw, phase, family, plan.engine))
    if len(_RESOLVED) > _CACHE_LIMIT:
        _RESOLVED.clear()
    _RESOLVED.put(equal, (hw, plan, rp))
    _RESOLVED.put(key, (hw, plan, rp))
    return rp


def _execution_plan(
    precision: str | None, recompute: str, options: dict[str, Any]
) -> ExecutionPlan:
    key = (precision, recompute, tuple(sorted(options.items())) if options else ())
    try:
        plan = _PLANS.get(key)
    except TypeError:  # an unhashable option value: let the plan say what is wrong with it
        return ExecutionPlan(weights=precision, recompute=recompute, **options)
    if plan is None:
        plan = ExecutionPlan(weights=precision, recompute=recompute, **options)
        if len(_PLANS) > _CACHE_LIMIT:
            _PLANS.clear()
        _PLANS.put(key, plan)
    return plan


def _parallel_plan(devices: int, settings: ParallelSettings) -> ParallelPlan:
    # each value's type is part of the key: True == 1 == 1.0 as numbers, not as meanings
    # (overlap=1.0 is a fraction, zero=True is refused)
    key: tuple[Any, ...] | None = (devices, settings, tuple(map(type, settings)))
    try:
        hit = _PARALLEL.get(key)
    except TypeError:  # an unhashable value: the checks below say what is wrong with it
        hit, key = None, None
    if hit is not None:
        return hit
    tp, pp, dp, cp, ep, sp, zero, microbatch, schedule, chunks, overlap = settings
    if isinstance(overlap, bool):
        ov, frac = overlap, 0.0
    elif isinstance(overlap, int | float):
        ov, frac = True, float(overlap)
    else:
        raise ConfigError(
            f"overlap must be True, False or a fraction in [0, 1], got {overlap!r}",
            where="solve",
            fix="pass overlap=True (default), overlap=False, or e.g. overlap=0.5",
        )
    for name, value in (("tp", tp), ("pp", pp), ("cp", cp)):
        if type(value) is int and value >= 1:  # (bool is not int's type: refused below)
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f"{name} must be an integer ≥ 1, got {value!r}",
                where="solve",
                fix=f"pass {name}=1 or a larger whole number",
            )
    mp = tp * pp * cp
    if dp is None:
        if devices % mp:
            raise ConfigError(
                f"devices={devices} is not a multiple of tp·pp·cp = {tp}·{pp}·{cp} = {mp}",
                where="solve",
                why="the data-parallel degree dp = devices / (tp·pp·cp) must be whole",
                fix=f"pass devices as a multiple of {mp}, or change tp, pp or cp",
            )
        dp = devices // mp
    elif isinstance(dp, int) and not isinstance(dp, bool) and mp * dp != devices:
        raise ConfigError(
            f"tp·pp·cp·dp = {tp}·{pp}·{cp}·{dp} = {mp * dp} ≠ devices={devices}",
            where="solve",
            why="every device holds one rank of every parallel dimension",
            fix=f"pass dp={devices // mp} (or leave dp unset: devices / (tp·pp·cp))"
            if devices % mp == 0
            else f"pass devices={mp * dp}, or change the degrees",
        )
    par = ParallelPlan(
        tp=tp,
        pp=pp,
        dp=dp,
        cp=cp,
        ep=ep,
        sp=sp,
        zero=zero,
        microbatch=microbatch,
        schedule=schedule,
        chunks=chunks,
        overlap=ov,
        tp_overlap=frac,
    )
    if par.dp % par.ep:
        raise ConfigError(
            f"ep={ep} must divide dp={par.dp}",
            where="solve",
            why="expert-parallel groups are carved out of the data-parallel replicas",
            fix=f"pass ep dividing {par.dp}, or raise dp",
        )
    if key is not None:
        if len(_PARALLEL) > _CACHE_LIMIT:
            _PARALLEL.clear()
        _PARALLEL.put(key, par)
    return par


def seq_len_of(seq_len: int | None, facts: Any, phase: str) -> int:
    if seq_len is None:
        return min(_DEFAULT_SEQ_LEN, facts.max_seq_len)
    if (
        isinstance(seq_len, bool)
        or not isinstance(seq_len, int)
        or seq_len < (0 if phase == "decode" else 1)
    ):
        raise ConfigError(
            f"seq_len must be a whole number of tokens, got {seq_len!r}",
            where="solve",
            fix="pass e.g. seq_len=2048",
        )
    return seq_len


def target(
    model: Any, system: Any, phase: str, devices: int | None, settings: ParallelSettings
) -> tuple[Any, str, SystemView, Any]:
    """The model spec, the phase, the system view and the model's facts, checked (a single
    device refuses ``settings`` that need several)."""
    spec = arguments.model(model)
    phase = arguments.phase(phase, PHASES)
    view = resolve_system(system, devices)
    tp, pp, cp, ep, dp = settings.tp, settings.pp, settings.cp, settings.ep, settings.dp
    if view.kind == "device" and (tp * pp * cp > 1 or (dp or 1) > 1 or ep > 1):
        raise ConfigError(
            f"{view.id} is one device: tp={tp}, pp={pp}, cp={cp}, ep={ep}, dp={dp} need several",
            where="solve",
            fix="pass a node (e.g. 'DGX_H100') or a cluster as the system, with devices=N",
        )
    facts = model_facts(spec)
    if facts.kind != "transformer":
        raise ConfigError(
            f"{spec.id} is a {facts.kind} model: the distributed solver lowers transformers",
            where="solve",
            fix="solve it on one device, or pick a transformer model",
        )
    return spec, phase, view, facts


def plans(
    spec: Any,
    facts: Any,
    view: SystemView,
    phase: str,
    settings: ParallelSettings,
    precision: str | None,
    recompute: str,
    plan: ExecutionPlan | None,
    plan_options: dict[str, Any],
) -> tuple[ParallelPlan, ResolvedPlan]:
    """The parallel plan and the execution plan resolved on the system's device, checked."""
    if phase == "decode" and facts.task != "llm":
        raise ConfigError(
            f"{spec.id} is an {facts.task} model: it has no decode phase",
            where="solve",
            fix="use phase='inference' or 'training'",
        )
    par = _parallel_plan(view.devices, settings)
    return par, resolved_plan(facts, view, phase, precision, recompute, plan, plan_options)


def parallel_plan(view: SystemView, settings: ParallelSettings) -> ParallelPlan:
    """The parallel plan of ``settings`` on ``view``'s devices, checked (:func:`plans`'
    first part)."""
    return _parallel_plan(view.devices, settings)


def resolved_plan(
    facts: Any,
    view: SystemView,
    phase: str,
    precision: str | None,
    recompute: str,
    plan: ExecutionPlan | None,
    plan_options: dict[str, Any],
) -> ResolvedPlan:
    """The execution plan resolved on ``view``'s device, checked (:func:`plans`' second
    part: it reads no parallel degree)."""
    if plan is None:
        plan = _execution_plan(precision, recompute, plan_options)
    elif precision is not None or plan_options:
        raise ConfigError(
            "pass either plan= or precision/plan options, not both",
            where="solve",
            fix="put the precision and options into the ExecutionPlan",
        )
    phase_l = "prefill" if phase == "inference" else phase
    return _resolve(view.hardware, plan, phase_l, family_of(facts.task))


def split_batch(par: ParallelPlan, batch: int, training: bool) -> tuple[int, int]:
    """Micro-batches per step and the micro-batch size of global ``batch`` (checked)."""
    if training:
        return par.microbatches(batch), par.microbatch
    if batch % par.dp:
        raise ConfigError(
            f"batch {batch} does not split over dp={par.dp} replicas",
            where="solve",
            why="batch is the global batch in sequences; each data-parallel replica serves "
            "a whole share of it",
            fix=f"pass a batch that is a multiple of {par.dp} (e.g. batch={par.dp}), or "
            f"fewer devices, or split the model (tp/pp) instead",
        )
    per_replica = batch // par.dp
    mb = min(par.microbatch, per_replica) if par.pp > 1 else per_replica
    if per_replica % mb:
        raise ConfigError(
            f"{per_replica} sequences per replica do not split into micro-batches of {mb}",
            where="solve",
            fix="pass a microbatch dividing batch / dp",
        )
    return per_replica // mb, mb


def check_shape(spec: Any, facts: Any, par: ParallelPlan, s: int, m: int, training: bool) -> None:
    """The plan against the model's shape and context (raises ConfigError)."""
    par.check_model(
        spec.id,
        heads=facts.heads,
        kv_heads=facts.kv_heads,
        layers=facts.layers,
        experts=facts.experts,
        seq_len=s,
        microbatches=m,
        training=training,
    )
    if s > facts.max_seq_len:
        raise ConfigError(
            f"seq_len {s} exceeds {spec.id}'s maximum context of {facts.max_seq_len} tokens",
            where="solve",
            fix=f"pass seq_len ≤ {facts.max_seq_len}",
        )
