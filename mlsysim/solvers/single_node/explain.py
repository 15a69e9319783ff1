"""Explanations of a solve: why the binding wall binds, a sourced derivation, and differences.

* :func:`why` — the binding wall in words and numbers: arithmetic intensity against the
  device's ridge point for compute/bandwidth, bytes against capacity for memory, kernel
  launches against work for software overhead.
* :func:`trace` — the derivation as :class:`TraceStep` s, each with the citation ids of the
  numbers it uses (registry fields via ``spec.source_of(field)``, solver literature and
  efficiency defaults); :func:`trace_text` renders it with short citations.
* :func:`diff` — what changed between two solves (A100→H100, batch 1→64, fp16→int4): which
  wall binds before and after, how each part of the time moved, and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlsysim.core.words import words

__all__ = ["Difference", "TraceStep", "diff", "trace", "trace_text", "why"]

_GB = 1e-9
_MS = 1e3
_WALL_WORDS = {
    "compute": "compute",
    "memory_bandwidth": "memory bandwidth",
    "memory_capacity": "memory capacity",
    "software_overhead": "software overhead (kernel launches)",
}


def _gb(x: float) -> str:
    return f"{x * _GB:.3g} GB"


def _ms(x: float) -> str:
    return f"{x * _MS:.3g} ms"


def _rate(x: float, unit: str) -> str:
    for scale, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.4g} {prefix}{unit}"
    return f"{x:.4g} {unit}"


def why(r: Any) -> str:
    """Why ``r.binding_wall`` binds, with the numbers that decide it."""
    m = r.memory
    if not r.feasible:
        over = m.total_bytes - m.capacity_bytes
        return (
            f"memory capacity binds: {r.model} {r.phase} needs {_gb(m.total_bytes)} "
            f"(weights {_gb(m.weights_bytes)}, KV cache {_gb(m.kv_cache_bytes)}, activations "
            f"{_gb(m.activations_bytes)}, gradients {_gb(m.gradients_bytes)}, optimizer "
            f"{_gb(m.optimizer_bytes)}) but {r.hardware} holds {_gb(m.capacity_bytes)}: "
            f"{_gb(over)} ({m.total_bytes / m.capacity_bytes:.2f}×) too much, so no latency is "
            f"given"
        )
    intensity = r.intensity_fpb
    ridge = r.ridge_fpb
    peak = _rate(r.peak_flops_per_s, "FLOP/s")
    bw = _rate(r.bandwidth_bytes_per_s, "B/s")
    split = (
        f"of the {_ms(r.latency_s)} achievable step, compute-limited operations take "
        f"{_ms(r.compute_s)}, memory-limited {_ms(r.memory_s)} and kernel launches "
        f"{_ms(r.overhead_s)}"
    )
    fill = f"memory holds {_gb(m.total_bytes)} of {_gb(m.capacity_bytes)}"
    if r.binding_wall == "software_overhead":
        kernels = sum(op.overhead_s for op in r.ops)
        return (
            f"software overhead binds: kernel launches cost {_ms(kernels)}, more than the "
            f"work itself; {split}; {fill}"
        )
    side = "below" if intensity < ridge else "above"
    lead = "compute binds" if r.binding_wall == "compute" else "memory bandwidth binds"
    return (
        f"{lead}: the step does {r.flops_total * 1e-9:.4g} GFLOP over {_gb(r.bytes_total)} "
        f"moved, an arithmetic intensity of {intensity:.3g} FLOP/B, {side} {r.hardware}'s "
        f"ridge point of {ridge:.3g} FLOP/B ({peak} {r.precision} / {bw}); {split}; "
        f"the ideal roofline bound is {_ms(r.latency_bound_s)}; {fill}"
    )


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One line of a derivation: what, the expression with numbers, and its citation ids."""

    label: str
    text: str
    sources: tuple[str, ...]


