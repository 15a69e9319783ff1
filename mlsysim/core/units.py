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
import math
import numbers
import operator
from functools import lru_cache
from pathlib import Path
from typing import Any

from mlsysim.core.exceptions import (
    DimensionError,
    MlsysimError,
    NapkinSyntaxError,
    UnknownNameError,
)
from mlsysim.core.pint_loader import import_pint
from mlsysim.core.snapshot import cache_home
from mlsysim.core.unit_text import UnitText, parse_quantity_text, parse_unit_text

import_pint()  # pint without its eager import of dask (see mlsysim.core.pint_loader)

import pint  # noqa: E402
from pint.util import UnitsContainer  # noqa: E402

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
            if op is operator.add:
                raise _mix_error("add", self, other) from None
            raise _mix_error("subtract", other, self) from None  # self - other

    def __rsub__(self, other: Any) -> Any:
        try:
            return super().__rsub__(other)
        except DimensionError:
            raise _mix_error("subtract", self, other) from None  # other - self

    def _iadd_sub(self, other: Any, op: Any) -> Any:
        try:
            return super()._iadd_sub(other, op)
        except pint.DimensionalityError:
            if op in (operator.iadd, operator.add):
                raise _mix_error("add", self, other) from None
            raise _mix_error("subtract", other, self) from None

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

    def __reduce__(self) -> Any:
        # pickled with this package's registry (pint's default would look the units up in its
        # own application registry) and the digits the value was written with
        return (_unpickle_quantity, (self._magnitude, self._units, written_digits(self)))


def _unpickle_quantity(magnitude: Any, units: Any, digits: int | None) -> Any:
    _known(units)
    q = ureg.Quantity(magnitude, units)
    if digits is not None:
        q._written_digits = digits
    return q


@lru_cache(maxsize=1024)
def _known(units: Any) -> None:
    """Define the (prefixed) units of a container read from a pickle: pint defines a
    prefixed unit such as ``terabyte`` when it first resolves its name."""
    for name in units:
        ureg.get_name(name)


class _Registry(pint.UnitRegistry):
    Quantity = _Quantity


def _pint_cache() -> str | None:
    # pint keeps the parsed definitions there, keyed on the file's content (~15 ms saved)
    home = cache_home()
    return str(home / "pint") if home is not None else None


ureg: Any = _Registry(
    str(Path(__file__).with_name("units.txt")),
    autoconvert_offset_to_baseunit=False,
    cache_folder=_pint_cache(),
)
ureg.formatter.default_format = "~P"
Q_: Any = ureg.Quantity
Quantity = ureg.Quantity


def describe_dimension(value: Any) -> str:
    """The dimension of a quantity, unit or unit string in words, e.g. ``information/time``."""
    if isinstance(value, str):
        value = unit_from_text(value) if value.strip() else ureg.dimensionless
    dim = getattr(value, "dimensionality", None)
    if dim is None:
        return "dimensionless number"
    return _dim_words(dim)


def _dim_words(dim: Any) -> str:
    """A dimension as an author names the kind of quantity: its name with its base dimensions
    (``bandwidth (information/time)``), or only its name when those are mechanical (``power``,
    not ``power (length^2·mass/time^3)``); else a ratio of named kinds (``energy per token``);
    else its base dimensions (``tokens/time``), mass and length as energy
    (``energy·tokens/time``, not ``length^2·mass·tokens/time^3``)."""
    key = str(dim)
    if not key or key == "dimensionless":
        return "dimensionless"
    named = _named_dims().get(key)
    if named and ("[mass]" in key or "[length]" in key):
        return named  # "power", not "power (length^2·mass/time^3)"
    words = _WORDED.get(key)
    if words is None:
        words = _WORDED[key] = _unnamed_words(dim)
    return words


_WORDED: dict[str, str] = {}


def _unnamed_words(dim: Any) -> str:
    named = _named_dims().get(str(dim))
    if named:  # the book's own base dimensions read as they are: bandwidth (information/time)
        words = _base_words(dict(dim.items()))
        return words if named in words else f"{named} ({words})"
    powers = dict(dim.items())
    if "[mass]" in powers:
        ratio = _ratio_words(dim)
        if ratio:
            return ratio
        k = powers["[mass]"]
        if powers.get("[length]") == 2 * k:  # mass·length²/time² is energy
            powers.pop("[mass]")
            powers.pop("[length]")
            powers["[time]"] = powers.get("[time]", 0) + 2 * k
            powers = {"energy": k, **{d: e for d, e in powers.items() if e}}
    return _base_words(powers)


