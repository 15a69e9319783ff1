"""A training run's inputs, checked and resolved: the tokens, the step, the failure study and
the checkpoint's writers.

The step comes from ``mlsysim.solve(..., phase="training")`` (the distributed solver when
``devices`` > 1); the failure study is a fleet study of :mod:`mlsysim.infra.reliability` (Kokolis
et al. 2024; Dubey et al. 2024); the checkpoint (weights + optimizer state) is written at the
storage's bandwidth for that many writers (:mod:`mlsysim.infra.storage`) by as many shards as
the parallelism splits it into. :mod:`.training` composes them into a run.
"""

from __future__ import annotations

import importlib
from typing import Any

from mlsysim.core.exceptions import ConfigError
from mlsysim.core.units import si
from mlsysim.infra.reliability import FailureStudies
from mlsysim.infra.storage import Storage
from mlsysim.solvers.run.ledger import fmt

__all__ = [
    "DEFAULT_STORAGE",
    "checkpoint_shards",
    "checkpoint_storage",
    "failure_study",
    "solve_step",
    "spec_params",
    "token_count",
]

#: Checkpoint storage assumed when none is given (stated in the result).
DEFAULT_STORAGE = "Meta_Tectonic"


def failure_study(reliability: Any, hw: Any, warnings: list[str]) -> Any:
    """The failure study whose rates the run uses: the one given (an id or a study), else the
    largest study of ``hw``, else the largest per-device study (with a warning)."""
    if reliability is not None:
        return FailureStudies[reliability] if isinstance(reliability, str) else reliability
    own = [s for s in FailureStudies if s.hardware == hw.id]
    if own:
        return max(own, key=lambda s: s.population)
    fallback = max((s for s in FailureStudies if s.per == "device"), key=lambda s: s.population)
    warnings.append(
        f"no failure study of {hw.id} in the registry: using {fallback.id} ({fallback.hardware}) "
        "rates; pass reliability= a study id to choose another"
    )
    return fallback


def token_count(tokens: Any) -> float:
    """The tokens to train on, a number ≥ 1 (a plain number or a Quantity in tokens)."""
    n = si(tokens, "token", "tokens") if hasattr(tokens, "units") else tokens
    if isinstance(n, bool) or not isinstance(n, int | float) or not n >= 1:
        raise ConfigError(
            f"tokens must be a positive number, got {tokens!r}",
            where="training_run",
            fix="e.g. tokens=300e9 or 300e9 token",
        )
    return float(n)


def spec_params(spec: Any) -> float:
    """Parameters of a model (float)."""
    return float(si(spec.params, "parameter", "params"))


def checkpoint_shards(devices: int, par: dict[str, Any]) -> int:
    """How many devices write a checkpoint in parallel: all with ZeRO, else tp × pp (each
    checked to be an integer from 1 to ``devices``)."""
    for name in ("tp", "pp"):
        v = par.get(name, 1)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1 or v > devices:
            raise ConfigError(
                f"{name} must be an integer from 1 to devices ({devices}), got {v!r}",
                where="training_run",
                fix=f"pass {name}=1 or a divisor of devices",
            )
    tp, pp = int(par.get("tp", 1)), int(par.get("pp", 1))
    if int(par.get("zero", 0) or 0) >= 1:
        return devices
    return min(devices, tp * pp)


def checkpoint_storage(storage: Any, nodes: int, assumptions: list[str]) -> tuple[str, float, str]:
    """(label, write bandwidth in B/s for ``nodes`` writers, source id)."""
    if storage is None:
        st = Storage[DEFAULT_STORAGE]
        assumptions.append(
            f"storage not given: checkpoints written to {st.name} "
            f"({st.write_bandwidth:~P} sustained)"
        )
    elif isinstance(storage, str):
        st = Storage[storage]
    elif hasattr(storage, "write_bandwidth_s"):
        st = storage
    else:
        bw = si(storage, "bandwidth", "storage")
        return f"storage {fmt(bw / 1e9, 'GB/s')} given", bw, "user"
    return st.id, st.write_bandwidth_s(nodes), st.source_of("write_bandwidth")


def solve_step(
    spec: Any,
    system: Any,
    devices: int,
    batch: int,
    seq_len: int | None,
    precision: str | None,
    recompute: str,
    par: dict[str, Any],
) -> Any:
    """One training step from ``mlsysim.solve`` (the distributed solver for devices > 1)."""
    solve = importlib.import_module("mlsysim").solve
    step = {"phase": "training", "batch": batch, "seq_len": seq_len}
    step |= {"precision": precision, "recompute": recompute}
    if devices == 1 and not any(par.get(k, d) != d for k, d in (("tp", 1), ("pp", 1))):
        return solve(spec, system, **step)
    try:
        return solve(spec, system, **step, devices=devices, **par)
    except (TypeError, ConfigError) as exc:
        raise ConfigError(
            f"tokens mode on {devices} devices needs the distributed solver",
            where="training_run",
            why=f"mlsysim.solve could not solve a {devices}-device step: {exc}",
            fix="pass duration= to account for a run from its reported wall time, or devices=1",
        ) from None