def trace(r: Any) -> list[TraceStep]:
    """The derivation of ``r`` step by step, each step with its sources."""
    hw, spec = r.hardware_spec, r.model_spec
    steps: list[TraceStep] = []

    def src(obj: Any, field: str) -> tuple[str, ...]:
        return (obj.source_of(field),) if obj is not None else ()

    peak_field = f"peak.{'sparse' if r.sparse else 'dense'}.{r.precision}"
    steps.append(
        TraceStep(
            "peak compute",
            f"P = {_rate(r.peak_flops_per_s, 'FLOP/s')} "
            f"({r.hardware}, {r.precision}{', 2:4 sparse' if r.sparse else ''})",
            src(hw, peak_field),
        )
    )
    steps.append(
        TraceStep(
            "memory bandwidth",
            f"BW = {_rate(r.bandwidth_bytes_per_s, 'B/s')}",
            src(hw, "memory.bandwidth"),
        )
    )
    steps.append(
        TraceStep(
            "memory capacity",
            f"capacity = {_gb(r.memory.capacity_bytes)}",
            src(hw, "memory.capacity"),
        )
    )
    arch = "transformer" if getattr(spec, "transformer", None) is not None else "params"
    steps.append(
        TraceStep(
            "model",
            f"{r.model}: weights {_gb(r.memory.weights_bytes)} in {r.weights_precision}",
            src(spec, "params") + src(spec, arch),
        )
    )
    if r.memory.kv_cache_bytes:
        steps.append(
            TraceStep(
                "KV cache",
                f"{_gb(r.memory.kv_cache_bytes)} in {r.kv_precision} "
                f"for batch {r.batch} × context {r.seq_len}",
                (*src(spec, arch), "pope2022"),
            )
        )
    if r.memory.optimizer_bytes:
        steps.append(
            TraceStep(
                "training state",
                f"gradients {_gb(r.memory.gradients_bytes)}, "
                f"optimizer {_gb(r.memory.optimizer_bytes)}, activations "
                f"{_gb(r.memory.activations_bytes)}",
                ("rajbhandari2020", "korthikanti2022"),
            )
        )
    steps.append(
        TraceStep(
            "work",
            f"F = {r.flops_total:.4g} FLOP, B = {r.bytes_total:.4g} B "
            f"over {len(r.ops)} lowered operations",
            ("kaplan2020",),
        )
    )
    steps.append(
        TraceStep(
            "ideal roofline",
            f"Σ max(F/P, B/BW) = {_ms(r.latency_bound_s)}",
            ("williams2009",),
        )
    )
    timing = [e for e in r.efficiencies if e[0] != "idle_power_fraction"]
    effs = ", ".join(f"{words(n)} {v:g}" for n, v, _ in timing)
    steps.append(
        TraceStep(
            "achievable",
            f"Σ max(F/(P·η), B/(BW·η_mem)) + kernels·t_launch = {_ms(r.latency_s)} ({effs})",
            tuple(dict.fromkeys(s for _, _, s in timing if s != "user")),
        )
    )
    if r.feasible:
        steps.append(
            TraceStep(
                "utilization",
                f"MFU = model FLOPs {r.model_flops:.4g} / ({_ms(r.latency_s)} × "
                f"{_rate(r.dense_peak_flops_per_s, 'FLOP/s')} dense peak) = {r.mfu:.3g}; "
                f"HFU (recomputation counted, {r.hardware_flops:.4g} FLOP) = {r.hfu:.3g}",
                ("chowdhery2022", "korthikanti2022"),
            )
        )
    if r.feasible and r.power_w is not None:
        idle = next((v for n, v, _ in r.efficiencies if n == "idle_power_fraction"), None)
        idle_src = tuple(s for n, _, s in r.efficiencies if n == "idle_power_fraction")
        steps.append(
            TraceStep(
                "energy",
                f"P = TDP·(f_idle + (1 − f_idle)·u) = {r.power_w:.4g} W (f_idle = {idle:.3g}); "
                f"{r.power_w:.4g} W × {_ms(r.latency_s)} = {r.power_w * r.latency_s:.4g} J "
                "per step",
                (*src(hw, "tdp"), "fan2007", *idle_src),
            )
        )
    steps.append(TraceStep("binding wall", why(r), ()))
    return steps


