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
  the kernel, each of which still costs the device ``KERNEL_NODE_TIME`` beyond its work
  (the engine's ``kernel_node``; none when the plan gives its own ``kernel_overhead``)
  (:func:`~mlsysim.core.formulas.exposed_launch_overhead`), synchronous ones (an
  MCU runtime) add to it; a CUDA graph adds its replay once per step
  (:func:`~mlsysim.core.formulas.graph_launch_overhead`).

Everything runs on floats (the formulas' fast paths) in the solvers; a sweep
(:mod:`mlsysim.solvers.sweeps.kernel`) passes operations whose counts are arrays and gets
arrays back, element-wise: :func:`time_op` is the one per-operation timing of both.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mlsysim.core.arrays import select
from mlsysim.core.formulas.kernels import exposed_overhead_s
from mlsysim.core.formulas.performance import launch_overhead_s
from mlsysim.core.formulas.roofline import roofline_time_s
from mlsysim.solvers.single_node.results import OpTiming
from mlsysim.workload.lowering.ops import GEMM_FORMAT, HIGH_FORMAT

__all__ = ["Peaks", "Rates", "Timed", "peaks", "rates", "time_op", "time_ops"]


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


class Rates(NamedTuple):
    """What every op of a step is timed with: the device's peaks and bandwidth, and the
    engine's efficiencies applied to them (:func:`rates`)."""

    pk: Peaks
    BW: float
    BW_eff: float  # achievable bandwidth
    BW_q: float  # achievable bandwidth of weight-only quantized (dequantizing) kernels
    gemm: float
    attention: float
    elementwise: float
    t_launch: float
    overlap: bool
    node: float  # device time per kernel beyond its work (overlapped launches)


def rates(pk: Peaks, BW: float, eff: Any) -> Rates:
    """The :class:`Rates` of a device with peaks ``pk`` and bandwidth ``BW`` under engine
    efficiencies ``eff``."""
    BW_eff = BW * eff.memory
    BW_q = BW_eff * eff.quantized_memory
    return _new(
        Rates,
        (
            pk,
            BW,
            BW_eff,
            BW_q,
            eff.gemm,
            eff.attention,
            eff.elementwise,
            eff.kernel_overhead,
            eff.overlap,
            eff.kernel_node,
        ),
    )


def time_op(op: Any, r: Rates) -> tuple[float, float, float, bool]:
    """One lowered op (``op.repeat`` instances, float counts) timed at rates ``r`` as
    :func:`time_ops` times each: ``(ideal bound, achievable body, exposed launch overhead,
    whether the compute roof limits it)``."""
    rows: list[OpTiming] = []
    t = time_ops((op,), r.pk, r.BW, None, rows, False, r)
    return t.bound, t.compute + t.memory, t.overhead, rows[0].bound == "compute"


def time_ops(
    ops: Any,
    pk: Peaks,
    BW: float,
    eff: Any,
    rows: list[Any] | None = None,
    step: bool = True,
    r: Rates | None = None,
) -> Timed:
    """Time ``ops`` on a device with peaks ``pk``, bandwidth ``BW`` and engine efficiencies
    ``eff``: the roofline of each op under the engine (see the module doc). ``rows``, when
    given, receives one :class:`~mlsysim.solvers.single_node.results.OpTiming` per op (float ops):
    name, kind, repeat, FLOPs, bytes, ideal bound, achievable time, exposed overhead,
    limiting roof, peak, waves, kernels, dequantization. ``step`` adds the engine's
    once-per-step cost (a graph replay) to the overhead. ``r``: the :func:`rates` of ``pk``,
    ``BW`` and ``eff`` when the caller keeps them. Ops with array counts give array totals,
    element-wise."""
    if r is None:
        r = rates(pk, BW, eff)
    P_gemm, P_sparse, P_high, P_attention = r.pk
    _, BW, BW_eff, BW_q, eta_gemm, eta_attention, eta_other, t_launch, overlap, t_node = r
    compute: Any = 0.0
    memory: Any = 0.0
    overhead: Any = 0.0
    bound_total: Any = 0.0
    flops: Any = 0.0
    nbytes: Any = 0.0
    forward: Any = 0.0
    attention: Any = 0.0
    append = None if rows is None else rows.append
    for op in ops:
        name, kind, f, b, kernels, n, sparse, fmt, dequant, waves, passes = op
        # the peak of the op's math format (2:4 sparse GEMMs at the sparse rate)
        if fmt == GEMM_FORMAT:
            peak = P_sparse if sparse else P_gemm
        else:
            peak = P_high if fmt == HIGH_FORMAT else P_attention
        if kind == "gemm":
            peak_eff = peak * eta_gemm * waves
        else:
            peak_eff = peak * (eta_attention if kind == "attention" else eta_other) * waves
        t_body = roofline_time_s(f, b, peak_eff, BW_q if dequant else BW_eff)
        launch = launch_overhead_s(kernels, t_launch)
        # overlapped: the host's launches hide behind the kernels, the device's node time not
        t_over = (exposed_overhead_s(t_body, launch, kernels * t_node) if overlap else launch) * n
        t_bound = roofline_time_s(f, b, peak, BW) * n
        on_compute = t_body == f / peak_eff
        body = t_body * n
        if on_compute is True:  # floats: the solvers' hot path
            compute += body
        elif on_compute is False:
            memory += body
        else:  # arrays (a sweep): element-wise
            compute = compute + select(on_compute, body, 0.0)
            memory = memory + select(on_compute, 0.0, body)
        overhead += t_over
        bound_total += t_bound
        f_n = f * n
        b_n = b * n
        flops += f_n
        nbytes += b_n
        total = body + t_over
        forward += total / passes
        # attention's own kernel, or the unfused attention's score GEMM and softmax
        if kind == "attention" or (name[0] == "a" and name.startswith("attention")):
            attention += body
        if append is not None:
            roof = "compute" if on_compute else "memory"
            k_n = kernels * n
            row = (name, kind, n, f_n, b_n, t_bound, total, t_over, roof, peak, waves, k_n, dequant)
            append(_new(OpTiming, row))
    if step:
        overhead += eff.step_overhead
    return _new(Timed, (compute, memory, overhead, bound_total, flops, nbytes, forward, attention))
