"""Timing lowered operations on one device: the roofline per operation under an engine.

Both solvers time every operation here, so a single device and one rank of a parallel step
run the same physics (DESIGN.md §3, Williams et al. 2009):

* ideal: ``roofline_time_s(F, B, P, BW)`` — the device's peak for the operation's math format
  and its memory bandwidth, efficiency 1, no overhead: a bound no measurement may beat;
* achievable: ``roofline_time_s(F, B, P·η_kind·η_wave, BW·η_mem)`` with the engine's sourced
  efficiencies on the device (:mod:`mlsysim.hardware.engines`): ``η_kind`` by kind of
  operation and GEMM format, ``η_wave`` the operation's wave quantization
  (:func:`~mlsysim.core.formulas.gemm_wave_efficiency`), ``η_mem`` the memory efficiency
  (times ``quantized_memory`` for weight-only quantized kernels, which dequantize);
* launches: ``kernels × t_launch`` per instance; asynchronous and graph launches hide behind
  the kernel (:func:`~mlsysim.core.formulas.exposed_launch_overhead`), synchronous ones (an
  MCU runtime) add to it; a CUDA graph adds its replay once per step
  (:func:`~mlsysim.core.formulas.graph_launch_overhead`).

Everything runs on floats (the formulas' fast paths).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.formulas.kernels import exposed_overhead_s
from mlsysim.core.formulas.performance import launch_overhead_s, roofline_time_s
from mlsysim.workload.lowering.ops import GEMM_FORMAT, HIGH_FORMAT

__all__ = ["Peaks", "Timed", "peaks", "time_ops"]


class Peaks(NamedTuple):
    """The device's dense peaks (FLOP/s) for each format an operation's math may run in."""

    gemm: float
    sparse: float  # 2:4 sparse GEMMs (the dense peak when the plan is dense)
    high: float
    attention: float


def peaks(dev: Any, rp: Any) -> Peaks:
    """Peaks of device facts ``dev`` for resolved plan ``rp`` (every format was checked)."""
    P = dev.dense[rp.activations]
    return Peaks(
        P,
        dev.sparse[rp.activations] if rp.sparse else P,
        dev.dense[rp.high],
        dev.dense[rp.attention_format],
    )


class Timed(NamedTuple):
    """A list of operations timed: achievable time split by what limits it, the ideal bound,
    the executed FLOPs and bytes, the forward share (training) and the attention time."""

    compute: float
    memory: float
    overhead: float
    bound: float
    flops: float
    bytes: float
    forward: float
    attention: float

    @property
    def total(self) -> float:
        return self.compute + self.memory + self.overhead


_new = tuple.__new__  # NamedTuple construction without its Python-level __new__


def time_ops(
    ops: Any, pk: Peaks, BW: float, eff: Any, rows: list[Any] | None = None, step: bool = True
) -> Timed:
    """Time ``ops`` on a device with peaks ``pk``, bandwidth ``BW`` and engine efficiencies
    ``eff``. ``rows``, when given, receives one ``(op, t_bound, t_total, t_overhead, bound)``
    per op. ``step`` adds the engine's once-per-step cost (a graph replay) to the overhead."""
    roofline, launches, exposed = roofline_time_s, launch_overhead_s, exposed_overhead_s
    eta_g, eta_a, eta_e = eff.gemm, eff.attention, eff.elementwise
    eta_m = eff.memory
    BW_eff = BW * eta_m
    BW_q = BW_eff * eff.quantized_memory
    t_k = eff.kernel_overhead
    overlap = eff.overlap
    compute = memory = overhead = bound_total = flops = nbytes = forward = attention = 0.0
    for op in ops:
        f, b, n = op.flops, op.bytes, op.repeat
        kind = op.kind
        fmt = op.fmt
        if fmt == GEMM_FORMAT:
            peak = pk.sparse if op.sparse else pk.gemm
        elif fmt == HIGH_FORMAT:
            peak = pk.high
        else:
            peak = pk.attention
        eta = eta_g if kind == "gemm" else eta_a if kind == "attention" else eta_e
        peak_eff = peak * eta * op.waves
        t_body = roofline(f, b, peak_eff, BW_q if op.dequant else BW_eff)
        launch = launches(op.kernels, t_k)
        t_over = (exposed(t_body, launch) if overlap else launch) * n
        t_bound = roofline(f, b, peak, BW) * n
        body = t_body * n
        if t_body == f / peak_eff:
            compute += body
            limit = "compute"
        else:
            memory += body
            limit = "memory"
        overhead += t_over
        bound_total += t_bound
        flops += f * n
        nbytes += b * n
        forward += (body + t_over) / op.passes
        if kind == "attention" or op.name.startswith("attention"):
            attention += body
        if rows is not None:
            rows.append((op, t_bound, body + t_over, t_over, limit))
    if step:
        overhead += eff.step_overhead
    return _new(Timed, (compute, memory, overhead, bound_total, flops, nbytes, forward, attention))
