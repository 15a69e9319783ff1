"""``mlsysim.solve``: one entry point for one device and for many (DESIGN.md §7a).

``system`` is a device (``"A100"``: the single-node solver), a node (``"DGX_A100"``: its
accelerators, or ``devices`` of them on as many nodes as they fill, over the node's NICs,
non-blocking) or a cluster (``devices`` ≤ its size). Any parallel keyword — ``devices`` > 1,
``tp``, ``pp``, ``dp``, ``cp``, ``ep``, ``sp``, ``zero``, ``microbatch``, ``schedule``,
``chunks`` or ``overlap`` — or a node or cluster as the system selects the distributed
solver (:mod:`mlsysim.solvers.distributed`); otherwise the single-node solver answers
(:mod:`mlsysim.solvers.single_node`), with the same keywords and physics.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.constants import DEFAULT_RECOMPUTE
from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.hardware.registry import HardwareSpec
from mlsysim.solvers import arguments
from mlsysim.solvers.single_node import SingleNodeSolver
from mlsysim.systems.topology import lookup_system
from mlsysim.workload.registry import Models

__all__ = ["solve"]

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
    One device returns a :class:`~mlsysim.solvers.results.SolveResult` (``latency``,
    ``latency_bound``, ``memory``, ``binding_wall``, …); several return a
    :class:`~mlsysim.solvers.distributed_results.DistributedResult` (also ``step_time``,
    ``throughput``, ``mfu``, ``hfu``, ``memory`` per device, ``communication``,
    ``bubble_fraction``, ``explain()``). Plan options (``attention``, ``dropout``,
    ``kv_cache``, efficiencies, …) go to :class:`~mlsysim.execution.ExecutionPlan`.
    ``hardware=`` is accepted as another name for ``system`` (a device).
    """
    if hardware is not None:
        if system is not None:
            raise ConfigError(
                "pass the system once: either system= or hardware=",
                where="solve",
                fix="drop one of them",
            )
        system = hardware
    if plan is not None and recompute != DEFAULT_RECOMPUTE:
        raise ConfigError(
            "pass either plan= or recompute=, not both",
            where="solve",
            fix="set recompute in the ExecutionPlan",
        )
    model = arguments.model(model)  # first: a model and a system given the wrong way round
    if system is not None:
        try:
            system = lookup_system(system)
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
    parallel = (
        (devices is not None and devices != 1)
        or tp != 1
        or pp != 1
        or (dp is not None and dp != 1)
        or cp != 1
        or ep != 1
        or sp is not False
        or zero != 0
        or microbatch != 1
        or schedule != "1f1b"
        or chunks != 1
        or overlap is not True
    )
    if not parallel and (system is None or isinstance(system, HardwareSpec)):
        if plan is None:
            plan_options["recompute"] = recompute
        return _ONE.solve(
            model,
            system,
            phase=phase,
            batch=batch,
            seq_len=seq_len,
            precision=precision,
            plan=plan,
            strict=strict,
            **plan_options,
        )
    given = {
        "devices": devices,
        "tp": tp,
        "pp": pp,
        "dp": dp,
        "cp": cp,
        "ep": ep,
        "sp": sp,
        "zero": zero,
        "microbatch": microbatch,
        "schedule": schedule,
        "chunks": chunks,
        "overlap": overlap,
    }
    from mlsysim.solvers.distributed import solve_distributed

    return solve_distributed(
        model,
        system,
        phase=phase,
        batch=batch,
        seq_len=seq_len,
        precision=precision,
        recompute=recompute,
        plan=plan,
        strict=strict,
        **given,
        **plan_options,
    )