def trace_text(r: Any) -> str:
    """:func:`trace` as text, sources resolved to short citations where the catalog has them."""
    from mlsysim.core.registry import catalog

    sources = catalog().sources
    lines = []
    for step in trace(r):
        cites = "; ".join(sources[s].short() if s in sources else s for s in step.sources)
        lines.append(f"{step.label}: {step.text}" + (f"  [{cites}]" if cites else ""))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Difference:
    """How two solves differ: changed inputs, the binding walls, per-part time changes."""

    changed: tuple[tuple[str, Any, Any], ...]
    wall_before: str
    wall_after: str
    speedup: float | None  # latency before / after (None if either is infeasible)
    parts: tuple[tuple[str, float, float], ...]  # (part, seconds before, seconds after)
    text: str

    def __str__(self) -> str:
        return self.text


_INPUTS = (
    "model",
    "hardware",
    "phase",
    "batch",
    "seq_len",
    "weights_precision",
    "precision",
    "kv_precision",
    "sparse",
)


def diff(a: Any, b: Any) -> Difference:
    """Explain the move from solve ``a`` to solve ``b``: which wall moved and by how much."""
    changed = tuple(
        (k, getattr(a, k), getattr(b, k)) for k in _INPUTS if getattr(a, k) != getattr(b, k)
    )
    what = ", ".join(f"{k} {x}→{y}" for k, x, y in changed) or "no input changed"
    if not (a.feasible and b.feasible):
        state = {True: "fits", False: "does not fit"}
        text = (
            f"{what}: before {state[a.feasible]} ({_gb(a.memory.total_bytes)} of "
            f"{_gb(a.memory.capacity_bytes)}), after {state[b.feasible]} "
            f"({_gb(b.memory.total_bytes)} of {_gb(b.memory.capacity_bytes)}); binding wall "
            f"{a.binding_wall} → {b.binding_wall}"
        )
        return Difference(changed, a.binding_wall, b.binding_wall, None, (), text)
    parts = (
        ("compute", a.compute_s, b.compute_s),
        ("memory", a.memory_s, b.memory_s),
        ("overhead", a.overhead_s, b.overhead_s),
    )
    # latency per unit of work (token/sample) so that batch changes compare fairly
    per_a = a.latency_s / a.units_per_step
    per_b = b.latency_s / b.units_per_step
    step = a.latency_s / b.latency_s
    moved = max(parts, key=lambda p: abs(p[1] - p[2]))
    ia, ib = a.intensity_fpb, b.intensity_fpb
    ra, rb = a.ridge_fpb, b.ridge_fpb
    wall = (
        f"binding wall stays {_WALL_WORDS.get(a.binding_wall, a.binding_wall)}"
        if a.binding_wall == b.binding_wall
        else f"binding wall moves from {_WALL_WORDS.get(a.binding_wall, a.binding_wall)} to "
        f"{_WALL_WORDS.get(b.binding_wall, b.binding_wall)}"
    )
    text = (
        f"{what}: {wall}. Step latency {_ms(a.latency_s)} → {_ms(b.latency_s)} "
        f"({_ratio(step)}); per {a.unit} {per_a * _MS:.3g} → {per_b * _MS:.3g} ms "
        f"({_ratio(per_a / per_b)}). The largest move is {moved[0]} time "
        f"{_ms(moved[1])} → {_ms(moved[2])}. Arithmetic intensity {ia:.3g} → {ib:.3g} FLOP/B "
        f"against ridge {ra:.3g} → {rb:.3g} FLOP/B; bytes moved {_gb(a.bytes_total)} → "
        f"{_gb(b.bytes_total)}; memory {_gb(a.memory.total_bytes)} → {_gb(b.memory.total_bytes)}."
    )
    return Difference(changed, a.binding_wall, b.binding_wall, step, parts, text)


def _ratio(x: float) -> str:
    return f"{x:.3g}× faster" if x >= 1.0 else f"{1.0 / x:.3g}× slower"
