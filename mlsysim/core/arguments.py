"""User-facing arguments: quantities with units, counts, fractions, choices and keywords.

What a caller passes to a plan or a solver (``kernel_overhead="3 us"``, ``batch=8``,
``memory_efficiency="72 %"``) is checked here once, at the boundary, and turned into a plain
number in root units (seconds, bytes, …) for the float hot paths. Every failure names the
argument, what it must be and how to fix it:

* a bare number where a unit is needed is a :class:`~mlsysim.core.exceptions.ConfigError`
  (``kernel_overhead=3`` could be seconds or microseconds); zero needs no unit;
* a quantity of the wrong dimension is a :class:`~mlsysim.core.exceptions.DimensionError`;
* a sign or range outside the allowed one, a non-integer count, a non-finite number or a value
  of the wrong type is a ``ConfigError``;
* an unknown keyword or choice is a ``ConfigError`` with did-you-mean suggestions.

The formulas check their own arguments (:mod:`mlsysim.core.formulas._args`, raising
``FormulaDomainError``); this module is for configuration: plans, solver keywords, options.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from mlsysim.core.exceptions import ConfigError, DimensionError, MlsysimError, suggest

__all__ = ["check_keywords", "choice", "count", "fraction", "quantity"]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(x: float, name: str, where: str) -> float:
    if not math.isfinite(x):
        raise ConfigError(
            f"{name} must be a finite number, got {x!r}",
            where=where,
            fix=f"pass a finite {name}",
        )
    return x


def _read(value: Any, dim: str, name: str, where: str, *, shown: str, noun: str, fix: str) -> float:
    """``value`` in root units of ``dim``; a wrong dimension is a DimensionError naming the
    argument (its dimension written ``shown``), unreadable text a ConfigError (``noun``: what
    it should have been)."""
    from mlsysim.core.units import si

    try:
        return si(value, dim, name)
    except DimensionError as exc:
        raise DimensionError.for_argument(
            name, str(value), exc.left_dim, shown, where=where
        ) from None
    except MlsysimError as exc:
        raise ConfigError(
            f"{name}: cannot read {value!r} as {noun}",
            where=where,
            why=exc.why or exc.what,
            fix=fix,
        ) from None


def quantity(
    value: Any,
    dim: str,
    name: str,
    where: str,
    *,
    example: str,
    minimum: float | None = 0.0,
    positive: bool = False,
) -> float:
    """``value`` (a Quantity or a quantity string of dimension ``dim``) in root units.

    A bare number is refused unless it is zero (the same in every unit): ``example`` (e.g.
    ``"3 us"``) shows the caller what to write. ``minimum``/``positive`` bound the result.
    """
    if isinstance(value, bool) or value is None:
        raise ConfigError(
            f"{name} must be a quantity of {dim} such as {example!r}, got {value!r}",
            where=where,
            fix=f"pass {name}={example!r}",
        )
    if _is_number(value):
        if value != 0:
            raise ConfigError(
                f"{name} needs a unit: it is a {dim}, and the bare number {value!r} could be "
                "in any unit",
                where=where,
                why="mlsysim never guesses the unit of a number",
                fix=f"write the unit, e.g. {name}={example!r} (or a Quantity: Q_(3, 'us'))",
            )
        x = 0.0
    else:
        fix = f"write a number followed by a unit, e.g. {name}={example!r}"
        x = _read(value, dim, name, where, shown=dim, noun=f"a {dim}", fix=fix)
    x = _finite(x, name, where)
    if positive and x <= 0.0:
        raise ConfigError(
            f"{name} must be positive, got {value!r}",
            where=where,
            fix=f"pass a positive {dim}, e.g. {name}={example!r}",
        )
    if minimum is not None and x < minimum:
        bound = "negative" if minimum == 0 else f"below {minimum:g} (root units)"
        raise ConfigError(
            f"{name} must not be {bound}, got {value!r}",
            where=where,
            fix=f"pass a {'non-negative ' if minimum == 0 else ''}{dim}, e.g. {name}={example!r}",
        )
    return x


def fraction(
    value: Any,
    name: str,
    where: str,
    *,
    low: float = 0.0,
    high: float = 1.0,
    low_open: bool = True,
    example: str = "0.8",
) -> float:
    """A dimensionless fraction in (low, high] (or [low, high]): a number, ``"80 %"`` or a
    dimensionless Quantity."""
    if isinstance(value, bool) or value is None:
        raise ConfigError(
            f"{name} must be a fraction, got {value!r}",
            where=where,
            fix=f"pass {name}={example}",
        )
    if _is_number(value):
        x = float(value)
    else:
        shown = "dimensionless (a fraction)"
        fix = f"pass a number such as {example} or a percentage such as '80 %'"
        x = _read(value, "dimensionless", name, where, shown=shown, noun="a fraction", fix=fix)
    x = _finite(x, name, where)
    below = x <= low if low_open else x < low
    if below or x > high:
        bracket = "(" if low_open else "["
        if high == float("inf"):  # an unbounded ratio (a load factor), not a fraction
            what, fix = f"a ratio of at least {low:g}", f"pass a ratio, e.g. {name}={example}"
        else:
            what = f"a fraction in {bracket}{low:g}, {high:g}]"
            fix = f"pass the achieved fraction, e.g. {name}={example}"
        raise ConfigError(f"{name} must be {what}, got {value!r}", where=where, fix=fix)
    return x


def count(value: Any, name: str, where: str, *, minimum: int = 1, dim: str = "") -> int:
    """A whole-number count ≥ ``minimum``: an int, or (when ``dim`` is given) a Quantity or
    quantity string of that dimension with a whole magnitude (``"8 sample"``). Booleans and
    fractional numbers are refused."""
    x: Any = value
    if dim and (isinstance(value, str) or hasattr(value, "_units")):
        from mlsysim.core.units import si

        try:
            converted = si(value, dim, name)
        except DimensionError as exc:
            raise DimensionError.for_argument(
                name, str(value), exc.left_dim, f"a count ({dim})", where=where
            ) from None
        except MlsysimError:
            converted = None
        if converted is not None and math.isfinite(converted) and converted.is_integer():
            x = int(converted)
    if isinstance(x, bool) or not isinstance(x, int) or x < minimum:
        raise ConfigError(
            f"{name} must be a whole number ≥ {minimum}, got {value!r}",
            where=where,
            fix=f"pass {name}={max(minimum, 1)} or larger",
        )
    return x


def choice(value: Any, name: str, where: str, options: Iterable[str]) -> str:
    """One of ``options``; anything else is a ConfigError listing them (did-you-mean first)."""
    pool = tuple(options)
    if isinstance(value, str) and value in pool:
        return value
    close = suggest(str(value), pool) if isinstance(value, str) else []
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(
        f"unknown {name} {value!r}{hint}",
        where=where,
        why=f"allowed: {', '.join(pool)}",
        fix=f"pass {name}= one of {', '.join(repr(p) for p in pool)}",
    )


def check_keywords(
    given: Mapping[str, Any] | Iterable[str], allowed: Iterable[str], where: str
) -> None:
    """Raise a ConfigError for every keyword not in ``allowed`` (all named, with suggestions)."""
    known = tuple(allowed)
    unknown = [k for k in given if k not in known]
    if not unknown:
        return
    parts = []
    for k in unknown:
        close = suggest(k, known)
        parts.append(f"{k!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    noun = "keyword" if len(unknown) == 1 else "keywords"
    raise ConfigError(
        f"unknown {noun} {', '.join(parts)}",
        where=where,
        why=f"{where} takes: {', '.join(sorted(known))}",
        fix="check the spelling; each keyword is listed in the function's documentation",
    )
