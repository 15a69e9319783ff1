"""What a napkin evaluation touched, and the values that remember where they came from.

A :class:`Trace` collects the registry reads, formula calls and document names of one
evaluation; hosts turn it into derivation text and citations. Registry entries, their
sub-tables and computed results travel through an expression as a :class:`View` (the object
plus the path that reached it), callables as :class:`Fn` or :class:`Method`, so every read can
be cited. :func:`unwrap` gives the plain object behind a View.

>>> unwrap(View(3, None, "", "x"))
3
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Env", "Fn", "Method", "Trace", "View", "kind_of", "unwrap"]

#: How a compiled expression looks up a name: the document scope's ``lookup``.
Env = Callable[[str], Any]


@dataclass
class Trace:
    """What an evaluation touched: registry reads, formula calls and document names.

    ``reads`` are (label, value, citation id or None); ``calls`` are (label, result,
    FormulaInfo or None, arguments); ``names`` are the document bindings used.
    """

    reads: list[tuple[str, Any, str | None]] = field(default_factory=list)
    calls: list[tuple[str, Any, Any, dict[str, Any]]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    specs: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Fn:
    """A whitelisted callable in scope: a formula, a math helper or ``solve``."""

    fn: Callable[..., Any]
    name: str
    kind: str  # "formula" | "helper" | "solver"

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"


@dataclass(frozen=True, slots=True)
class Method:
    """A public method of a registry entry or result, bound and labelled for provenance."""

    fn: Callable[..., Any]
    label: str
    root: Any  # the registry Spec it belongs to, or None for results


@dataclass(frozen=True, slots=True)
class View:
    """A registry entry, one of its sub-tables, or a result, with the path that reached it."""

    obj: Any
    root: Any  # the registry Spec, or None for computed results
    path: str  # dotted field path inside root ("" for the entry itself)
    label: str  # how the author wrote it, e.g. "H100.memory"

    def __str__(self) -> str:
        return str(self.obj)


def unwrap(value: Any) -> Any:
    """The plain object behind a :class:`View` (what formulas and hosts receive)."""
    return value.obj if isinstance(value, View) else value


def kind_of(value: Any) -> str:
    """How a message names the kind of ``value`` (``text``, ``a dict``, ``a Quantity``)."""
    v = unwrap(value)
    if isinstance(v, str):
        return "text"
    return f"a {type(v).__name__}"
