"""The allow-list: what an expression may read and call on model objects, with checked arguments.

* **Readable** on a registry entry, one of its tables or a computed result: its declared data
  fields and properties (never methods, never ``_`` or ``model_`` names); on a quantity, only
  ``magnitude``.
* **Callable methods**: only those in :data:`METHODS`, each with a typed signature whose
  arguments are checked before the call (``H100.peak_flops("bf16")``). Anything else
  (``require``, ``to_json``, ``model_dump`` …) is refused with the list of what is available.
* **Functions** (formulas and the model functions of :mod:`~mlsysim.book.lang.names`): their
  arguments are bound to the function's own signature, and each value is checked — finite,
  not negative, whole where it is a count (:data:`COUNTS`, with upper limits), text short,
  never a list or a callable. So ``8.5`` GPUs, negative FLOPs and ``servers=1e9`` stop before
  any model code runs.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlsysim.book.lang.limits import MAX_COUNT, MAX_STRING
from mlsysim.book.lang.values import Fn, Method, View, describe, unwrap
from mlsysim.core.exceptions import NapkinError, UnknownNameError

__all__ = [
    "COUNTS",
    "METHODS",
    "Param",
    "call_help",
    "check_function_args",
    "check_method_args",
    "method_params",
    "parameter_names",
    "readable_names",
    "result_view",
]


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of an allow-listed method: name, kind, default, keyword-only."""

    name: str
    kind: str  # "text" | "bool" | "keywords" (any keyword: a choice, value-checked)
    default: Any = inspect.Parameter.empty
    keyword_only: bool = False


#: Allow-listed methods: (defining class as ``module.Class``, method name) -> parameters.
METHODS: dict[tuple[str, str], tuple[Param, ...]] = {
    ("mlsysim.hardware.registry.HardwareSpec", "peak_flops"): (
        Param("precision", "text", "bf16"),
        Param("sparse", "bool", False, keyword_only=True),
    ),
    ("mlsysim.hardware.registry.HardwareSpec", "precisions"): (
        Param("sparse", "bool", False, keyword_only=True),
    ),
    ("mlsysim.hardware.registry.MemorySpec", "level"): (Param("name", "text"),),
    # a simulation's choices: region="Quebec", duration_days=365, battery=11 Wh …
    ("mlsysim.sim.base.BaseSimulation", "evaluate"): (
        Param("choices", "keywords", None, keyword_only=True),
    ),
}

#: Arguments that are whole-number counts, with the largest value accepted. A formula whose
#: work grows with a count (the Erlang-C recursion over ``servers``) has a lower limit.
COUNTS: dict[str, int] = {
    name: MAX_COUNT
    for name in (
        "n",
        "nodes",
        "gpus_per_node",
        "devices",
        "stages",
        "microbatches",
        "microbatch",
        "interleave",
        "chunks",
        "tp",
        "pp",
        "dp",
        "cp",
        "ep",
        "zero",
        "zero_stage",
        "model_parallel",
        "batch",
        "seq_len",
        "context",
        "samples",
        "workers",
        "ops",
        "bits",
        "layers",
        "heads",
        "head_dim",
        "hidden",
    )
} | {"servers": 100_000, "keep": 1000}


def _key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@lru_cache(maxsize=256)
def method_params(cls: Any, name: str) -> tuple[Param, ...] | None:
    """The allow-listed parameters of method ``name`` on ``cls`` (or a base), else None."""
    for klass in cls.__mro__:
        params = METHODS.get((_key(klass), name))
        if params is not None:
            return params
    return None


