"""What a napkin evaluation touched, and the values that remember where they came from.

A :class:`Trace` collects the registry reads, formula calls and document names of one
evaluation (hosts turn it into derivation text and citations) and charges the evaluation's
step budget. Registry entries, their sub-tables and computed results travel through an
expression as a :class:`View` (the object plus the path that reached it), callables as
:class:`Fn` or :class:`Method`, so every read can be cited. :func:`unwrap` gives the plain
object behind a View; :func:`describe` names a value's kind in an author's words (never a
Python class name).

>>> unwrap(View(3, None, "", "x"))
3
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlsysim.book.lang.limits import MAX_STEPS
from mlsysim.core.exceptions import LimitError

__all__ = ["Env", "Fn", "Method", "Trace", "View", "describe", "unwrap"]

#: How a compiled expression looks up a name: the document scope's ``lookup``.
Env = Callable[[str], Any]


class Trace:
    """What an evaluation touched, and how much of its step budget it used.

    ``reads`` are (label, value, citation id or None); ``calls`` are (label, result,
    FormulaInfo or None, arguments); ``names`` are the document bindings used; ``specs`` the
    registry entries passed to formulas.
    """

    __slots__ = ("calls", "names", "reads", "specs", "steps")

    def __init__(self) -> None:
        self.reads: list[tuple[str, Any, str | None]] = []
        self.calls: list[tuple[str, Any, Any, dict[str, Any]]] = []
        self.names: list[str] = []
        self.specs: list[Any] = []
        self.steps = 0

    def charge(self, steps: int) -> None:
        """Spend ``steps`` of the budget; LimitError once ``MAX_STEPS`` is exceeded."""
        self.steps += steps
        if self.steps > MAX_STEPS:
            raise LimitError(
                "the expression does too much work",
                why=f"one evaluation may take {MAX_STEPS} steps (a formula call is 10, a "
                "solve 100)",
                fix="split it into named steps in a napkin block",
            )


@dataclass(frozen=True, slots=True)
class Fn:
    """A whitelisted callable in scope: a formula, a math helper or a model function."""

    fn: Callable[..., Any]
    name: str
    kind: str  # "formula" | "helper" | "function"

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"


@dataclass(frozen=True, slots=True)
class Method:
    """An allow-listed method of a registry entry, bound and labelled for provenance."""

    fn: Callable[..., Any]
    label: str
    root: Any  # the registry Spec it belongs to, or None for results
    name: str = ""


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
    return value.obj if type(value) is View else value


def describe(value: Any) -> str:
    """How a message names the kind of ``value``: ``a number``, ``text``, ``a quantity (3 ms)``,
    ``the hardware entry H100``, ``a list``… (never an internal class name)."""
    label = value.label if type(value) is View else ""
    v = unwrap(value)
    if isinstance(v, bool):
        return "a true/false value"
    if isinstance(v, str):
        return "text"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, tuple | list):
        return "a list of values"
    if isinstance(v, dict):
        return f"the table {label}" if label else "a table"
    if isinstance(v, Fn):
        return f"the {'function' if v.kind != 'helper' else 'helper'} {v.name}()"
    if isinstance(v, Method):
        return f"the method {v.label}()"
    if type(v).__name__ == "Registry" or (hasattr(v, "ids") and callable(v.ids)):
        return "a registry"
    if hasattr(v, "_units") and hasattr(v, "_magnitude"):
        from mlsysim.core.units import fmt_quantity

        return f"a quantity ({fmt_quantity(v)})"
    entry = getattr(v, "id", None)
    if isinstance(entry, str) and hasattr(v, "source_of"):
        return f"the registry entry {entry}"
    if label:
        return f"{label} (a result)" if value.root is None else label
    return "a computed result"
