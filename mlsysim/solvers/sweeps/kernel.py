"""The sweep kernel: the single-node solver's steps on whole arrays of batch and sequence length.

For one *structure* (model, device, phase and resolved execution plan) the single-node solver
(:mod:`mlsysim.solvers.single_node.solver`) is a fixed chain of float arithmetic over batch ``b``
and sequence length ``s``. This kernel runs the same chain on arrays ``b`` and ``s`` of equal shape:
the same lowering (:func:`~mlsysim.workload.lowering.lower`, which counts element-wise on arrays:
wave quantization, dequantizing kernels and expert load included), the same timing under the plan's
engine (:func:`~mlsysim.solvers.single_node.timing.time_ops`, one
:func:`~mlsysim.solvers.single_node.timing.time_op` per operation: the roofline, wave and
launch-overhead formulas), the same utilisation and power formulas, the same binding-wall rule — so
every element equals ``solve()`` at that point (the property test checks it). Choices between two
values go through :mod:`mlsysim.core.arrays` and the array API namespace of the inputs: numpy arrays
are computed at once, dask arrays build a graph that runs chunked.

:data:`SINGLE_COLUMNS` names what it returns: the float fields of a
:class:`~mlsysim.solvers.single_node.results.SolveResult` by the same names, the memory breakdown's
``*_bytes`` (``memory_bytes`` is the total), ``throughput`` (units/s), ``mfu`` and ``hfu``
(NaN where the step does not fit: ``solve()`` has no MFU there), ``feasible`` and the binding
wall as a code into :data:`WALLS`.
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.arrays import select
from mlsysim.core.formulas.performance import busy_fraction, peak_fraction
from mlsysim.core.formulas.sustainability import device_power_W
from mlsysim.hardware.facts import device_facts
from mlsysim.solvers.single_node.timing import peaks, time_ops
from mlsysim.workload.lowering import lower

__all__ = ["SINGLE_COLUMNS", "WALLS", "time_single"]

#: Binding walls, in the order of their codes in a sweep's ``binding_wall`` column.
WALLS = (
    "compute",
    "memory_bandwidth",
    "memory_capacity",
    "software_overhead",
    "communication",
    "pipeline_bubble",
)
_COMPUTE, _BANDWIDTH, _CAPACITY, _OVERHEAD = 0, 1, 2, 3

#: Float columns of a single-device point (besides the inputs, ``feasible`` and the wall).
SINGLE_COLUMNS = (
    "latency_s",
    "latency_bound_s",
    "compute_s",
    "memory_s",
    "overhead_s",
    "units_per_step",
    "flops_total",
    "model_flops",
    "hardware_flops",
    "bytes_total",
    "peak_flops_per_s",
    "dense_peak_flops_per_s",
    "bandwidth_bytes_per_s",
    "power_w",
    "weights_bytes",
    "kv_cache_bytes",
    "activations_bytes",
    "gradients_bytes",
    "optimizer_bytes",
    "memory_bytes",
    "capacity_bytes",
    "throughput",
    "mfu",
    "hfu",
)


def time_single(spec: Any, hw: Any, phase: str, rp: Any, b: Any, s: Any) -> dict[str, Any]:
    """Every column of ``solve(spec, hw, phase=…, batch=b, seq_len=s)`` under resolved plan
    ``rp``, element-wise over arrays ``b`` and ``s`` (``s`` is 0 for a model without a sequence).
    A column that does not depend on ``b`` or ``s`` may come back as a float."""
    low = lower(spec, phase, b, s, rp)
    dev = device_facts(hw)
    pk = peaks(dev, rp)
    P, P_sparse = pk.gemm, pk.sparse
    BW = dev.bandwidth
    t = time_ops(low.ops, pk, BW, rp.eff)
    compute_s, memory_s, overhead_s = t.compute, t.memory, t.overhead
    flops, nbytes, bound_total = t.flops, t.bytes, t.bound
    achievable = compute_s + memory_s + overhead_s

    m = low.memory
    total = m.weights + m.kv_cache + m.activations + m.gradients + m.optimizer
    feasible = total <= dev.capacity
    wall = select(
        feasible,
        select(
            (overhead_s > compute_s) & (overhead_s > memory_s),
            _OVERHEAD,
            select(compute_s > memory_s, _COMPUTE, _BANDWIDTH),
        ),
        _CAPACITY,
    )
    nan = float("nan")
    if dev.tdp is not None:
        u = busy_fraction(flops, nbytes, achievable, P_sparse, BW)
        power = device_power_W(dev.tdp, u, dev.idle_fraction)
    else:
        power = nan
    rate = low.units / achievable
    throughput = select(feasible, rate, nan)
    mfu = select(feasible, peak_fraction(rate, low.model_flops / low.units, P), nan)
    hfu = select(feasible, peak_fraction(rate, low.hardware_flops / low.units, P), nan)
    return {
        "latency_s": achievable,
        "latency_bound_s": bound_total,
        "compute_s": compute_s,
        "memory_s": memory_s,
        "overhead_s": overhead_s,
        "units_per_step": low.units,
        "flops_total": flops,
        "model_flops": low.model_flops,
        "hardware_flops": low.hardware_flops,
        "bytes_total": nbytes,
        "peak_flops_per_s": P_sparse,
        "dense_peak_flops_per_s": P,
        "bandwidth_bytes_per_s": BW,
        "power_w": power,
        "weights_bytes": m.weights,
        "kv_cache_bytes": m.kv_cache,
        "activations_bytes": m.activations,
        "gradients_bytes": m.gradients,
        "optimizer_bytes": m.optimizer,
        "memory_bytes": total,
        "capacity_bytes": dev.capacity,
        "throughput": throughput,
        "mfu": mfu,
        "hfu": hfu,
        "feasible": feasible,
        "binding_wall": wall,
    }
