"""One unit registry for the whole package, with real ML-systems dimensions.

``ureg``/``Q_`` are built from ``units.txt`` (this package's own small vocabulary, see that
file). Quantities built here raise :class:`~mlsysim.core.exceptions.DimensionError` — which
names both quantities and their dimensions in words — whenever dimensions are mixed:

>>> Q_("1 GB") + Q_("1 USD")
Traceback (most recent call last):
...
mlsysim.core.exceptions.DimensionError: cannot add 1 GB (information) to 1 USD (currency)...

Speed: pint is used at the edges. :func:`si` converts a Quantity to an SI float after checking
its dimension once per distinct unit (the factor is cached), so formulas can run on floats and
wrap only their result (:func:`from_si`). The registry itself, its named dimensions in words
and the reader of unit text are in :mod:`~mlsysim.core.unit_registry` (importable from here).
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import Any

from mlsysim.core.exceptions import (
    DimensionError,
    MlsysimError,
    NapkinSyntaxError,
    UnknownNameError,
)
from mlsysim.core.unit_registry import DIMENSIONS as DIMENSIONS
from mlsysim.core.unit_registry import Q_ as Q_
from mlsysim.core.unit_registry import Quantity as Quantity
from mlsysim.core.unit_registry import describe_dimension as describe_dimension
from mlsysim.core.unit_registry import dimension_name, dimension_words, dimensionality
from mlsysim.core.unit_registry import fmt_quantity as fmt_quantity
from mlsysim.core.unit_registry import is_unit as is_unit
from mlsysim.core.unit_registry import unit_from_text as unit_from_text
from mlsysim.core.unit_registry import unit_name as unit_name
from mlsysim.core.unit_registry import unit_of as unit_of
from mlsysim.core.unit_registry import ureg as ureg
from mlsysim.core.unit_registry import written_digits as written_digits
from mlsysim.core.unit_text import parse_quantity_text

__all__ = [
    "DIMENSIONS",
    "Q_",
    "ROOT_UNITS",
    "Quantity",
    "as_quantity",
    "check_dimension",
    "convert",
    "describe_dimension",
    "fmt_quantity",
    "from_si",
    "is_dimensionless",
    "is_unit",
    "quantity_from_text",
    "si",
    "unit_from_text",
    "unit_name",
    "unit_of",
    "ureg",
    "written_digits",
]

#: Named dimensions used by typed fields and formula signatures: name -> pint dimensionality.


def quantity_from_text(text: str, *, name: str = "value", where: str = "") -> Any:
    """The Quantity written in ``text`` (``"3.35 TB/s"``, ``"80 GB"``, ``"0.5"``), strictly.

    A number, optional spaces and a unit, nothing else: no arithmetic (``"4 TB/s * 1e9"``), no
    parentheses, no ``nan``/``inf``. The digits as written are remembered
    (:func:`written_digits`). MlsysimError naming ``name`` otherwise.
    """
    try:
        number, unit, negative = parse_quantity_text(text)
        units = unit_of(unit, text) if unit is not None else ureg.dimensionless
    except (NapkinSyntaxError, UnknownNameError) as exc:
        raise MlsysimError(
            f"{name}: cannot read {text!r} as a quantity",
            where=where,
            why=exc.why or exc.what,
            fix=exc.fix or "write a number followed by a unit, e.g. '3.35 TB/s' or '80 GB'",
        ) from None
    magnitude = -number.value if negative else number.value
    if isinstance(magnitude, float) and not math.isfinite(magnitude):
        raise MlsysimError(
            f"{name}: {text!r} is not a finite number",
            where=where,
            fix="write the figure the source gives, e.g. '3.35 TB/s'",
        )
    q = ureg.Quantity(magnitude, units)
    q._written_digits = number.digits
    return q


@lru_cache(maxsize=2048)
def _dimensionless_units(units: Any) -> bool:
    return bool(ureg.Quantity(1, units).dimensionless)


def is_dimensionless(q: Any) -> bool:
    """Whether a Quantity of this registry is dimensionless (cached per unit: pint derives
    root units on every ``.dimensionless``)."""
    return _dimensionless_units(q._units)


def as_quantity(value: Any, *, name: str = "value", where: str = "", expected: str = "") -> Any:
    """Coerce a str (``"3.35 TB/s"``), number or Quantity to a Quantity of this registry.

    Text is read by :func:`quantity_from_text` (mlsysim's own grammar, never pint's parser);
    a real number (Python's or numpy's) is a dimensionless Quantity. Anything else (None, a
    list, a dict) is a DimensionError naming ``name``, ``where`` it was passed, what
    ``expected`` (a key of :data:`DIMENSIONS` or a dimensionality string) asks for, and how
    to write one.
    """
    if isinstance(value, ureg.Quantity):
        return value
    if isinstance(value, str):
        return quantity_from_text(value, name=name, where=where)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return Q_(value)
    if isinstance(value, ureg.Unit):
        hint = f"the unit {fmt_quantity(value)!r} without a number"
    else:
        hint = f"{type(value).__name__} {_short_repr(value)}"
    wanted, example = _wanted(expected)
    number, unit = example.split(" ", 1)
    fix = f"pass {name} as text with its unit ({example!r}) or a Quantity (Q_({number}, {unit!r}))"
    if not expected or expected == "dimensionless":
        fix += ", or a plain number for a dimensionless figure"
    raise DimensionError.not_a_quantity(name, hint, wanted, fix, where=where)


#: An example quantity of each named dimension, for error messages.
_EXAMPLES: dict[str, str] = {
    "time": "200 ms",
    "frequency": "1.41 GHz",
    "computation": "3.1e23 flop",
    "compute_rate": "989 TFLOP/s",
    "information": "80 GB",
    "bandwidth": "3.35 TB/s",
    "intensity": "295 flop/B",
    "power": "700 W",
    "energy": "1.2 kWh",
    "mass": "1 kg",
    "carbon": "5 tCO2e",
    "carbon_intensity": "400 gCO2e/kWh",
    "volume": "1.8 L",
    "water_intensity": "1.8 L/kWh",
    "currency": "2.5 USD",
    "price_per_energy": "0.0691 USD/kWh",
    "price_per_time": "2.5 USD/hour",
    "price_per_information": "0.02 USD/GB",
    "currency_eur": "2.5 EUR",
    "price_per_energy_eur": "0.089 EUR/kWh",
    "usd_per_eur": "1.08 USD/EUR",
    "parameter": "7e9 param",
    "token": "4096 token",
    "sample": "256 sample",
    "request_rate": "10 req/s",
    "length": "1 m",
}


def _wanted(expected: str) -> tuple[str, str]:
    """(what ``expected`` asks for in words, an example of it) for error messages."""
    example = _EXAMPLES.get(expected)
    if not expected or expected == "dimensionless":
        return "a number or a quantity", example or "3.35 TB/s"
    words = dimension_words(expected)
    if example is None:  # a dimensionality string: an example of a named dimension if one fits
        named = dimension_name(expected).replace(" ", "_")
        example = _EXAMPLES.get(named, "3.35 TB/s")
    return f"a quantity of {words}", example


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_dimension(value: Any, expected: str, *, name: str = "value", where: str = "") -> Any:
    """Return ``value`` as a Quantity after checking it has dimension ``expected``.

    ``expected`` is a key of :data:`DIMENSIONS` (``"bandwidth"``) or a pint dimensionality
    string (``"[information]/[time]"``). Raises DimensionError naming ``name``.
    """
    q = as_quantity(value, name=name, where=where, expected=expected)
    if q.dimensionality != dimensionality(expected):
        raise DimensionError.for_argument(
            name,
            fmt_quantity(q),
            describe_dimension(q),
            dimension_words(expected),
            where=where,
        )
    return q


_SI_CACHE: dict[tuple[Any, str], float] = {}

#: Root units of the registry: the units :func:`si` floats are expressed in.
ROOT_UNITS = "s, m, kg, B, flop, param, token, sample, request, USD, gCO2e (W, J derived)"


def si(value: Any, expected: str, name: str = "value", where: str = "") -> float:
    """Root-unit magnitude (float) of ``value`` after checking its dimension against ``expected``.

    Root units are :data:`ROOT_UNITS` (seconds, bytes, FLOP, joules, watts, USD, gCO2e…).
    The factor is cached per (unit, expected dimension), so after the first call for a unit
    this costs a dictionary lookup and a multiplication: the formulas' fast edge.
    """
    units = getattr(value, "_units", None)
    if units is not None:
        factor = _SI_CACHE.get((units, expected))
        if factor is None:
            q = check_dimension(value, expected, name=name, where=where)
            factor = float(ureg.Quantity(1.0, q.units).to_root_units().magnitude)
            _SI_CACHE[(units, expected)] = factor
        return float(value._magnitude) * factor
    q = check_dimension(value, expected, name=name, where=where)
    return si(q, expected, name, where)


_CONVERT_CACHE: dict[tuple[Any, Any], float] = {}


def convert(q: Any, target: Any) -> Any:
    """``q.to(target)`` with the factor cached per (unit, target) pair: the rendering fast path.

    The first conversion of a pair goes through pint (so a dimension mismatch raises
    DimensionError as usual); later ones are one multiplication.
    """
    source, dest = q._units, getattr(target, "_units", None)
    if dest is None:
        return q.to(target)
    if source == dest:
        return q
    factor = _CONVERT_CACHE.get((source, dest))
    if factor is None:
        factor = float(ureg.Quantity(1.0, q.units).to(target).magnitude)
        _CONVERT_CACHE[(source, dest)] = factor
    return ureg.Quantity(q._magnitude * factor, target)


@lru_cache(maxsize=256)
def _unit(unit: str) -> Any:
    return unit_from_text(unit)


def from_si(value: float, unit: str) -> Any:
    """Wrap a root-unit float as a Quantity in ``unit`` (e.g. ``"s"``, ``"B"``, ``"J"``).

    No conversion happens: ``value`` must already be expressed in ``unit``.
    """
    return ureg.Quantity(value, _unit(unit))
