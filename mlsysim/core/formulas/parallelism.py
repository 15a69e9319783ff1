"""Pipeline parallelism: the schedule's step time (with its bubble), its in-flight
activations, and the model chunks of a one-layer-per-chunk split.

p pipeline stages, m micro-batches per step, v model chunks per device (the interleaved
schedule; v = 1 for GPipe and 1F1B). Each formula has a float fast path (``*_s``, ``*_n``).
"""

from __future__ import annotations

from typing import Any

from mlsysim.core.arrays import smaller
from mlsysim.core.exceptions import FormulaDomainError
from mlsysim.core.formulas._args import choice, count, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import from_si

__all__ = [
    "PIPELINE_SCHEDULES",
    "layer_chunks",
    "layer_chunks_n",
    "pipeline_inflight",
    "pipeline_inflight_s",
    "pipeline_time",
    "pipeline_time_s",
]

#: Pipeline schedules: GPipe (all forwards, then all backwards), 1F1B (PipeDream-Flush) and
#: interleaved 1F1B (v model chunks per device).
PIPELINE_SCHEDULES = ("gpipe", "1f1b", "interleaved")


def pipeline_time_s(
    microbatch_time: float, stages: float, microbatches: float, interleave: float = 1.0
) -> float:
    """Float fast path of :func:`pipeline_time`: s, p, m, v → seconds."""
    return (microbatches + (stages - 1.0) / interleave) * microbatch_time


@formula(
    symbol=r"T = \left(m + \frac{p - 1}{v}\right) t_{\mathrm{mb}}",
    substituted=(
        r"\left({{microbatches}} + \frac{ {{stages}} - 1}{ {{interleave}} }\right) "
        r"\cdot {{microbatch_time}}"
    ),
    sources=("huang2019", "narayanan2021"),
    citation="Huang et al. (2019), GPipe; Narayanan et al. (2021), interleaved 1F1B",
    result="time",
)
def pipeline_time(microbatch_time: Any, stages: Any, microbatches: Any, interleave: Any = 1) -> Any:
    """Time of one pipelined step: m micro-batches plus the (p−1)/v bubble, T = (m + (p−1)/v)·t.

    ``microbatch_time`` is one stage's forward plus backward of one micro-batch (all its v
    chunks). The bubble (p−1)/v·t is a fraction (p−1)/(v·m) of the ideal time, the same for
    GPipe and 1F1B; interleaving divides it by v. Sources: Huang et al. 2019; Narayanan et
    al. 2021.
    """
    where = "pipeline_time"
    t = positive(
        si(microbatch_time, "time", "microbatch_time"), "microbatch_time", where, strict=False
    )
    p = count(stages, "stages", where)
    m = count(microbatches, "microbatches", where)
    v = count(interleave, "interleave", where)
    T = pipeline_time_s(t, p, m, v)
    return from_si(T, "s")


def pipeline_inflight_s(
    stages: float, microbatches: float, interleave: float, schedule: str
) -> float:
    """Float fast path of :func:`pipeline_inflight` (element-wise on arrays of ``stages`` and
    ``microbatches``: a sweep)."""
    if schedule == "gpipe":
        return microbatches
    n = smaller(stages, microbatches)
    f_int = 1.0 + (stages - 1.0) / (stages * interleave) if interleave > 1.0 else 1.0
    n_fly = n * f_int
    return smaller(microbatches, n_fly) if interleave > 1.0 else n_fly


@formula(
    symbol=(
        r"n_{\mathrm{fly}} = \begin{cases} m & \text{GPipe} \\ \min\!\left(m, \min(p, m)\,"
        r"\left(1 + \frac{p - 1}{p\,v}\right)^{[v > 1]}\right) & \text{1F1B} \end{cases}"
    ),
    substituted=(
        r"\min\!\left({{microbatches}}, \min({{p_eff}}, {{microbatches}}) \cdot {{f_int}}\right)"
    ),
    sources=("huang2019", "narayanan2021", "korthikanti2022", "megatron_lm_schedules"),
    citation="Narayanan et al. (2021); Korthikanti et al. (2022), §4.2.3; Megatron-LM's "
    "interleaved schedule",
    result="dimensionless",
    expand=lambda a: {
        "p_eff": a["microbatches"] if a["schedule"] == "gpipe" else a["stages"],
        "f_int": 1 + (a["stages"] - 1) / (a["stages"] * a["interleave"])
        if a["interleave"] > 1 and a["schedule"] != "gpipe"
        else 1,
    },
)
def pipeline_inflight(
    stages: Any, microbatches: Any, interleave: Any = 1, schedule: str = "1f1b"
) -> float:
    """Micro-batches whose activations the first pipeline stage holds at its peak.

    GPipe runs every forward before any backward, so a stage holds all m; 1F1B starts the
    backward after p warm-up forwards, so the first stage holds min(p, m); the interleaved
    schedule holds 1 + (p−1)/(p·v) times more (Korthikanti et al. 2022), p + (p−1)/v: its
    first device runs 2(p−1) + (v−1)·p chunk forwards before its first backward — but never
    more than the step has, m·v (Megatron-LM runs every forward first when the warm-up
    would exceed them), so at most m. Multiply by one micro-batch's activations of the
    stage's L/p layers. Sources: Huang et al. 2019; Narayanan et al. 2021; Korthikanti et
    al. 2022; Megatron-LM, ``forward_backward_pipelining_with_interleaving``.
    """
    where = "pipeline_inflight"
    choice(schedule, "schedule", where, PIPELINE_SCHEDULES)
    p = count(stages, "stages", where)
    m = count(microbatches, "microbatches", where)
    v = count(interleave, "interleave", where)
    n = pipeline_inflight_s(p, m, v, schedule)
    return n


def layer_chunks_n(layers: float, stages: float) -> float:
    """Float fast path of :func:`layer_chunks`: L, p → v (whole or not: the caller checks)."""
    places = layers + 2.0
    return places / stages


@formula(
    symbol=r"v = \frac{L + 2}{p}",
    substituted=r"\frac{ {{layers}} + 2}{ {{stages}} }",
    sources=("dubey2024llama3",),
    citation="Dubey et al. (2024), The Llama 3 Herd of Models, §3.3.2",
    result="dimensionless",
)
def layer_chunks(layers: Any, stages: Any) -> float:
    """Model chunks per device of an interleaved pipeline whose chunks each hold one layer's
    place, the embedding and the loss taking one place each: v = (L + 2)/p.

    Llama 3's schedule (Dubey et al. 2024, §3.3.2) removes one transformer layer from the
    first and from the last stage, so that "the first model chunk on the first stage has
    only the embedding, and the last model chunk on the last stage has only output
    projection and loss calculation": a chunk is one layer's place, and 126 layers on 16
    stages give (126 + 2)/16 = 8 chunks per device (the first and last device 7 layers,
    the others 8). A FormulaDomainError when p does not divide L + 2. Source: Dubey et al.
    2024, §3.3.2.
    """
    where = "layer_chunks"
    L = count(layers, "layers", where)
    p = count(stages, "stages", where)
    v = layer_chunks_n(L, p)
    if v != int(v):
        raise FormulaDomainError(
            f"{L:g} layers + the embedding and the loss do not split into one-layer chunks "
            f"over {p:g} stages",
            where=where,
            why="each of the p stages holds v whole one-layer places, L + 2 = p·v",
            fix="pass a stage count dividing layers + 2",
        )
    return v
