"""Argument checks shared by the formulas: dimensions, counts, fractions and enumerations.

Each helper converts one argument to a float in root units (or a plain number) and raises an
mlsysim error naming the argument and the formula when it is the wrong kind of thing.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable
from typing import Any

from mlsysim.core import constants, units
from mlsysim.core.exceptions import (
    ConfigError,
    DimensionError,
    FormulaDomainError,
    MlsysimError,
    UnknownNameError,
)
from mlsysim.core.units import describe_dimension, fmt_quantity, is_dimensionless, ureg

__all__ = ["bytes_per_element", "choice", "count", "fraction", "positive", "rate", "si", "spec"]


def _locate(exc: MlsysimError, where: str) -> None:
    """Give an error without a location the formula's: ``where``, or the nearest public
    function up the stack (the formula that called a helper). Only on the error path."""
    if exc.where:
        return
    if not where:
        frame = sys._getframe(2)
        while frame.f_back is not None and (
            frame.f_code.co_name.startswith("_") or frame.f_globals.get("__name__") == __name__
        ):
            frame = frame.f_back
        where = frame.f_code.co_name
    exc.where = where
    exc.args = (exc.message,)


def si(value: Any, expected: str, name: str = "value", where: str = "") -> float:
    """:func:`mlsysim.core.units.si` for a formula's argument: a wrong value's error names
    the formula (``where``; by default the formula that called this)."""
    try:
        return units.si(value, expected, name, where)
    except MlsysimError as exc:
        _locate(exc, where)
        raise


def bytes_per_element(precision: str, where: str = "") -> float:
    """:func:`mlsysim.core.constants.bytes_per_element` for a formula's argument: an unknown
    precision's error names the formula (``where``; by default the formula that called this)."""
    try:
        return constants.bytes_per_element(precision)
    except MlsysimError as exc:
        _locate(exc, where)
        raise


def spec(value: Any, attribute: str, name: str, where: str, registry: str = "Models") -> Any:
    """``value.<attribute>`` of the registry entry a formula takes (a model's ``arch``, a
    device's ``peak_flops``), or a ConfigError naming the argument and the formula when
    ``value`` is something else (None, an id string, a number)."""
    found = getattr(value, attribute, None)
    if found is None:
        example = _EXAMPLE_ENTRY.get(registry, "...")
        raise ConfigError(
            f"{name} must be an entry of mlsysim.{registry}, got {type(value).__name__} "
            f"{value!r:.60}",
            where=where,
            why=f"the formula reads the entry's {attribute}",
            fix=f"pass the entry, e.g. mlsysim.{registry}[{example!r}] in Python, or its name "
            f"without quotes ({example}) in a napkin expression",
        )
    return found


#: An entry of each registry a formula takes, for the fix text.
_EXAMPLE_ENTRY = {"Models": "Llama2_7B", "Hardware": "H100"}


def count(value: Any, name: str, where: str, *, dim: str = "", minimum: float = 1) -> float:
    """A count (GPUs, layers, tokens, parameters): a number, or a Quantity of ``dim``.

    ``dim`` (e.g. ``"token"``, ``"parameter"``) lets authors write ``4096 token``. A Quantity
    is read through the cached per-unit checks (:func:`~mlsysim.core.units.is_dimensionless`,
    :func:`~mlsysim.core.units.si`), never pint's ``.dimensionless``/``.to``, which derive
    root units on every call.
    """
    if isinstance(value, ureg.Quantity):
        if is_dimensionless(value):
            x = units.si(value, "dimensionless", name, where)
        elif dim:
            x = units.si(value, dim, name, where)
        else:
            raise DimensionError.for_argument(
                name, fmt_quantity(value), describe_dimension(value), "a count", where=where
            )
    elif (isinstance(value, int | float) and not isinstance(value, bool)) or _real(value):
        x = float(value)
    else:
        raise FormulaDomainError(
            f"{name} must be a number, got {value!r}", where=where, fix=f"pass {name} as a number"
        )
    if not math.isfinite(x) or x < minimum:
        raise FormulaDomainError(
            f"{name} must be at least {minimum:g}, got {x:g}",
            where=where,
            why="the formula is defined only for such counts",
            fix=f"pass {name} ≥ {minimum:g}",
        )
    return x


def fraction(value: Any, name: str, where: str, *, low: float = 0.0, high: float = 1.0) -> float:
    """A dimensionless ratio within [low, high] (accepts ``95 %``)."""
    if isinstance(value, ureg.Quantity):
        if not is_dimensionless(value):
            raise DimensionError.for_argument(
                name, fmt_quantity(value), describe_dimension(value), "dimensionless", where=where
            )
        x = units.si(value, "dimensionless", name, where)
    elif (isinstance(value, int | float) and not isinstance(value, bool)) or _real(value):
        x = float(value)
    else:
        raise FormulaDomainError(
            f"{name} must be a number, got {value!r}",
            where=where,
            fix=f"pass {name} as a number between {low:g} and {high:g}",
        )
    if not (low <= x <= high):
        raise FormulaDomainError(
            f"{name} must be between {low:g} and {high:g}, got {x:g}",
            where=where,
            fix=f"pass {name} in [{low:g}, {high:g}]",
        )
    return x


def _real(value: Any) -> bool:
    """A real number that is not a bool (numpy's integer and float scalars included; numpy's
    bool is no Real)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive(x: float, name: str, where: str, *, strict: bool = True) -> float:
    """Check an already-converted float is positive (or non-negative)."""
    bad = x <= 0 if strict else x < 0
    if bad or math.isnan(x):
        word = "positive" if strict else "non-negative"
        raise FormulaDomainError(
            f"{name} must be {word}, got {x:g} (root units)",
            where=where,
            fix=f"pass a {word} {name}",
        )
    return x


def rate(value: Any, name: str, where: str) -> float:
    """An arrival/service rate: requests per time (``100 req/s``) or a frequency (``100 /s``)."""
    if isinstance(value, ureg.Quantity) and value.dimensionality == ureg.get_dimensionality(
        "1/[time]"
    ):
        return positive(units.si(value, "frequency", name, where), name, where)
    return positive(units.si(value, "request_rate", name, where), name, where)


def choice(value: str, name: str, where: str, options: Iterable[str]) -> str:
    """One of ``options`` (did-you-mean otherwise)."""
    pool = tuple(options)
    if value not in pool:
        raise UnknownNameError(
            name, str(value), pool, where=where, fix="use one of " + ", ".join(pool)
        )
    return value
