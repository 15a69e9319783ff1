"""Why a distributed step's wall binds, and its derivation step by step with sources."""

from __future__ import annotations

from typing import Any

__all__ = ["explain", "why"]

_GB = 1e-9
_WORDS = {
    "compute": "compute",
    "memory_bandwidth": "memory bandwidth",
    "software_overhead": "software overhead (kernel launches)",
    "communication": "communication",
    "pipeline_bubble": "the pipeline bubble",
    "memory_capacity": "memory capacity",
}


def _t(x: float) -> str:
    if x >= 1.0:
        return f"{x:.4g} s"
    if x >= 1e-3:
        return f"{x * 1e3:.4g} ms"
    return f"{x * 1e6:.4g} us"


def _gb(x: float) -> str:
    return f"{x * _GB:.3g} GB"


def _split(r: Any) -> str:
    c = r.communication
    comm = ", ".join(
        f"{k.upper()} {_t(getattr(c, k + '_s'))}"
        for k in ("tp", "cp", "ep", "pp", "dp")
        if getattr(c, k + "_s") > 0.0
    )
    return (
        f"of the {_t(r.step_time_s)} step, compute-bound operations take {_t(r.compute_s)}, "
        f"memory-bound ones {_t(r.memory_s)}, kernel launches {_t(r.overhead_s)}, exposed "
        f"communication {_t(c.total_s)}"
        + (f" ({comm})" if comm else "")
        + f", the pipeline bubble {_t(r.bubble_s)} ({r.bubble_fraction * 100:.3g} % of the "
        f"step); {_t(c.overlapped_s)} of communication hides behind computation"
    )


def why(r: Any) -> str:
    """The binding wall of distributed result ``r`` in words and numbers."""
    m = r.memory
    if not r.feasible:
        return (
            f"memory capacity binds: each {r.hardware} needs {_gb(m.total_bytes)} (weights "
            f"{_gb(m.weights_bytes)}, gradients {_gb(m.gradients_bytes)}, optimizer "
            f"{_gb(m.optimizer_bytes)}, activations {_gb(m.activations_bytes)}, KV cache "
            f"{_gb(m.kv_cache_bytes)}) but holds {_gb(m.capacity_bytes)}, "
            f"{m.total_bytes / m.capacity_bytes:.2f}× too much, so no step time is given; "
            f"raise tp or pp, shard state with zero, recompute more, or lower the microbatch"
        )
    wall = _WORDS.get(r.binding_wall, r.binding_wall)
    return (
        f"{wall} binds: {_split(r)}; memory holds {_gb(m.total_bytes)} of "
        f"{_gb(m.capacity_bytes)} per device; MFU {r.mfu * 100:.3g} %"
    )


def _cite(ids: list[str]) -> str:
    from mlsysim.core.registry import catalog

    sources = catalog().sources
    shown = [sources[s].short() if s in sources else s for s in dict.fromkeys(i for i in ids if i)]
    return f"  [{'; '.join(shown)}]" if shown else ""


def explain(r: Any) -> str:
    """The derivation of ``r``, one line per step, each with its citations."""
    from mlsysim.systems.topology import resolve_system

    view = resolve_system(r.system, r.devices)
    lines = []
    fabrics = []
    for lk in (view.intra, view.inter):
        if lk is None:
            continue
        from mlsysim.systems.registry import Fabrics

        spec = Fabrics[lk.fabric]
        fabrics.append(
            (
                f"{lk.fabric}: {lk.bandwidth * _GB:.4g} GB/s per device and direction, "
                f"α = {lk.latency * 1e6:.3g} us, efficiency "
                + (f"{lk.efficiency:g}" if lk.efficiency_known else "unrecorded (1)"),
                [
                    spec.source_of("bandwidth_per_direction"),
                    spec.source_of("latency"),
                    spec.source_of("efficiency") if lk.efficiency_known else "",
                ],
            )
        )
    lines.append(f"system: {r.devices}× {r.hardware} on {r.nodes} node(s) of {r.system}")
    for text, ids in fabrics:
        lines.append(f"link: {text}{_cite(ids)}")
    lines.append(
        f"plan: tp={r.tp} pp={r.pp} dp={r.dp} cp={r.cp} ep={r.ep} sp={r.sp} zero={r.zero}, "
        f"{r.microbatches} micro-batch(es) of {r.microbatch}, schedule {r.schedule}"
        + (f" with {r.chunks} chunks" if r.chunks > 1 else "")
        + _cite(["narayanan2021", "korthikanti2022"])
    )
    for c in r.collectives:
        lines.append(
            f"collective: {c.name} ({c.op}, {c.algorithm}) of {c.size_bytes * 1e-6:.4g} MB "
            f"over {c.group_size} ranks on {c.nodes} node(s): {_t(c.time_per_call_s)} × "
            f"{c.calls:g} = {_t(c.total_s)}, exposed {_t(c.exposed_s)}"
            + _cite(["thakur2005", "sys_nccl_tuning_model"])
        )
    if r.phase == "training":
        lines.append(
            f"pipeline: T = (m + (p−1)/v)·t_mb with m={r.microbatches}, p={r.pp}, "
            f"v={r.chunks}; bubble {r.bubble_fraction * 100:.3g} % of the step"
            + _cite(["huang2019", "narayanan2021"])
        )
        lines.append(f"optimizer: {_t(r.optimizer_s)} per step on this rank's state shard")
    m = r.memory
    lines.append(
        f"memory per device: weights {_gb(m.weights_bytes)}, gradients "
        f"{_gb(m.gradients_bytes)}, optimizer {_gb(m.optimizer_bytes)}, activations "
        f"{_gb(m.activations_bytes)}, KV cache {_gb(m.kv_cache_bytes)} of "
        f"{_gb(m.capacity_bytes)}" + _cite(["rajbhandari2020", "korthikanti2022"])
    )
    if r.feasible:
        lines.append(
            f"step: {_t(r.step_time_s)} (ideal bound {_t(r.step_time_bound_s)}), "
            f"{r.tokens_per_step / r.step_time_s:.4g} tokens/s, MFU {r.mfu * 100:.3g} %, "
            f"HFU {r.hfu * 100:.3g} %" + _cite(["chowdhery2022"])
        )
    lines.append(f"binding wall: {why(r)}")
    lines += [f"note: {n}" for n in r.notes]
    return "\n".join(lines)
