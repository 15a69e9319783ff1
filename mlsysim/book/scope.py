"""A document's names, and the order a napkin expression looks them up in.

1. the document's own bindings (``name = expr`` in napkin blocks, source order);
2. math helpers (``sqrt log log2 log10 exp ceil floor min max abs round mod``) and ``pi``;
3. unit names as values (``GB`` is ``1 GB``);
4. registry ids, registries, formulas and model functions
   (:mod:`~mlsysim.book.lang.names`).

Units come before the registries so that unit-only expressions never load the data files
(fast ``mlsysim eval``). A binding may not take a name that already means something (a unit,
a helper, a formula, a registry id): ``GB = 2`` would change what ``/ GB`` means. A name that
is nowhere raises an UnknownNameError with did-you-mean; a name bound *later* in the document
says where.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlsysim.book.lang.helpers import CONSTANTS, HELPERS
from mlsysim.book.lang.names import MISSING, global_names
from mlsysim.core.exceptions import MlsysimError, NapkinError, UnknownNameError

__all__ = ["Binding", "Scope"]


@dataclass(frozen=True, slots=True)
class Binding:
    """A document name: its value, where it was bound, and digits as written (literals)."""

    name: str
    value: Any
    line: int
    expression: str
    digits: int | None = None
    error: MlsysimError | None = None  # set when the binding failed
    trace: Any = None  # how the value was computed (a Trace); derivation text is made on demand
    deps: tuple[Binding, ...] = ()  # the bindings its expression used, as they were then
    cites: tuple[str, ...] = ()  # citation ids of the registry values it used

    @property
    def failed(self) -> bool:
        return self.error is not None


@lru_cache(maxsize=512)
def _unit_value(name: str) -> Any:
    """``1 <unit>`` for a unit name (``GB``), or None when ``name`` is not a unit."""
    from mlsysim.core.units import unit_name, ureg

    canonical = unit_name(name)
    if canonical is None:
        return None
    return ureg.Quantity(1, ureg.Unit(canonical))


class Scope:
    """A document's names: bindings in source order over the shared globals."""

    def __init__(self) -> None:
        self.bindings: dict[str, Binding] = {}
        #: names bound later in the document (pre-scan): name -> file line
        self.future: dict[str, int] = {}

    def lookup(self, name: str, used: list[str] | None = None) -> Any:
        """The value of ``name``; ``used`` collects the document bindings read."""
        b = self.bindings.get(name)
        if b is not None:
            if b.error is not None:
                raise NapkinError(
                    f"{name!r} is unavailable: its binding at line {b.line} failed",
                    why=b.error.what,
                    fix=f"fix the error at line {b.line} first",
                )
            if used is not None:
                used.append(name)
            return b.value
        h = HELPERS.get(name)
        if h is not None:
            return h
        c = CONSTANTS.get(name)
        if c is not None:
            return c
        unit = _unit_value(name)
        if unit is not None:
            return unit
        value = global_names().lookup(name)
        if value is not MISSING:
            return value
        if name in self.future:
            raise NapkinError(
                f"{name!r} is used before it is bound",
                why=f"it is bound later, at line {self.future[name]}",
                fix="move the binding above its first use (napkin names bind in source order)",
            )
        raise UnknownNameError(
            "name",
            name,
            [*self.bindings, *global_names().names()],
            fix="bind it in a napkin block (`name = expr`), or use a registry id, formula or unit",
        )

    def reserved(self, name: str) -> str | None:
        """What ``name`` already means, when it may not be bound (None: free)."""
        return global_names().reserved(name)