@lru_cache(maxsize=256)
def readable_names(cls: Any) -> frozenset[str]:
    """Data fields, properties and allow-listed methods of a model or dataclass type."""
    from pydantic import BaseModel

    names: set[str] = set()
    if issubclass(cls, BaseModel):
        names |= set(cls.model_fields)
    elif dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls)}
    for klass in cls.__mro__:
        if klass is object or klass.__module__.startswith(("pydantic", "builtins")):
            continue
        for n, attr in vars(klass).items():
            if (
                isinstance(attr, property)
                or type(attr).__name__ == "cached_property"
                or (callable(attr) and method_params(cls, n) is not None)
            ):
                names.add(n)
    return frozenset(n for n in names if not n.startswith(("_", "model_")))


def _arg_error(what: str, label: str, fix: str = "") -> NapkinError:
    return NapkinError(what, where=label, fix=fix or "check the arguments of the call")


def check_method_args(
    method: Method, params: tuple[Param, ...], args: list[Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Bind and type-check the arguments of an allow-listed method call: the call's keyword
    arguments (every allow-listed parameter can be passed by name)."""
    label = method.label
    positional = [p for p in params if not p.keyword_only]
    open_keywords = any(p.kind == "keywords" for p in params)
    if len(args) > len(positional):
        raise _arg_error(
            f"{label}() takes at most {len(positional)} positional argument(s)",
            label,
            "name the arguments: " + ", ".join(p.name for p in params),
        )
    bound: dict[str, Any] = {p.name: a for p, a in zip(positional, args, strict=False)}
    by_name = {p.name: p for p in params}
    for key, value in kwargs.items():
        if key in bound:
            raise _arg_error(f"{label}() got {key!r} twice", label)
        if key not in by_name and not open_keywords:
            raise UnknownNameError(f"argument of {label}()", key, list(by_name))
        bound[key] = value
    missing = [
        p.name
        for p in params
        if p.name not in bound and p.default is inspect.Parameter.empty and p.kind != "keywords"
    ]
    if missing:
        raise _arg_error(f"{label}() needs {', '.join(missing)}", label)
    out = {key: unwrap(value) for key, value in bound.items()}
    for key, value in out.items():
        p = by_name.get(key)
        if p is None or p.kind == "keywords":
            _check_value(label, key, value)  # a choice: the checks of model arguments
        else:
            _check_kind(p, value, label)
    return out


def _check_kind(p: Param, value: Any, label: str) -> None:
    if p.kind == "bool" and not isinstance(value, bool):
        raise _arg_error(
            f"{p.name} of {label}() must be true or false, got {describe(value)}", label
        )
    if p.kind == "text" and (not isinstance(value, str) or len(value) > 40):
        raise _arg_error(
            f"{p.name} of {label}() must be short text, got {describe(value)}",
            label,
            f"write it in quotes, e.g. {p.name}={_example(p)}",
        )


def _example(p: Param) -> str:
    return f'"{p.default}"' if isinstance(p.default, str) else '"…"'


@lru_cache(maxsize=512)
def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def parameter_names(f: Fn) -> list[str]:
    """The names of ``f``'s parameters in order (empty when it has no signature)."""
    sig = _signature(f.fn)
    return list(sig.parameters) if sig is not None else []


def check_function_args(f: Fn, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Bind a function call to the function's signature and check every value.

    Returns the bound arguments by name (for the derivation). NapkinError naming the
    argument when a value is not something the model takes.
    """
    sig = _signature(f.fn)
    bound: dict[str, Any]
    if sig is None:
        bound = {f"arg{i}": a for i, a in enumerate(args)} | kwargs
    else:
        try:
            ba = sig.bind(*args, **kwargs)
        except TypeError as exc:
            names = [p for p in sig.parameters if not p.startswith("_")]
            err = NapkinError(
                f"{f.name}() cannot take these arguments",
                why=str(exc).replace(f.fn.__name__ + "()", f.name + "()"),
                fix=_misspelled(kwargs, names) + call_help(f, names),
            )
            unknown = [k for k in kwargs if k not in sig.parameters]
            err.argument = unknown[0] if unknown else None  # type: ignore[attr-defined]
            raise err from None
        bound = dict(ba.arguments)
        extra = [k for k, p in sig.parameters.items() if p.kind is p.VAR_KEYWORD]
        for name in extra:
            bound.update(bound.pop(name, {}))
    for name, value in bound.items():
        try:
            _check_value(f.name, name, value)
        except NapkinError as exc:
            exc.argument = name  # type: ignore[attr-defined]
            raise
    return bound


def call_help(f: Fn, names: list[str] | None = None) -> str:
    """How to call ``f``: a formula's signature and runnable example, else its parameters."""
    info = getattr(f.fn, "formula", None)
    if info is None:
        return f"{f.name}() takes " + ", ".join(names or ())
    from mlsysim.core.formulas.examples import EXAMPLES

    example = EXAMPLES.get(info.name)
    return f"write {info.signature()}" + (f", e.g. {example}" if example else "")


def _misspelled(kwargs: dict[str, Any], names: list[str]) -> str:
    """``did you mean precision?`` for keywords the function does not take."""
    from mlsysim.core.exceptions import suggest

    hints = []
    for key in kwargs:
        if key not in names:
            near = suggest(key, names, n=1)
            if near:
                hints.append(f"{near[0]}= (not {key}=)")
    return f"did you mean {', '.join(hints)}? " if hints else ""


def _check_value(fn: str, name: str, value: Any) -> None:
    from mlsysim.core.units import is_dimensionless, ureg

    v = unwrap(value)
    if isinstance(v, bool) or v is None:
        return
    if isinstance(v, str):
        if len(v) > MAX_STRING:
            raise NapkinError(f"{name} of {fn}() is too long", why=f"the limit is {MAX_STRING}")
        return
    magnitude: Any = None
    if isinstance(v, int | float):
        magnitude = v
    elif isinstance(v, ureg.Quantity):
        dimensionless = is_dimensionless(v)
        magnitude = v.to("").magnitude if dimensionless else v.magnitude
    elif isinstance(v, (tuple | list | dict, Fn | Method)) or callable(v):
        raise NapkinError(
            f"{describe(value)} cannot be passed as {name} of {fn}()",
            fix=f"pass a number, a quantity, text or a registry entry as {name}",
        )
    if magnitude is None:
        return  # a registry entry or a computed result
    if not isinstance(magnitude, int | float) or not math.isfinite(magnitude):
        raise NapkinError(f"{name} of {fn}() must be a finite number")
    if magnitude < 0:
        raise NapkinError(
            f"{name} of {fn}() must not be negative, got {_shown(v)}",
            why="the model's quantities (sizes, rates, times, counts) are never negative",
            fix=f"pass a non-negative {name}",
        )
    limit = COUNTS.get(name)
    if limit is not None and (isinstance(v, int | float) or is_dimensionless(v)):
        if magnitude != int(magnitude):
            raise NapkinError(
                f"{name} of {fn}() must be a whole number, got {_shown(v)}",
                why=f"{name} counts things (devices, layers, stages …)",
                fix=f"pass a whole {name}, e.g. {max(int(magnitude), 1)}",
            )
        if magnitude > limit:
            raise NapkinError(
                f"{name} of {fn}() is too large ({_shown(v)})",
                why=f"{name} is limited to {limit:,}",
            )


def _shown(v: Any) -> str:
    from mlsysim.core.units import fmt_quantity, ureg

    return fmt_quantity(v) if isinstance(v, ureg.Quantity) else f"{v:g}"


@lru_cache(maxsize=256)
def _has_fields(cls: Any) -> bool:
    from pydantic import BaseModel

    return issubclass(cls, BaseModel) or dataclasses.is_dataclass(cls)


def result_view(result: Any, label: str) -> Any:
    """A model result as the language sees it: a View when it has fields to read."""
    t = type(result)
    if t is float or t is int or t is str or t is bool:
        return result
    if _has_fields(t):  # type: ignore[arg-type]
        return View(result, None, "", label)
    return result
