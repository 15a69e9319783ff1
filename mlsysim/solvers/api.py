"""``mlsysim.solve``: one entry point for one device and for many (DESIGN.md §7a).

``system`` is a device (``"A100"``: the single-node solver), a node (``"DGX_A100"``: its
accelerators, or ``devices`` of them on as many nodes as they fill, over the node's NICs,
non-blocking) or a cluster (``devices`` ≤ its size). Any parallel keyword — ``devices`` > 1,
``tp``, ``pp``, ``dp``, ``cp``, ``ep``, ``sp``, ``zero``, ``microbatch``, ``schedule``,
``chunks`` or ``overlap`` — or a node or cluster as the system selects the distributed
solver (:mod:`mlsysim.solvers.distributed.solver`); otherwise the single-node solver answers
(:mod:`mlsysim.solvers.single_node.solver`), with the same keywords and physics.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.constants import DEFAULT_RECOMPUTE
from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.execution.parallel import PARALLEL_KEYWORDS
from mlsysim.hardware.registry import HardwareSpec
from mlsysim.solvers import arguments
from mlsysim.solvers.single_node.solver import SingleNodeSolver, check, run
from mlsysim.systems.topology import lookup_system
from mlsysim.workload.registry import Models

__all__ = ["route", "serial", "solve"]

_ONE = SingleNodeSolver()


def solve(
    model: Any = None,
    system: Any = None,
    *,
    phase: str,
    batch: int = 1,
    seq_len: int | None = None,
    precision: str | None = None,
    devices: int | None = None,
    tp: int = 1,
    pp: int = 1,
    dp: int | None = None,
    cp: int = 1,
    ep: int = 1,
    sp: bool = False,
    zero: int = 0,
    microbatch: int = 1,
    schedule: str = "1f1b",
    chunks: int = 1,
    recompute: str = DEFAULT_RECOMPUTE,
    overlap: Any = True,
    plan: Any = None,
    strict: bool = False,
    hardware: Any = None,
    **plan_options: Any,
) -> Any:
    """Solve ``model`` on ``system`` — one device, a node or a cluster (see the module doc).

    ``batch`` is the global batch in sequences; ``dp`` defaults to devices / (tp·pp·cp).
    One device returns a :class:`~mlsysim.solvers.single_node.results.SolveResult` (``latency``,
    ``latency_bound``, ``memory``, ``binding_wall``, …); several return a
    :class:`~mlsysim.solvers.distributed.results.DistributedResult` (also ``step_time``,
    ``throughput``, ``mfu``, ``hfu``, ``memory`` per device, ``communication``,
    ``bubble_fraction``, ``explain()``). Plan options (``attention``, ``dropout``,
    ``kv_cache``, efficiencies, …) go to :class:`~mlsysim.execution.ExecutionPlan`.
    ``hardware=`` is accepted as another name for ``system`` (a device).
    """
    if hardware is None:
        one = serial(devices, tp, pp, dp, cp, ep, sp, zero, microbatch, schedule, chunks, overlap)
        spec, device = _model_and_system(model, system, plan, recompute)
        if one and (device is None or isinstance(device, HardwareSpec)):
            # no parallel keyword, on a device: straight to the single-node solver
            if plan is None and recompute != DEFAULT_RECOMPUTE:
                plan_options["recompute"] = recompute  # (the plan's default otherwise)
            checked = check(spec, device, phase, batch, seq_len, precision, plan, plan_options)
            return run(*checked, strict)
        # what route() answers for these arguments, without its keyword dictionaries
        parallel = (tp, pp, dp, cp, ep, sp, zero, microbatch, schedule, chunks, overlap)
        return _distributed()(
            spec, device, phase, batch, seq_len, precision, devices, parallel, recompute, plan,
            strict, plan_options,
        )  # fmt: skip
    single, keywords = route(
        model,
        system,
        phase=phase,
        batch=batch,
        seq_len=seq_len,
        precision=precision,
        devices=devices,
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
        recompute=recompute,
        overlap=overlap,
        plan=plan,
        strict=strict,
        hardware=hardware,
        **plan_options,
    )
    if single:
        return _ONE.solve(**keywords)
    from mlsysim.solvers.distributed.solver import solve_distributed

    return solve_distributed(**keywords)


#: :func:`mlsysim.solvers.distributed.solver.solve_parallel` once imported (the distributed solver
#: loads on the first parallel solve, not with ``mlsysim.solve``).
_SOLVE_PARALLEL: list[Any] = []


def _distributed() -> Any:
    if not _SOLVE_PARALLEL:
        from mlsysim.solvers.distributed.solver import solve_parallel

        _SOLVE_PARALLEL.append(solve_parallel)
    return _SOLVE_PARALLEL[0]


#: The keywords that make a step parallel when they differ from their defaults.
_PARALLEL = frozenset(PARALLEL_KEYWORDS)


def serial(
    devices: Any,
    tp: Any,
    pp: Any,
    dp: Any,
    cp: Any,
    ep: Any,
    sp: Any,
    zero: Any,
    microbatch: Any,
    schedule: Any,
    chunks: Any,
    overlap: Any,
) -> bool:
    """Whether the parallel keywords (:data:`~mlsysim.execution.parallel.PARALLEL_KEYWORDS`)
    all keep their defaults: one device, no parallelism."""
    return (
        devices in (None, 1)
        and tp == 1
        and pp == 1
        and dp in (None, 1)
        and cp == 1
        and ep == 1
        and sp is False
        and zero == 0
        and microbatch == 1
        and schedule == "1f1b"
        and chunks == 1
        and overlap is True
    )


def _model_and_system(model: Any, system: Any, plan: Any, recompute: str) -> tuple[Any, Any]:
    """The checked model spec and system spec (None stays None) of a solve."""
    if plan is not None and recompute != DEFAULT_RECOMPUTE:
        raise ConfigError(
            "pass either plan= or recompute=, not both",
            where="solve",
            fix="set recompute in the ExecutionPlan",
        )
    model = arguments.model(model)  # first: a model and a system given the wrong way round
    if system is None:
        return model, None
    try:
        return model, lookup_system(system)
    except UnknownNameError:
        if isinstance(system, str) and system in Models:
            raise ConfigError(
                f"{system!r} is not a system: it is a model id",
                where="solve",
                why="solve takes one model and the system (device, node or cluster) it runs on",
                fix="pass a device, node or cluster as the system, e.g. "
                f"solve({model.id!r}, 'A100')",
            ) from None
        raise


def route(
    model: Any = None,
    system: Any = None,
    *,
    plan: Any = None,
    recompute: str = DEFAULT_RECOMPUTE,
    hardware: Any = None,
    **keywords: Any,
) -> tuple[bool, dict[str, Any]]:
    """Check ``solve``'s arguments that choose the solver and say which answers: ``(True,
    keywords of the single-node solver)`` or ``(False, keywords of the distributed solver)``.
    ``keywords`` are the rest of ``solve``'s (phase, batch, the parallel degrees, plan
    options). A sweep routes once per structure and then runs whole arrays."""
    system = arguments.one_system(system, hardware, "solve")
    model, system = _model_and_system(model, system, plan, recompute)
    k = keywords.get
    one = serial(
        k("devices"),
        k("tp", 1),
        k("pp", 1),
        k("dp"),
        k("cp", 1),
        k("ep", 1),
        k("sp", False),
        k("zero", 0),
        k("microbatch", 1),
        k("schedule", "1f1b"),
        k("chunks", 1),
        k("overlap", True),
    )
    if one and (system is None or isinstance(system, HardwareSpec)):
        single = {n: v for n, v in keywords.items() if n not in _PARALLEL}
        if plan is None:
            single["recompute"] = recompute
        return True, {"model": model, "hardware": system, "plan": plan, **single}
    return False, {"model": model, "system": system, "plan": plan, "recompute": recompute,
                   **keywords}  # fmt: skip
