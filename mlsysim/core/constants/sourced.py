"""A sourced constant: a value, its unit and the citation it comes from; and a sourced
table indexed by message size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Constant", "SizeTable", "sourced"]


@dataclass(frozen=True)
class Constant:
    """A sourced constant: ``value`` in ``unit`` (``""`` for a pure number)."""

    value: float
    unit: str
    source: str
    note: str = ""

    @property
    def quantity(self) -> Any:
        """The constant as a Quantity (a plain float when it has no unit)."""
        if not self.unit:
            return self.value
        from mlsysim.core.units import Q_

        return Q_(self.value, self.unit)

    def __float__(self) -> float:
        return float(self.value)


def sourced(value: float, unit: str, source: str, note: str = "") -> Constant:
    """A :class:`Constant` (the value as a float); the data modules write it ``_c(…)``."""
    return Constant(float(value), unit, source, note)


@dataclass(frozen=True)
class SizeTable:
    """A sourced table indexed by message size: ``values[i]`` applies to messages of
    ``first`` x 2^i bytes up to twice that; larger messages use 1."""

    values: tuple[float, ...]
    first: float
    source: str
    note: str = ""

    def at(self, size: float) -> float:
        """The entry for a message of ``size`` bytes (``log2i(size / first)``)."""
        i = int(size // self.first).bit_length() - 1
        if i < 0:
            i = 0
        return self.values[i] if i < len(self.values) else 1.0
