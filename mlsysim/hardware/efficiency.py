"""Sourced default efficiencies and overheads of the single-node solver.

The ideal roofline (``latency_bound``) uses none of these: efficiency 1, no overhead — a lower
bound no measurement may beat. The *achievable* latency divides each operation's compute time
by the efficiency of its kind, its memory time by :data:`MEMORY_EFFICIENCY`, and adds
:data:`KERNEL_OVERHEAD` per kernel launch. Every figure carries the citation id of its source
(``core/data/solver_sources.toml``); an :class:`~mlsysim.execution.ExecutionPlan` may override
them per solve.

How each value was chosen from its source:

* :data:`GEMM_EFFICIENCY` — Dao (2023) §1: optimized GEMMs reach 80–90 % of the theoretical
  maximum throughput; we take the low end, as the solver's GEMMs include skinny shapes.
* :data:`ATTENTION_EFFICIENCY` — Dao (2023): FlashAttention-2's forward pass reaches 50–73 %
  of A100 peak; we take the low end (short sequences, causal masking).
* :data:`MEMORY_EFFICIENCY` — premAI (2024): batch-1 decode of Llama-2-7B fp16 on A100-80GB,
  a purely bandwidth-bound workload, achieved 54–72 % of HBM bandwidth end to end across
  engines; we take the best engine's 72 % as the kernels' achievable fraction (launch overhead
  is added separately, so the achievable estimate stays conservative). A streaming
  microbenchmark reaches ~88–90 % on the same device; decode kernels do not.
* :data:`KERNEL_OVERHEAD` — NVIDIA Developer Forums (2022): launching a null kernel costs about
  3 µs on recent hardware and software, the floor of every kernel's time.
* :data:`POWER_MODEL` — Fan, Weber & Barroso (2007): power grows linearly from idle to peak
  with utilisation (:func:`~mlsysim.core.formulas.device_power`); idle is the device's
  measured ``power_idle`` where its entry gives one, else 1/6 of its TDP
  (``ACCELERATOR_IDLE_POWER_FRACTION``, Jouppi et al. 2017), and peak its TDP. ``power_min``,
  the lowest configurable power limit, is not idle power.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "ATTENTION_EFFICIENCY",
    "DEFAULTS",
    "GEMM_EFFICIENCY",
    "KERNEL_OVERHEAD",
    "MEMORY_EFFICIENCY",
    "POWER_MODEL",
    "Efficiencies",
    "Sourced",
    "efficiencies",
]


@dataclass(frozen=True, slots=True)
class Sourced:
    """A documented default: a value (SI units), its unit, citation id and how it was chosen."""

    name: str
    value: float
    unit: str
    source: str
    note: str


GEMM_EFFICIENCY = Sourced(
    "gemm_efficiency",
    0.80,
    "",
    "solver_dao2023_flashattention2",
    "optimized GEMMs reach 80-90% of peak; low end taken",
)
ATTENTION_EFFICIENCY = Sourced(
    "attention_efficiency",
    0.50,
    "",
    "solver_dao2023_flashattention2",
    "FlashAttention-2 forward reaches 50-73% of A100 peak; low end taken",
)
MEMORY_EFFICIENCY = Sourced(
    "memory_efficiency",
    0.72,
    "",
    "solver_premai2024_benchmarks",
    "best measured fraction of HBM bandwidth in batch-1 LLM decode (54-72% across engines)",
)
KERNEL_OVERHEAD = Sourced(
    "kernel_overhead",
    3.0e-6,
    "s",
    "solver_nvidia_forum_launch2022",
    "null-kernel launch overhead about 3 us on recent GPUs and CUDA",
)
POWER_MODEL = Sourced(
    "power_model",
    1.0,
    "",
    "fan2007",
    "P = TDP * (f_idle + (1 - f_idle) * u); f_idle = power_idle / TDP or 1/6 (Jouppi 2017)",
)

#: Every default by name (what ``mlsysim solve --json`` and the explainers cite).
DEFAULTS: dict[str, Sourced] = {
    s.name: s for s in (GEMM_EFFICIENCY, ATTENTION_EFFICIENCY, MEMORY_EFFICIENCY, KERNEL_OVERHEAD)
}


class Efficiencies(NamedTuple):
    """The efficiencies a solve runs at: the plan's overrides, else the sourced defaults."""

    gemm: float
    attention: float
    memory: float
    kernel_overhead: float  # seconds per kernel launch

    def compute(self, kind: str) -> float:
        """The compute efficiency of an operation kind (1 for memory-bound kinds)."""
        return self.gemm if kind == "gemm" else self.attention if kind == "attention" else 1.0


def efficiencies(plan: Any) -> Efficiencies:
    """The efficiencies of ``plan`` (an ExecutionPlan): each override, or its sourced default."""
    t_k = KERNEL_OVERHEAD.value if plan.kernel_overhead is None else plan.kernel_overhead
    return Efficiencies(
        plan.gemm_efficiency or GEMM_EFFICIENCY.value,
        plan.attention_efficiency or ATTENTION_EFFICIENCY.value,
        plan.memory_efficiency or MEMORY_EFFICIENCY.value,
        t_k,
    )
