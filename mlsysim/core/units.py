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
wrap only their result (:func:`from_si`).
"""

from __future__ import annotations

import contextlib
import operator
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pint

from mlsysim.core.exceptions import DimensionError, MlsysimError

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
    "si",
    "ureg",
    "written_digits",
]

#: Named dimensions used by typed fields and formula signatures: name -> pint dimensionality.
DIMENSIONS: dict[str, str] = {
    "dimensionless": "",
    "time": "[time]",
    "frequency": "1/[time]",
    "computation": "[computation]",
    "compute_rate": "[computation]/[time]",
    "information": "[information]",
    "bandwidth": "[information]/[time]",
    "intensity": "[computation]/[information]",
    "power": "[mass]*[length]**2/[time]**3",
    "energy": "[mass]*[length]**2/[time]**2",
    "mass": "[mass]",
    "carbon": "[carbon]",
    "carbon_intensity": "[carbon]*[time]**2/[mass]/[length]**2",
    "volume": "[length]**3",
    "water_intensity": "[length]**3*[time]**2/[mass]/[length]**2",
    "currency": "[currency]",
    "price_per_energy": "[currency]*[time]**2/[mass]/[length]**2",
    "price_per_time": "[currency]/[time]",
    "price_per_information": "[currency]/[information]",
    "currency_eur": "[currency_eur]",
    "price_per_energy_eur": "[currency_eur]*[time]**2/[mass]/[length]**2",
    "usd_per_eur": "[currency]/[currency_eur]",
    "parameter": "[parameter]",
    "token": "[token]",
    "sample": "[sample]",
    "request_rate": "[request]/[time]",
    "length": "[length]",
}

_DIM_WORDS = {
    "[computation]": "computation",
    "[information]": "information",
    "[parameter]": "parameters",
    "[token]": "tokens",
    "[sample]": "samples",
    "[request]": "requests",
    "[currency]": "currency",
    "[currency_eur]": "EUR",
    "[carbon]": "carbon mass (CO2e)",
    "[time]": "time",
    "[mass]": "mass",
    "[length]": "length",
}

_NAMED_BY_DIM: dict[str, str] = {}


class _Quantity(pint.UnitRegistry.Quantity):
    """pint Quantity whose dimension errors are mlsysim DimensionErrors."""

    def _add_sub(self, other: Any, op: Any) -> Any:
        try:
            return super()._add_sub(other, op)
        except pint.DimensionalityError:
            raise _mix_error("add" if op is operator.add else "subtract", self, other) from None

    def _iadd_sub(self, other: Any, op: Any) -> Any:
        try:
            return super()._iadd_sub(other, op)
        except pint.DimensionalityError:
            verb = "add" if op in (operator.iadd, operator.add) else "subtract"
            raise _mix_error(verb, self, other) from None

    def compare(self, other: Any, op: Any) -> Any:
        try:
            return super().compare(other, op)
        except pint.DimensionalityError:
            raise _mix_error("compare", self, other) from None

    def to(self, other: Any = None, *contexts: Any, **ctx_kwargs: Any) -> Any:
        try:
            return super().to(other, *contexts, **ctx_kwargs)
        except pint.DimensionalityError:
            raise _mix_error("convert", self, other) from None

    def ito(self, other: Any = None, *contexts: Any, **ctx_kwargs: Any) -> None:
        try:
            super().ito(other, *contexts, **ctx_kwargs)
        except pint.DimensionalityError:
            raise _mix_error("convert", self, other) from None


class _Registry(pint.UnitRegistry):
    Quantity = _Quantity


ureg: Any = _Registry(
    str(Path(__file__).with_name("units.txt")),
    autoconvert_offset_to_baseunit=False,
    cache_folder=None,
)
ureg.formatter.default_format = "~P"
Q_: Any = ureg.Quantity
Quantity = ureg.Quantity


def describe_dimension(value: Any) -> str:
    """The dimension of a quantity, unit or unit string in words, e.g. ``information/time``."""
    if isinstance(value, str):
        value = ureg.parse_units(value) if value else ureg.dimensionless
    dim = getattr(value, "dimensionality", None)
    if dim is None:
        return "dimensionless number"
    return _dim_words(dim)


def _dim_words(dim: Any) -> str:
    key = str(dim)
    if not key or key == "dimensionless":
        return "dimensionless"
    named = _named_dims().get(key)
    num = [
        f"{_DIM_WORDS.get(k, k.strip('[]'))}" + (f"^{e}" if e != 1 else "")
        for k, e in sorted(dim.items())
        if e > 0
    ]
    den = [
        f"{_DIM_WORDS.get(k, k.strip('[]'))}" + (f"^{-e}" if e != -1 else "")
        for k, e in sorted(dim.items())
        if e < 0
    ]
    words = "·".join(num) or "1"
    if den:
        words += "/" + "·".join(den)
    return f"{named} ({words})" if named and named not in words else words


def _named_dims() -> dict[str, str]:
    if not _NAMED_BY_DIM:
        for name, expr in DIMENSIONS.items():
            if expr:
                _NAMED_BY_DIM[str(ureg.get_dimensionality(expr))] = name.replace("_", " ")
    return _NAMED_BY_DIM


def fmt_quantity(value: Any) -> str:
    """Short text for a quantity as written (``80 GiB``, ``3.35 TB/s``) for error messages."""
    if isinstance(value, ureg.Quantity):
        mag = value.magnitude
        mag_s = f"{mag:g}" if isinstance(mag, float) else str(mag)
        unit = f"{value.units:~P}"
        return f"{mag_s} {unit}".strip()
    if isinstance(value, ureg.Unit):
        return f"{value:~P}"
    return repr(value)


def _mix_error(verb: str, left: Any, right: Any) -> DimensionError:
    if isinstance(right, str):
        with contextlib.suppress(Exception):  # keep the string if pint cannot read it
            right = ureg.parse_units(right)
    return DimensionError(
        verb,
        fmt_quantity(left),
        describe_dimension(left),
        fmt_quantity(right) if right is not None else "a number",
        describe_dimension(right),
    )


@lru_cache(maxsize=256)
def _dimensionality(name: str) -> Any:
    expr = DIMENSIONS.get(name, name)
    return ureg.get_dimensionality(expr) if expr else ureg.get_dimensionality("")


_NUMBER_UNIT = re.compile(
    r"^\s*(?P<number>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*(?P<unit>.*?)\s*$"
)


@lru_cache(maxsize=1024)
def _parse_unit_text(text: str) -> Any:
    """Cached unit parse for the ``"<number> <unit>"`` fast path (None: let pint decide)."""
    try:
        return ureg.parse_units(text) if text else ureg.dimensionless
    except Exception:
        return None


def _count_digits(number: str) -> int:
    """Significant digits of a number as written: ``"6.74e9"`` → 3, ``"2039"`` → 4."""
    mantissa = number.lstrip("+-").partition("e")[0].partition("E")[0]
    return max(len(mantissa.replace(".", "").lstrip("0")), 1)


def written_digits(value: Any) -> int | None:
    """Significant digits a quantity read from text (a registry value) was written with.

    Quantities computed from others carry none (None): only values read by
    :func:`as_quantity` remember how many digits their source gave.
    """
    digits = getattr(value, "_written_digits", None)
    return digits if isinstance(digits, int) else None


def as_quantity(value: Any, *, name: str = "value") -> Any:
    """Coerce a str (``"3.35 TB/s"``), number or Quantity to a Quantity of this registry."""
    if isinstance(value, ureg.Quantity):
        return value
    if isinstance(value, str):
        fast = _NUMBER_UNIT.match(value)
        if fast is not None:
            unit = _parse_unit_text(fast["unit"])
            if unit is not None:
                number = fast["number"]
                magnitude = float(number) if any(c in number for c in ".eE") else int(number)
                q = ureg.Quantity(magnitude, unit)
                q._written_digits = _count_digits(number)
                return q
        try:
            q = Q_(value)
        except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, SyntaxError) as exc:
            raise MlsysimError(
                f"{name}: cannot read {value!r} as a quantity",
                why=str(exc),
                fix="write a number followed by a unit, e.g. '3.35 TB/s' or '80 GB'",
            ) from None
        return q if isinstance(q, ureg.Quantity) else Q_(q)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Q_(value)
    raise MlsysimError(f"{name}: expected a quantity, got {type(value).__name__} {value!r}")


def check_dimension(value: Any, expected: str, *, name: str = "value", where: str = "") -> Any:
    """Return ``value`` as a Quantity after checking it has dimension ``expected``.

    ``expected`` is a key of :data:`DIMENSIONS` (``"bandwidth"``) or a pint dimensionality
    string (``"[information]/[time]"``). Raises DimensionError naming ``name``.
    """
    q = as_quantity(value, name=name)
    if q.dimensionality != _dimensionality(expected):
        raise DimensionError.for_argument(
            name,
            fmt_quantity(q),
            describe_dimension(q),
            _dim_words(_dimensionality(expected)),
            where=where,
        )
    return q


_SI_CACHE: dict[tuple[Any, str], float] = {}

#: Root units of the registry: the units :func:`si` floats are expressed in.
ROOT_UNITS = "s, m, kg, B, flop, param, token, sample, request, USD, gCO2e (W, J derived)"


def si(value: Any, expected: str, name: str = "value") -> float:
    """Root-unit magnitude (float) of ``value`` after checking its dimension against ``expected``.

    Root units are :data:`ROOT_UNITS` (seconds, bytes, FLOP, joules, watts, USD, gCO2e…).
    The factor is cached per (unit, expected dimension), so after the first call for a unit
    this costs a dictionary lookup and a multiplication: the formulas' fast edge.
    """
    units = getattr(value, "_units", None)
    if units is not None:
        factor = _SI_CACHE.get((units, expected))
        if factor is None:
            q = check_dimension(value, expected, name=name)
            factor = float(ureg.Quantity(1.0, q.units).to_root_units().magnitude)
            _SI_CACHE[(units, expected)] = factor
        return float(value._magnitude) * factor
    q = check_dimension(value, expected, name=name)
    return si(q, expected, name)


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
    return ureg.parse_units(unit)


def from_si(value: float, unit: str) -> Any:
    """Wrap a root-unit float as a Quantity in ``unit`` (e.g. ``"s"``, ``"B"``, ``"J"``).

    No conversion happens: ``value`` must already be expressed in ``unit``.
    """
    return ureg.Quantity(value, _unit(unit))
