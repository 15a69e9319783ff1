"""Argument checks shared by the formulas: dimensions, counts, fractions and enumerations.

Each helper converts one argument to a float in root units (or a plain number) and raises an
mlsysim error naming the argument and the formula when it is the wrong kind of thing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from mlsysim.core.exceptions import DimensionError, FormulaDomainError, UnknownNameError
from mlsysim.core.units import describe_dimension, fmt_quantity, si, ureg

__all__ = ["choice", "count", "fraction", "positive", "rate", "si"]


def count(value: Any, name: str, where: str, *, dim: str = "", minimum: float = 1) -> float:
    """A count (GPUs, layers, tokens, parameters): a number, or a Quantity of ``dim``.

    ``dim`` (e.g. ``"token"``, ``"parameter"``) lets authors write ``4096 token``.
    """
    if isinstance(value, ureg.Quantity):
        if dim and not value.dimensionless:
            x = si(value, dim, name)
        elif value.dimensionless:
            x = float(value.to("").magnitude)
        else:
            raise DimensionError.for_argument(
                name, fmt_quantity(value), describe_dimension(value), "a count", where=where
            )
    elif isinstance(value, int | float) and not isinstance(value, bool):
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
        if not value.dimensionless:
            raise DimensionError.for_argument(
                name, fmt_quantity(value), describe_dimension(value), "dimensionless", where=where
            )
        x = float(value.to("").magnitude)
    elif isinstance(value, int | float) and not isinstance(value, bool):
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
        return positive(si(value, "frequency", name), name, where)
    return positive(si(value, "request_rate", name), name, where)


def choice(value: str, name: str, where: str, options: Iterable[str]) -> str:
    """One of ``options`` (did-you-mean otherwise)."""
    pool = tuple(options)
    if value not in pool:
        raise UnknownNameError(
            name, str(value), pool, where=where, fix="use one of " + ", ".join(pool)
        )
    return value
