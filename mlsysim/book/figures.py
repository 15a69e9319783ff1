"""Registry quantities indexed by dimension and value, and figures read from prose.

:class:`QuantityIndex` answers "which registry figures are 3.35 TB/s?" for the prose linter:
every quantity field of every registry entry, by dimensionality, sorted by its value in root
units, with the napkin expression that reads it (``H100.memory.bandwidth``,
``H100.peak_flops("bf16")``). A prose figure matches a registry value when the value, rounded
to the digits the author wrote, is the figure (``3.4 TB/s`` matches 3.35 TB/s at two
digits). :func:`read_figure` reads a number with its unit at a position, in one pass.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Figure", "QuantityIndex", "RegistryValue", "quantity_index", "read_figure"]

_SPACES = " \u00a0\u202f\u2009"
#: unit names that are also common English words, or ambiguous after a number (7B: billions)
_NOT_UNITS = frozenset({"a", "an", "in", "at", "to", "of", "or", "and", "is", "as", "on", "by"})
_AMBIGUOUS = frozenset({"B", "b", "T", "M", "K", "k"})


@dataclass(frozen=True, slots=True)
class Figure:
    """A number with a unit as written in prose: ``text``, its value in root units, the
    dimensionality key, the digits written and where it ends."""

    text: str
    si: float
    dimension: str
    digits: int
    start: int
    end: int
    quantity: Any


def _number(text: str, i: int) -> tuple[str, int] | None:
    """Digits with optional thousands groups (``1,979``) and decimals at ``i``."""
    n = len(text)
    j = i
    while j < n and text[j].isdigit():
        j += 1
    if j == i:
        return None
    while j + 3 < n + 1 and j < n and text[j] == "," and text[j + 1 : j + 4].isdigit():
        if j + 4 < n and text[j + 4].isdigit():
            break
        j += 4
    if j + 1 < n and text[j] == "." and text[j + 1].isdigit():
        j += 1
        while j < n and text[j].isdigit():
            j += 1
    return text[i:j], j


def read_figure(text: str, i: int) -> Figure | None:
    """The figure starting at ``i`` (a digit not inside a word), or None."""
    from mlsysim.core.exceptions import MlsysimError
    from mlsysim.core.unit_text import read_unit
    from mlsysim.core.units import unit_of

    if i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_.-/"):
        return None
    got = _number(text, i)
    if got is None:
        return None
    raw, j = got
    k = j
    if k < len(text) and text[k] in _SPACES:
        k += 1
    try:
        unit = read_unit(text, k)
    except MlsysimError:
        return None
    if unit is None:
        return None
    unit_text, end = unit
    written = text[k:end]
    if written in _NOT_UNITS or written in _AMBIGUOUS or written.endswith("-"):
        return None
    if end < len(text) and (text[end].isalnum() or text[end] == "_"):
        return None
    try:
        units = unit_of(unit_text, written)
    except MlsysimError:
        return None
    if units.dimensionless:
        return None
    from mlsysim.core.units import ureg

    value = float(raw.replace(",", ""))
    q = ureg.Quantity(value, units)
    # every digit written counts (700 W is 700 W, not 650-750 W): a match must be exact
    digits = max(len(raw.replace(",", "").replace(".", "").lstrip("0")), 1)
    factor, key = _root(units)
    return Figure(text[i:end], value * factor, key, digits, i, end, q)


@lru_cache(maxsize=1024)
def _root(units: Any) -> tuple[float, str]:
    """(factor to root units, dimensionality key) of a unit."""
    from mlsysim.core.units import ureg

    root = ureg.Quantity(1.0, units).to_root_units()
    return float(root.magnitude), str(units.dimensionality)


@dataclass(frozen=True, slots=True)
class RegistryValue:
    """One registry quantity: its napkin expression, entry id and name, value as written."""

    si: float
    expression: str
    entry: str
    names: tuple[str, ...]
    text: str


def _expression(eid: str, path: str) -> str:
    parts = path.split(".")
    if parts[0] == "peak" and len(parts) == 3:
        sparse = ", sparse=True" if parts[1] == "sparse" else ""
        return f'{eid}.peak_flops("{parts[2]}"{sparse})'
    if parts[:2] == ["memory", "levels"] and len(parts) == 4:
        return f'{eid}.memory.level("{parts[2]}").{parts[3]}'
    return f"{eid}.{path}"


class QuantityIndex:
    """Registry quantities by dimensionality key, sorted by root-unit value."""

    def __init__(self) -> None:
        from mlsysim.book.reference.registries import REGISTRY_KINDS, entry_fields, registry
        from mlsysim.core.units import ureg

        by_dim: dict[str, list[RegistryValue]] = {}
        for kind in REGISTRY_KINDS:
            for spec in registry(kind):
                names = (spec.id, spec.name, *spec.aliases)
                for f in entry_fields(kind, spec):
                    if not isinstance(f.value, ureg.Quantity) or f.value.dimensionless:
                        continue
                    factor, key = _root(f.value.units)
                    value = RegistryValue(
                        float(f.value.magnitude) * factor,
                        _expression(spec.id, f.path),
                        spec.id,
                        names,
                        f.text,
                    )
                    by_dim.setdefault(key, []).append(value)
        self._values = {k: sorted(v, key=lambda r: r.si) for k, v in by_dim.items()}
        self._keys = {k: [r.si for r in v] for k, v in self._values.items()}

    def matches(self, figure: Figure) -> list[RegistryValue]:
        """Registry values that round to ``figure`` at the digits it was written with."""
        import math

        values = self._values.get(figure.dimension)
        if not values or figure.si <= 0:
            return []
        exponent = math.floor(math.log10(figure.si))
        half = 0.5 * 10 ** (exponent - figure.digits + 1) * (1 + 1e-9)
        keys = self._keys[figure.dimension]
        lo = bisect.bisect_left(keys, figure.si - half)
        hi = bisect.bisect_right(keys, figure.si + half)
        return values[lo:hi]


_INDEX: tuple[int, QuantityIndex] | None = None


def quantity_index() -> QuantityIndex:
    """The index of the loaded registry data (rebuilt when the data change)."""
    global _INDEX
    from mlsysim.core.registry import generation

    gen = generation()
    if _INDEX is None or _INDEX[0] != gen:
        _INDEX = (gen, QuantityIndex())
    return _INDEX[1]
