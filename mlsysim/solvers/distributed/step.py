"""The distributed step composed from one rank's timing: the one composition of a solve and
of a sweep.

:func:`compose_step` takes what the rank lowering and the collective pricing produced —
the slowest stage's :class:`~mlsysim.solvers.single_node.timing.Timed`, the communication of each
parallel dimension (:class:`CommParts`), the optimizer update, the micro-batch count, the
memory per device — and composes the step (the pipeline schedule and its bubble, what
communication is exposed and what overlaps — not for free: the computation beside an
overlapped collective loses the SMs its CTAs hold,
:func:`~mlsysim.core.formulas.overlap_compute_loss_s` — the optimizer step, the FLOPs, the
power, the memory fit and the binding wall; see :mod:`mlsysim.solvers.distributed.solver`). Every
input may be a float (``solve()``) or an array (``sweep()``: one element per
configuration); choices between values go through :mod:`mlsysim.core.arrays`, so both run
this code and agree element by element.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.arrays import is_array, larger, namespace, select, smaller
from mlsysim.core.constants.nccl import NCCL_COLLECTIVE_SMS
from mlsysim.core.formulas.communication import overlap_compute_loss_s
from mlsysim.core.formulas.parallelism import pipeline_time_s
from mlsysim.core.formulas.performance import busy_fraction
from mlsysim.core.formulas.sustainability import device_power_W

__all__ = ["PARTS", "CommParts", "Step", "compose_step"]

_N_COMM = NCCL_COLLECTIVE_SMS.value

#: The candidates for the binding wall besides memory capacity, in the order a tie keeps.
PARTS = ("compute", "memory_bandwidth", "software_overhead", "communication", "pipeline_bubble")


class CommParts(NamedTuple):
    """One micro-batch's (or step's) communication of each kind, seconds: all calls of the
    TP, CP and EP collectives and of ZeRO-3's per-micro-batch gathers (``z3``); the pipeline
    sends of a micro-batch and one of them (``pp_call``); the once-per-step data-parallel
    collectives that may hide behind the backward (``*_bwd``) or forward (``*_fwd``) pass."""

    tp: Any
    cp: Any
    ep: Any
    z3: Any
    pp: Any
    pp_call: Any
    dp_bwd: Any
    dp_fwd: Any
    edp_bwd: Any
    edp_fwd: Any


class Step(NamedTuple):
    """The composed step (floats, or arrays element-wise). ``wall`` indexes :data:`PARTS`
    (the binding wall where the step fits)."""

    step: Any
    bound: Any
    latency: Any
    latency_bound: Any
    tokens: Any
    model_flops: Any
    hardware_flops: Any
    flops: Any
    bubble: Any
    bubble_fraction: Any
    power: Any  # NaN where the device has no TDP
    tp_s: Any
    cp_s: Any
    ep_s: Any
    pp_s: Any
    dp_s: Any
    overlapped_s: Any
    compute_s: Any
    memory_s: Any
    overhead_s: Any
    optimizer_s: Any
    memory_total: Any
    feasible: Any
    wall: Any


_new = tuple.__new__  # NamedTuple construction without its Python-level __new__
_FLOAT = frozenset((float,))


def _ratio(a: Any, b: Any) -> Any:
    """``a / b`` where ``b > 0``, else 0 (element-wise)."""
    if type(b) is float:  # the solver's hot path
        return a / b if b > 0.0 else 0.0
    positive = b > 0.0
    return select(positive, a / select(positive, b, 1.0), 0.0)


def _wall(parts: tuple[Any, ...]) -> Any:
    """Index of the largest part (the first of equals), element-wise."""
    if set(map(type, parts)) <= _FLOAT or not any(map(is_array, parts)):  # (floats: a solve)
        return max(range(len(parts)), key=parts.__getitem__)
    xp = namespace(*parts)
    shape = next(x.shape for x in parts if is_array(x))
    stacked = xp.stack([xp.broadcast_to(xp.asarray(x, dtype=xp.float64), shape) for x in parts])
    return xp.argmax(stacked, axis=0)


def compose_step(
    t: Any,
    c: CommParts,
    opt: tuple[Any, Any, Any, Any] | None,
    m: Any,
    p: Any,
    v: Any,
    overlap: bool,
    tp_overlap: float,
    phase: str,
    batch: Any,
    seq_len: Any,
    dp: Any,
    flops: tuple[Any, Any, Any],
    memory: tuple[Any, Any, Any, Any, Any],
    dev: Any,
    P: Any,
) -> Step:
    """Compose the step of slowest-stage timing ``t`` (a Timed), communication ``c``, the
    optimizer update's ``(time, bound, FLOPs, bytes)`` (training), ``m`` micro-batches over
    ``p`` stages of ``v`` chunks, ``dp`` replicas; ``flops`` are one micro-batch's model,
    hardware and executed FLOPs over a replica, ``memory`` the (weights, gradients,
    optimizer, activations, KV cache) bytes per device of device facts ``dev`` at peak
    ``P``. Floats or arrays (see the module doc)."""
    ov = overlap
    training = phase == "training"
    total = t.compute + t.memory + t.overhead

    # per micro-batch: computation plus what sits on its critical path
    t_tp = c.tp
    tp_hidden = t_tp * tp_overlap if ov else 0.0
    t_cp = c.cp
    cp_hidden = smaller(t_cp, t.attention) if ov else 0.0
    t_ep = c.ep
    t_z3 = c.z3
    z3_hidden = smaller(t_z3, total) if ov else 0.0
    t_pp = c.pp
    pp_call = c.pp_call
    exposed_mb = (t_tp - tp_hidden) + (t_cp - cp_hidden) + t_ep + (t_z3 - z3_hidden)
    # a hidden collective's CTAs hold SMs the computation beside it loses (NCCL issue 689);
    # a device without an SM count keeps its overlap free, pipeline sends (2 CTAs) are left
    N_sm = dev.units
    if ov and N_sm:
        exposed_mb += overlap_compute_loss_s(tp_hidden + cp_hidden + z3_hidden, _N_COMM, N_sm)
    t_mb = total + exposed_mb + (0.0 if ov else t_pp)
    overlapped = m * (tp_hidden + cp_hidden + z3_hidden + (t_pp if ov else 0.0))

    opt_s = opt_bound = opt_flops = opt_bytes = 0.0
    dp_exposed = 0.0
    if training:
        T_pipe = pipeline_time_s(t_mb, p, m, v)
        bubble = T_pipe - m * t_mb
        # steady-state sends hide behind compute; fill and drain cannot hide theirs
        pp_exposed = 2.0 * (p - 1) * pp_call if ov else 0.0
        pp_report = pp_exposed if ov else m * t_pp
        backward = total - t.forward
        window_bwd = backward if ov else 0.0
        window_fwd = t.forward if ov else 0.0
        for sent, window in (
            (c.dp_bwd, window_bwd),
            (c.dp_fwd, window_fwd),
            (c.edp_bwd, window_bwd),
            (c.edp_fwd, window_fwd),
        ):
            if type(sent) is float and sent == 0.0:
                continue  # no such collective (adding its zeros changes nothing)
            dp_exposed += larger(0.0, sent - window)
            hidden = smaller(sent, window)
            overlapped += hidden
            if N_sm:
                dp_exposed += overlap_compute_loss_s(hidden, _N_COMM, N_sm)
        if opt is not None:
            opt_s, opt_bound, opt_flops, opt_bytes = opt
        step = T_pipe + pp_exposed + dp_exposed + opt_s
        bound = pipeline_time_s(t.bound, p, m, v) + opt_bound
        latency, latency_bound = step, bound
        tokens = batch * 1.0 * seq_len
    else:
        pp_exposed = pp_report = (p - 1) * pp_call  # a request crosses p − 1 stage boundaries
        latency = p * t_mb + pp_exposed
        latency_bound = p * t.bound
        step = (m + p - 1) * t_mb + pp_exposed
        bound = (m + p - 1) * t.bound
        bubble = (p - 1) * t_mb
        tokens = batch * 1.0 * (1 if phase == "decode" else seq_len)
    model_f, hardware_f, executed_f = flops
    model_flops = model_f * m * dp
    hardware_flops = hardware_f * m * dp
    executed = executed_f * m * dp
    bubble_frac = _ratio(bubble, step)
    # average device power over the step: the single-node solver's model —
    # device_power at device_utilization (Fan et al. 2007), the busier of compute and memory
    power: Any = float("nan")
    if dev.tdp is not None:
        busy = m * t.flops + opt_flops, m * t.bytes + opt_bytes
        positive = step > 0.0
        if positive is True:  # the solver's hot path
            u = busy_fraction(*busy, step, P, dev.bandwidth)
            power = device_power_W(dev.tdp, u, dev.idle_fraction)
        elif positive is not False:
            u = busy_fraction(*busy, select(positive, step, 1.0), P, dev.bandwidth)
            power = select(positive, device_power_W(dev.tdp, u, dev.idle_fraction), power)

    tp_s = m * (t_tp - tp_hidden)
    cp_s = m * (t_cp - cp_hidden)
    ep_s = m * t_ep
    dp_s = dp_exposed + m * (t_z3 - z3_hidden)
    w, g, o, a, kv = memory
    mem_total = w + g + o + a + kv
    feasible = mem_total <= dev.capacity
    compute_s = m * t.compute
    memory_s = m * t.memory + opt_s
    overhead_s = m * t.overhead
    comm_s = tp_s + cp_s + ep_s + pp_report + dp_s
    wall = _wall((compute_s, memory_s, overhead_s, comm_s, bubble))
    return _new(
        Step,
        (
            step,
            bound,
            latency,
            latency_bound,
            tokens,
            model_flops,
            hardware_flops,
            executed,
            bubble,
            bubble_frac,
            power,
            tp_s,
            cp_s,
            ep_s,
            pp_report,
            dp_s,
            overlapped,
            compute_s,
            memory_s,
            overhead_s,
            opt_s,
            mem_total,
            feasible,
            wall,
        ),
    )