def _base_words(powers: dict[str, int]) -> str:
    order = sorted(powers.items(), key=lambda de: (de[0] != "energy", de[0]))
    num = [_power_word(d, e) for d, e in order if e > 0]
    den = [_power_word(d, -e) for d, e in order if e < 0]
    words = "·".join(num) or "1"
    if den:
        words += "/" + "·".join(den)
    return words


def _power_word(dim: str, exponent: int) -> str:
    return _DIM_WORDS.get(dim, dim.strip("[]")) + (f"^{exponent}" if exponent != 1 else "")


#: a kind of quantity after "per" (``energy per token``)
_SINGULAR = {
    "tokens": "token",
    "parameters": "parameter",
    "samples": "sample",
    "requests": "request",
}


def _ratio_words(dim: Any) -> str | None:
    """``X per Y`` for a dimension that is one named kind (or base dimension) over another,
    a named kind over a base one first (``energy per token``); None if it is none. Asked only
    to word an error, never on a hot path."""
    kinds = [(_word(n), _dimensionality(n)) for n in DIMENSIONS if DIMENSIONS[n]]
    bases = [(_word(b), ureg.get_dimensionality(b)) for b in _DIM_WORDS]
    for tops, bottoms in ((kinds, bases), (bases, kinds), (kinds, kinds)):
        for top, top_dim in tops:
            for bottom, bottom_dim in bottoms:
                if top != bottom and top_dim / bottom_dim == dim:
                    return f"{top} per {_SINGULAR.get(bottom, bottom)}"
    return None


def _word(name: str) -> str:
    return _DIM_WORDS.get(name, name.replace("_", " "))


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
    if isinstance(value, float):
        return f"{value:g}"  # 0.157895, not 0.15789473684210525
    return repr(value)


def _mix_error(verb: str, left: Any, right: Any) -> DimensionError:
    if isinstance(right, str):
        with contextlib.suppress(MlsysimError):  # keep the string if it is not a unit
            right = unit_from_text(right)
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


@lru_cache(maxsize=2048)
def unit_name(name: str) -> str | None:
    """The registry's canonical name of one unit name or symbol (``GB`` → ``gigabyte``), or
    None when it is not a unit. Never runs pint's expression parser."""
    if not name or len(name) > 32:
        return None
    try:
        return str(ureg.get_name(name))
    except (pint.UndefinedUnitError, pint.errors.OffsetUnitCalculusError, AttributeError):
        return None


def unit_of(text: UnitText, source: str = "") -> Any:
    """The pint Unit of parsed unit text; UnknownNameError (with did-you-mean and the 0-based
    ``column`` of the name in ``source``) for the first name that is not a unit."""
    exponents: dict[str, int] = {}
    for name, power in text.factors:
        canonical = unit_name(name)
        if canonical is None:
            err = UnknownNameError(
                "unit",
                name,
                _unit_symbols(),
                fix="write a unit mlsysim knows, e.g. ms, GB, TB/s, TFLOP/s, W, kWh, gCO2e",
            )
            err.column = max(source.find(name), 0)  # type: ignore[attr-defined]
            raise err
        exponents[canonical] = exponents.get(canonical, 0) + power
    return ureg.Unit(UnitsContainer({k: v for k, v in exponents.items() if v}))


@lru_cache(maxsize=1024)
def unit_from_text(text: str) -> Any:
    """The Unit of ``text`` read with mlsysim's own unit grammar (:mod:`~mlsysim.core.unit_text`).

    ``"TB/s"``, ``"gCO2e/kWh"``, ``"%"``, ``"1/s"``, ``"m**2"``; anything else (arithmetic,
    parentheses, unknown names) raises NapkinSyntaxError. pint's parser never sees the text.
    Empty text is the dimensionless unit.
    """
    if not text.strip():
        return ureg.dimensionless
    return unit_of(parse_unit_text(text), text)


def is_unit(text: str) -> bool:
    """Whether ``text`` is a unit of the mlsysim registry (by mlsysim's unit grammar)."""
    try:
        unit_from_text(text)
    except MlsysimError:
        return False
    return True


@lru_cache(maxsize=1)
def _unit_symbols() -> tuple[str, ...]:
    return tuple(sorted({str(ureg.get_symbol(n)) for n in ureg._units} | set(ureg._units)))


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


def written_digits(value: Any) -> int | None:
    """Significant digits a quantity read from text (a registry value) was written with.

    Quantities computed from others carry none (None): only values read by
    :func:`as_quantity` remember how many digits their source gave.
    """
    digits = getattr(value, "_written_digits", None)
    return digits if isinstance(digits, int) else None


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
    words = _dim_words(_dimensionality(expected))
    if example is None:  # a dimensionality string: an example of a named dimension if one fits
        named = _named_dims().get(str(_dimensionality(expected)), "").replace(" ", "_")
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
