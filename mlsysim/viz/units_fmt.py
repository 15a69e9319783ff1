"""Unit symbols for display, and the display-unit families used for automatic prefixes.

Units are read by mlsysim's own grammar and converted by pint; the symbols shown to readers
are built here from a unit's components, so that text reads ``TB/s``, ``µs``, ``gCO₂e/kWh``
and LaTeX reads ``\\mathrm{TB/s}``, ``\\mu\\mathrm{s}``, ``\\mathrm{gCO_2e/kWh}`` (never pint's
``\\frac`` forms, never a raw ``µ``). Counts read as a textbook writes them: plural on their
own or over something (``params``, ``tokens/s``), singular under a fraction bar
(``J/token``, ``USD/param``); carbon is CO₂e with its subscript.

A *family* is the ordered list of units a dimension is shown in when no unit is requested
(``FLOP/s`` → ``kFLOP/s`` … ``EFLOP/s``; ``ns`` … ``years``). A value is shown in the largest
unit it reaches at least one of.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlsysim.core.units import unit_from_text, ureg

__all__ = ["Family", "UnitForm", "ascii_unit", "family_for", "format_unit", "parse_unit"]

#: Display symbols that differ from pint's symbol for the unit.
_SYMBOL_OVERRIDES = {
    "percent": "%",
    "parameter": "params",
    "token": "tokens",
    "sample": "samples",
    "request": "requests",
}

#: Counts under a fraction bar are singular: ``J/token``, ``USD/param``.
_PER_ONE = {"parameter": "param", "token": "token", "sample": "sample", "request": "request"}

#: Text and LaTeX of CO2e: the 2 is a subscript (``kgCO₂e``, ``\\mathrm{kgCO_2e}``).
_CO2E_TEXT, _CO2E_LATEX = "CO₂e", "CO_2e"

_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")

_LATEX_SPECIALS = {"%": r"\%", "_": r"\_", "#": r"\#", "&": r"\&", "$": r"\$"}


@dataclass(frozen=True, slots=True)
class UnitForm:
    """A unit ready for display: the pint unit plus its text and LaTeX symbols."""

    unit: Any
    text: str
    latex: str


def _exponent_text(exp: float) -> str:
    value = int(exp) if float(exp).is_integer() else exp
    return str(value)


def _symbol(name: str, per: bool = False) -> str:
    override = (_PER_ONE if per else _SYMBOL_OVERRIDES).get(name)
    if override is not None:
        return override
    return str(ureg.get_symbol(name))


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text).replace("CO2e", _CO2E_LATEX)


def _display_text(symbol: str) -> str:
    return symbol.replace("CO2e", _CO2E_TEXT)


def _factor_text(symbol: str, exp: float) -> str:
    if exp == 1:
        return _display_text(symbol)
    return _display_text(symbol) + _exponent_text(exp).translate(_SUPERSCRIPT)


def _factor_latex(symbol: str, exp: float) -> str:
    body = _latex_escape(symbol)
    return body if exp == 1 else f"{body}^{{{_exponent_text(exp)}}}"


def _wrap_mathrm(body: str) -> str:
    """``\\mathrm{…}`` around a unit body, with µ pulled out as ``\\mu``."""
    parts = body.split("µ")
    out = []
    for i, part in enumerate(parts):
        if i:
            out.append(r"\mu")
        if part:
            out.append(rf"\mathrm{{{part}}}")
    return "".join(out)


def _join(factors: list[str], sep: str) -> str:
    return sep.join(factors)


@lru_cache(maxsize=512)
def _format_container(items: tuple[tuple[str, float], ...]) -> tuple[str, str]:
    num = [(_symbol(n), e) for n, e in items if e > 0]
    den = [(_symbol(n, per=True), -e) for n, e in items if e < 0]
    num_t = _join([_factor_text(s, e) for s, e in num], "·")
    num_l = _join([_factor_latex(s, e) for s, e in num], r"\cdot ")
    if not den:
        return num_t, _wrap_mathrm(num_l) if num_l else ""
    den_t = _join([_factor_text(s, e) for s, e in den], "·")
    den_l = _join([_factor_latex(s, e) for s, e in den], r"\cdot ")
    if len(den) > 1:
        den_t, den_l = f"({den_t})", f"({den_l})"
    text = f"{num_t or '1'}/{den_t}"
    latex = f"{num_l or '1'}/{den_l}"
    return text, _wrap_mathrm(latex)


def format_unit(units: Any) -> tuple[str, str]:
    """Text and LaTeX symbols of a unit: ``format_unit("TB/s") == ("TB/s", r"\\mathrm{TB/s}")``.

    ``units`` is a pint Unit, a Quantity (its unit is used) or a unit string. Dimensionless
    units give ``("", "")``. LaTeX is plain math-mode content: ``\\mathrm{…}`` with ``µ`` as
    ``\\mu`` and exponents as ``^{n}``; never ``\\frac``.
    """
    if isinstance(units, str):
        units = parse_unit(units)
    units = getattr(units, "units", units) if isinstance(units, ureg.Quantity) else units
    container = getattr(units, "_units", units)
    items = tuple((str(name), float(exp)) for name, exp in dict(container).items())
    return _format_container(items)


def ascii_unit(units: Any) -> str:
    """A unit's text in ASCII that mlsysim's unit grammar reads back (JSON ``unit`` fields):
    ``tokens/s``, ``J/token``, ``kgCO2e``."""
    text = format_unit(units)[0]
    return text.replace(_CO2E_TEXT, "CO2e").replace("·", "*").translate(_PLAIN_DIGITS)


_PLAIN_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


@lru_cache(maxsize=512)
def parse_unit(text: str) -> Any:
    """A display unit from text, read by mlsysim's unit grammar (never pint's parser).

    Unknown names and malformed text raise a NapkinSyntaxError with did-you-mean.
    """
    return unit_from_text(text.strip())


def unit_form(unit: Any) -> UnitForm:
    """A :class:`UnitForm` for a pint unit or unit string."""
    parsed = parse_unit(unit) if isinstance(unit, str) else unit
    text, latex = format_unit(parsed)
    return UnitForm(parsed, text, latex)


# --------------------------------------------------------------------------------------------
# Families


@dataclass(frozen=True, slots=True)
class Family:
    """Units one dimension is displayed in, smallest first.

    ``units`` are ``(unit string, text, latex)``; ``overflow`` is the index of the unit used in
    scientific notation when a value exceeds the largest unit by a factor of 1000 or more, and
    ``underflow`` the one used when it is below a thousandth of the smallest.
    """

    name: str
    units: tuple[UnitForm, ...]
    factors: tuple[float, ...]
    overflow: int = 0
    underflow: int = 0


def _family(
    name: str,
    units: list[str],
    *,
    overflow: int | None = None,
    underflow: int | None = None,
    base: str | None = None,
    labels: dict[str, tuple[str, str]] | None = None,
) -> Family:
    forms = []
    for u in units:
        form = unit_form(u)
        if labels and u in labels:
            form = UnitForm(form.unit, labels[u][0], labels[u][1])
        forms.append(form)
    base_unit = parse_unit(base or units[0])
    factors = tuple(float((1 * f.unit).to(base_unit).magnitude) for f in forms)
    base_index = next((i for i, f in enumerate(factors) if f == 1.0), 0)
    return Family(
        name,
        tuple(forms),
        factors,
        overflow=base_index if overflow is None else overflow,
        underflow=base_index if underflow is None else underflow,
    )


_DECIMAL = ["", "k", "M", "G", "T", "P", "E"]
_BINARY = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]


def _prefixed(symbol: str, prefixes: list[str]) -> list[str]:
    return [p + symbol for p in prefixes]


_TIME_LABELS = {"d": ("days", r"\mathrm{days}"), "yr": ("years", r"\mathrm{years}")}

#: every family by name: its units, smallest first, and the keywords of :func:`_family`. Built
#: on first use, one family at a time (a book shows a few of them; building all costs ~10 ms)
_FAMILIES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "compute_rate": (_prefixed("FLOP/s", _DECIMAL), {}),
    "op_rate": (_prefixed("OP/s", _DECIMAL), {}),
    "computation": (_prefixed("FLOP", _DECIMAL), {}),
    "operations": (_prefixed("OP", _DECIMAL), {}),
    "bandwidth": (_prefixed("B/s", _DECIMAL), {}),
    "bandwidth_binary": (_prefixed("B/s", _BINARY), {}),
    "bit_rate": (_prefixed("b/s", _DECIMAL), {}),
    "information": (_prefixed("B", _DECIMAL), {}),
    "information_binary": (_prefixed("B", _BINARY), {}),
    "bits": (_prefixed("b", _DECIMAL), {}),
    "time": (
        ["ps", "ns", "µs", "ms", "s", "min", "h", "d", "yr"],
        {"base": "s", "overflow": 8, "underflow": 4, "labels": _TIME_LABELS},
    ),
    # joules for a step or an inference, watt-hours from 1 Wh up, as the field writes
    # energy (never TJ, never mWh in scientific notation)
    "energy": (
        ["pJ", "nJ", "µJ", "mJ", "J", "kJ", "Wh", "kWh", "MWh", "GWh", "TWh"],
        {"base": "J"},
    ),
    "power": (["mW", "W", "kW", "MW", "GW", "TW"], {"base": "W"}),
    "frequency": (["Hz", "kHz", "MHz", "GHz", "THz"], {}),
    "carbon": (
        ["mgCO2e", "gCO2e", "kgCO2e", "tCO2e", "ktCO2e", "MtCO2e", "GtCO2e"],
        {"base": "kgCO2e"},
    ),
    "mass": (["mg", "g", "kg", "t", "kt", "Mt"], {"base": "kg"}),
    "volume": (["mL", "L", "kL", "ML", "GL"], {"base": "L"}),
    "currency": (["USD"], {}),
    "intensity": (["FLOP/B"], {}),
    "op_intensity": (["OP/B"], {}),
    "carbon_intensity": (["gCO2e/kWh"], {}),
    "price_per_energy": (["USD/kWh"], {}),
    "price_per_time": (["USD/h"], {}),
    "water_intensity": (["L/kWh"], {}),
}


@lru_cache(maxsize=len(_FAMILIES))
def _family_named(name: str) -> Family | None:
    """The family ``name`` (built on its first use), or None when there is none."""
    spec = _FAMILIES.get(name)
    if spec is None:
        return None
    units, options = spec
    return _family(name, units, **options)


def _dims(expr: str) -> Any:
    return ureg.get_dimensionality(expr)


@lru_cache(maxsize=1)
def _dimension_table() -> dict[Any, str]:
    from mlsysim.core.units import DIMENSIONS

    return {_dims(DIMENSIONS[name]): name for name in DIMENSIONS if DIMENSIONS[name]}


def _has(names: list[str], needle: str) -> bool:
    return any(needle in n for n in names)


def _is_binary(names: list[str]) -> bool:
    return any(n.startswith(("kibi", "mebi", "gibi", "tebi", "pebi", "exbi")) for n in names)


@lru_cache(maxsize=1024)
def family_for(units: Any) -> Family | None:
    """The display family for a unit, or ``None`` when the unit is shown as written.

    Binary prefixes stay binary (``GiB`` is never shown as ``GB``), bits stay bits and ``OP``
    stays ``OP``: the family follows how the value was written. Energy, however written, is
    shown as the field writes it: joules below a watt-hour, then Wh, kWh, MWh, GWh.
    """
    named = _dimension_table().get(units.dimensionality)
    if named is None:
        return None
    names = [str(n) for n in units._units]
    ops = _has(names, "operation")
    bits = any(n.endswith("bit") for n in names) and not _has(names, "byte")
    binary = _is_binary(names)
    choice = {
        "compute_rate": "op_rate" if ops else "compute_rate",
        "computation": "operations" if ops else "computation",
        "bandwidth": "bit_rate" if bits else ("bandwidth_binary" if binary else "bandwidth"),
        "information": "bits" if bits else ("information_binary" if binary else "information"),
        "intensity": "op_intensity" if ops else "intensity",
    }.get(named, named)
    return _family_named(choice)
