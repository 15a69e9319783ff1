"""A document's names, and the order a napkin expression looks them up in.

1. the document's own bindings (``name = expr`` in napkin blocks, source order);
2. math helpers (``sqrt log log2 log10 exp ceil floor min max abs round mod``) and ``pi``;
3. unit names as values (``GB`` is ``1 GB``);
4. registry ids, registries, formulas and model functions
   (:mod:`~mlsysim.book.lang.names`);
5. the book's shared names: bindings of the project's other chapters and of its values file
   (:mod:`~mlsysim.book.shared`), when the document belongs to a project.

Units come before the registries so that unit-only expressions never load the data files
(fast ``mlsysim eval``). A binding may not take a name that already means something (a unit,
a helper, a formula, a registry id): ``GB = 2`` would change what ``/ GB`` means. A name that
is nowhere raises an UnknownNameError with did-you-mean; a name bound *later* in the document
says where.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
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


def _unavailable(name: str, place: str, error: MlsysimError) -> NapkinError:
    """The error of reading ``name``, whose binding at ``place`` failed with ``error`` (its
    root cause carried along, so a chain of failed bindings points at the first)."""
    root = getattr(error, "root", None) or error
    err = NapkinError(
        f"{name!r} is unavailable: its binding at {place} failed",
        why=root.what,
        fix=f"fix the error at {place} first",
    )
    err.root = root  # type: ignore[attr-defined]
    return err


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
        #: the book's names (a :mod:`~mlsysim.book.shared` link), None outside a project
        self.shared: Any = None
        #: the shared bindings read so far: name (or ``path::name``) -> binding
        self.imported: dict[str, Binding] = {}
        #: every name asked of the book, found or not (what a host re-reads a chapter for)
        self.asked: set[str] = set()

    def binding(self, name: str) -> Binding | None:
        """The document's own binding of ``name``, or the shared one it read."""
        b = self.bindings.get(name)
        return b if b is not None else self.imported.get(name)

    def visible(self) -> Mapping[str, Binding]:
        """Own bindings over the shared ones read (for derivations and citations)."""
        return ChainMap(self.bindings, self.imported) if self.imported else self.bindings

    def _shared(self, key: str, b: Binding, used: list[str] | None) -> Any:
        self.imported[key] = b
        if b.error is not None:
            raise _unavailable(key, self.shared.place(b), b.error)
        if used is not None:
            used.append(key)
        return b.value

    def lookup_qualified(self, path: str, name: str, used: list[str] | None = None) -> Any:
        """The value of ``path::name`` (``name`` as the chapter ``path`` binds it)."""
        key = f"{path}::{name}"
        if self.shared is None:
            raise NapkinError(
                f"{key!r} names a chapter, but this document is not part of a book",
                why="`chapter::name` reads a value of another chapter of the same project",
                fix="build the chapter within its project (conf.py or _quarto.yml folder)",
            )
        self.asked.add(name)
        b = self.shared.qualified(path, name)
        if b is None:  # the document's own chapter
            return self.lookup(name, used)
        return self._shared(key, b, used)

    def lookup(self, name: str, used: list[str] | None = None) -> Any:
        """The value of ``name``; ``used`` collects the document bindings read."""
        b = self.bindings.get(name)
        if b is not None:
            if b.error is not None:
                raise _unavailable(name, f"line {b.line}", b.error)
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
        if self.shared is not None:
            self.asked.add(name)
            sb = self.shared.lookup(name)
            if sb is not None:
                return self._shared(name, sb, used)
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
