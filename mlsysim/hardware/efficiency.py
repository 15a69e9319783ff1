"""What executing on a device costs beyond the roofline: the rows a result reports, and the
sourced figures that are not an engine's.

The ideal roofline (``latency_bound``) uses no efficiency: efficiency 1, no overhead — a lower
bound no measurement may beat. The *achievable* latency runs at the efficiencies of the
execution engine on the device's class, sourced in ``hardware/data/engines.toml``
(:mod:`mlsysim.hardware.engines`): GEMM, attention and element-wise fractions of peak, memory
efficiency (and the share of it dequantizing kernels keep), the launch cost per kernel and per
step, and the GEMM tile of the wave model. An :class:`~mlsysim.execution.ExecutionPlan` may
override the GEMM, attention and memory fractions and the launch cost per solve.

Figures here:

* :data:`KERNEL_OVERHEAD` — NVIDIA Developer Forums (2022): launching a kernel from the host
  costs about 3 µs on recent hardware and software (the asynchronous engines' per-kernel
  cost; NCCL's collectives pay it too, :mod:`mlsysim.systems.collectives`).
* :data:`FRAMEWORK_OP_OVERHEAD` — pytorch/pytorch issue 41383 (2020): the framework's cost
  of the simplest tensor operation without autograd, about 5 µs before any kernel runs (what
  a per-rank view in a list-form collective costs the host).
* :data:`POWER_MODEL` — Fan, Weber & Barroso (2007): power grows linearly from idle to peak
  with utilisation (:func:`~mlsysim.core.formulas.device_power`); idle is the device's
  measured ``power_idle`` where its entry gives one, else 1/6 of its TDP
  (``ACCELERATOR_IDLE_POWER_FRACTION``, Jouppi et al. 2017), and peak its TDP. ``power_min``,
  the lowest configurable power limit, is not idle power.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FRAMEWORK_OP_OVERHEAD", "KERNEL_OVERHEAD", "POWER_MODEL", "Sourced", "efficiency_rows"]


@dataclass(frozen=True, slots=True)
class Sourced:
    """A documented default: a value (SI units), its unit, citation id and how it was chosen."""

    name: str
    value: float
    unit: str
    source: str
    note: str


KERNEL_OVERHEAD = Sourced(
    "kernel_overhead",
    3.0e-6,
    "s",
    "solver_nvidia_forum_launch2022",
    "host launch of a kernel about 3 us on recent GPUs and CUDA",
)
FRAMEWORK_OP_OVERHEAD = Sourced(
    "framework_op_overhead",
    5.0e-6,
    "s",
    "engine_pytorch_op_overhead",
    "PyTorch's simplest tensor operation without autograd: about 5 us of Python and ATen "
    "dispatch before any kernel runs",
)
POWER_MODEL = Sourced(
    "power_model",
    1.0,
    "",
    "fan2007",
    "P = TDP * (f_idle + (1 - f_idle) * u); f_idle = power_idle / TDP or 1/6 (Jouppi 2017)",
)

#: (result row name, Efficiencies field, ExecutionPlan override field or "")
_ROWS = (
    ("gemm_efficiency", "gemm", "gemm_efficiency"),
    ("attention_efficiency", "attention", "attention_efficiency"),
    ("elementwise_efficiency", "elementwise", ""),
    ("memory_efficiency", "memory", "memory_efficiency"),
    ("quantized_memory_efficiency", "quantized_memory", ""),
    ("kernel_overhead", "kernel_overhead", "kernel_overhead"),
    ("step_overhead", "step_overhead", ""),
)


def efficiency_rows(eff: Any, plan: Any) -> tuple[tuple[str, float, str], ...]:
    """``(name, value, citation id)`` of every efficiency a solve ran at: the engine's sourced
    figure on the device, or ``"user"`` where the plan overrides it."""
    out = []
    for name, field, override in _ROWS:
        value = getattr(eff, field)
        source = eff.source_of(field)
        if override and getattr(plan, override) is not None:
            source = "user"
        out.append((name, value, source))
    return tuple(out)
