"""The arguments every solver takes, checked once at the boundary: what, where, why, how to fix.

A solver's public function passes its arguments through these checks before any arithmetic,
so a mistake is a teaching error and never a wrong number:

* ``model``/``hardware``: a registry id or a spec object; anything else (a number, a spec of
  the other kind, ids swapped) is a :class:`~mlsysim.core.exceptions.ConfigError` that says so;
* ``phase``, ``batch``, ``seq_len``: a known phase and whole-number counts (``batch=8`` or
  ``"8 sample"``, ``seq_len=512`` or ``"512 token"``);
* keywords: an unknown keyword is a ConfigError with did-you-mean, e.g.
  ``kernel_overheads`` → ``kernel_overhead``; a solver adds its own keywords with ``extra``;
* dimensioned values (``kernel_overhead="3 us"``) and fractions are checked by the plan
  (:class:`~mlsysim.execution.ExecutionPlan`, through :mod:`mlsysim.core.arguments`): a bare
  number where a unit is needed is refused, naming the argument and its dimension.

Solvers built on these (the single-node solver; a distributed solver adds its parallelism
keywords through ``extra``) therefore reject the same mistakes with the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlsysim.core import arguments
from mlsysim.core.exceptions import ConfigError, UnknownNameError
from mlsysim.core.registry import generation
from mlsysim.execution.plan import PLAN_OPTIONS, ExecutionPlan
from mlsysim.hardware.registry import Hardware, HardwareSpec
from mlsysim.workload.registry import Models, ModelSpec

__all__ = [
    "PLAN_KEYWORDS",
    "SOLVE_KEYWORDS",
    "batch",
    "check_keywords",
    "hardware",
    "model",
    "one_system",
    "phase",
    "plan",
    "seq_len",
]

#: Keywords of :func:`mlsysim.solve` itself (besides model and hardware).
SOLVE_KEYWORDS = ("phase", "batch", "seq_len", "precision", "plan", "strict")
#: Plan options ``solve`` passes through to :class:`~mlsysim.execution.ExecutionPlan`
#: (``weights`` is spelled ``precision`` in ``solve``).
PLAN_KEYWORDS = tuple(k for k in PLAN_OPTIONS if k != "weights")


def one_system(system: Any, hardware: Any, where: str) -> Any:
    """The system given as ``system=`` or under its alias ``hardware=`` (never both)."""
    if hardware is None:
        return system
    if system is not None:
        raise ConfigError(
            "pass the system once: either system= or hardware=",
            where=where,
            fix="drop one of them",
        )
    return hardware


def check_keywords(options: Mapping[str, Any], where: str, extra: Iterable[str] = ()) -> None:
    """Refuse keywords that are neither solve keywords, plan options nor ``extra``."""
    for key in options:
        if key not in PLAN_KEYWORDS:
            arguments.check_keywords(options, (*SOLVE_KEYWORDS, *PLAN_KEYWORDS, *extra), where)
            return


#: Specs by (kind, id or alias) with the registry generation they were looked up under (a
#: warm solve by ids reads the registry once per name and generation).
_BY_NAME: dict[tuple[str, str], tuple[int, Any]] = {}
_BY_NAME_LIMIT = 1024


def _spec(
    value: Any, registry: Any, cls: type, what: str, other: Any, other_what: str, where: str
) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        key = (what, value)
        hit = _BY_NAME.get(key)
        g = generation()
        if hit is not None and hit[0] == g:
            return hit[1]
        try:
            spec = registry[value]
        except UnknownNameError as exc:
            if value in other:
                raise ConfigError(
                    f"{value!r} is not a {what}: it is a {other_what} id",
                    where=where,
                    why=f"{where} takes the model first and the hardware second",
                    fix=f"call {where}(model, hardware, ...), e.g. "
                    f"{where}('Llama2_7B', 'A100', phase='decode')",
                ) from None
            raise exc from None
        if len(_BY_NAME) >= _BY_NAME_LIMIT:
            _BY_NAME.clear()
        _BY_NAME[key] = (g, spec)
        return spec
    if value is None:
        raise ConfigError(
            f"{where} needs a {what}",
            where=where,
            fix=f"pass a registry id or spec, e.g. {where}('Llama2_7B', 'A100', "
            f"phase='decode') ({what} is missing)",
        )
    swapped = type(value).__name__ in ("ModelSpec", "HardwareSpec")
    raise ConfigError(
        f"{what} must be a registry id (str) or a {cls.__name__}, got "
        f"{type(value).__name__} {value!r}",
        where=where,
        why=f"{where} takes the model first and the hardware second" if swapped else "",
        fix=f"pass the {what}'s id, e.g. "
        + ("'Llama2_7B'" if what == "model" else "'A100'")
        + f", or mlsysim.{'Models' if what == 'model' else 'Hardware'}[id]",
    )


def model(value: Any, where: str = "solve") -> Any:
    """The ModelSpec for ``value`` (an id, alias or spec)."""
    if isinstance(value, ModelSpec):
        return value
    return _spec(value, Models, ModelSpec, "model", Hardware, "hardware", where)


def hardware(value: Any, where: str = "solve") -> Any:
    """The HardwareSpec for ``value`` (an id, alias or spec)."""
    if isinstance(value, HardwareSpec):
        return value
    return _spec(value, Hardware, HardwareSpec, "hardware", Models, "model", where)


def phase(value: Any, phases: Iterable[str], where: str = "solve") -> str:
    """One of ``phases`` (did-you-mean otherwise)."""
    if type(value) is str and value in phases:
        return value
    return arguments.choice(value, "phase", where, phases)


def batch(value: Any, where: str = "solve") -> int:
    """Sequences or samples per step: a whole number ≥ 1 (or ``"8 sample"``)."""
    if type(value) is int and value >= 1:
        return value
    return arguments.count(value, "batch", where, minimum=1, dim="sample")


def seq_len(value: Any, minimum: int, where: str = "solve") -> int:
    """Tokens per sequence: a whole number ≥ ``minimum`` (or ``"512 token"``)."""
    if type(value) is int and value >= minimum:
        return value
    return arguments.count(value, "seq_len", where, minimum=minimum, dim="token")


def plan(value: Any, where: str = "solve") -> ExecutionPlan:
    """An :class:`~mlsysim.execution.ExecutionPlan` passed as ``plan=``."""
    if isinstance(value, ExecutionPlan):
        return value
    raise ConfigError(
        f"plan must be an ExecutionPlan, got {type(value).__name__} {value!r}",
        where=where,
        fix="pass plan=mlsysim.execution.ExecutionPlan(...), or pass its options as keywords",
    )
