"""The unit registry: pint's registry built from this package's ``units.txt``, its named
dimensions and how they read in words, and mlsysim's reader of unit text.

Quantities of :data:`ureg` raise :class:`~mlsysim.core.exceptions.DimensionError` when
dimensions are mixed, naming both quantities and their kinds in words (``cannot add 700 W
(power) to 1 s (time)``); pickled, they unpickle into this registry with the digits they were
written with. Everything here is importable from :mod:`mlsysim.core.units`, the package's one
entry to units (which adds reading, checking and SI conversion of quantities).
"""

from __future__ import annotations

import contextlib
import operator
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

from mlsysim.core.exceptions import DimensionError, MlsysimError, UnknownNameError
from mlsysim.core.pint_loader import import_pint
from mlsysim.core.snapshot import cache_home
from mlsysim.core.unit_text import UnitText, parse_unit_text

import_pint()  # pint without its eager import of dask (see mlsysim.core.pint_loader)

import pint  # noqa: E402
from pint.util import UnitsContainer  # noqa: E402

__all__ = [
    "DIMENSIONS",
    "Q_",
    "Quantity",
    "describe_dimension",
    "dimension_name",
    "dimension_words",
    "dimensionality",
    "fmt_quantity",
    "is_unit",
    "unit_from_text",
    "unit_name",
    "unit_of",
    "ureg",
    "written_digits",
]

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


def _new_registry() -> Any:
    """The unit registry, from pint's disk cache when it reads: pint writes that cache in
    place (not atomically), so a process starting while another writes it can find a file
    empty or cut short; such a cache only costs its speed, never the import."""
    units = str(Path(__file__).with_name("units.txt"))
    folder = _pint_cache()
    if folder is not None:
        try:
            return _Registry(units, autoconvert_offset_to_baseunit=False, cache_folder=folder)
        except Exception:  # a definitions error is raised again below, without the cache
            shutil.rmtree(folder, ignore_errors=True)  # the next start writes it afresh
    return _Registry(units, autoconvert_offset_to_baseunit=False, cache_folder=None)


ureg: Any = _new_registry()
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
    kinds = [(_word(n), dimensionality(n)) for n in DIMENSIONS if DIMENSIONS[n]]
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
def dimensionality(name: str) -> Any:
    """The pint dimensionality of a key of :data:`DIMENSIONS` (``"bandwidth"``) or of a
    dimensionality string (``"[information]/[time]"``); cached."""
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


def written_digits(value: Any) -> int | None:
    """Significant digits a quantity read from text (a registry value) was written with.

    Quantities computed from others carry none (None): only values read by
    :func:`as_quantity` remember how many digits their source gave.
    """
    digits = getattr(value, "_written_digits", None)
    return digits if isinstance(digits, int) else None


def dimension_words(expected: str) -> str:
    """The kind of quantity ``expected`` (as :func:`dimensionality` reads it) names, in words
    (``bandwidth (information/time)``, ``energy per token``)."""
    return _dim_words(dimensionality(expected))


def dimension_name(expected: str) -> str:
    """The name of the named dimension ``expected`` has, words spaced (``compute rate``), or
    ``""`` when it has none."""
    return _named_dims().get(str(dimensionality(expected)), "")
